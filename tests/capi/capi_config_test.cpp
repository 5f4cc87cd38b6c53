// SPDX-License-Identifier: Apache-2.0
#include <connpool/connpool.h>
#include <gtest/gtest.h>

#include <string>

namespace {

struct Cfg {
  connpool_config_t* p = connpool_config_new();
  ~Cfg() { connpool_config_free(p); }
};

std::string ToJson(const connpool_config_t* c) {
  char* s = connpool_config_to_json(c);
  std::string out = s ? s : "";
  connpool_free(s);
  return out;
}

}  // namespace

TEST(CapiConfig, SetValidatesWithAMessageNamingTheKey) {
  Cfg c;
  ASSERT_NE(c.p, nullptr);
  char err[256];
  EXPECT_EQ(connpool_config_set(c.p, "max_size", "20", err, sizeof err), CONNPOOL_OK);
  EXPECT_STREQ(err, "");
  EXPECT_EQ(connpool_config_set(c.p, "max_size", "0", err, sizeof err), CONNPOOL_EINVAL);
  EXPECT_NE(std::string(err).find("max_size"), std::string::npos);
  EXPECT_NE(std::string(err).find("1..100000"), std::string::npos);
  EXPECT_EQ(connpool_config_set(c.p, "bogus", "1", err, sizeof err), CONNPOOL_EINVAL);
  EXPECT_NE(std::string(err).find("bogus"), std::string::npos);
  EXPECT_EQ(connpool_config_set(nullptr, "max_size", "1", err, sizeof err), CONNPOOL_EINVAL);
  EXPECT_EQ(connpool_config_set(c.p, nullptr, "1", err, sizeof err), CONNPOOL_EINVAL);
  EXPECT_EQ(connpool_config_set(c.p, "max_size", nullptr, nullptr, 0), CONNPOOL_EINVAL) << "NULL err buffer is fine";
  char tiny[4];
  EXPECT_EQ(connpool_config_set(c.p, "max_size", "-5", tiny, sizeof tiny), CONNPOOL_EINVAL);
  EXPECT_EQ(std::string(tiny).size(), 3u) << "truncated, NUL-terminated";
  EXPECT_NE(ToJson(c.p).find("\"max_size\":20"), std::string::npos);
}

TEST(CapiConfig, FromJsonAndBack) {
  connpool_config_t* c = nullptr;
  char err[256];
  ASSERT_EQ(connpool_config_from_json(R"({"max_size": 20, "reset_on_release": false, "startup_retry": "forever"})", &c,
                                      err, sizeof err),
            CONNPOOL_OK)
      << err;
  std::string j = ToJson(c);
  EXPECT_NE(j.find("\"max_size\":20"), std::string::npos) << j;
  EXPECT_NE(j.find("\"reset_on_release\":false"), std::string::npos) << j;
  EXPECT_NE(j.find("\"startup_retry\":\"forever\""), std::string::npos) << j;
  EXPECT_NE(j.find("\"validate_on_acquire\":\"idle\""), std::string::npos) << j;
  connpool_config_free(c);

  c = reinterpret_cast<connpool_config_t*>(0x1);
  EXPECT_EQ(connpool_config_from_json("{\"max_size\": ", &c, err, sizeof err), CONNPOOL_EINVAL);
  EXPECT_EQ(c, nullptr) << "*out is NULL on failure";
  EXPECT_NE(std::string(err).find("malformed"), std::string::npos) << err;
  EXPECT_EQ(connpool_config_from_json(nullptr, &c, err, sizeof err), CONNPOOL_EINVAL);
  EXPECT_EQ(connpool_config_from_json("{}", nullptr, err, sizeof err), CONNPOOL_EINVAL);
  EXPECT_EQ(connpool_config_to_json(nullptr), nullptr);
}

TEST(CapiConfig, SecretsInValuesAreNotEchoed) {
  Cfg c;
  char err[256];
  EXPECT_EQ(connpool_config_set(c.p, "max_size", "password=hunter2", err, sizeof err), CONNPOOL_EINVAL);
  EXPECT_EQ(std::string(err).find("hunter2"), std::string::npos) << err;
}
