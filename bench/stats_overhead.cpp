// SPDX-License-Identifier: Apache-2.0
// What reading stats costs the threads doing real work: two threads hammer acquire/release
// on a pool of 10 while a third calls connpool_pool_stats_json 1,000 times a second, against
// the same run without the reader. Runs alternate (A B A B ...) so drift on a shared machine
// hits both sides; prints the median throughput of each and the cost in percent.
//   connpool_stats_overhead [seconds-per-run=2] [pairs=5]
// The reader's pacing sleep is the workload (1,000 calls/s), not synchronisation.
#include <connpool/connpool.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

namespace {

int Create(void*, void** out, char*, size_t) {
  *out = std::malloc(8);
  return CONNPOOL_FACTORY_OK;
}
void Destroy(void*, void* c) { std::free(c); }

double Run(connpool_pool_t* pool, double seconds, bool with_stats, long* stats_calls) {
  std::atomic<bool> stop{false};
  std::atomic<long> cycles{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < 2; ++t) {
    workers.emplace_back([&] {
      long n = 0;
      connpool_lease_t l;
      while (!stop.load(std::memory_order_relaxed)) {
        if (connpool_acquire(pool, 10000, &l, nullptr) == CONNPOOL_OK) {
          connpool_release(pool, l);
          ++n;
        }
      }
      cycles += n;
    });
  }
  std::thread reader;
  if (with_stats) {
    reader = std::thread([&] {
      auto next = std::chrono::steady_clock::now();
      while (!stop.load(std::memory_order_relaxed)) {
        connpool_free(connpool_pool_stats_json(pool));
        ++*stats_calls;
        next += std::chrono::milliseconds(1);
        std::this_thread::sleep_until(next);
      }
    });
  }
  auto t0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& w : workers) w.join();
  if (reader.joinable()) reader.join();
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return static_cast<double>(cycles.load()) / elapsed;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = argc > 1 ? std::atof(argv[1]) : 2.0;
  int pairs = argc > 2 ? std::atoi(argv[2]) : 5;
  connpool_config_t* cfg = nullptr;
  char err[256];
  if (connpool_config_from_json(R"({"name": "stats-overhead", "max_size": 10, "min_idle": 10,
                                    "validate_on_acquire": "never"})", &cfg, err, sizeof err) != CONNPOOL_OK) {
    std::fprintf(stderr, "config: %s\n", err);
    return 1;
  }
  connpool_pool_t* pool = nullptr;
  if (connpool_pool_new(cfg, connpool_factory_new(nullptr, nullptr, Create, Destroy), &pool, err, sizeof err) !=
      CONNPOOL_OK) {
    std::fprintf(stderr, "pool: %s\n", err);
    return 1;
  }
  connpool_config_free(cfg);
  connpool_pool_wait_ready(pool, 5000);
  std::vector<double> without, with;
  long calls = 0;
  for (int i = 0; i < pairs; ++i) {
    without.push_back(Run(pool, seconds, false, &calls));
    long before = calls;
    with.push_back(Run(pool, seconds, true, &calls));
    std::printf("pair %d: without %.2fM/s, with %.2fM/s (%ld stats calls)\n", i + 1, without.back() / 1e6,
                with.back() / 1e6, calls - before);
  }
  double a = Median(without), b = Median(with);
  std::printf("median cycles/s without stats %.2fM, with 1000 stats/s %.2fM: cost %.1f%%\n", a / 1e6, b / 1e6,
              100.0 * (a - b) / a);
  connpool_pool_free(pool);
  return 0;
}
