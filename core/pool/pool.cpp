// SPDX-License-Identifier: Apache-2.0
// Pool lifetime, slots, hand-off, drain and close.
#include "pool/pool.h"

#include <pthread.h>

#include <algorithm>
#include <boost/thread/thread.hpp>
#include <limits>
#include <stdexcept>
#include <type_traits>

#include "pool/offload_job.h"
#include "util/log.h"
#include "util/redact.h"

namespace connpool {

namespace {
std::atomic<uint64_t> g_next_tag{0};

// Tags cycle through 1..2^14-1 so that 0 never appears in a lease.
uint64_t NextTag() { return g_next_tag.fetch_add(1, std::memory_order_relaxed) % kLeaseTagMask + 1; }

// The coarse word of a clock that keeps none: always 0, so the fast paths ask the clock.
const std::atomic<int64_t> kNoCoarseWord{0};
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
      // The first helper before any job needs one (pool_offload.cpp keeps a spare from then on).
      std::lock_guard<std::mutex> lk(p->mu_);
      if (!p->SpawnHelperLocked()) throw std::runtime_error("cannot start a helper thread");
    }
    unsigned connectors = static_cast<unsigned>(cfg.connect_concurrency);
    // Named so thread dumps (gdb, top -H, jstack) show what they are; 15 characters at most.
    for (unsigned i = 0; i < connectors; ++i)
      p->threads_.emplace_back([p] {
        pthread_setname_np(pthread_self(), "connpool-conn");
        p->ConnectorLoop();
      });
    if (opts.maintenance_thread)
      p->threads_.emplace_back([p] {
        pthread_setname_np(pthread_self(), "connpool-maint");
        p->MaintenanceLoop();
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
      steady_clock_(clock_ == SteadyClock::Instance()),
      coarse_word_(clock_->CoarseWord() ? clock_->CoarseWord() : &kNoCoarseWord),
      tag_(NextTag()),
      created_ns_(clock_->NowNs()),
      has_validate_(factory_->HasValidate()),
      reset_on_release_(cfg.reset_on_release && factory_->HasReset()),
      exclusive_release_(reset_on_release_ || cfg.max_uses > 0),
      mux_(cfg.max_leases_per_conn > 1),
      max_size_(cfg.max_size),
      min_idle_(cfg.min_idle),
      slots_(static_cast<uint32_t>(kMaxPoolSize)),
      health_machine_(cfg, created_ns_),
      rng_(opts.seed ? opts.seed : std::random_device{}()) {
  if (cfg.adaptive_sizing) adaptive_ = std::make_unique<AdaptiveFeed>(cfg.adaptive_target_wait_ms, cfg.min_idle);
  clock_->AddListener(this);
}

Pool::~Pool() {
  clock_->RemoveListener(this);
  slots_.ForEach([this](uint32_t, SlotWord, Slot& s) {
    if (s.conn != nullptr) SafeDestroy(s.conn);  // only reachable if Create failed half-way
  });
  for (OffloadJob* j : offload_.reset_jobs) delete j;
}

bool Pool::ReserveSlotLocked(uint32_t* idx) {
  bool is_new = false;
  if (!slots_.ReserveLocked(idx, &is_new)) return false;
  // Made with the slot, off the release path, so that offloading a reset allocates nothing
  // there. Indices are handed out in order, so offload_.reset_jobs[i] is slot i's.
  if (is_new && reset_on_release_ && cfg_.reset_timeout_ms > 0)
    offload_.reset_jobs.push_back(new OffloadJob(OffloadJob::kReset, *idx));
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
  counters_.destroyed.fetch_add(1, std::memory_order_relaxed);
  switch (reason) {
    case Reason::kBroken:
    case Reason::kValidation: {
      counters_.closed_broken.fetch_add(1, std::memory_order_relaxed);
      // Evidence for the health logic: connections stop counting as working (health_machine.h).
      health_machine_.OnConnectionBroken(clock_->NowNs());
      break;
    }
    case Reason::kIdle: counters_.closed_idle.fetch_add(1, std::memory_order_relaxed); break;
    case Reason::kLifetime: counters_.closed_lifetime.fetch_add(1, std::memory_order_relaxed); break;
    case Reason::kMaxUses: counters_.closed_max_uses.fetch_add(1, std::memory_order_relaxed); break;
    case Reason::kShrink:
      counters_.closed_shrink.fetch_add(1, std::memory_order_relaxed);
      --shrink_pending_;
      break;
    case Reason::kNone: break;
  }
  UpdateOverCapacityLocked();
  connector_cv_.notify_all();  // a replacement may be needed
  if (lifetime_.draining() && live_ + creating_ == 0) {
    ApplyHealthLocked(health_machine_.OnClosed(clock_->NowNs()));  // no-op unless draining
    state_cv_.notify_all();
  }
  return ShouldDeleteLocked();
}

bool Pool::ShouldDeleteLocked() {
  // An abandoned create's helper (pool_hang.cpp) still has to come back into the pool.
  return lifetime_.TryBeginDelete(live_ + creating_ + abandoned_creates_ != 0);
}

void Pool::RetireOwned(uint32_t idx, Reason reason) {
  SafeDestroy(SlotAt(idx).conn);
  bool del;
  OrderedLogQueue::Batch logs;
  {
    std::lock_guard<std::mutex> lk(mu_);
    del = SlotEmptiedLocked(idx, reason);
    logs = logs_.TakeLocked();
  }
  logs_.Deliver(std::move(logs));
  if (del) DeleteSelf();
}

void Pool::HandToWaiterLocked(uint32_t idx, Waiter* w, bool fresh) {
  Slot& s = SlotAt(idx);
  queue_.Remove(w);
  waiters_count_.fetch_sub(1, std::memory_order_seq_cst);
  s.holder_thread.store(w->thread_id, std::memory_order_relaxed);
  s.holder_priority.store(w->priority, std::memory_order_relaxed);
  const uint64_t gen = slots_.LeaseOwnedLocked(idx);  // publishes the holder fields
  w->slot = idx;
  w->lease = MakeLease(tag_, idx, gen);
  w->status = Status::kOK;
  w->fresh = fresh;
  w->done = true;
  if (w->cb != nullptr) {
    async_.deadlines.Remove(w);
    PushReadyLocked(w);  // the dispatcher checks the connection and calls back
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
    UnqueueLocked(w);
    if (w->cb != nullptr) {
      CompleteAsyncLocked(w, st);
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
  async_.cv.notify_all();  // async deadlines are the dispatcher's to check
  NotifyWaitedLocked();
  connector_cv_.notify_all();
  maintenance_cv_.notify_all();
  state_cv_.notify_all();
  offload_.done_cv.notify_all();
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
    NotifyWaitedLocked();  // acquirers waiting on a helper stop
    // Mark every slot so that no lock-free acquire or release can complete on it from now on.
    slots_.MarkAllClosingLocked(&idle);
    connector_cv_.notify_all();
    maintenance_cv_.notify_all();
    if (live_ + creating_ == 0) ApplyHealthLocked(health_machine_.OnClosed(now));
  }
  if (!idle.empty()) {
    // Pinned: the pool stays alive while we destroy without the lock.
    lifetime_.RunUnlockedPinned(lk, [&] {
      for (uint32_t i : idle) SafeDestroy(SlotAt(i).conn);
    });
    for (uint32_t i : idle) SlotEmptiedLocked(i, Reason::kNone);
  }
  AwaitAsyncDeliveredLocked(lk);  // every pending callback has had its ECLOSED
  logs_.FlushLocked(lk);
  while (live_ + creating_ > 0) {
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
    connector_cv_.notify_all();
    maintenance_cv_.notify_all();
    offload_.cv.notify_all();
    async_.cv.notify_all();
  }
  {
    // Helpers inside a callback get close_wait_ms, then are cut loose (pool_hang.cpp).
    std::unique_lock<std::mutex> lk(mu_);
    AwaitHelpersLocked(lk);
  }
  // Background threads may be inside a factory callback: join waits for it to return.
  for (boost::thread& t : threads_) {
    t.interrupt();
    if (t.joinable()) t.join();
  }
  // No helper starts once the lifetime is stopping, so the list is stable; AwaitHelpersLocked
  // detached those still inside a job. The others are not interrupted: each finishes the jobs
  // still queued (a create a connector submitted just before closing must give its slot back,
  // or creating_ never reaches 0 and the pool is never deleted) and leaves once the queue is
  // empty; the notify_all above woke those that were waiting.
  for (auto& helper : offload_.threads) {
    if (helper.first.joinable()) helper.first.join();
  }
  bool del;
  OrderedLogQueue::Batch logs;
  {
    std::lock_guard<std::mutex> lk(mu_);
    lifetime_.MarkFreed();
    del = ShouldDeleteLocked();
    logs = logs_.TakeLocked();
  }
  logs_.Deliver(std::move(logs));
  if (del) DeleteSelf();
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

}  // namespace connpool
