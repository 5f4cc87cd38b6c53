// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: connpool_config_set with arbitrary key/value pairs, through libconnpool.so.
//
// The input is text, one `key=value` per line (the first '=' splits; a line without one is a
// key with an empty value), so the seed corpus is readable and the dictionary (config.dict)
// supplies real keys. Checked for every pair:
//   * the status is OK or EINVAL; EINVAL leaves the configuration unchanged (to_json equal)
//     and explains itself in a NUL-terminated message that stays inside errlen and never
//     echoes a secret value from the pair (secret_canary.h);
//   * OK reads back: to_json shows the key with the value just set (as a number, a boolean
//     or a string, each in its natural JSON type);
// and at the end: to_json is accepted by from_json unless a cross-key rule is broken
// (min_idle > max_size or retry_initial_ms > retry_max_ms), and is then a fixed point.
#include <cjson/cJSON.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "connpool/connpool.h"
#include "secret_canary.h"

namespace {

[[noreturn]] void Fail(const char* what, const std::string& detail) {
  fprintf(stderr, "fuzz_config_set: %s: %s\n", what, detail.c_str());
  abort();
}

std::string ToJson(const connpool_config_t* cfg) {
  char* text = connpool_config_to_json(cfg);
  if (text == nullptr) Fail("to_json returned NULL", "");
  std::string s = text;
  connpool_free(text);
  return s;
}

// The text forms connpool_config_set accepts for booleans (core/config/config.cpp).
int BoolValue(const std::string& v) {
  if (v == "true" || v == "1" || v == "yes" || v == "on") return 1;
  if (v == "false" || v == "0" || v == "no" || v == "off") return 0;
  return -1;
}

void CheckReadBack(const std::string& json, const std::string& key, const std::string& value) {
  cJSON* root = cJSON_Parse(json.c_str());
  if (root == nullptr) Fail("to_json does not parse", json);
  const cJSON* item = cJSON_GetObjectItemCaseSensitive(root, key.c_str());
  if (item == nullptr) Fail("key accepted but not in to_json", key);
  bool ok = false;
  if (cJSON_IsString(item)) {
    ok = value == item->valuestring;
  } else if (cJSON_IsBool(item)) {
    ok = BoolValue(value) == (cJSON_IsTrue(item) ? 1 : 0);
  } else if (cJSON_IsNumber(item)) {
    char* end = nullptr;
    double v = strtod(value.c_str(), &end);
    ok = end != value.c_str() && *end == '\0' && v == item->valuedouble;
  }
  cJSON_Delete(root);
  if (!ok) Fail("value does not read back", key + "=" + value + " -> " + json);
}

int Set(connpool_config_t* cfg, const std::string& key, const std::string& value, size_t errlen,
        std::string* msg) {
  char buf[300];
  memset(buf, 0x5A, sizeof buf);
  int rc = connpool_config_set(cfg, key.c_str(), value.c_str(), buf, errlen);
  for (size_t i = errlen; i < sizeof buf; ++i)
    if (buf[i] != 0x5A) Fail("wrote past errlen", std::to_string(errlen));
  if (errlen > 0 && memchr(buf, '\0', errlen) == nullptr) Fail("message not NUL-terminated", key);
  *msg = errlen > 0 ? buf : "";
  return rc;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  connpool_config_t* cfg = connpool_config_new();
  if (cfg == nullptr) Fail("config_new returned NULL", "");
  size_t line_no = 0;
  for (size_t pos = 0; pos <= input.size() && line_no < 64; ++line_no) {
    size_t nl = input.find('\n', pos);
    if (nl == std::string::npos) nl = input.size();
    std::string line = input.substr(pos, nl - pos);
    pos = nl + 1;
    size_t eq = line.find('=');
    std::string key = line.substr(0, eq);
    std::string value = eq == std::string::npos ? "" : line.substr(eq + 1);
    // C strings end at the first NUL, as they would for a caller.
    key = key.c_str();
    value = value.c_str();

    const std::string before = ToJson(cfg);
    // Every other pair gets a buffer just big enough to truncate most messages.
    size_t errlen = line_no % 2 == 0 ? 256 : 1 + line.size() % 40;
    std::string msg;
    int rc = Set(cfg, key, value, errlen, &msg);
    const std::string after = ToJson(cfg);
    if (rc == CONNPOOL_OK) {
      if (!msg.empty()) Fail("message on success", msg);
      CheckReadBack(after, key, value);
    } else if (rc == CONNPOOL_EINVAL) {
      if (before != after) Fail("refused set changed the configuration", key + "=" + value);
      if (msg.empty() && errlen > 1) Fail("refused set without a message", key + "=" + value);
      // Judge the pair as the library received it: a NUL in the line cuts the key short, so
      // "max_size\0password='hunter2'" sets max_size to 'hunter2', which is no secret.
      if (connpool_fuzz::CanaryOnlyAsSecret(key + "=" + value) &&
          msg.find(connpool_fuzz::kCanary) != std::string::npos)
        Fail("secret echoed in the message", msg);
    } else {
      Fail("undocumented status", std::to_string(rc));
    }
  }

  std::string json = ToJson(cfg);
  connpool_config_t* again = nullptr;
  char err[256];
  int rc = connpool_config_from_json(json.c_str(), &again, err, sizeof err);
  cJSON* root = cJSON_Parse(json.c_str());
  auto num = [&](const char* k) { return cJSON_GetObjectItemCaseSensitive(root, k)->valuedouble; };
  const bool consistent = num("min_idle") <= num("max_size") && num("retry_initial_ms") <= num("retry_max_ms");
  cJSON_Delete(root);
  if (consistent != (rc == CONNPOOL_OK)) Fail("from_json(to_json) disagrees with the cross-key rules", json + " : " + err);
  if (rc == CONNPOOL_OK) {
    if (ToJson(again) != json) Fail("to_json is not a fixed point", json);
    connpool_config_free(again);
  }
  connpool_config_free(cfg);
  if (connpool_config_set(nullptr, "max_size", "1", nullptr, 0) != CONNPOOL_EINVAL) Fail("NULL config", "");
  return 0;
}
