// SPDX-License-Identifier: Apache-2.0
// connpool_soak: random load with bursts on one pool while the backend is killed and restarted
// at random, then checks that nothing leaked and prints a report.
//
//   connpool_soak [--backend postgres|fake] [--seconds N | --minutes N] [--threads N]
//                 [--seed N] [--rss-limit-mb N]
//
// Load: worker threads acquire (random timeout 0..500 ms, random priority), run a statement
// (plain, a 2 ms sleep, session state, or a transaction left open for reset to roll back) and
// release, or release_broken when the statement failed. A controller alternates calm phases
// (a quarter of the workers, think time between calls) and bursts (every worker, no pause).
// Chaos: the backend runs 4-25 s, then is killed (PostgreSQL: pg_ctl -m immediate) for
// 1-6 s. Sleeps here shape the load and the outages; nothing waits on a guess.
//
// Pass criteria (exit 0): every acquire status is one connpool_acquire documents for this use;
// every release is OK; no connection is lent to two callers at once; every outage is followed
// by a successful query; the server never holds more sessions than max_size (+2 for backends
// still exiting); after the run the
// pool's books balance (created - destroyed == live); after connpool_pool_free the server has
// no session and the backend no connection left; RSS grows less than --rss-limit-mb between
// the end of the warm-up and the end of the load.
#include <cjson/cJSON.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "connpool/connpool.h"
#include "soak_backend.h"

namespace connpool_soak {
namespace {

using SteadyClock = std::chrono::steady_clock;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now().time_since_epoch()).count();
}

long RssKb() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0) return atol(line.c_str() + 6);
  return -1;
}

struct Options {
  std::string backend = "postgres";
  int64_t seconds = 60;
  int threads = 12;
  uint64_t seed = 0;
  long rss_limit_mb = 32;
};

// AddressSanitizer keeps freed memory in quarantine, so RSS says nothing about leaks there.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

constexpr int kMaxSize = 8;
const std::pair<const char*, const char*> kPoolSettings[] = {
    {"name", "soak"},
    {"max_size", "8"},
    {"min_idle", "2"},
    {"acquire_timeout_ms", "500"},
    {"max_waiters", "16"},
    {"connect_concurrency", "2"},
    {"retry_initial_ms", "50"},
    {"retry_max_ms", "1000"},
    {"retry_jitter", "0.2"},
    {"unavailable_after_ms", "2000"},
    {"maintenance_interval_ms", "100"},
    {"validate_on_acquire", "idle"},
    {"validation_idle_ms", "200"},
    {"validate_interval_ms", "1000"},
    {"idle_timeout_ms", "20000"},
    {"max_lifetime_ms", "60000"},
    {"max_uses", "500"},
};

// The counters the report shows, read from the stats JSON.
std::map<std::string, int64_t> ReadStats(connpool_pool_t* pool, std::string* state) {
  std::map<std::string, int64_t> out;
  char* text = connpool_pool_stats_json(pool);
  if (text == nullptr) return out;
  cJSON* root = cJSON_Parse(text);
  connpool_free(text);
  if (root == nullptr) return out;
  for (const char* group : {"connections", "counters"}) {
    const cJSON* g = cJSON_GetObjectItemCaseSensitive(root, group);
    for (const cJSON* e = g ? g->child : nullptr; e != nullptr; e = e->next)
      if (cJSON_IsNumber(e)) out[e->string] = static_cast<int64_t>(e->valuedouble);
  }
  const cJSON* w = cJSON_GetObjectItemCaseSensitive(root, "waiters");
  if (cJSON_IsNumber(w)) out["waiters"] = static_cast<int64_t>(w->valuedouble);
  const cJSON* st = cJSON_GetObjectItemCaseSensitive(root, "state");
  if (state != nullptr && cJSON_IsString(st)) *state = st->valuestring;
  cJSON_Delete(root);
  return out;
}

struct Outage {
  int64_t killed_ms = 0, restarted_ms = 0;
  std::atomic<int64_t> recovered_ms{0};  // first successful query after the restart
};

class Soak {
 public:
  Soak(Options opt, std::unique_ptr<SoakBackend> backend) : opt_(std::move(opt)), backend_(std::move(backend)) {}

  int Run() {
    std::string err;
    if (!backend_->Setup(&err)) {
      printf("soak: backend %s unavailable: %s\n", backend_->name(), err.c_str());
      return 77;  // skipped
    }
    connpool_config_t* cfg = connpool_config_new();
    char msg[256];
    for (const auto& kv : kPoolSettings)
      if (connpool_config_set(cfg, kv.first, kv.second, msg, sizeof msg) != CONNPOOL_OK) return Fatal(msg);
    if (connpool_pool_new(cfg, backend_->NewFactory(), &pool_, msg, sizeof msg) != CONNPOOL_OK) return Fatal(msg);
    connpool_config_free(cfg);
    if (connpool_pool_wait_ready(pool_, 30000) != CONNPOOL_OK) return Fatal("pool never became ready");

    const int64_t t0 = NowMs();
    const int64_t end = t0 + opt_.seconds * 1000;
    std::vector<std::thread> workers;
    for (int i = 0; i < opt_.threads; ++i) workers.emplace_back([this, i] { Worker(i); });
    std::thread chaos([this, end] { Chaos(end); });

    // Warm-up: the first tenth of the run (at most 30 s) before RSS is taken as the baseline.
    std::mt19937_64 rng(opt_.seed);
    const int64_t warm_until = t0 + std::min<int64_t>(30'000, opt_.seconds * 100);
    while (NowMs() < end) {
      const bool burst = rng() % 3 == 0;
      SetPhase(burst ? opt_.threads : std::max(1, opt_.threads / 4), burst ? 0 : 2 + static_cast<int>(rng() % 9));
      const int64_t phase_end = std::min(end, NowMs() + (burst ? 1000 + static_cast<int64_t>(rng() % 3000)
                                                               : 2000 + static_cast<int64_t>(rng() % 8000)));
      bursts_ += burst;
      while (NowMs() < phase_end) {
        Sample();
        if (rss_start_kb_ < 0 && NowMs() >= warm_until) rss_start_kb_ = RssKb();
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
      }
    }
    stop_ = true;
    phase_cv_.notify_all();
    for (std::thread& w : workers) w.join();
    chaos.join();
    if (rss_start_kb_ < 0) rss_start_kb_ = RssKb();
    rss_end_kb_ = RssKb();
    elapsed_ms_ = NowMs() - t0;
    return Finish();
  }

 private:
  int Fatal(const std::string& what) {
    printf("soak: %s\n", what.c_str());
    return 2;
  }

  void SetPhase(int active, int think_ms) {
    {
      std::lock_guard<std::mutex> lk(phase_mu_);
      active_ = active;
      think_ms_ = think_ms;
    }
    phase_cv_.notify_all();
  }

  void Worker(int index) {
    std::mt19937_64 rng(opt_.seed * 1000 + static_cast<uint64_t>(index) + 1);
    static const int64_t kTimeouts[] = {0, 20, 100, 250, 500, -1};
    while (!stop_.load()) {
      int think;
      {
        std::unique_lock<std::mutex> lk(phase_mu_);
        phase_cv_.wait(lk, [&] { return stop_.load() || index < active_; });
        think = think_ms_;
      }
      if (stop_.load()) break;
      connpool_lease_t lease;
      void* conn;
      const int64_t timeout = kTimeouts[rng() % 6];
      int rc = rng() % 4 == 0 ? connpool_acquire_priority(pool_, static_cast<int>(rng() % 3), timeout, &lease, &conn)
                              : connpool_acquire(pool_, timeout, &lease, &conn);
      Count(rc, timeout);
      if (rc == CONNPOOL_OK) {
        Lend(conn);
        int r = static_cast<int>(rng() % 10);
        int kind = r < 7 ? 0 : r - 6;  // 70% plain, 10% each of the others
        bool ok = backend_->Query(conn, kind);
        Unlend(conn);
        if (ok) {
          queries_ok_++;
          MarkRecovered();
        } else {
          queries_failed_++;
        }
        int rel = ok ? connpool_release(pool_, lease) : connpool_release_broken(pool_, lease);
        if (rel != CONNPOOL_OK) release_errors_++;
        cycles_ += ok;
      } else if (rc == CONNPOOL_EUNAVAILABLE || rc == CONNPOOL_EOVERLOAD) {
        think = std::max(think, 1);  // a service would answer 503 and move on, not spin
      }
      if (rng() % 256 == 0) connpool_free(connpool_pool_stats_json(pool_));
      if (rng() % 1024 == 0) connpool_free(connpool_pool_metrics_text(pool_));
      if (think > 0) std::this_thread::sleep_for(std::chrono::milliseconds(think));
    }
  }

  void Count(int rc, int64_t timeout) {
    by_code_[rc >= 0 && rc < CONNPOOL_STATUS_COUNT_ ? rc : CONNPOOL_STATUS_COUNT_]++;
    // What connpool_acquire documents for an open pool: EFACTORY only when not waiting.
    bool documented = rc == CONNPOOL_OK || rc == CONNPOOL_ETIMEOUT || rc == CONNPOOL_EUNAVAILABLE ||
                      rc == CONNPOOL_EOVERLOAD || (rc == CONNPOOL_EFACTORY && timeout == 0);
    if (!documented) {
      unexpected_++;
      std::lock_guard<std::mutex> lk(mu_);
      if (unexpected_samples_.size() < 5)
        unexpected_samples_.push_back(std::string(connpool_errname(rc)) + " (timeout " + std::to_string(timeout) + ")");
    }
  }

  void Lend(void* conn) {
    std::lock_guard<std::mutex> lk(mu_);
    if (!lent_.insert(conn).second) lent_twice_++;
  }
  void Unlend(void* conn) {
    std::lock_guard<std::mutex> lk(mu_);
    lent_.erase(conn);
  }

  void MarkRecovered() {
    std::lock_guard<std::mutex> lk(mu_);
    if (outages_.empty()) return;
    Outage& o = *outages_.back();
    if (o.restarted_ms != 0 && o.recovered_ms.load() == 0) o.recovered_ms = NowMs();
  }

  void Chaos(int64_t end) {
    std::mt19937_64 rng(opt_.seed + 77);
    auto nap = [&](int64_t ms) {
      const int64_t until = std::min(end, NowMs() + ms);
      while (!stop_.load() && NowMs() < until) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    };
    std::string err;
    while (!stop_.load() && NowMs() < end) {
      nap(4000 + static_cast<int64_t>(rng() % 21000));
      if (stop_.load() || NowMs() >= end) break;
      auto o = std::make_unique<Outage>();
      o->killed_ms = NowMs();
      if (!backend_->Kill(&err)) chaos_errors_.push_back("kill: " + err);
      {
        std::lock_guard<std::mutex> lk(mu_);
        outages_.push_back(std::move(o));
      }
      nap(1000 + static_cast<int64_t>(rng() % 5000));
      // Always bring it back, even when the run is over: the final checks need the server.
      if (!backend_->Restart(&err)) chaos_errors_.push_back("restart: " + err);
      std::lock_guard<std::mutex> lk(mu_);
      outages_.back()->restarted_ms = NowMs();
    }
  }

  void Sample() {
    std::string state;
    std::map<std::string, int64_t> s = ReadStats(pool_, &state);
    if (s["in_use"] > kMaxSize || s["total"] > kMaxSize) over_max_++;
    // A leak would grow past max_size for good; a backend still exiting after its client
    // closed can add one or two for a moment.
    long sessions = backend_->ServerSessions();
    max_sessions_ = std::max(max_sessions_, sessions);
    if (sessions > kMaxSize + 2) over_max_++;
    rss_max_kb_ = std::max(rss_max_kb_, RssKb());
    states_seen_.insert(state);
  }

  int Finish() {
    std::vector<std::string> failures;
    // The server is up again (Chaos restarts it last); the pool must come back and serve.
    const int64_t settle_end = NowMs() + 60'000;
    bool served = false;
    while (!served && NowMs() < settle_end) {
      connpool_lease_t lease;
      void* conn;
      if (connpool_acquire(pool_, 1000, &lease, &conn) != CONNPOOL_OK) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));  // fail-fast while unavailable
        continue;
      }
      served = backend_->Query(conn, 0);
      if (served) {
        MarkRecovered();
        connpool_release(pool_, lease);
      } else {
        connpool_release_broken(pool_, lease);
      }
    }
    if (!served) failures.push_back("the pool did not serve a working connection after the last restart");

    // The books must balance once the background threads are quiet (a snapshot taken while a
    // create or retirement is under way may be one step apart).
    std::map<std::string, int64_t> s;
    bool balanced = false;
    for (const int64_t until = NowMs() + 10'000; !balanced && NowMs() < until;) {
      s = ReadStats(pool_, nullptr);
      balanced = s["creating"] == 0 && s["created"] - s["destroyed"] == s["total"];
      if (!balanced) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (!balanced)
      failures.push_back("pool books do not balance: created " + std::to_string(s["created"]) + " destroyed " +
                         std::to_string(s["destroyed"]) + " total " + std::to_string(s["total"]));
    if (s["in_use"] != 0 || s["waiters"] != 0) failures.push_back("leases or waiters left after the load stopped");
    stats_ = s;

    connpool_pool_free(pool_);
    pool_ = nullptr;
    std::string why;
    const int64_t leak_end = NowMs() + 15'000;
    bool clean = false;
    while (!(clean = backend_->NothingLeft(&why)) && NowMs() < leak_end)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (!clean) failures.push_back("after pool_free: " + why);

    if (unexpected_ > 0) failures.push_back(std::to_string(unexpected_.load()) + " undocumented acquire statuses");
    if (release_errors_ > 0) failures.push_back(std::to_string(release_errors_.load()) + " releases not OK");
    if (lent_twice_ > 0) failures.push_back(std::to_string(lent_twice_.load()) + " connections lent twice");
    if (over_max_ > 0) failures.push_back(std::to_string(over_max_) + " samples above max_size");
    if (cycles_ == 0) failures.push_back("no successful cycle");
    for (const std::string& e : chaos_errors_) failures.push_back("chaos: " + e);
    size_t survived = 0;
    int64_t worst = 0, sum = 0;
    for (const auto& o : outages_) {
      if (o->recovered_ms.load() == 0) continue;
      ++survived;
      int64_t rec = o->recovered_ms.load() - o->restarted_ms;
      worst = std::max(worst, rec);
      sum += rec;
    }
    if (survived != outages_.size())
      failures.push_back(std::to_string(outages_.size() - survived) + " outages never recovered from");
    const long growth = rss_end_kb_ - rss_start_kb_;
    if (growth > opt_.rss_limit_mb * 1024 && !kSanitized)
      failures.push_back("RSS grew by " + std::to_string(growth) + " KiB");

    printf("=== connpool soak report ===\n");
    printf("backend: %s   duration: %.1f s   threads: %d   seed: %llu   bursts: %d\n", backend_->name(),
           elapsed_ms_ / 1000.0, opt_.threads, static_cast<unsigned long long>(opt_.seed), bursts_);
    printf("cycles (acquire + query + release): %llu   failed queries (released broken): %llu\n",
           static_cast<unsigned long long>(cycles_.load()), static_cast<unsigned long long>(queries_failed_.load()));
    printf("outages: %zu injected, %zu survived; recovery after restart: avg %lld ms, max %lld ms\n",
           outages_.size(), survived, static_cast<long long>(survived ? sum / static_cast<int64_t>(survived) : 0),
           static_cast<long long>(worst));
    printf("acquire results by code:");
    for (int c = 0; c <= CONNPOOL_STATUS_COUNT_; ++c)
      if (by_code_[c] > 0)
        printf(" %s=%llu", c < CONNPOOL_STATUS_COUNT_ ? connpool_errname(c) : "unknown",
               static_cast<unsigned long long>(by_code_[c].load()));
    printf("\nundocumented statuses: %llu", static_cast<unsigned long long>(unexpected_.load()));
    for (const std::string& u : unexpected_samples_) printf(" [%s]", u.c_str());
    printf("\nstates seen:");
    for (const std::string& st : states_seen_) printf(" %s", st.c_str());
    printf("\nmax server sessions seen: %ld (max_size %d); connections lent twice: %llu\n", max_sessions_, kMaxSize,
           static_cast<unsigned long long>(lent_twice_.load()));
    printf("pool counters:");
    for (const char* k : {"created", "destroyed", "create_failures", "validation_failures", "closed_broken",
                          "closed_lifetime", "closed_idle", "closed_max_uses", "timeouts", "unavailable", "overload"})
      printf(" %s=%lld", k, static_cast<long long>(stats_[k]));
    printf("\nRSS: start %.1f MiB (after warm-up), end %.1f MiB, max %.1f MiB, growth %ld KiB (limit %ld MiB%s)\n",
           rss_start_kb_ / 1024.0, rss_end_kb_ / 1024.0, rss_max_kb_ / 1024.0, growth, opt_.rss_limit_mb,
           kSanitized ? ", not enforced: sanitizer quarantine" : "");
    printf("leaks after pool_free: %s\n", clean ? "none (pool and server)" : why.c_str());
    for (const std::string& f : failures) printf("FAIL: %s\n", f.c_str());
    printf("RESULT: %s\n", failures.empty() ? "PASS" : "FAIL");
    fflush(stdout);
    return failures.empty() ? 0 : 1;
  }

  const Options opt_;
  std::unique_ptr<SoakBackend> backend_;
  connpool_pool_t* pool_ = nullptr;

  std::atomic<bool> stop_{false};
  std::mutex phase_mu_;
  std::condition_variable phase_cv_;
  int active_ = 0, think_ms_ = 0;  // guarded by phase_mu_
  int bursts_ = 0;

  std::atomic<uint64_t> by_code_[CONNPOOL_STATUS_COUNT_ + 1] = {};
  std::atomic<uint64_t> cycles_{0}, queries_ok_{0}, queries_failed_{0}, release_errors_{0}, lent_twice_{0},
      unexpected_{0};
  std::mutex mu_;
  std::set<void*> lent_;                          // guarded by mu_
  std::vector<std::string> unexpected_samples_;   // guarded by mu_
  std::vector<std::unique_ptr<Outage>> outages_;  // guarded by mu_ (the chaos thread appends)
  std::vector<std::string> chaos_errors_;         // chaos thread until joined

  // Controller thread only.
  long max_sessions_ = 0, rss_start_kb_ = -1, rss_end_kb_ = 0, rss_max_kb_ = 0;
  int over_max_ = 0;
  std::set<std::string> states_seen_;
  std::map<std::string, int64_t> stats_;
  int64_t elapsed_ms_ = 0;
};

#ifdef CONNPOOL_SOAK_NO_PG
}  // namespace
std::unique_ptr<SoakBackend> NewPgBackend() { return nullptr; }
namespace {
#endif

int Usage() {
  fprintf(stderr,
          "usage: connpool_soak [--backend postgres|fake] [--seconds N | --minutes N] [--threads N] "
          "[--seed N] [--rss-limit-mb N]\n");
  return 2;
}

}  // namespace
}  // namespace connpool_soak

int main(int argc, char** argv) {
  using namespace connpool_soak;
  Options opt;
  opt.seed = static_cast<uint64_t>(std::random_device{}());
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) return Usage();
    std::string v = argv[++i];
    if (a == "--backend") opt.backend = v;
    else if (a == "--seconds") opt.seconds = atoll(v.c_str());
    else if (a == "--minutes") opt.seconds = atoll(v.c_str()) * 60;
    else if (a == "--threads") opt.threads = atoi(v.c_str());
    else if (a == "--seed") opt.seed = strtoull(v.c_str(), nullptr, 10);
    else if (a == "--rss-limit-mb") opt.rss_limit_mb = atol(v.c_str());
    else return Usage();
  }
  if (opt.seconds <= 0 || opt.threads <= 0) return Usage();
  std::unique_ptr<SoakBackend> backend = opt.backend == "fake" ? NewFakeBackend() : NewPgBackend();
  if (backend == nullptr) {
    printf("soak: backend %s is not built here (needs libpq)\n", opt.backend.c_str());
    return 77;
  }
  return Soak(opt, std::move(backend)).Run();
}
