// SPDX-License-Identifier: Apache-2.0
#include "config/config.h"

#include <cjson/cJSON.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace connpool {
namespace {

TEST(Config, DefaultsMatchTheDesign) {
  Config c;
  EXPECT_EQ(c.name, "default");
  EXPECT_EQ(c.min_idle, 0);
  EXPECT_EQ(c.max_size, 10);
  EXPECT_EQ(c.acquire_timeout_ms, 30000);
  EXPECT_EQ(c.max_waiters, 0);
  EXPECT_EQ(c.idle_timeout_ms, 600000);
  EXPECT_EQ(c.max_lifetime_ms, 1800000);
  EXPECT_DOUBLE_EQ(c.lifetime_jitter_pct, 2.5);
  EXPECT_EQ(c.max_uses, 0);
  EXPECT_EQ(c.validate_mode(), ValidateMode::kIdle);
  EXPECT_EQ(c.validation_idle_ms, 500);
  EXPECT_EQ(c.validate_interval_ms, 0);
  EXPECT_TRUE(c.reset_on_release);
  EXPECT_EQ(c.leak_threshold_ms, 0);
  EXPECT_EQ(c.maintenance_interval_ms, 1000);
  EXPECT_EQ(c.connect_concurrency, 2);
  EXPECT_EQ(c.retry_initial_ms, 1000);
  EXPECT_EQ(c.retry_max_ms, 60000);
  EXPECT_DOUBLE_EQ(c.retry_multiplier, 2.0);
  EXPECT_DOUBLE_EQ(c.retry_jitter, 0.2);
  EXPECT_EQ(c.probe_interval_ms, 1000);
  EXPECT_EQ(c.startup_retry_ms, -1);
  EXPECT_EQ(c.unavailable_after_ms, 30000);
  EXPECT_EQ(c.validation_timeout_ms, 5000);
}

// Every key: its minimum and maximum are accepted, one past each is refused with a message
// naming the key and the range.
TEST(Config, EveryKeyBoundsAreEnforced) {
  size_t n;
  const KeySpec* keys = ConfigKeys(&n);
  ASSERT_EQ(n, 32u);  // 26 + otel_metrics + probe_interval_ms + stall_after_ms, reset_timeout_ms, create_timeout_ms, close_wait_ms
  for (size_t i = 0; i < n; ++i) {
    const KeySpec& k = keys[i];
    SCOPED_TRACE(k.name);
    Config c;
    std::string err;
    auto ok = [&](const std::string& v) { EXPECT_EQ(SetConfigValue(&c, k.name, v.c_str(), &err), Status::kOK) << v << ": " << err; };
    auto bad = [&](const std::string& v) {
      Config before = c;
      EXPECT_EQ(SetConfigValue(&c, k.name, v.c_str(), &err), Status::kEINVAL) << v;
      EXPECT_NE(err.find(k.name), std::string::npos) << err;
      EXPECT_EQ(ConfigValueText(c, k), ConfigValueText(before, k)) << "changed on failure";
    };
    switch (k.kind) {
      case KeyKind::kInt:
      case KeyKind::kIntOrForever:
        ok(std::to_string(k.min));
        ok(std::to_string(k.max));
        bad(std::to_string(k.min - 1));
        bad(std::to_string(k.max + 1));
        bad("12abc");
        bad("");
        bad(" 5");
        bad("99999999999999999999999");
        EXPECT_NE(err.find(std::to_string(k.max)), std::string::npos) << "range in message: " << err;
        if (k.kind == KeyKind::kIntOrForever) {
          ok("forever");
          EXPECT_EQ(ConfigValueText(c, k), "forever");
        }
        break;
      case KeyKind::kDouble:
        ok(std::to_string(k.dmin));
        ok(std::to_string(k.dmax));
        bad(std::to_string(k.dmin - 0.5));
        bad(std::to_string(k.dmax + 0.5));
        bad("nan");
        bad("inf");
        bad("x");
        break;
      case KeyKind::kBool:
        for (const char* t : {"true", "1", "yes", "on"}) {
          ok(t);
          EXPECT_EQ(ConfigValueText(c, k), "true");
        }
        for (const char* f : {"false", "0", "no", "off"}) {
          ok(f);
          EXPECT_EQ(ConfigValueText(c, k), "false");
        }
        bad("maybe");
        bad("TRUE ");
        break;
      case KeyKind::kChoice:
        for (const char* const* ch = k.choices; *ch; ++ch) {
          ok(*ch);
          EXPECT_EQ(ConfigValueText(c, k), *ch);
        }
        bad("sometimes");
        break;
      case KeyKind::kString:
        ok("x");
        ok(std::string(kMaxNameBytes, 'n'));
        bad("");
        bad(std::string(kMaxNameBytes + 1, 'n'));
        break;
    }
  }
}

TEST(Config, UnknownKeyAndNulls) {
  Config c;
  std::string err;
  EXPECT_EQ(SetConfigValue(&c, "max_sizee", "3", &err), Status::kEINVAL);
  EXPECT_NE(err.find("max_sizee"), std::string::npos);
  EXPECT_EQ(SetConfigValue(&c, nullptr, "3", &err), Status::kEINVAL);
  EXPECT_EQ(SetConfigValue(&c, "max_size", nullptr, &err), Status::kEINVAL);
  EXPECT_EQ(SetConfigValue(nullptr, "max_size", "3", &err), Status::kEINVAL);
}

TEST(Config, CrossKeyRules) {
  Config c;
  std::string err;
  c.min_idle = 11;
  EXPECT_EQ(CheckConfig(c, &err), Status::kEINVAL);
  EXPECT_NE(err.find("min_idle"), std::string::npos);
  c.min_idle = 10;
  EXPECT_EQ(CheckConfig(c, &err), Status::kOK);
  c.retry_initial_ms = 70000;
  EXPECT_EQ(CheckConfig(c, &err), Status::kEINVAL);
  EXPECT_NE(err.find("retry_initial_ms"), std::string::npos);
}

TEST(ConfigJson, AcceptsNaturalTypesAndStrings) {
  Config c;
  std::string err;
  ASSERT_EQ(ConfigFromJson(R"({"max_size": 20, "reset_on_release": false, "startup_retry": "forever",
      "validate_on_acquire": "always", "retry_jitter": 0.5, "name": "orders", "min_idle": "3",
      "unavailable_after_ms": 2000, "startup_retry": 5000})",
                           &c, &err),
            Status::kOK)
      << err;
  EXPECT_EQ(c.max_size, 20);
  EXPECT_FALSE(c.reset_on_release);
  EXPECT_EQ(c.validate_mode(), ValidateMode::kAlways);
  EXPECT_DOUBLE_EQ(c.retry_jitter, 0.5);
  EXPECT_EQ(c.name, "orders");
  EXPECT_EQ(c.min_idle, 3);
  EXPECT_EQ(c.startup_retry_ms, 5000);
}

TEST(ConfigJson, RefusesBadDocuments) {
  Config c;
  std::string err;
  const char* bad[] = {
      "",  "{", "[]", "42", "null", R"({"max_size": 0})", R"({"max_size": 2.5})", R"({"max_size": true})",
      R"({"nope": 1})", R"({"reset_on_release": 1})", R"({"name": 5})", R"({"max_size": {}})",
      R"({"min_idle": 5, "max_size": 2})", R"({"max_size": 1e300})",
  };
  for (const char* doc : bad) {
    err.clear();
    EXPECT_EQ(ConfigFromJson(doc, &c, &err), Status::kEINVAL) << doc;
    EXPECT_FALSE(err.empty()) << doc;
  }
  EXPECT_EQ(ConfigFromJson(nullptr, &c, &err), Status::kEINVAL);
  std::string huge = "{\"name\": \"" + std::string(kMaxConfigJsonBytes, 'x') + "\"}";
  EXPECT_EQ(ConfigFromJson(huge.c_str(), &c, &err), Status::kEINVAL);
  EXPECT_NE(err.find("longer"), std::string::npos);
}

TEST(ConfigJson, ToJsonRoundTripsEveryKeyInItsNaturalType) {
  Config c;
  c.name = "quote\" and \n newline";
  c.startup_retry_ms = 1234;
  c.reset_on_release = false;
  char* text = ConfigToJson(c);
  ASSERT_NE(text, nullptr);
  cJSON* root = cJSON_Parse(text);
  ASSERT_NE(root, nullptr) << text;
  size_t n;
  const KeySpec* keys = ConfigKeys(&n);
  for (size_t i = 0; i < n; ++i) {
    const cJSON* item = cJSON_GetObjectItemCaseSensitive(root, keys[i].name);
    ASSERT_NE(item, nullptr) << keys[i].name;
    switch (keys[i].kind) {
      case KeyKind::kBool: EXPECT_TRUE(cJSON_IsBool(item)) << keys[i].name; break;
      case KeyKind::kString:
      case KeyKind::kChoice: EXPECT_TRUE(cJSON_IsString(item)) << keys[i].name; break;
      default: EXPECT_TRUE(cJSON_IsNumber(item)) << keys[i].name; break;
    }
  }
  EXPECT_EQ(cJSON_GetArraySize(root), static_cast<int>(n));
  cJSON_Delete(root);
  Config back;
  std::string err;
  ASSERT_EQ(ConfigFromJson(text, &back, &err), Status::kOK) << err;
  free(text);
  EXPECT_EQ(back.name, c.name);
  EXPECT_EQ(back.startup_retry_ms, 1234);
  EXPECT_FALSE(back.reset_on_release);
  Config forever;
  text = ConfigToJson(forever);
  EXPECT_NE(std::string(text).find("\"startup_retry\":\"forever\""), std::string::npos) << text;
  free(text);
}

}  // namespace
}  // namespace connpool
