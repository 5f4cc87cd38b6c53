// SPDX-License-Identifier: Apache-2.0
// LogCapture: the library's log lines, collected while a test runs. The sink is process-wide
// (connpool_set_log_callback), so one capture is installed at a time; the constructor
// installs it, Stop() or the destructor removes it.
#ifndef CONNPOOL_TESTS_COMMON_LOG_CAPTURE_H
#define CONNPOOL_TESTS_COMMON_LOG_CAPTURE_H

#include <cstddef>
#include <mutex>
#include <string>
#include <vector>

#include "connpool/connpool.h"

namespace connpool_test {

class LogCapture {
 public:
  static constexpr int kAnyLevel = -1;
  // `only_level`: keep only messages of this CONNPOOL_LOG_* level (kAnyLevel: all of them).
  explicit LogCapture(int only_level = kAnyLevel) : only_level_(only_level) {
    connpool_set_log_callback(&LogCapture::Sink, this);
  }
  ~LogCapture() { Stop(); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  // Removes the sink now, so that the checks that follow read a log nothing adds to.
  void Stop() {
    if (installed_) connpool_set_log_callback(nullptr, nullptr);
    installed_ = false;
  }

  struct Entry {
    int level;
    std::string msg;
  };
  std::vector<Entry> Entries() const {
    std::lock_guard<std::mutex> lk(mu_);
    return entries_;
  }
  std::vector<std::string> Lines() const {
    std::vector<std::string> lines;
    for (const Entry& e : Entries()) lines.push_back(e.msg);
    return lines;
  }
  bool AnyContains(const std::string& text) const { return Count({text}) > 0; }
  // Messages containing every one of `parts`.
  size_t Count(const std::vector<std::string>& parts) const {
    size_t n = 0;
    for (const Entry& e : Entries()) {
      bool all = true;
      for (const std::string& p : parts) all = all && e.msg.find(p) != std::string::npos;
      n += all ? 1 : 0;
    }
    return n;
  }

 private:
  static void Sink(void* ud, int level, const char* msg) {
    auto* self = static_cast<LogCapture*>(ud);
    if (self->only_level_ != kAnyLevel && level != self->only_level_) return;
    std::lock_guard<std::mutex> lk(self->mu_);
    self->entries_.push_back({level, msg});
  }
  const int only_level_;
  bool installed_ = true;
  mutable std::mutex mu_;
  std::vector<Entry> entries_;
};

}  // namespace connpool_test

#endif  // CONNPOOL_TESTS_COMMON_LOG_CAPTURE_H
