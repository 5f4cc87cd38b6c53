// SPDX-License-Identifier: Apache-2.0
// Pool lifetime, slots, hand-off, drain and close, and the glue to the health state machine
// (health/health_machine.h, DESIGN.md §4): the pool feeds it create results, ticks and what
// its slots show, publishes its state into health_ for the fast path, and logs and wakes on
// each transition.
#include "pool/pool.h"

#include <pthread.h>

#include <algorithm>
#include <boost/thread/thread.hpp>
#include <limits>
#include <stdexcept>
#include <type_traits>

#include "util/log.h"
#include "util/redact.h"

namespace connpool {

namespace {
std::atomic<uint64_t> g_next_tag{0};

// Tags cycle through 1..2^14-1 so that 0 never appears in a lease.
uint64_t NextTag() { return g_next_tag.fetch_add(1, std::memory_order_relaxed) % kLeaseTagMask + 1; }

// The coarse word of a clock that keeps none: always 0, so the fast paths ask the clock.
const std::atomic<int64_t> kNoCoarseWord{0};

PoolTraits MakeTraits(const Config& cfg, const Factory& factory, Clock* clock) {
  PoolTraits t{};
  t.steady_clock = clock == SteadyClock::Instance();
  t.tag = NextTag();
  t.created_ns = clock->NowNs();
  t.has_validate = factory.HasValidate();
  t.reset_on_release = cfg.reset_on_release && factory.HasReset();
  t.exclusive_release = t.reset_on_release || cfg.max_uses > 0;
  t.mux = cfg.max_leases_per_conn > 1;
  return t;
}
}  // namespace

Status Pool::Create(const Config& cfg, std::unique_ptr<Factory> factory, const PoolOptions& opts,
                    Pool** out, std::string* err) {
  if (out == nullptr || factory == nullptr) {
    *err = "factory and out must not be NULL";
    return Status::kEINVAL;
  }
  Status st = CheckConfig(cfg, err);
  if (st != Status::kOK) return st;
  Pool* p = new Pool(cfg, std::move(factory), opts);
  try {
    {
      // The first helper before any job needs one (connector_helpers.cpp keeps a spare from then on).
      std::lock_guard<std::mutex> lk(p->mu_);
      if (!p->connector_.SpawnHelperLocked()) throw std::runtime_error("cannot start a helper thread");
    }
    unsigned connectors = static_cast<unsigned>(cfg.connect_concurrency);
    // Named so thread dumps (gdb, top -H, jstack) show what they are; 15 characters at most.
    for (unsigned i = 0; i < connectors; ++i)
      p->threads_.emplace_back([p] {
        pthread_setname_np(pthread_self(), "connpool-conn");
        p->connector_.ConnectorLoop();
      });
    if (opts.maintenance_thread)
      p->threads_.emplace_back([p] {
        pthread_setname_np(pthread_self(), "connpool-maint");
        p->maintenance_.MaintenanceLoop();
      });
  } catch (const std::exception& e) {
    *err = std::string("cannot start background threads: ") + e.what();
    p->Close();
    return Status::kENOMEM;
  }
  *out = p;
  return Status::kOK;
}

Pool::Pool(const Config& cfg, std::unique_ptr<Factory> factory, const PoolOptions& opts)
    : cfg_(cfg),
      factory_(std::move(factory)),
      clock_(opts.clock ? opts.clock : const_cast<Clock*>(SteadyClock::Instance())),
      coarse_word_(clock_->CoarseWord() ? clock_->CoarseWord() : &kNoCoarseWord),
      traits_(MakeTraits(cfg, *factory_, clock_)),
      slots_(static_cast<uint32_t>(kMaxPoolSize)),
      health_machine_(cfg, traits_.created_ns),
      rng_(opts.seed ? opts.seed : std::random_device{}()) {
  clock_->AddListener(this);
}

Pool::~Pool() {
  clock_->RemoveListener(this);
  slots_.ForEach([this](uint32_t, SlotWord, Slot& s) {
    if (s.conn != nullptr) SafeDestroy(s.conn);  // only reachable if Create failed half-way
  });
}

bool Pool::ReserveSlotLocked(uint32_t* idx) {
  bool is_new = false;
  if (!slots_.ReserveLocked(idx, &is_new)) return false;
  if (is_new && traits_.reset_on_release && cfg_.reset_timeout_ms > 0) connector_.AddResetJobLocked(*idx);
  return true;
}

bool Pool::SlotEmptiedLocked(uint32_t idx, Reason reason) {
  Slot& s = SlotAt(idx);
  s.conn = nullptr;
  s.uses = 0;
  s.expires_ns = 0;
  s.holder_thread.store(0, std::memory_order_relaxed);
  slots_.FreeLocked(idx);
  --live_;
  metrics_.counters.destroyed.fetch_add(1, std::memory_order_relaxed);
  switch (reason) {
    case Reason::kBroken:
    case Reason::kValidation: {
      metrics_.counters.closed_broken.fetch_add(1, std::memory_order_relaxed);
      // Evidence for the health logic: connections stop counting as working (health_machine.h).
      health_machine_.OnConnectionBroken(clock_->NowNs());
      break;
    }
    case Reason::kIdle: metrics_.counters.closed_idle.fetch_add(1, std::memory_order_relaxed); break;
    case Reason::kLifetime: metrics_.counters.closed_lifetime.fetch_add(1, std::memory_order_relaxed); break;
    case Reason::kMaxUses: metrics_.counters.closed_max_uses.fetch_add(1, std::memory_order_relaxed); break;
    case Reason::kShrink:
      metrics_.counters.closed_shrink.fetch_add(1, std::memory_order_relaxed);
      sizing_.ShrinkDoneLocked();
      break;
    case Reason::kNone: break;
  }
  sizing_.UpdateOverCapacityLocked();
  connector_.WakeLocked();  // a replacement may be needed
  if (lifetime_.draining() && live_ + connector_.creating_locked() == 0) {
    ApplyHealthLocked(health_machine_.OnClosed(clock_->NowNs()));  // no-op unless draining
    state_cv_.notify_all();
  }
  return ShouldDeleteLocked();
}

bool Pool::ShouldDeleteLocked() {
  // An abandoned create's helper (connector_bounded.cpp) still has to come back into the pool.
  return lifetime_.TryBeginDelete(live_ + connector_.creating_locked() + connector_.abandoned_creates_locked() != 0);
}

void Pool::RetireOwned(uint32_t idx, Reason reason) {
  SafeDestroy(SlotAt(idx).conn);
  std::unique_lock<std::mutex> lk(mu_);
  const bool del = SlotEmptiedLocked(idx, reason);
  UnlockDeliverMaybeDelete(lk, del);
}

void Pool::HandToWaiterLocked(uint32_t idx, Waiter* w, bool fresh) {
  Slot& s = SlotAt(idx);
  queue_.Remove(w);
  waiters_count_.fetch_sub(1, std::memory_order_seq_cst);
  s.holder_thread.store(w->thread_id, std::memory_order_relaxed);
  s.holder_priority.store(w->priority, std::memory_order_relaxed);
  const uint64_t gen = slots_.LeaseOwnedLocked(idx);  // publishes the holder fields
  w->slot = idx;
  w->lease = MakeLease(traits_.tag, idx, gen);
  w->status = Status::kOK;
  w->fresh = fresh;
  w->done = true;
  if (w->cb != nullptr) {
    async_.ReadyHandedLocked(w);  // the dispatcher checks the connection and calls back
  } else {
    w->cv.notify_one();
  }
}

void Pool::PutBackLocked(uint32_t idx, bool fresh) {
  Waiter* w = queue_.Front();
  if (w != nullptr) {
    HandToWaiterLocked(idx, w, fresh);
    return;
  }
  // Under mu_ nobody else changes an owned slot's flags, so a store is safe.
  slots_.MakeIdleOwnedLocked(idx);
}

void Pool::WakeAllWaitersLocked(Status st) {
  while (Waiter* w = queue_.Front()) {
    async_.UnqueueLocked(w);
    if (w->cb != nullptr) {
      async_.CompleteAsyncLocked(w, st);
      continue;
    }
    w->status = st;
    w->done = true;
    w->cv.notify_one();
  }
}

template <typename Cv>
void Pool::WaitLocked(Cv& cv, std::unique_lock<std::mutex>& lk, int64_t deadline_ns) {
  // With a fake clock, time moves only in OnClockAdvanced, which notifies every sleeper.
  if (deadline_ns == std::numeric_limits<int64_t>::max() || clock_->IsFake()) {
    cv.wait(lk);
    return;
  }
  int64_t left = deadline_ns - clock_->NowNs();
  if (left <= 0) return;
  if constexpr (std::is_same_v<Cv, std::condition_variable>) {
    cv.wait_for(lk, std::chrono::nanoseconds(left));
  } else {
    cv.wait_for(lk, boost::chrono::nanoseconds(left));  // an interruption point
  }
}
template void Pool::WaitLocked(std::condition_variable&, std::unique_lock<std::mutex>&, int64_t);
template void Pool::WaitLocked(boost::condition_variable_any&, std::unique_lock<std::mutex>&, int64_t);

void Pool::OnClockAdvanced() {
  std::lock_guard<std::mutex> lk(mu_);
  queue_.ForEach([](Waiter* w) { w->cv.notify_one(); });
  async_.WakeDispatcherLocked();  // async deadlines are the dispatcher's to check
  connector_.OnClockAdvancedLocked();
  maintenance_.WakeLocked();
  state_cv_.notify_all();
}

Status Pool::WaitReady(int64_t timeout_ms) {
  if (timeout_ms < 0) timeout_ms = cfg_.acquire_timeout_ms;
  std::unique_lock<std::mutex> lk(mu_);
  const int64_t deadline = SaturatingDeadline(clock_->NowNs(), timeout_ms);
  for (;;) {
    Health h = health_.load(std::memory_order_relaxed);
    if (h == Health::kReady || h == Health::kDegraded) return Status::kOK;
    if (h == Health::kDraining || h == Health::kClosed) return Status::kECLOSED;
    if (clock_->NowNs() >= deadline) return Status::kETIMEOUT;
    WaitLocked(state_cv_, lk, deadline);
  }
}

Status Pool::Drain(int64_t deadline_ms) {
  std::vector<uint32_t> idle;
  std::unique_lock<std::mutex> lk(mu_);
  const int64_t now = clock_->NowNs();
  const int64_t deadline = SaturatingDeadline(now, std::max<int64_t>(deadline_ms, 0));
  if (lifetime_.BeginDrain()) {
    accepting_.store(false, std::memory_order_seq_cst);
    ApplyHealthLocked(health_machine_.OnDraining(now));
    WakeAllWaitersLocked(Status::kECLOSED);
    connector_.NotifyWaitedLocked();  // acquirers waiting on a helper stop
    // Mark every slot so that no lock-free acquire or release can complete on it from now on.
    slots_.MarkAllClosingLocked(&idle);
    connector_.WakeLocked();
    maintenance_.WakeLocked();
    if (live_ + connector_.creating_locked() == 0) ApplyHealthLocked(health_machine_.OnClosed(now));
  }
  if (!idle.empty()) {
    // Pinned: the pool stays alive while we destroy without the lock.
    lifetime_.RunUnlockedPinned(lk, [&] {
      for (uint32_t i : idle) SafeDestroy(SlotAt(i).conn);
    });
    for (uint32_t i : idle) SlotEmptiedLocked(i, Reason::kNone);
  }
  async_.AwaitAsyncDeliveredLocked(lk);  // every pending callback has had its ECLOSED
  logs_.FlushLocked(lk);
  while (live_ + connector_.creating_locked() > 0) {
    if (clock_->NowNs() >= deadline) return Status::kETIMEOUT;
    WaitLocked(state_cv_, lk, deadline);
    logs_.FlushLocked(lk);
  }
  return Status::kOK;
}

void Pool::Close() {
  Drain(0);
  {
    std::lock_guard<std::mutex> lk(mu_);
    lifetime_.BeginStop();
    connector_.WakeLocked();
    maintenance_.WakeLocked();
    connector_.WakeHelpersLocked();
    async_.WakeDispatcherLocked();
  }
  {
    // Helpers inside a callback get close_wait_ms, then are cut loose (connector_bounded.cpp).
    std::unique_lock<std::mutex> lk(mu_);
    connector_.AwaitHelpersLocked(lk);
  }
  // Background threads may be inside a factory callback: join waits for it to return.
  for (boost::thread& t : threads_) {
    t.interrupt();
    if (t.joinable()) t.join();
  }
  // No helper starts once the lifetime is stopping, so the list is stable; AwaitHelpersLocked
  // detached those still inside a job. The others are not interrupted: each finishes the jobs
  // still queued (a create a connector submitted just before closing must give its slot back,
  // or the connector's creates in flight never reach 0 and the pool is never deleted) and
  // leaves once the queue is empty; the notify_all above woke those that were waiting.
  connector_.JoinHelpers();
  std::unique_lock<std::mutex> lk(mu_);
  lifetime_.MarkFreed();
  const bool del = ShouldDeleteLocked();
  UnlockDeliverMaybeDelete(lk, del);
}

// --- callbacks: a throwing factory must never unwind through the pool.

void Pool::SafeDestroy(void* conn) {
  if (conn == nullptr) return;
  try {
    factory_->Destroy(conn);
  } catch (const std::exception& e) {
    Log(CONNPOOL_LOG_ERROR, "pool '" + cfg_.name + "': destroy threw: " + e.what());
  } catch (...) {
    Log(CONNPOOL_LOG_ERROR, "pool '" + cfg_.name + "': destroy threw a non-standard exception");
  }
}

bool Pool::SafeValidate(void* conn) {
  try {
    return factory_->Validate(conn);
  } catch (...) {
    return false;
  }
}

bool Pool::SafeReset(void* conn) {
  try {
    return factory_->Reset(conn);
  } catch (...) {
    return false;
  }
}

CreateResult Pool::SafeCreate(void** conn, std::string* err) {
  try {
    return factory_->Create(conn, err);
  } catch (const std::exception& e) {
    *err = std::string("create threw: ") + e.what();
  } catch (...) {
    *err = "create threw a non-standard exception";
  }
  return CreateResult::kRetry;
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
  // Creates succeed but no lease moves (maintenance.cpp): the other way to be degraded.
  return maintenance_.stalled_locked() ? "stalled" : nullptr;
}

void Pool::OnCreateFailureLocked(int64_t now_ns, CreateResult r, const std::string& msg, int64_t started_ns) {
  const CreateFailure kind = r == CreateResult::kFatal ? CreateFailure::kFatal : CreateFailure::kOrdinary;
  const ConnectionEvidence seen = SeeConnectionsLocked();
  ApplyHealthLocked(health_machine_.OnCreateFailed(now_ns, kind, msg, started_ns, seen, UnitRandomLocked()));
}

int64_t Pool::UpdateHealthLocked(int64_t now_ns) {
  // The scan costs O(pool size): only when the machine reads it (degraded by failing creates).
  const ConnectionEvidence seen = health_machine_.WatchesConnections() ? SeeConnectionsLocked() : ConnectionEvidence{};
  const HealthMachine::Outcome o = health_machine_.Tick(now_ns, seen, connector_.creating_locked() > 0);
  if (o.probe_due) {
    health_machine_.ProbeSoon(now_ns, UnitRandomLocked());
    connector_.WakeLocked();
  }
  ApplyHealthLocked(o);
  return o.look_again_ns;
}

void Pool::ApplyHealthLocked(const HealthMachine::Outcome& o) {
  // The finishing connector takes one create; the others sleep until told there is room.
  if (o.more_creates) connector_.WakeLocked();
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

void Pool::UnlockDeliverMaybeDelete(std::unique_lock<std::mutex>& lk, bool del) {
  OrderedLogQueue::Batch logs = logs_.TakeLocked();
  lk.unlock();
  logs_.Deliver(std::move(logs));
  if (del) DeleteSelf();
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
