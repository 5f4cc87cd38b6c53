// SPDX-License-Identifier: Apache-2.0
// Creating connections: the connector threads (Boost.Thread), which run creates under backoff
// and connect_concurrency for waiters and for the warm floor, and the bookkeeping of a create
// from its start (BeginCreateLocked) to where its connection goes (KeepCreatedLocked). A
// create's outcome feeds the health machine (Pool::OnCreateFailureLocked, pool.cpp); the
// connectors sleep on the pool clock, so a FakeClock drives them in tests.
#include <algorithm>
#include <boost/thread/thread.hpp>
#include <limits>

#include "pool/offload_job.h"
#include "pool/pool.h"
#include "util/log.h"

namespace connpool {

bool Connector::CanCreateNowLocked(int64_t now_ns, int64_t* wake_at) const {
  *wake_at = HealthMachine::kNever;
  if (pool_.lifetime_.draining() || pool_.lifetime_.stopping()) return false;
  // An abandoned create (connector_bounded.cpp) still holds its slot.
  if (pool_.live_ + creating_ + abandoned_creates_ >= pool_.sizing_.LiveCapLocked()) return false;
  return pool_.health_machine_.MayCreate(now_ns, creating_, wake_at);  // slow start and backoff
}

bool Connector::ShouldCreateLocked(int64_t now_ns, int64_t* wake_at) const {
  *wake_at = HealthMachine::kNever;
  if (pool_.lifetime_.draining() || pool_.lifetime_.stopping() ||
      pool_.live_ + creating_ + abandoned_creates_ >= pool_.sizing_.LiveCapLocked())
    return false;
  const int64_t idle = static_cast<int64_t>(pool_.slots_.Count().idle_or_reserved());
  // Each create in flight covers one waiter, or max_leases_per_conn of them when shared.
  bool demand = static_cast<int64_t>(pool_.queue_.Size()) > creating_ * pool_.cfg_.max_leases_per_conn ||
                idle + creating_ < pool_.sizing_.WarmFloorLocked() ||    // warm floor (HikariCP's minimumIdle)
                (creating_ == 0 && pool_.health_machine_.WantsProbe());  // probe an outage, prove the backend
  if (!demand) return false;
  return CanCreateNowLocked(now_ns, wake_at);
}

uint32_t Connector::BeginCreateLocked() {
  uint32_t idx = 0;
  pool_.ReserveSlotLocked(&idx);  // cannot fail: live_ + creating_ < max_size <= kMaxPoolSize
  pool_.slots_.BeginCreate(idx);
  ++creating_;
  return idx;
}

bool Connector::RunCreateLocked(std::unique_lock<std::mutex>& lk, uint32_t idx) {
  lk.unlock();
  void* conn = nullptr;
  std::string err;
  int64_t t0 = pool_.clock_->NowNs();
  CreateResult r = pool_.SafeCreate(&conn, &err);
  int64_t t1 = pool_.clock_->NowNs();
  lk.lock();
  return FinishCreateLocked(idx, r, conn, err, t0, t1);
}

void Connector::KeepCreatedLocked(std::unique_lock<std::mutex>& lk, uint32_t idx) {
  // Closing, or the pool shrank below what was live plus this create while it ran.
  const bool shrink = !pool_.lifetime_.draining() && pool_.sizing_.TakeShrinkLocked();
  if (pool_.lifetime_.draining() || shrink) {
    lk.unlock();
    pool_.SafeDestroy(pool_.SlotAt(idx).conn);
    lk.lock();
    // Only pool threads get here, and Close() joins them before it can delete the pool.
    pool_.SlotEmptiedLocked(idx, shrink ? Pool::Reason::kShrink : Pool::Reason::kNone);
    return;
  }
  pool_.PutBackLocked(idx, /*fresh=*/true);
}

bool Connector::FinishCreateLocked(uint32_t idx, CreateResult r, void* conn, const std::string& err, int64_t t0_ns,
                                   int64_t t1_ns) {
  --creating_;
  pool_.metrics_.create_us.Record(t1_ns > t0_ns ? static_cast<uint64_t>((t1_ns - t0_ns) / 1000) : 0);
  Slot& s = pool_.SlotAt(idx);
  std::string why = err;
  if (r == CreateResult::kOk && conn == nullptr) {
    r = CreateResult::kRetry;
    why = "create returned CONNPOOL_FACTORY_OK but no connection (NULL)";
  }
  if (r != CreateResult::kOk) {
    if (why.empty()) why = r == CreateResult::kFatal ? "create failed permanently" : "create failed";
    pool_.slots_.FreeLocked(idx);
    pool_.metrics_.counters.create_failures.fetch_add(1, std::memory_order_relaxed);
    pool_.OnCreateFailureLocked(t1_ns, r, why, t0_ns);
    if (pool_.lifetime_.draining() && pool_.live_ + creating_ == 0) pool_.state_cv_.notify_all();
    return false;
  }
  s.conn = conn;
  s.uses = 0;
  s.last_used_ns.store(t1_ns, std::memory_order_relaxed);
  s.checked_ns = t1_ns;
  s.expires_ns = 0;
  if (pool_.cfg_.max_lifetime_ms > 0) {
    // Each connection lives up to lifetime_jitter_pct % less, so a pool filled at once does
    // not expire (and reconnect) all at once.
    double cut = pool_.UnitRandomLocked() * pool_.cfg_.lifetime_jitter_pct / 100.0;
    s.expires_ns = t1_ns + static_cast<int64_t>(static_cast<double>(pool_.cfg_.max_lifetime_ms) * (1.0 - cut) * 1e6);
  }
  ++pool_.live_;
  pool_.sizing_.UpdateOverCapacityLocked();  // a create that was in flight when the pool shrank
  pool_.metrics_.counters.created.fetch_add(1, std::memory_order_relaxed);
  pool_.ApplyHealthLocked(pool_.health_machine_.OnCreateSucceeded(t1_ns));
  return true;
}

void Connector::ConnectorLoop() {
  try {
    std::unique_lock<std::mutex> lk(pool_.mu_);
    while (!pool_.lifetime_.stopping()) {
      const int64_t now = pool_.clock_->NowNs();
      int64_t health_at = pool_.UpdateHealthLocked(now);
      int64_t wake_at;
      if (!pool_.logs_.EmptyLocked()) {
        pool_.logs_.FlushLocked(lk);
        continue;  // time and state may have moved while unlocked
      }
      if (!ShouldCreateLocked(now, &wake_at)) {
        pool_.WaitLocked(connector_cv_, lk, std::min(wake_at, health_at));
        continue;
      }
      uint32_t idx = BeginCreateLocked();
      if (CreateBoundedLocked(lk, idx)) KeepCreatedLocked(lk, idx);  // create_timeout_ms (connector_bounded.cpp)
    }
  } catch (const boost::thread_interrupted&) {
    // Close() interrupted a wait: nothing is half-done at an interruption point.
  }
}

}  // namespace connpool
