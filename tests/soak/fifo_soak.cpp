// SPDX-License-Identifier: Apache-2.0
// connpool_fifo_soak: 10,000 threads blocked on a pool of 10 with real hold times.
//
//   connpool_fifo_soak [--threads N] [--pool N] [--seed N] [--out FILE]
//
// Three phases, each with N threads (small stacks, so that 10,000 fit):
//   fifo      one priority. The main thread holds all connections, starts the threads one at a
//             time and waits until the pool reports k waiters before starting thread k+1, so the
//             arrival order is known without guessing. Then it lets go of the connections.
//   priority  the same, each thread with a random priority 0..3.
//   burst     all threads start at once behind a gate and contend naturally (no arrival order).
// Every holder keeps its connection 100-500 us (a quarter spinning, the rest sleeping: a query
// that costs some CPU and mostly waits on the server), then releases it.
//
// How FIFO is observed: in the staged phases, releases are serialised by a test mutex and
// numbered (the ticket), and the releaser writes its ticket into the connection just before
// connpool_release. A release with waiters queued hands the connection to the best waiter
// synchronously (Pool::PutBackLocked), so the thread that receives the connection reads the
// ticket of exactly the hand-off that served it. Ticket k must therefore go to the k-th thread
// of the expected order: arrival order (fifo), or priority high-to-low then arrival (priority).
// Wake-up order does not matter, so the check holds however the OS schedules 10,000 threads.
//
// Pass criteria (exit 0): every thread gets a connection (acquire timeout 120 s, far above any
// wait here, so any timeout is spurious); the serve order is exactly the expected order; no
// connection is lent to two threads at once; the pool ends with every connection idle, no
// waiter, no timeout, and destroys what it created. The wait-time spread (min/p50/p99/max) of
// each phase is printed and written to FILE (default fifo_soak_results.txt).
#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "pool/factory.h"
#include "pool/pool.h"

namespace {

using connpool::Pool;
using connpool::Status;
using SteadyClock = std::chrono::steady_clock;

constexpr int64_t kAcquireTimeoutMs = 120000;
constexpr size_t kThreadStackBytes = 64 * 1024;  // 10,000 x 64 KiB of address space

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now().time_since_epoch()).count();
}

struct Conn {
  int id = 0;
  std::atomic<int> holders{0};   // > 1 at any time: lent twice
  int64_t ticket = -1;           // number of the release that handed this connection on
};

struct Books {
  std::atomic<int> created{0}, destroyed{0};
};

class CountingFactory final : public connpool::Factory {
 public:
  explicit CountingFactory(std::shared_ptr<Books> b) : b_(std::move(b)) {}
  connpool::CreateResult Create(void** conn, std::string*) override {
    Conn* c = new Conn;
    c->id = ++b_->created;
    *conn = c;
    return connpool::CreateResult::kOk;
  }
  void Destroy(void* conn) override {
    delete static_cast<Conn*>(conn);
    ++b_->destroyed;
  }

 private:
  std::shared_ptr<Books> b_;
};

struct Record {
  int arrival = 0;
  int priority = 0;
  uint32_t hold_us = 0;
  Status status = Status::kOK;
  int64_t wait_ns = 0;
  int64_t served_ns = 0;  // when acquire returned
  int64_t ticket = -1;  // the release that served this thread (staged phases)
};

struct Phase {
  Pool* pool = nullptr;
  bool serialise_releases = false;
  std::mutex release_mu;       // staged phases: one release at a time, numbered
  int64_t next_ticket = 0;     // guarded by release_mu
  std::atomic<int> double_lends{0};
  // burst phase: threads wait here until all have started
  std::mutex gate_mu;
  std::condition_variable gate_cv;
  bool gate_open = true;
};

struct ThreadArg {
  Phase* phase;
  Record* rec;
};

// A query: a quarter of the hold on the CPU, the rest waiting (as on a server's answer).
void Hold(uint32_t us) {
  const int64_t spin_end = NowNs() + static_cast<int64_t>(us) * 250;
  volatile uint64_t x = 0;
  while (NowNs() < spin_end) x = x + 1;
  std::this_thread::sleep_for(std::chrono::microseconds(us - us / 4));
}

void ReleaseNumbered(Phase* ph, uint64_t lease, Conn* c) {
  if (ph->serialise_releases) {
    std::lock_guard<std::mutex> lk(ph->release_mu);
    c->ticket = ph->next_ticket++;
    if (ph->pool->Release(lease, false) != Status::kOK) std::abort();
  } else if (ph->pool->Release(lease, false) != Status::kOK) {
    std::abort();
  }
}

void* Worker(void* p) {
  ThreadArg* a = static_cast<ThreadArg*>(p);
  Phase* ph = a->phase;
  Record* r = a->rec;
  {
    std::unique_lock<std::mutex> lk(ph->gate_mu);
    ph->gate_cv.wait(lk, [&] { return ph->gate_open; });
  }
  uint64_t lease = 0;
  void* conn = nullptr;
  const int64_t t0 = NowNs();
  r->status = ph->pool->Acquire(r->priority, kAcquireTimeoutMs, &lease, &conn);
  r->served_ns = NowNs();
  r->wait_ns = r->served_ns - t0;
  if (r->status != Status::kOK) return nullptr;
  Conn* c = static_cast<Conn*>(conn);
  r->ticket = c->ticket;
  if (c->holders.fetch_add(1) != 0) ph->double_lends++;
  Hold(r->hold_us);
  c->holders.fetch_sub(1);
  ReleaseNumbered(ph, lease, c);
  return nullptr;
}

bool StartThread(pthread_t* t, ThreadArg* a) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, kThreadStackBytes);
  int rc = pthread_create(t, &attr, Worker, a);
  pthread_attr_destroy(&attr);
  if (rc != 0) {
    fprintf(stderr, "pthread_create failed: %s (raise ulimit -u / vm.max_map_count?)\n", strerror(rc));
    return false;
  }
  return true;
}

// Waits (yielding, bounded) until the pool reports `n` queued waiters.
bool WaitWaiters(Pool* pool, uint64_t n) {
  const int64_t end = NowNs() + 30'000'000'000LL;
  while (pool->Snapshot().waiters != n) {
    if (NowNs() > end) return false;
    std::this_thread::yield();
  }
  return true;
}

struct Spread {
  int64_t min = 0, p50 = 0, p99 = 0, max = 0;
};

// Wait times: from each acquire call, or (since >= 0) from the moment the queue began to move.
Spread SpreadOf(const std::vector<Record>& recs, int64_t since = -1) {
  std::vector<int64_t> w;
  for (const Record& r : recs) w.push_back(since < 0 ? r.wait_ns : r.served_ns - since);
  std::sort(w.begin(), w.end());
  auto at = [&](double q) { return w[std::min(w.size() - 1, static_cast<size_t>(q * static_cast<double>(w.size())))]; };
  return Spread{w.front(), at(0.50), at(0.99), w.back()};
}

struct Result {
  std::string name;
  bool ok = true;
  int served = 0, threads = 0;
  int out_of_order = 0;
  int first_out_of_order = -1;
  Spread spread;
  Spread after_release;  // staged phases: from the main thread's first release
  double seconds = 0;
  uint64_t peak_waiters = 0;
};

// Runs one phase: kind = "fifo", "priority" or "burst".
Result RunPhase(const std::string& kind, Pool* pool, int threads, int pool_size, std::mt19937_64& rng) {
  Result res;
  res.name = kind;
  res.threads = threads;
  const bool staged = kind != "burst";
  std::vector<Record> recs(static_cast<size_t>(threads));
  std::vector<ThreadArg> args(recs.size());
  std::vector<pthread_t> tids(recs.size());
  Phase ph;
  ph.pool = pool;
  ph.serialise_releases = staged;
  ph.gate_open = staged;
  std::uniform_int_distribution<uint32_t> hold(100, 500);
  std::uniform_int_distribution<int> prio(0, 3);
  for (int i = 0; i < threads; ++i) {
    Record& r = recs[static_cast<size_t>(i)];
    r.arrival = i;
    r.priority = kind == "priority" ? prio(rng) : (kind == "burst" ? prio(rng) : 0);
    r.hold_us = hold(rng);
    args[static_cast<size_t>(i)] = ThreadArg{&ph, &r};
  }

  // Staged: hold every connection so that each new thread has to queue.
  std::vector<std::pair<uint64_t, Conn*>> held;
  if (staged) {
    for (int i = 0; i < pool_size; ++i) {
      uint64_t lease = 0;
      void* conn = nullptr;
      if (pool->Acquire(0, 10000, &lease, &conn) != Status::kOK) {
        fprintf(stderr, "%s: could not take connection %d of %d\n", kind.c_str(), i + 1, pool_size);
        res.ok = false;
        return res;
      }
      held.emplace_back(lease, static_cast<Conn*>(conn));
    }
  }
  const int64_t t0 = NowNs();
  int started = 0;
  for (int i = 0; i < threads; ++i) {
    if (!StartThread(&tids[static_cast<size_t>(i)], &args[static_cast<size_t>(i)])) break;
    ++started;
    if (staged && !WaitWaiters(pool, static_cast<uint64_t>(i) + 1)) {
      fprintf(stderr, "%s: thread %d never queued (waiters=%llu)\n", kind.c_str(), i,
              static_cast<unsigned long long>(pool->Snapshot().waiters));
      res.ok = false;
      break;
    }
  }
  int64_t release_start = -1;
  if (staged) {
    res.peak_waiters = pool->Snapshot().waiters;
    release_start = NowNs();
    for (auto& h : held) ReleaseNumbered(&ph, h.first, h.second);
  }
  // Burst: a monitor samples the queue length for the report (it decides nothing).
  std::atomic<bool> done{false};
  std::thread monitor;
  if (!staged) {
    monitor = std::thread([&] {
      while (!done.load()) {
        res.peak_waiters = std::max(res.peak_waiters, pool->Snapshot().waiters);
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    });
    {
      std::lock_guard<std::mutex> lk(ph.gate_mu);
      ph.gate_open = true;
    }
    ph.gate_cv.notify_all();
  }
  for (int i = 0; i < started; ++i) pthread_join(tids[static_cast<size_t>(i)], nullptr);
  done = true;
  if (monitor.joinable()) monitor.join();
  res.seconds = static_cast<double>(NowNs() - t0) / 1e9;
  if (started != threads) res.ok = false;

  for (const Record& r : recs) {
    if (r.status == Status::kOK) {
      ++res.served;
    } else {
      fprintf(stderr, "%s: thread %d got status %d after %.3f ms\n", kind.c_str(), r.arrival,
              connpool::ToInt(r.status), static_cast<double>(r.wait_ns) / 1e6);
    }
  }
  if (res.served != threads) res.ok = false;
  if (ph.double_lends.load() != 0) {
    fprintf(stderr, "%s: %d connections lent to two threads at once\n", kind.c_str(), ph.double_lends.load());
    res.ok = false;
  }
  if (staged) {
    // The order the pool should serve: priority high to low, then arrival.
    std::vector<int> expected(recs.size());
    for (size_t i = 0; i < expected.size(); ++i) expected[i] = static_cast<int>(i);
    std::stable_sort(expected.begin(), expected.end(),
                     [&](int a, int b) { return recs[static_cast<size_t>(a)].priority > recs[static_cast<size_t>(b)].priority; });
    std::vector<int> got(recs.size(), -1);
    for (const Record& r : recs) {
      if (r.ticket >= 0 && r.ticket < static_cast<int64_t>(got.size())) got[static_cast<size_t>(r.ticket)] = r.arrival;
    }
    for (size_t k = 0; k < got.size(); ++k) {
      if (got[k] != expected[k]) {
        if (res.first_out_of_order < 0) {
          res.first_out_of_order = static_cast<int>(k);
          fprintf(stderr, "%s: hand-off %zu served thread %d, expected thread %d\n", kind.c_str(), k, got[k], expected[k]);
        }
        ++res.out_of_order;
      }
    }
    if (res.out_of_order != 0) res.ok = false;
  }
  if (res.served == threads) {
    res.spread = SpreadOf(recs);
    if (staged) res.after_release = SpreadOf(recs, release_start);
  }
  return res;
}

int Usage() {
  fprintf(stderr, "usage: connpool_fifo_soak [--threads N] [--pool N] [--seed N] [--out FILE]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 10000, pool_size = 10;
  uint64_t seed = 1;
  std::string out = "fifo_soak_results.txt";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) return Usage();
    if (a == "--threads") threads = atoi(argv[++i]);
    else if (a == "--pool") pool_size = atoi(argv[++i]);
    else if (a == "--seed") seed = strtoull(argv[++i], nullptr, 10);
    else if (a == "--out") out = argv[++i];
    else return Usage();
  }
  if (threads < 1 || pool_size < 1) return Usage();

  auto books = std::make_shared<Books>();
  connpool::Config cfg;
  cfg.name = "fifo_soak";
  cfg.max_size = pool_size;
  cfg.min_idle = pool_size;
  cfg.acquire_timeout_ms = kAcquireTimeoutMs;
  cfg.validate_on_acquire = static_cast<int64_t>(connpool::ValidateMode::kNever);
  cfg.reset_on_release = false;
  Pool* pool = nullptr;
  std::string err;
  if (Pool::Create(cfg, std::make_unique<CountingFactory>(books), connpool::PoolOptions{}, &pool, &err) != Status::kOK) {
    fprintf(stderr, "pool: %s\n", err.c_str());
    return 1;
  }
  if (pool->WaitReady(10000) != Status::kOK) {
    fprintf(stderr, "pool never became ready\n");
    return 1;
  }

  std::mt19937_64 rng(seed);
  std::vector<Result> results;
  bool ok = true;
  for (const char* kind : {"fifo", "priority", "burst"}) {
    Result r = RunPhase(kind, pool, threads, pool_size, rng);
    results.push_back(r);
    ok = ok && r.ok;
    if (!r.ok) break;
  }

  connpool::StatsSnapshot s = pool->Snapshot();
  if (s.waiters != 0 || s.in_use != 0 || s.idle != static_cast<uint64_t>(pool_size) || s.timeouts != 0) {
    fprintf(stderr, "pool books: waiters=%llu in_use=%llu idle=%llu timeouts=%llu\n",
            static_cast<unsigned long long>(s.waiters), static_cast<unsigned long long>(s.in_use),
            static_cast<unsigned long long>(s.idle), static_cast<unsigned long long>(s.timeouts));
    ok = false;
  }
  pool->Close();
  if (books->created.load() != books->destroyed.load()) {
    fprintf(stderr, "created %d, destroyed %d\n", books->created.load(), books->destroyed.load());
    ok = false;
  }

  FILE* f = fopen(out.c_str(), "w");
  for (FILE* dst : {stdout, f}) {
    if (dst == nullptr) continue;
    fprintf(dst, "# connpool_fifo_soak threads=%d pool=%d seed=%llu hold_us=100..500 acquire_timeout_ms=%lld\n", threads,
            pool_size, static_cast<unsigned long long>(seed), static_cast<long long>(kAcquireTimeoutMs));
    for (const Result& r : results) {
      fprintf(dst,
              "phase=%s threads=%d served=%d out_of_order=%d peak_waiters=%llu seconds=%.2f wait_min_us=%.1f "
              "wait_p50_us=%.1f wait_p99_us=%.1f wait_max_us=%.1f",
              r.name.c_str(), r.threads, r.served, r.out_of_order, static_cast<unsigned long long>(r.peak_waiters),
              r.seconds, static_cast<double>(r.spread.min) / 1e3, static_cast<double>(r.spread.p50) / 1e3,
              static_cast<double>(r.spread.p99) / 1e3, static_cast<double>(r.spread.max) / 1e3);
      if (r.name != "burst")
        fprintf(dst, " served_after_release_min_us=%.1f p50_us=%.1f p99_us=%.1f max_us=%.1f",
                static_cast<double>(r.after_release.min) / 1e3, static_cast<double>(r.after_release.p50) / 1e3,
                static_cast<double>(r.after_release.p99) / 1e3, static_cast<double>(r.after_release.max) / 1e3);
      fprintf(dst, " result=%s\n", r.ok ? "PASS" : "FAIL");
    }
    fprintf(dst, "overall=%s\n", ok ? "PASS" : "FAIL");
  }
  if (f == nullptr) {
    fprintf(stderr, "cannot write %s\n", out.c_str());
    ok = false;
  } else {
    fclose(f);
  }
  return ok ? 0 : 1;
}
