// SPDX-License-Identifier: Apache-2.0
// Creating connections under backoff and connect_concurrency, and the health state machine
// (DESIGN.md §4):
//   starting --first create ok--> ready --create fails--> degraded --failing for
//   unavailable_after_ms (or FATAL)--> unavailable --one create ok--> ready
// An outage starts at the first failed create after the last success; while it lasts only
// one probe is in flight at a time, each after a delay from the ProbeSchedule (backoff capped
// by probe_interval_ms), so a crowd of callers never hammers a backend that is down; after
// it, SlowStart ramps the creates in flight back up to connect_concurrency.
// A create that fails while the pool's connections keep working is a capacity limit, not an
// outage: the pool stays degraded and serves on what it has, retries growth on the plain
// backoff, and the unavailable_after_ms clock does not run.
#include <algorithm>
#include <limits>

#include "pool/pool.h"
#include "util/log.h"
#include "util/redact.h"

namespace connpool {

namespace {
constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

// Creates that a pool may issue right now, given what is in flight and the backoff.
bool BackoffAllows(uint64_t failures, int64_t creating, int64_t now_ns, int64_t next_ns, int64_t* wake_at) {
  if (failures == 0) return true;
  if (creating > 0) return false;  // one probe at a time during an outage
  if (now_ns < next_ns) {
    *wake_at = std::min(*wake_at, next_ns);
    return false;
  }
  return true;
}
}  // namespace

bool Pool::CanCreateNowLocked(int64_t now_ns, int64_t* wake_at) const {
  *wake_at = kNever;
  if (closing_ || stopping_) return false;
  // An abandoned create (pool_hang.cpp) still holds its slot.
  if (live_ + creating_ + abandoned_creates_ >= LiveCapLocked()) return false;
  if (creating_ >= slow_start_.Limit()) return false;  // connect_concurrency, or less while ramping
  return BackoffAllows(consecutive_failures_, creating_, now_ns, next_attempt_ns_, wake_at);
}

bool Pool::ShouldCreateLocked(int64_t now_ns, int64_t* wake_at) const {
  *wake_at = kNever;
  if (closing_ || stopping_ || live_ + creating_ + abandoned_creates_ >= LiveCapLocked())
    return false;
  const int64_t idle = static_cast<int64_t>(slots_.Count().idle_or_reserved());
  // Each create in flight covers one waiter, or max_leases_per_conn of them when shared.
  bool demand = static_cast<int64_t>(queue_.Size()) > creating_ * cfg_.max_leases_per_conn ||
                idle + creating_ < WarmFloorLocked() ||             // warm floor (HikariCP's minimumIdle)
                (consecutive_failures_ > 0 && creating_ == 0) ||     // keep probing an outage
                (!ever_connected_ && creating_ == 0);                // prove the backend at start,
                                                                     // even with min_idle = 0
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
  const bool shrink = !closing_ && TakeShrinkLocked();
  if (closing_ || shrink) {
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
    create_failures_.fetch_add(1, std::memory_order_relaxed);
    OnCreateFailureLocked(t1_ns, r, why, t0_ns);
    if (closing_ && live_ + creating_ == 0) state_cv_.notify_all();
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
  created_.fetch_add(1, std::memory_order_relaxed);
  OnCreateSuccessLocked(t1_ns);
  return true;
}

double Pool::UnitRandomLocked() {
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
}

bool Pool::ConnectionsWorkingLocked() const {
  if (live_ == 0) return false;
  bool idle = false;
  int64_t proof = -1;  // the latest release (or create) of a connection still live
  slots_.ForEach([&](uint32_t, SlotWord w, const Slot& s) {
    if (w.state() == kEmpty || w.state() == kCreating) return;
    if (w.idle_or_reserved()) idle = true;
    proof = std::max(proof, s.last_used_ns.load(std::memory_order_relaxed));
  });
  // A connection broke after the last proof: the others are suspect (an outage finds them
  // broken one by one). Idle ones count until an acquire's validation says otherwise; leased
  // ones only if one came back unbroken during the failures (a lease hung on a dead server
  // must not keep the pool from failing fast).
  if (proof < last_broken_ns_) return false;
  return idle || (outage_start_ns_ >= 0 && proof > outage_start_ns_);
}

const char* Pool::HealthReasonLocked() const {
  if (closing_) return nullptr;
  // Creates succeed but no lease moves (pool_stall.cpp): the other way to be degraded.
  if (consecutive_failures_ == 0) return stall_.stalled ? "stalled" : nullptr;
  if (last_failure_fatal_) return "fatal";
  return capacity_limited_ ? "capacity" : "outage";
}

void Pool::OnCreateSuccessLocked(int64_t now_ns) {
  const int64_t limit = slow_start_.Limit();
  slow_start_.OnSuccess();
  // The finishing connector takes one create; the others sleep until told there is room.
  if (slow_start_.Limit() > limit) connector_cv_.notify_all();
  last_failure_fatal_ = false;
  capacity_limited_ = false;
  working_until_ns_ = -1;
  consecutive_failures_ = 0;
  outage_start_ns_ = -1;
  next_attempt_ns_ = 0;
  ever_connected_ = true;
  Health h = health_.load(std::memory_order_relaxed);
  if (h == Health::kStarting || h == Health::kDegraded || h == Health::kUnavailable)
    SetHealthLocked(Health::kReady, now_ns);
}

void Pool::OnCreateFailureLocked(int64_t now_ns, CreateResult r, const std::string& msg, int64_t started_ns) {
  // Up to connect_concurrency creates may be in flight when the backend goes; those that
  // began before the first of them failed keep its schedule, so the outage's first probe keeps
  // its random phase (a fleet's spread) instead of the next backoff step's fixed interval.
  const bool burst = consecutive_failures_ > 0 && outage_start_ns_ >= 0 && started_ns < outage_start_ns_;
  ++consecutive_failures_;
  if (outage_start_ns_ < 0) outage_start_ns_ = now_ns;
  slow_start_.OnFailure();
  last_failure_fatal_ = r == CreateResult::kFatal;
  capacity_limited_ = !last_failure_fatal_ && ConnectionsWorkingLocked();
  if (capacity_limited_) working_until_ns_ = now_ns;
  const double u = UnitRandomLocked();
  int64_t delay_ms = last_failure_fatal_ ? schedule_.FatalDelayMs(u)
                     : capacity_limited_ ? schedule_.CapacityDelayMs(consecutive_failures_, u)
                                         : schedule_.OutageDelayMs(consecutive_failures_, u);
  if (!burst || last_failure_fatal_ || capacity_limited_) next_attempt_ns_ = now_ns + delay_ms * 1'000'000;
  SetLastErrorLocked(msg, Status::kEFACTORY, now_ns);
  Health h = health_.load(std::memory_order_relaxed);
  if (h == Health::kDraining || h == Health::kClosed) return;
  if (r == CreateResult::kFatal) {
    SetHealthLocked(Health::kUnavailable, now_ns);
  } else if (h == Health::kReady) {
    SetHealthLocked(Health::kDegraded, now_ns);
  }
  UpdateHealthLocked(now_ns);
}

int64_t Pool::UpdateHealthLocked(int64_t now_ns) {
  Health h = health_.load(std::memory_order_relaxed);
  if (closing_ || consecutive_failures_ == 0) return kNever;
  if (h == Health::kStarting && cfg_.startup_retry_ms >= 0) {
    int64_t at = created_ns_ + cfg_.startup_retry_ms * 1'000'000;
    if (now_ns < at) return at;
    SetHealthLocked(Health::kUnavailable, now_ns);
  } else if (h == Health::kDegraded && !last_failure_fatal_) {
    if (ConnectionsWorkingLocked()) {
      // A capacity limit: the clock stands still; a broken connection wakes the connectors
      // (SlotEmptiedLocked) and maintenance looks again each interval.
      capacity_limited_ = true;
      working_until_ns_ = now_ns;
      return kNever;
    }
    if (capacity_limited_) {
      // The connections stopped working too: an outage after all. The growth retry may be far
      // off on the plain backoff; probe within one interval instead (at a random point of it,
      // as a first outage probe).
      capacity_limited_ = false;
      if (schedule_.probe_interval_ms > 0 && creating_ == 0) {
        int64_t probe = now_ns + schedule_.OutageDelayMs(1, UnitRandomLocked()) * 1'000'000;
        next_attempt_ns_ = std::min(next_attempt_ns_, probe);
        connector_cv_.notify_all();
      }
    }
    if (cfg_.unavailable_after_ms > 0) {
      // Counted from the outage's start, or from when the connections last worked.
      int64_t at = std::max(outage_start_ns_, working_until_ns_) + cfg_.unavailable_after_ms * 1'000'000;
      if (now_ns < at) return at;
      SetHealthLocked(Health::kUnavailable, now_ns);
    }
  }
  return kNever;
}

void Pool::SetHealthLocked(Health h, int64_t now_ns) {
  Health old = health_.load(std::memory_order_relaxed);
  if (old == h) return;
  health_.store(h, std::memory_order_release);
  state_since_ns_ = now_ns;
  accepting_.store(!closing_ && (h == Health::kStarting || h == Health::kReady || h == Health::kDegraded),
                   std::memory_order_seq_cst);
  if (h == Health::kUnavailable) WakeAllWaitersLocked(Status::kEUNAVAILABLE);
  state_cv_.notify_all();
  if (LogEnabled()) {
    int level = (h == Health::kUnavailable) ? CONNPOOL_LOG_ERROR
                : (h == Health::kDegraded)  ? CONNPOOL_LOG_WARN
                                            : CONNPOOL_LOG_INFO;
    std::string msg = "pool '" + cfg_.name + "': " + HealthName(old) + " -> " + HealthName(h);
    if ((h == Health::kDegraded || h == Health::kUnavailable) && !last_error_.empty())
      msg += " (last error: " + last_error_ + ")";
    pending_logs_.emplace_back(level, std::move(msg));
  }
}

Pool::PendingLogs Pool::TakeLogsLocked() {
  PendingLogs batch;
  if (pending_logs_.empty()) return batch;
  batch.ticket = ++log_tickets_issued_;
  batch.items.swap(pending_logs_);
  return batch;
}

void Pool::EmitLogs(PendingLogs logs) {
  if (logs.ticket == 0) return;
  std::unique_lock<std::mutex> lk(log_order_mu_);
  log_order_cv_.wait(lk, [&] { return log_tickets_served_ + 1 == logs.ticket; });
  lk.unlock();  // the sink runs with no pool lock held; later batches wait on served_
  for (auto& [level, msg] : logs.items) Log(level, msg);
  lk.lock();
  ++log_tickets_served_;
  log_order_cv_.notify_all();
}

void Pool::DeleteSelf() {
  // Only the deleting thread is left in pool code, so no ticket is issued any more; wait for
  // batches other threads took but have not delivered yet (they may be between unlock and sink).
  uint64_t issued;
  {
    std::lock_guard<std::mutex> lk(mu_);
    issued = log_tickets_issued_;
  }
  {
    std::unique_lock<std::mutex> lk(log_order_mu_);
    log_order_cv_.wait(lk, [&] { return log_tickets_served_ >= issued; });
  }
  delete this;
}

void Pool::FlushLogsLocked(std::unique_lock<std::mutex>& lk) {
  if (pending_logs_.empty()) return;
  PendingLogs logs = TakeLogsLocked();
  lk.unlock();
  EmitLogs(std::move(logs));
  lk.lock();
}

void Pool::SetLastErrorLocked(const std::string& msg, Status code, int64_t now_ns) {
  // Bounded so a factory that writes a huge message cannot bloat stats.
  last_error_ = Redact(msg.size() > 1024 ? msg.substr(0, 1024) : msg);
  last_error_code_ = ToInt(code);
  last_error_ns_ = now_ns;
}

}  // namespace connpool
