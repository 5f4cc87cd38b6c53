// SPDX-License-Identifier: Apache-2.0
// Creating connections under backoff and connect_concurrency, and the glue to the health
// state machine (health/health_machine.h, DESIGN.md §4): the pool feeds it create results,
// ticks and what its slots show, publishes its state into health_ for the fast path, and logs
// and wakes on each transition.
#include <algorithm>

#include "pool/pool.h"
#include "util/log.h"

namespace connpool {

bool Pool::CanCreateNowLocked(int64_t now_ns, int64_t* wake_at) const {
  *wake_at = HealthMachine::kNever;
  if (lifetime_.draining() || lifetime_.stopping()) return false;
  // An abandoned create (pool_hang.cpp) still holds its slot.
  if (live_ + creating_ + abandoned_creates_ >= LiveCapLocked()) return false;
  return health_machine_.MayCreate(now_ns, creating_, wake_at);  // slow start and backoff
}

bool Pool::ShouldCreateLocked(int64_t now_ns, int64_t* wake_at) const {
  *wake_at = HealthMachine::kNever;
  if (lifetime_.draining() || lifetime_.stopping() || live_ + creating_ + abandoned_creates_ >= LiveCapLocked())
    return false;
  const int64_t idle = static_cast<int64_t>(slots_.Count().idle_or_reserved());
  // Each create in flight covers one waiter, or max_leases_per_conn of them when shared.
  bool demand = static_cast<int64_t>(queue_.Size()) > creating_ * cfg_.max_leases_per_conn ||
                idle + creating_ < WarmFloorLocked() ||              // warm floor (HikariCP's minimumIdle)
                (creating_ == 0 && health_machine_.WantsProbe());     // probe an outage, prove the backend
  if (!demand) return false;
  return CanCreateNowLocked(now_ns, wake_at);
}

uint32_t Pool::BeginCreateLocked() {
  uint32_t idx = 0;
  ReserveSlotLocked(&idx);  // cannot fail: live_ + creating_ < max_size <= kMaxPoolSize
  slots_.BeginCreate(idx);
  ++creating_;
  return idx;
}

bool Pool::RunCreateLocked(std::unique_lock<std::mutex>& lk, uint32_t idx) {
  lk.unlock();
  void* conn = nullptr;
  std::string err;
  int64_t t0 = clock_->NowNs();
  CreateResult r = SafeCreate(&conn, &err);
  int64_t t1 = clock_->NowNs();
  lk.lock();
  return FinishCreateLocked(idx, r, conn, err, t0, t1);
}

void Pool::KeepCreatedLocked(std::unique_lock<std::mutex>& lk, uint32_t idx) {
  // Closing, or the pool shrank below what was live plus this create while it ran.
  const bool shrink = !lifetime_.draining() && TakeShrinkLocked();
  if (lifetime_.draining() || shrink) {
    lk.unlock();
    SafeDestroy(SlotAt(idx).conn);
    lk.lock();
    // Only pool threads get here, and Close() joins them before it can delete the pool.
    SlotEmptiedLocked(idx, shrink ? Reason::kShrink : Reason::kNone);
    return;
  }
  PutBackLocked(idx, /*fresh=*/true);
}

bool Pool::FinishCreateLocked(uint32_t idx, CreateResult r, void* conn, const std::string& err,
                              int64_t t0_ns, int64_t t1_ns) {
  --creating_;
  create_us_.Record(t1_ns > t0_ns ? static_cast<uint64_t>((t1_ns - t0_ns) / 1000) : 0);
  Slot& s = SlotAt(idx);
  std::string why = err;
  if (r == CreateResult::kOk && conn == nullptr) {
    r = CreateResult::kRetry;
    why = "create returned CONNPOOL_FACTORY_OK but no connection (NULL)";
  }
  if (r != CreateResult::kOk) {
    if (why.empty()) why = r == CreateResult::kFatal ? "create failed permanently" : "create failed";
    slots_.FreeLocked(idx);
    counters_.create_failures.fetch_add(1, std::memory_order_relaxed);
    OnCreateFailureLocked(t1_ns, r, why, t0_ns);
    if (lifetime_.draining() && live_ + creating_ == 0) state_cv_.notify_all();
    return false;
  }
  s.conn = conn;
  s.uses = 0;
  s.last_used_ns.store(t1_ns, std::memory_order_relaxed);
  s.checked_ns = t1_ns;
  s.expires_ns = 0;
  if (cfg_.max_lifetime_ms > 0) {
    // Each connection lives up to lifetime_jitter_pct % less, so a pool filled at once does
    // not expire (and reconnect) all at once.
    double cut = UnitRandomLocked() * cfg_.lifetime_jitter_pct / 100.0;
    s.expires_ns = t1_ns + static_cast<int64_t>(static_cast<double>(cfg_.max_lifetime_ms) * (1.0 - cut) * 1e6);
  }
  ++live_;
  UpdateOverCapacityLocked();  // a create that was in flight when the pool shrank
  counters_.created.fetch_add(1, std::memory_order_relaxed);
  ApplyHealthLocked(health_machine_.OnCreateSucceeded(t1_ns));
  return true;
}

double Pool::UnitRandomLocked() {
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
}

ConnectionEvidence Pool::SeeConnectionsLocked() const {
  ConnectionEvidence seen;
  if (live_ == 0) return seen;
  slots_.ForEach([&](uint32_t, SlotWord w, const Slot& s) {
    if (w.state() == kEmpty || w.state() == kCreating) return;
    if (w.idle_or_reserved()) seen.idle = true;
    seen.newest_use_ns = std::max(seen.newest_use_ns, s.last_used_ns.load(std::memory_order_relaxed));
  });
  return seen;
}

const char* Pool::HealthReasonLocked() const {
  if (lifetime_.draining()) return nullptr;
  if (const char* r = health_machine_.reason()) return r;
  // Creates succeed but no lease moves (pool_stall.cpp): the other way to be degraded.
  return stall_.stalled ? "stalled" : nullptr;
}

void Pool::OnCreateFailureLocked(int64_t now_ns, CreateResult r, const std::string& msg, int64_t started_ns) {
  const CreateFailure kind = r == CreateResult::kFatal ? CreateFailure::kFatal : CreateFailure::kOrdinary;
  const ConnectionEvidence seen = SeeConnectionsLocked();
  ApplyHealthLocked(health_machine_.OnCreateFailed(now_ns, kind, msg, started_ns, seen, UnitRandomLocked()));
}

int64_t Pool::UpdateHealthLocked(int64_t now_ns) {
  // The scan costs O(pool size): only when the machine reads it (degraded by failing creates).
  const ConnectionEvidence seen = health_machine_.WatchesConnections() ? SeeConnectionsLocked() : ConnectionEvidence{};
  const HealthMachine::Outcome o = health_machine_.Tick(now_ns, seen, creating_ > 0);
  if (o.probe_due) {
    health_machine_.ProbeSoon(now_ns, UnitRandomLocked());
    connector_cv_.notify_all();
  }
  ApplyHealthLocked(o);
  return o.look_again_ns;
}

void Pool::ApplyHealthLocked(const HealthMachine::Outcome& o) {
  // The finishing connector takes one create; the others sleep until told there is room.
  if (o.more_creates) connector_cv_.notify_all();
  if (!o.changed()) return;
  const Health h = o.to;
  health_.store(h, std::memory_order_release);
  accepting_.store(!lifetime_.draining() && (h == Health::kStarting || h == Health::kReady || h == Health::kDegraded),
                   std::memory_order_seq_cst);
  if (h == Health::kUnavailable) WakeAllWaitersLocked(Status::kEUNAVAILABLE);
  state_cv_.notify_all();
  if (LogEnabled()) {
    int level = (h == Health::kUnavailable) ? CONNPOOL_LOG_ERROR
                : (h == Health::kDegraded)  ? CONNPOOL_LOG_WARN
                                            : CONNPOOL_LOG_INFO;
    std::string msg = "pool '" + cfg_.name + "': " + HealthName(o.from) + " -> " + HealthName(h);
    const std::string& last_error = health_machine_.last_error().message;
    if ((h == Health::kDegraded || h == Health::kUnavailable) && !last_error.empty())
      msg += " (last error: " + last_error + ")";
    logs_.AddLocked(level, std::move(msg));
  }
}

void Pool::DeleteSelf() {
  // Only the deleting thread is left in pool code, so no ticket is issued any more; wait for
  // batches other threads took but have not delivered yet (they may be between unlock and sink).
  uint64_t issued;
  {
    std::lock_guard<std::mutex> lk(mu_);
    issued = logs_.IssuedLocked();
  }
  logs_.AwaitDelivered(issued);
  delete this;
}

}  // namespace connpool
