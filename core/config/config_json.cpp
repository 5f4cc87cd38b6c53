// SPDX-License-Identifier: Apache-2.0
// Config <-> JSON through cJSON. Values are converted to the text form SetConfigValue accepts,
// so JSON and key=value share one validation path.
#include <cjson/cJSON.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "config/config.h"

namespace connpool {

namespace {

// The text form of a JSON member, refusing types that cannot mean anything for this key.
bool MemberText(const KeySpec& k, const cJSON* item, std::string* text, std::string* err) {
  char buf[64];
  if (cJSON_IsString(item)) {
    *text = item->valuestring;
    return true;
  }
  if (cJSON_IsBool(item)) {
    if (k.kind != KeyKind::kBool) {
      *err = std::string(k.name) + ": a boolean is not allowed (allowed: " + RangeText(k) + ")";
      return false;
    }
    *text = cJSON_IsTrue(item) ? "true" : "false";
    return true;
  }
  if (cJSON_IsNumber(item)) {
    double v = item->valuedouble;
    if (k.kind == KeyKind::kDouble) {
      snprintf(buf, sizeof buf, "%.17g", v);
      *text = buf;
      return true;
    }
    if (k.kind == KeyKind::kInt || k.kind == KeyKind::kIntOrForever) {
      if (v != std::floor(v) || std::fabs(v) > 9e15) {
        *err = std::string(k.name) + ": " + std::to_string(v) + " is not an integer (allowed: " +
               RangeText(k) + ")";
        return false;
      }
      snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v));
      *text = buf;
      return true;
    }
  }
  *err = std::string(k.name) + ": value has the wrong JSON type (allowed: " + RangeText(k) + ")";
  return false;
}

}  // namespace

Status ConfigFromJson(const char* json, Config* out, std::string* err) {
  if (json == nullptr || out == nullptr) {
    *err = "json and out must not be NULL";
    return Status::kEINVAL;
  }
  size_t len = strnlen(json, kMaxConfigJsonBytes + 1);
  if (len > kMaxConfigJsonBytes) {
    *err = "configuration JSON is longer than " + std::to_string(kMaxConfigJsonBytes) + " bytes";
    return Status::kEINVAL;
  }
  cJSON* root = cJSON_ParseWithLength(json, len);
  if (root == nullptr) {
    const char* where = cJSON_GetErrorPtr();
    size_t at = (where != nullptr && where >= json && where <= json + len) ? where - json : 0;
    *err = "malformed JSON near byte " + std::to_string(at);
    return Status::kEINVAL;
  }
  Status st = Status::kOK;
  Config cfg;
  if (!cJSON_IsObject(root)) {
    *err = "configuration JSON must be an object";
    st = Status::kEINVAL;
  }
  for (const cJSON* item = root->child; st == Status::kOK && item != nullptr; item = item->next) {
    const KeySpec* k = item->string ? FindKey(item->string) : nullptr;
    if (k == nullptr) {
      std::string shown = item->string ? item->string : "";
      if (shown.size() > 64) shown = shown.substr(0, 64) + "...";
      *err = "unknown configuration key '" + shown + "'";
      st = Status::kEINVAL;
      break;
    }
    std::string text;
    if (!MemberText(*k, item, &text, err)) {
      st = Status::kEINVAL;
      break;
    }
    st = SetConfigValue(&cfg, k->name, text.c_str(), err);
  }
  cJSON_Delete(root);
  if (st == Status::kOK) st = CheckConfig(cfg, err);
  if (st == Status::kOK) *out = cfg;
  return st;
}

char* ConfigToJson(const Config& cfg) {
  cJSON* root = cJSON_CreateObject();
  if (root == nullptr) return nullptr;
  size_t n;
  const KeySpec* keys = ConfigKeys(&n);
  bool ok = true;
  for (size_t i = 0; i < n && ok; ++i) {
    const KeySpec& k = keys[i];
    cJSON* v = nullptr;
    switch (k.kind) {
      case KeyKind::kInt: v = cJSON_CreateNumber(static_cast<double>(cfg.*(k.int_field))); break;
      case KeyKind::kDouble: v = cJSON_CreateNumber(cfg.*(k.double_field)); break;
      case KeyKind::kBool: v = cJSON_CreateBool(cfg.*(k.bool_field)); break;
      case KeyKind::kIntOrForever:
        v = cfg.*(k.int_field) < 0 ? cJSON_CreateString("forever")
                                   : cJSON_CreateNumber(static_cast<double>(cfg.*(k.int_field)));
        break;
      case KeyKind::kString:
      case KeyKind::kChoice: v = cJSON_CreateString(ConfigValueText(cfg, k).c_str()); break;
    }
    ok = v != nullptr && cJSON_AddItemToObject(root, k.name, v);
  }
  char* printed = ok ? cJSON_PrintUnformatted(root) : nullptr;
  cJSON_Delete(root);
  if (printed == nullptr) return nullptr;
  // cJSON allocates through hooks the application may have replaced (cJSON_InitHooks is
  // process-wide); connpool_free() is free(), so hand out our own malloc'ed copy.
  size_t bytes = strlen(printed) + 1;
  char* text = static_cast<char*>(malloc(bytes));
  if (text != nullptr) memcpy(text, printed, bytes);
  cJSON_free(printed);
  return text;
}

}  // namespace connpool
