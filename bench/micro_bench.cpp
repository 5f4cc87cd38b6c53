// SPDX-License-Identifier: Apache-2.0
// Micro-benchmarks of the hot path (Google Benchmark). Pools go through libconnpool.so's C ABI,
// as users call it; the Core/ group calls the static core directly, so the difference between
// the two is the cost of the ABI layer (PLT calls, the exception guard, thread-locals in a
// shared object). Ref/ measures the primitives the hot path is made of on this machine.
//
//   build/release/bench/connpool_micro_bench --benchmark_filter=CApi
//
// Groups:
//   CApi/Uncontended       one thread, pool of 10: acquire + release
//   CApi/Contended/N       N threads, pool of 10: slots, hints and counters shared, no waiting
//   CApi/Waiters/N         N threads, pool of 1, priority = thread % 3: most acquires wait
//   CApi/AsyncUncontended connpool_acquire_async finding a free connection (OK, no callback)
//                       + release: the target is within 10% of CApi/Uncontended
//   CApi/CancelWake/N    pool of 1 held, N async acquires pending, each with its own token:
//                       trigger one and time until its callback ran (counters p50_us, p99_us;
//                       the target is p99 under 1 ms with 1,000 waiters)
//   CApi/StatsJson/S       connpool_pool_stats_json + connpool_free on a pool of S connections
//   Core/Uncontended       the same cycle as CApi/Uncontended on connpool::Pool, linked statically
//   Core/UncontendedReset  the same with reset_on_release and a reset that returns at once: the
//                       pool's own cost of a release that resets (a real reset is a round trip)
//   Ref/...                clock reads, an uncontended CAS and fetch_add, a mutex pair
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "connpool/connpool.h"
#include "pool/factory.h"
#include "pool/pool.h"

namespace {

int g_conns[1];  // every connection is this object: the factory allocates nothing

int Create(void*, void** conn, char*, size_t) {
  *conn = g_conns;
  return CONNPOOL_FACTORY_OK;
}
void Destroy(void*, void*) {}

// A pool holding `size` ready connections, set up as bench/peers/connpool.c does.
connpool_pool_t* MakePool(int size) {
  connpool_config_t* cfg = connpool_config_new();
  const std::string n = std::to_string(size);
  char err[256] = "";
  connpool_pool_t* pool = nullptr;
  if (connpool_config_set(cfg, "max_size", n.c_str(), err, sizeof err) ||
      connpool_config_set(cfg, "min_idle", n.c_str(), err, sizeof err) ||
      connpool_config_set(cfg, "validate_on_acquire", "never", err, sizeof err) ||
      connpool_config_set(cfg, "reset_on_release", "false", err, sizeof err) ||
      connpool_pool_new(cfg, connpool_factory_new(nullptr, nullptr, Create, Destroy), &pool, err, sizeof err)) {
    std::fprintf(stderr, "connpool: %s\n", err);
    std::abort();
  }
  connpool_config_free(cfg);
  std::vector<connpool_lease_t> held(static_cast<size_t>(size));
  for (connpool_lease_t& l : held)
    if (connpool_acquire(pool, 10000, &l, nullptr) != CONNPOOL_OK) std::abort();
  for (connpool_lease_t l : held) connpool_release(pool, l);
  return pool;
}

// Shared by the threads of one multi-threaded run: thread 0 makes it before the timing loop
// and frees it after; Google Benchmark's start and stop barriers keep the others inside.
connpool_pool_t* g_pool = nullptr;

void CApiUncontended(benchmark::State& state) {
  connpool_pool_t* pool = MakePool(10);
  for (auto _ : state) {
    connpool_lease_t lease;
    void* conn;
    connpool_acquire(pool, 10000, &lease, &conn);
    connpool_release(pool, lease);
  }
  state.SetItemsProcessed(state.iterations());
  connpool_pool_free(pool);
}
BENCHMARK(CApiUncontended)->Name("CApi/Uncontended");

void NeverCalled(void*, int, connpool_lease_t, void*) { std::abort(); }

void CApiAsyncUncontended(benchmark::State& state) {
  connpool_pool_t* pool = MakePool(10);
  for (auto _ : state) {
    connpool_lease_t lease;
    void* conn;
    if (connpool_acquire_async(pool, 0, 10000, nullptr, NeverCalled, nullptr, &lease, &conn) != CONNPOOL_OK)
      std::abort();
    connpool_release(pool, lease);
  }
  state.SetItemsProcessed(state.iterations());
  connpool_pool_free(pool);
}
BENCHMARK(CApiAsyncUncontended)->Name("CApi/AsyncUncontended");

struct CancelWaiter {
  connpool_cancel_t* token = nullptr;
  std::atomic<bool> called{false};
};

void MarkCalled(void* ud, int status, connpool_lease_t, void*) {
  if (status != CONNPOOL_ECANCELED && status != CONNPOOL_ECLOSED) std::abort();
  static_cast<CancelWaiter*>(ud)->called.store(true, std::memory_order_release);
}

void QueueCancelWaiter(connpool_pool_t* pool, CancelWaiter* w) {
  w->token = connpool_cancel_new();
  w->called.store(false, std::memory_order_relaxed);
  connpool_lease_t lease;
  void* conn;
  if (connpool_acquire_async(pool, 0, 3'600'000, w->token, MarkCalled, w, &lease, &conn) != CONNPOOL_PENDING)
    std::abort();
}

void CApiCancelWake(benchmark::State& state) {
  connpool_pool_t* pool = MakePool(1);
  connpool_lease_t held;
  if (connpool_acquire(pool, 10000, &held, nullptr) != CONNPOOL_OK) std::abort();
  const size_t n = static_cast<size_t>(state.range(0));
  std::vector<CancelWaiter> waiters(n);
  for (CancelWaiter& w : waiters) QueueCancelWaiter(pool, &w);
  std::vector<double> us;
  size_t next = 0;
  for (auto _ : state) {
    CancelWaiter& w = waiters[next++ % n];  // the oldest: it is re-queued at the back below
    auto t0 = std::chrono::steady_clock::now();
    connpool_cancel_trigger(w.token);
    while (!w.called.load(std::memory_order_acquire)) {
    }
    auto t1 = std::chrono::steady_clock::now();
    double d = std::chrono::duration<double>(t1 - t0).count();
    state.SetIterationTime(d);
    us.push_back(d * 1e6);
    state.PauseTiming();
    connpool_cancel_free(w.token);
    QueueCancelWaiter(pool, &w);
    state.ResumeTiming();
  }
  std::sort(us.begin(), us.end());
  if (!us.empty()) {
    state.counters["p50_us"] = us[us.size() / 2];
    state.counters["p99_us"] = us[std::min(us.size() - 1, us.size() * 99 / 100)];
  }
  connpool_release(pool, held);
  connpool_pool_free(pool);  // calls every pending callback (ECLOSED) before it returns
  for (CancelWaiter& w : waiters) connpool_cancel_free(w.token);
}
BENCHMARK(CApiCancelWake)->Name("CApi/CancelWake")->Arg(1000)->UseManualTime();

void CApiContended(benchmark::State& state) {
  if (state.thread_index() == 0) g_pool = MakePool(10);
  int64_t failures = 0;
  for (auto _ : state) {
    connpool_lease_t lease;
    void* conn;
    if (connpool_acquire(g_pool, 10000, &lease, &conn) != CONNPOOL_OK) {
      ++failures;
      continue;
    }
    connpool_release(g_pool, lease);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["failures"] = static_cast<double>(failures);
  if (state.thread_index() == 0) connpool_pool_free(g_pool);
}
BENCHMARK(CApiContended)->Name("CApi/Contended")->ThreadRange(2, 8)->UseRealTime();

void CApiWaiters(benchmark::State& state) {
  if (state.thread_index() == 0) g_pool = MakePool(1);
  const int priority = state.thread_index() % 3;
  int64_t failures = 0;
  for (auto _ : state) {
    connpool_lease_t lease;
    if (connpool_acquire_priority(g_pool, priority, 10000, &lease, nullptr) != CONNPOOL_OK) {
      ++failures;
      continue;
    }
    connpool_release(g_pool, lease);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["failures"] = static_cast<double>(failures);
  if (state.thread_index() == 0) connpool_pool_free(g_pool);
}
BENCHMARK(CApiWaiters)->Name("CApi/Waiters")->ThreadRange(2, 8)->UseRealTime();

void CApiStatsJson(benchmark::State& state) {
  connpool_pool_t* pool = MakePool(static_cast<int>(state.range(0)));
  size_t bytes = 0;
  for (auto _ : state) {
    char* json = connpool_pool_stats_json(pool);
    bytes = std::strlen(json);
    connpool_free(json);
  }
  state.counters["json_bytes"] = static_cast<double>(bytes);
  connpool_pool_free(pool);
}
BENCHMARK(CApiStatsJson)->Name("CApi/StatsJson")->Arg(10)->Arg(100)->Arg(1000);

class NoopFactory final : public connpool::Factory {
 public:
  connpool::CreateResult Create(void** conn, std::string*) override {
    *conn = g_conns;
    return connpool::CreateResult::kOk;
  }
  void Destroy(void*) override {}
  bool HasReset() const override { return with_reset_; }
  bool Reset(void*) override { return true; }
  bool with_reset_ = false;
};

void CoreCycle(benchmark::State& state, bool reset) {
  connpool::Config cfg;
  cfg.max_size = cfg.min_idle = 10;
  cfg.validate_on_acquire = static_cast<int64_t>(connpool::ValidateMode::kNever);
  cfg.reset_on_release = reset;
  connpool::Pool* pool = nullptr;
  std::string err;
  auto factory = std::make_unique<NoopFactory>();
  factory->with_reset_ = reset;
  if (connpool::Pool::Create(cfg, std::move(factory), {}, &pool, &err) != connpool::Status::kOK ||
      pool->WaitReady(10000) != connpool::Status::kOK)
    std::abort();
  for (auto _ : state) {
    uint64_t lease;
    void* conn;
    pool->Acquire(0, 10000, &lease, &conn);
    pool->Release(lease, false);
  }
  state.SetItemsProcessed(state.iterations());
  pool->Close();
}
void CoreUncontended(benchmark::State& state) { CoreCycle(state, false); }
BENCHMARK(CoreUncontended)->Name("Core/Uncontended");
void CoreUncontendedReset(benchmark::State& state) { CoreCycle(state, true); }
BENCHMARK(CoreUncontendedReset)->Name("Core/UncontendedReset");

// --- what the hot path is built from

void RefClock(benchmark::State& state) {
  const clockid_t id = static_cast<clockid_t>(state.range(0));
  timespec ts;
  for (auto _ : state) {
    clock_gettime(id, &ts);
    benchmark::DoNotOptimize(ts);
  }
  state.SetLabel(id == CLOCK_MONOTONIC ? "CLOCK_MONOTONIC" : "CLOCK_MONOTONIC_COARSE");
}
BENCHMARK(RefClock)->Name("Ref/clock_gettime")->Arg(CLOCK_MONOTONIC)->Arg(CLOCK_MONOTONIC_COARSE);

alignas(64) std::atomic<uint64_t> g_word{0};

void RefCas(benchmark::State& state) {
  uint64_t v = g_word.load();
  for (auto _ : state) {
    g_word.compare_exchange_strong(v, v + 1, std::memory_order_seq_cst);
    benchmark::DoNotOptimize(v);
  }
}
BENCHMARK(RefCas)->Name("Ref/cas_seq_cst");

void RefFetchAdd(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(g_word.fetch_add(1, std::memory_order_relaxed));
}
BENCHMARK(RefFetchAdd)->Name("Ref/fetch_add");
BENCHMARK(RefFetchAdd)->Name("Ref/fetch_add_shared_line")->Threads(2)->UseRealTime();

void RefMutex(benchmark::State& state) {
  static std::mutex mu;
  for (auto _ : state) {
    mu.lock();
    mu.unlock();
  }
}
BENCHMARK(RefMutex)->Name("Ref/mutex_lock_unlock");

}  // namespace

BENCHMARK_MAIN();
