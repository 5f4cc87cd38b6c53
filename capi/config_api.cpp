// SPDX-License-Identifier: Apache-2.0
// connpool_config_*: a thin shell over connpool::Config and its key table.
#include "capi_util.h"
#include "capi_types.h"

using connpool::Guard;
using connpool::WriteError;

extern "C" {

CONNPOOL_API connpool_config_t* connpool_config_new(void) {
  try {
    return new connpool_config_s();
  } catch (...) {
    return nullptr;
  }
}

CONNPOOL_API void connpool_config_free(connpool_config_t* cfg) { delete cfg; }

CONNPOOL_API int connpool_config_set(connpool_config_t* cfg, const char* key, const char* value,
                                     char* err, size_t errlen) {
  return Guard(err, errlen, [&]() -> int {
    connpool::ClearError(err, errlen);
    if (cfg == nullptr) {
      WriteError(err, errlen, "connpool_config_set: cfg is NULL");
      return CONNPOOL_EINVAL;
    }
    std::string msg;
    connpool::Status st = connpool::SetConfigValue(&cfg->cfg, key, value, &msg);
    if (st != connpool::Status::kOK) WriteError(err, errlen, msg);
    return connpool::ToInt(st);
  });
}

CONNPOOL_API int connpool_config_from_json(const char* json, connpool_config_t** out, char* err,
                                           size_t errlen) {
  return Guard(err, errlen, [&]() -> int {
    connpool::ClearError(err, errlen);
    if (out == nullptr) {
      WriteError(err, errlen, "connpool_config_from_json: out is NULL");
      return CONNPOOL_EINVAL;
    }
    *out = nullptr;
    if (json == nullptr) {
      WriteError(err, errlen, "connpool_config_from_json: json is NULL");
      return CONNPOOL_EINVAL;
    }
    connpool::Config cfg;
    std::string msg;
    connpool::Status st = connpool::ConfigFromJson(json, &cfg, &msg);
    if (st != connpool::Status::kOK) {
      WriteError(err, errlen, msg);
      return connpool::ToInt(st);
    }
    auto* c = new connpool_config_s();
    c->cfg = std::move(cfg);
    *out = c;
    return CONNPOOL_OK;
  });
}

CONNPOOL_API char* connpool_config_to_json(const connpool_config_t* cfg) {
  if (cfg == nullptr) return nullptr;
  try {
    return connpool::ConfigToJson(cfg->cfg);
  } catch (...) {
    return nullptr;
  }
}

}  // extern "C"
