// SPDX-License-Identifier: Apache-2.0
#include <connpool/connpool.h>
#include <gtest/gtest.h>

#include <string>

TEST(CapiErrors, EveryCodeHasANameAndText) {
  const struct {
    int code;
    const char* name;
  } codes[] = {{CONNPOOL_OK, "CONNPOOL_OK"},           {CONNPOOL_EINVAL, "CONNPOOL_EINVAL"},
               {CONNPOOL_ETIMEOUT, "CONNPOOL_ETIMEOUT"}, {CONNPOOL_EUNAVAILABLE, "CONNPOOL_EUNAVAILABLE"},
               {CONNPOOL_ECLOSED, "CONNPOOL_ECLOSED"}, {CONNPOOL_EOVERLOAD, "CONNPOOL_EOVERLOAD"},
               {CONNPOOL_ESTALE, "CONNPOOL_ESTALE"},   {CONNPOOL_EFACTORY, "CONNPOOL_EFACTORY"},
               {CONNPOOL_ENOMEM, "CONNPOOL_ENOMEM"},   {CONNPOOL_EINTERNAL, "CONNPOOL_EINTERNAL"},
               {CONNPOOL_ECANCELED, "CONNPOOL_ECANCELED"}, {CONNPOOL_PENDING, "CONNPOOL_PENDING"}};
  for (int i = 0; i < 12; ++i) {
    EXPECT_EQ(codes[i].code, i) << "values are pinned";
    EXPECT_STREQ(connpool_errname(i), codes[i].name);
    ASSERT_NE(connpool_strerror(i), nullptr);
    EXPECT_GT(std::string(connpool_strerror(i)).size(), 3u);
  }
  EXPECT_EQ(CONNPOOL_STATUS_COUNT_, 12);
  for (int bad : {-1, 12, 999, -2147483647 - 1}) {
    EXPECT_STREQ(connpool_errname(bad), "CONNPOOL_EUNKNOWN");
    ASSERT_NE(connpool_strerror(bad), nullptr);
  }
}

TEST(CapiErrors, VersionMatchesTheHeaderAndTheBuild) {
  EXPECT_EQ(connpool_version_number(), CONNPOOL_VERSION_NUMBER);
  EXPECT_STREQ(connpool_version_string(), CONNPOOL_VERSION_STRING);
  EXPECT_EQ(CONNPOOL_VERSION_NUMBER, 10200);  // 1.2.0 (CMakeLists.txt project())
  EXPECT_EQ(std::to_string(CONNPOOL_VERSION_MAJOR) + "." + std::to_string(CONNPOOL_VERSION_MINOR) + "." +
                std::to_string(CONNPOOL_VERSION_PATCH),
            CONNPOOL_VERSION_STRING);
}

TEST(CapiErrors, StateNamesAndHttpStatus) {
  const char* names[] = {"starting", "ready", "degraded", "unavailable", "draining", "closed"};
  for (int s = 0; s < 6; ++s) EXPECT_STREQ(connpool_state_name(s), names[s]);
  EXPECT_STREQ(connpool_state_name(6), "unknown");
  EXPECT_STREQ(connpool_state_name(-1), "unknown");
  EXPECT_EQ(connpool_pool_state(nullptr), CONNPOOL_STATE_CLOSED);
  EXPECT_EQ(connpool_pool_http_status(nullptr), 503);
}

TEST(CapiErrors, FreeAndNullsAreSafe) {
  connpool_free(nullptr);
  connpool_config_free(nullptr);
  connpool_factory_free(nullptr);
  connpool_pool_free(nullptr);
  connpool_set_log_callback(nullptr, nullptr);
}
