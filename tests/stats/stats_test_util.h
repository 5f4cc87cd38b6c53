// SPDX-License-Identifier: Apache-2.0
// Helpers for the stats, metrics and logging tests, which use only the public C API (as users
// do): a scriptable in-memory backend, polling with a deadline, JSON access, UTF-8 checks.
#ifndef CONNPOOL_TESTS_STATS_TEST_UTIL_H
#define CONNPOOL_TESTS_STATS_TEST_UTIL_H

#include <cjson/cJSON.h>
#include <iconv.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "connpool/connpool.h"
#include "../common/eventually.h"
#include "../common/log_capture.h"

namespace stats_test {

// The backend a test controls. Connections are heap ints. `up` decides whether create
// succeeds; `fatal` makes a failing create permanent. `on_callback`, when set, runs inside
// every factory callback (the tests read stats from there).
struct Backend {
  std::atomic<bool> up{true};
  std::atomic<bool> fatal{false};
  std::atomic<int> creates{0}, create_failures{0}, destroys{0}, validates{0}, resets{0};
  std::atomic<bool> ctx_freed{false};
  std::string error_text = "connect to db:5432 failed: password=hunter2 sslmode=require";
  std::function<void(const char* which)> on_callback;  // set before the pool exists

  void Hook(const char* which) {
    if (on_callback) on_callback(which);
  }
};

inline int BackendCreate(void* ctx, void** conn_out, char* err, size_t errlen) {
  auto* b = static_cast<Backend*>(ctx);
  b->Hook("create");
  if (!b->up.load()) {
    b->create_failures++;
    snprintf(err, errlen, "%s", b->error_text.c_str());
    return b->fatal.load() ? CONNPOOL_FACTORY_FATAL : CONNPOOL_FACTORY_RETRY;
  }
  b->creates++;
  *conn_out = new int(b->creates.load());
  return CONNPOOL_FACTORY_OK;
}

inline void BackendDestroy(void* ctx, void* conn) {
  auto* b = static_cast<Backend*>(ctx);
  b->Hook("destroy");
  b->destroys++;
  delete static_cast<int*>(conn);
}

inline int BackendValidate(void* ctx, void*) {
  auto* b = static_cast<Backend*>(ctx);
  b->Hook("validate");
  b->validates++;
  return b->up.load() ? 0 : 1;
}

inline int BackendReset(void* ctx, void*) {
  auto* b = static_cast<Backend*>(ctx);
  b->Hook("reset");
  b->resets++;
  return 0;
}

inline void BackendFree(void* ctx) { static_cast<Backend*>(ctx)->ctx_freed = true; }

// A pool over `backend` (which must outlive it) with `settings` as key/value pairs.
// Returns NULL and prints the error on failure.
inline connpool_pool_t* MakePool(Backend* backend,
                                 const std::vector<std::pair<std::string, std::string>>& settings,
                                 bool with_validate_and_reset = true) {
  connpool_config_t* cfg = connpool_config_new();
  char err[256];
  for (const auto& kv : settings) {
    if (connpool_config_set(cfg, kv.first.c_str(), kv.second.c_str(), err, sizeof err) != CONNPOOL_OK) {
      fprintf(stderr, "config %s: %s\n", kv.first.c_str(), err);
      connpool_config_free(cfg);
      return nullptr;
    }
  }
  connpool_factory_t* f = connpool_factory_new(backend, BackendFree, BackendCreate, BackendDestroy);
  if (with_validate_and_reset) {
    connpool_factory_set_validate(f, BackendValidate);
    connpool_factory_set_reset(f, BackendReset);
  }
  connpool_pool_t* pool = nullptr;
  int rc = connpool_pool_new(cfg, f, &pool, err, sizeof err);
  connpool_config_free(cfg);
  if (rc != CONNPOOL_OK) {
    fprintf(stderr, "connpool_pool_new: %s: %s\n", connpool_errname(rc), err);
    return nullptr;
  }
  return pool;
}

using connpool_test::Eventually;  // tests/common/eventually.h

// Owned text returned by the library.
inline std::string Take(char* p) {
  std::string s = p ? p : "";
  connpool_free(p);
  return s;
}

struct JsonDeleter {
  void operator()(cJSON* j) const { cJSON_Delete(j); }
};
using Json = std::unique_ptr<cJSON, JsonDeleter>;

// Parses a whole document strictly (nothing after the value); NULL when malformed.
inline Json Parse(const std::string& text) {
  const char* end = nullptr;
  return Json(cJSON_ParseWithOpts(text.c_str(), &end, 1));
}

inline Json Stats(connpool_pool_t* pool) { return Parse(Take(connpool_pool_stats_json(pool))); }

// The member at a dotted path ("connections.idle"), or NULL.
inline const cJSON* At(const cJSON* root, const std::string& path) {
  const cJSON* cur = root;
  size_t start = 0;
  while (cur != nullptr && start <= path.size()) {
    size_t dot = path.find('.', start);
    std::string key = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    cur = cJSON_GetObjectItemCaseSensitive(cur, key.c_str());
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return cur;
}

// A non-negative integer member as a number, or -1 when missing or not an integer.
inline double Int(const cJSON* root, const std::string& path) {
  const cJSON* j = At(root, path);
  if (j == nullptr || !cJSON_IsNumber(j)) return -1;
  double v = j->valuedouble;
  if (v < 0 || v != static_cast<double>(static_cast<long long>(v))) return -1;
  return v;
}

inline std::string Str(const cJSON* root, const std::string& path) {
  const cJSON* j = At(root, path);
  return (j != nullptr && cJSON_IsString(j)) ? j->valuestring : "";
}

// True when `s` is well-formed UTF-8, judged by glibc's iconv (independent of the library's
// own sanitiser).
inline bool IsValidUtf8(const std::string& s) {
  iconv_t cd = iconv_open("UTF-8", "UTF-8");
  if (cd == reinterpret_cast<iconv_t>(-1)) return false;
  std::vector<char> in(s.begin(), s.end());
  std::vector<char> out(s.size() * 4 + 16);
  char* ip = in.data();
  size_t il = in.size();
  char* op = out.data();
  size_t ol = out.size();
  size_t rc = iconv(cd, &ip, &il, &op, &ol);
  iconv_close(cd);
  return rc != static_cast<size_t>(-1) && il == 0;
}

using connpool_test::LogCapture;  // tests/common/log_capture.h

}  // namespace stats_test

#endif
