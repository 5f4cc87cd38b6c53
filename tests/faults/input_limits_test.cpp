// SPDX-License-Identifier: Apache-2.0
// Input limits at the C API: the sizes core/config/config.h promises (kMaxNameBytes for names and
// string values, kMaxConfigJsonBytes for JSON documents) hold exactly at the boundary, huge
// or hostile input is refused with a bounded message, and pool names with quotes, newlines
// and backslashes come out escaped in stats JSON and in Prometheus labels.
#include <cjson/cJSON.h>
#include <gtest/gtest.h>

#include <cstring>
#include <sstream>
#include <string>

#include "config/config.h"
#include "connpool/connpool.h"
#include "faults/fault_backend.h"

namespace connpool_faults {
namespace {

// The limits are part of what users can rely on: changing them is a documented decision.
static_assert(connpool::kMaxNameBytes == 256, "pool names and string values: 1..256 bytes");
static_assert(connpool::kMaxConfigJsonBytes == 64 * 1024, "configuration JSON: at most 64 KiB");

int Set(connpool_config_t* cfg, const char* key, const std::string& value, std::string* err = nullptr) {
  char buf[512] = "";
  int rc = connpool_config_set(cfg, key, value.c_str(), buf, sizeof buf);
  if (err) *err = buf;
  return rc;
}

int FromJson(const std::string& doc, std::string* err = nullptr) {
  connpool_config_t* cfg = nullptr;
  char buf[512] = "";
  int rc = connpool_config_from_json(doc.c_str(), &cfg, buf, sizeof buf);
  if (err) *err = buf;
  if (rc != CONNPOOL_OK) {
    EXPECT_EQ(cfg, nullptr);
  }
  connpool_config_free(cfg);
  return rc;
}

TEST(InputLimits, NameLengthIsOneTo256BytesExactly) {
  connpool_config_t* cfg = connpool_config_new();
  std::string err;
  EXPECT_EQ(Set(cfg, "name", std::string(256, 'n')), CONNPOOL_OK);
  EXPECT_EQ(Set(cfg, "name", std::string(257, 'x'), &err), CONNPOOL_EINVAL);
  EXPECT_NE(err.find("name"), std::string::npos) << err;
  EXPECT_NE(err.find("1..256"), std::string::npos) << err;
  EXPECT_LT(err.size(), 200u) << "the refused value is not echoed whole: " << err;
  EXPECT_EQ(Set(cfg, "name", ""), CONNPOOL_EINVAL);
  // Bytes, not characters: 128 two-byte characters fit, 129 do not.
  std::string e_acute = "\xC3\xA9";
  std::string fits, too_long;
  for (int i = 0; i < 128; ++i) fits += e_acute;
  too_long = fits + e_acute;
  EXPECT_EQ(Set(cfg, "name", fits), CONNPOOL_OK);
  EXPECT_EQ(Set(cfg, "name", too_long), CONNPOOL_EINVAL);
  // The refused sets left the last accepted name in place.
  char* json = connpool_config_to_json(cfg);
  ASSERT_NE(json, nullptr);
  EXPECT_NE(std::string(json).find(fits), std::string::npos);
  connpool_free(json);
  connpool_config_free(cfg);

  EXPECT_EQ(FromJson("{\"name\": \"" + std::string(256, 'n') + "\"}"), CONNPOOL_OK);
  EXPECT_EQ(FromJson("{\"name\": \"" + std::string(257, 'n') + "\"}"), CONNPOOL_EINVAL);
}

TEST(InputLimits, ConfigJsonIsAtMost64KiBExactly) {
  const size_t limit = 64 * 1024;
  const std::string head = "{\"max_size\": 3", tail = "}";
  std::string at_limit = head + std::string(limit - head.size() - tail.size(), ' ') + tail;
  ASSERT_EQ(at_limit.size(), limit);
  EXPECT_EQ(FromJson(at_limit), CONNPOOL_OK);
  std::string over = head + std::string(limit - head.size() - tail.size() + 1, ' ') + tail;
  std::string err;
  EXPECT_EQ(FromJson(over, &err), CONNPOOL_EINVAL);
  EXPECT_NE(err.find("65536"), std::string::npos) << err;
  // Far larger documents are refused the same way (the length is checked before parsing).
  EXPECT_EQ(FromJson("{\"name\": \"" + std::string(4 << 20, 'x') + "\"}", &err), CONNPOOL_EINVAL);
  EXPECT_NE(err.find("longer"), std::string::npos) << err;
}

TEST(InputLimits, HostileDocumentsAreRefusedWithBoundedMessages) {
  std::string err;
  // Nesting far deeper than any configuration (cJSON stops at its nesting limit).
  EXPECT_EQ(FromJson(std::string(20000, '[') + std::string(20000, ']'), &err), CONNPOOL_EINVAL);
  EXPECT_EQ(FromJson("{\"max_size\": " + std::string(30000, '[') + "}", &err), CONNPOOL_EINVAL);
  // A huge unknown key and a huge bad value are named, but not echoed whole.
  EXPECT_EQ(FromJson("{\"" + std::string(10000, 'k') + "\": 1}", &err), CONNPOOL_EINVAL);
  EXPECT_NE(err.find("unknown"), std::string::npos) << err;
  EXPECT_LT(err.size(), 200u);
  connpool_config_t* cfg = connpool_config_new();
  EXPECT_EQ(Set(cfg, "max_size", std::string(10000, '9'), &err), CONNPOOL_EINVAL);
  EXPECT_NE(err.find("max_size"), std::string::npos) << err;
  EXPECT_LT(err.size(), 200u);
  EXPECT_EQ(Set(cfg, std::string(10000, 'k').c_str(), "1", &err), CONNPOOL_EINVAL);
  EXPECT_LT(err.size(), 200u);
  connpool_config_free(cfg);
  // Embedded NUL ends the document (C strings): what remains is malformed.
  EXPECT_EQ(FromJson(std::string("{\"max_size\": 3", 14) + std::string(1, '\0') + "}"), CONNPOOL_EINVAL);
}

// A secret word's quoted value that ends where another secret assignment's opening quote
// stands (found by fuzz_config_json; the second value used to be echoed unredacted).
TEST(InputLimits, SecretAfterAnUnbalancedQuotedSecretIsRedacted) {
  connpool_config_t* cfg = connpool_config_new();
  std::string err;
  EXPECT_EQ(Set(cfg, "secret='a password='hunter2'", "1", &err), CONNPOOL_EINVAL);
  EXPECT_EQ(err.find("hunter2"), std::string::npos) << err;
  EXPECT_EQ(FromJson("{\"pwd='x password='hunter2'\": 1}", &err), CONNPOOL_EINVAL);
  EXPECT_EQ(err.find("hunter2"), std::string::npos) << err;
  connpool_config_free(cfg);
}

// Known bug (fuzz_config_json, after the fix above): an empty quoted secret value followed
// directly by another secret assignment, `pwd=''xpassword='hunter2'`. Redaction skips the
// second secret word as the tail of the first value, stops at its opening quote and echoes
// the value. Registered with WILL_FAIL (CMakeLists.txt) until fixed.
TEST(InputLimits, SecretAfterAnEmptyQuotedSecretIsRedacted) {
  connpool_config_t* cfg = connpool_config_new();
  std::string err;
  EXPECT_EQ(Set(cfg, "pwd=''xpassword='hunter2'x", "1", &err), CONNPOOL_EINVAL);
  EXPECT_EQ(err.find("hunter2"), std::string::npos) << err;
  EXPECT_EQ(FromJson("{\"secret=''dtoken='hunter2'\": 1}", &err), CONNPOOL_EINVAL);
  EXPECT_EQ(err.find("hunter2"), std::string::npos) << err;
  connpool_config_free(cfg);
}

TEST(InputLimits, ErrorBuffersAreNeverOverrun) {
  connpool_config_t* cfg = connpool_config_new();
  std::string full;
  ASSERT_EQ(Set(cfg, "max_size", "zero", &full), CONNPOOL_EINVAL);
  ASSERT_GT(full.size(), 20u);
  for (size_t errlen : {size_t{0}, size_t{1}, size_t{2}, size_t{7}, full.size(), full.size() + 1}) {
    SCOPED_TRACE(errlen);
    char buf[300];
    memset(buf, '#', sizeof buf);
    EXPECT_EQ(connpool_config_set(cfg, "max_size", "zero", errlen ? buf : nullptr, errlen), CONNPOOL_EINVAL);
    if (errlen > 0) {
      EXPECT_EQ(std::string(buf, strnlen(buf, errlen)), full.substr(0, errlen - 1)) << "truncated to fit, NUL-terminated";
    }
    for (size_t i = errlen; i < sizeof buf; ++i) ASSERT_EQ(buf[i], '#') << "wrote past errlen at " << i;
    memset(buf, '#', sizeof buf);
    connpool_config_t* out = nullptr;
    EXPECT_EQ(connpool_config_from_json("{", &out, errlen ? buf : nullptr, errlen), CONNPOOL_EINVAL);
    for (size_t i = errlen; i < sizeof buf; ++i) ASSERT_EQ(buf[i], '#') << "wrote past errlen at " << i;
  }
  connpool_config_free(cfg);
}

// --- escaping of hostile pool names -----------------------------------------------------------

connpool_pool_t* PoolNamed(FaultBackend* b, const std::string& name) {
  connpool_config_t* cfg = connpool_config_new();
  EXPECT_EQ(Set(cfg, "name", name), CONNPOOL_OK);
  connpool_pool_t* pool = nullptr;
  char err[256];
  EXPECT_EQ(connpool_pool_new(cfg, b->NewCFactory(), &pool, err, sizeof err), CONNPOOL_OK) << err;
  connpool_config_free(cfg);
  return pool;
}

std::string Take(char* s) {
  std::string out = s ? s : "";
  connpool_free(s);
  return out;
}

// Prometheus 0.0.4 label value escaping: backslash, double quote and line feed.
std::string PromEscape(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

TEST(InputLimits, HostileNamesAreEscapedInStatsJsonAndMetricsLabels) {
  const std::string names[] = {
      "say \"hi\"",
      "two\nlines",
      "back\\slash",
      "all \"three\"\n\\ at once\\",
      "} 1\n# TYPE evil counter\nevil{pool=\"x\"",
      std::string(255, '"') + "\n",  // the longest name, every byte needing an escape
  };
  for (const std::string& name : names) {
    SCOPED_TRACE(name);
    FaultBackend b;
    connpool_pool_t* pool = PoolNamed(&b, name);
    ASSERT_NE(pool, nullptr);

    std::string json = Take(connpool_pool_stats_json(pool));
    cJSON* root = cJSON_Parse(json.c_str());
    ASSERT_NE(root, nullptr) << json;
    const cJSON* n = cJSON_GetObjectItemCaseSensitive(root, "name");
    ASSERT_TRUE(cJSON_IsString(n));
    EXPECT_EQ(std::string(n->valuestring), name) << "the name round-trips through JSON escaping";
    cJSON_Delete(root);
    EXPECT_EQ(json.find('\n'), std::string::npos) << "no raw line feed inside the JSON document";

    std::string metrics = Take(connpool_pool_metrics_text(pool));
    const std::string label = "pool=\"" + PromEscape(name) + "\"";
    std::istringstream lines(metrics);
    std::string line;
    int samples = 0;
    while (std::getline(lines, line)) {
      if (line.empty() || line[0] == '#') continue;
      ++samples;
      EXPECT_NE(line.find(label), std::string::npos) << "every sample carries the escaped label: " << line;
      EXPECT_EQ(line.rfind("evil", 0), std::string::npos) << "a name cannot inject a sample";
    }
    EXPECT_GT(samples, 5);
    connpool_pool_free(pool);
  }
}

TEST(InputLimits, SecretsInPoolNamesAreRedactedInStatsAndMetrics) {
  FaultBackend b;
  connpool_pool_t* pool = PoolNamed(&b, "orders password=hunter2");
  std::string json = Take(connpool_pool_stats_json(pool));
  std::string metrics = Take(connpool_pool_metrics_text(pool));
  EXPECT_EQ(json.find("hunter2"), std::string::npos) << json;
  EXPECT_EQ(metrics.find("hunter2"), std::string::npos);
  EXPECT_NE(json.find("orders password="), std::string::npos) << json;
  connpool_pool_free(pool);
}

}  // namespace
}  // namespace connpool_faults
