// SPDX-License-Identifier: Apache-2.0
// Maintenance - a pool's periodic pass: idle timeout, lifetime, keepalive validation, the warm
// floor, adaptive sizing steps, leak reports, time-driven health changes, and the watch for a
// stalled backend (maintenance.cpp says what each looks at).
//
// What it owns: the maintenance thread's wake-up, which leases were already reported as leaks
// (per slot), and the stall watch. The thread itself is one of the pool's (started by
// Pool::Create, joined by Close); with PoolOptions::maintenance_thread false tests call
// RunMaintenance() on their own thread instead.
//
// Requirements: one per Pool, built with it; the stall watch and the wake-up are guarded by
// the pool's mutex (Pool::mu_); leak bookkeeping is touched only by the pass itself, which
// never runs twice at once (one thread, or the test's).
#ifndef CONNPOOL_CORE_POOL_MAINTENANCE_H
#define CONNPOOL_CORE_POOL_MAINTENANCE_H

#include <boost/thread/condition_variable.hpp>
#include <cstdint>
#include <vector>

namespace connpool {

class Pool;

class Maintenance {
 public:
  explicit Maintenance(Pool& pool) : pool_(pool) {}
  Maintenance(const Maintenance&) = delete;
  Maintenance& operator=(const Maintenance&) = delete;

  // The maintenance thread's loop: a pass every maintenance_interval_ms of the pool clock.
  void MaintenanceLoop();
  // One pass on the calling thread (Pool::RunMaintenance).
  void RunMaintenance();
  // Wakes the maintenance thread: the clock advanced, sizes changed, the pool is closing.
  void WakeLocked() { cv_.notify_all(); }
  // The stall watch's verdict (health reason "stalled", stats hangs.stalled).
  bool stalled_locked() const { return stall_.stalled; }
  int64_t stalled_since_ns_locked() const { return stall_.since_ns; }

 private:
  // Decides whether the pool is stalled now (in `now_ns`), and moves health between ready and
  // degraded accordingly.
  void CheckStallLocked(int64_t now_ns);
  void LogLeaks(int64_t now_ns);

  struct StallWatch {
    bool stalled = false;
    int64_t since_ns = 0;         // when the current stall was declared
    int64_t last_change_ns = -1;  // newest lease start or return seen; -1: none seen yet
    uint64_t timeouts_mark = 0;   // the timeouts counter when last_change_ns last moved
  };

  Pool& pool_;
  boost::condition_variable_any cv_;
  std::vector<uint64_t> leak_logged_;  // the pass only: lease already reported per slot
  StallWatch stall_;
};

}  // namespace connpool

#endif
