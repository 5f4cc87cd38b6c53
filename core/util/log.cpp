// SPDX-License-Identifier: Apache-2.0
#include "util/log.h"

#include <atomic>
#include <mutex>
#include <shared_mutex>

#include "util/redact.h"

namespace connpool {

namespace {

struct Sink {
  std::shared_mutex mu;  // shared while a message is delivered, exclusive to replace the sink
  LogCallback cb = nullptr;  // guarded by mu
  void* ud = nullptr;        // guarded by mu
  std::atomic<bool> enabled{false};
};

Sink& TheSink() {
  static Sink* sink = new Sink();  // never destroyed: pools may log from static destructors
  return *sink;
}

thread_local bool t_in_sink = false;

}  // namespace

void SetLogCallback(LogCallback cb, void* ud) {
  if (t_in_sink) return;  // replacing the sink from inside it would deadlock
  Sink& s = TheSink();
  std::unique_lock<std::shared_mutex> lk(s.mu);
  s.cb = cb;
  s.ud = ud;
  s.enabled.store(cb != nullptr, std::memory_order_release);
}

bool LogEnabled() { return TheSink().enabled.load(std::memory_order_acquire); }

void Log(int level, const std::string& msg) {
  if (!LogEnabled() || t_in_sink) return;  // a sink that logs through us must not recurse
  std::string clean = Redact(msg);
  Sink& s = TheSink();
  std::shared_lock<std::shared_mutex> lk(s.mu);
  if (s.cb == nullptr) return;
  t_in_sink = true;
  try {
    s.cb(s.ud, level, clean.c_str());
  } catch (...) {
    // A C++ sink that throws must not unwind through the pool.
  }
  t_in_sink = false;
}

}  // namespace connpool
