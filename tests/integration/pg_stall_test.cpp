// SPDX-License-Identifier: Apache-2.0
// A frozen server (SIGSTOP of the test's own postmaster and every backend: what a VM pause, a
// stuck storage layer or a blackholing proxy looks like from the client) against a pool whose
// reset runs queries (connpool_pg_factory: ROLLBACK, DISCARD ALL). The pool must not hand the
// hang to its callers: a release returns within reset_timeout_ms, every acquire ends by its
// timeout, creates against the silent listener are abandoned after create_timeout_ms, and the
// stats say "stalled". After SIGCONT it serves again and the books balance
// (docs/HEALTH.md, "Failure modes").
#include <connpool/connpool.h>
#include <dirent.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "pg_factory.h"
#include "pg_test_util.h"

namespace connpool_it {
namespace {

constexpr int64_t kResetTimeoutMs = 300, kAcquireTimeoutMs = 500, kStallAfterMs = 1000;
// Scheduling slack on a loaded 2-core CI machine; the bounds under test are 300-1000 ms.
constexpr double kMarginMs = 250;

pid_t Postmaster(const std::string& data_dir) {
  std::ifstream pidfile(data_dir + "/postmaster.pid");
  pid_t pid = 0;
  return pidfile >> pid ? pid : 0;
}

// The processes `parent` forked: the backends of the pool's connections and the auxiliary ones.
std::vector<pid_t> Children(pid_t parent) {
  std::vector<pid_t> pids;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return pids;
  while (dirent* e = readdir(proc)) {
    const pid_t pid = static_cast<pid_t>(atoi(e->d_name));
    if (pid <= 0) continue;
    std::ifstream stat("/proc/" + std::string(e->d_name) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    // pid (comm) state ppid ...; comm may hold spaces, so parse after the last ')'.
    const size_t close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 1));
    std::string state;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid == parent) pids.push_back(pid);
  }
  closedir(proc);
  return pids;
}

// Freezes the server: the postmaster first (so it forks no new backend), then every child.
// Thaws it on scope exit whatever the test did, so TearDown can stop it.
class Freeze {
 public:
  explicit Freeze(const std::string& data_dir) {
    const pid_t postmaster = Postmaster(data_dir);
    if (postmaster <= 0 || kill(postmaster, SIGSTOP) != 0) return;
    pids_.push_back(postmaster);
    for (pid_t p : Children(postmaster))
      if (kill(p, SIGSTOP) == 0) pids_.push_back(p);
  }
  ~Freeze() { Thaw(); }
  void Thaw() {
    for (pid_t p : pids_) kill(p, SIGCONT);
    pids_.clear();
  }
  size_t size() const { return pids_.size(); }

 private:
  std::vector<pid_t> pids_;
};

bool Stalled(const PoolStats& s) { return s.raw.find("\"stalled\":true") != std::string::npos; }

TEST_F(PgTest, FrozenServerNeverHoldsACallerPastItsBoundAndShowsAsStalled) {
  StartServer();
  connpool_pool_t* pool = MakePool({{"name", "frozen"},
                                    {"max_size", "6"},  // room for creates against the frozen listener
                                    {"min_idle", "4"},
                                    {"acquire_timeout_ms", std::to_string(kAcquireTimeoutMs)},
                                    {"reset_timeout_ms", std::to_string(kResetTimeoutMs)},
                                    {"stall_after_ms", std::to_string(kStallAfterMs)},
                                    {"create_timeout_ms", "1000"},
                                    {"validation_timeout_ms", "300"},
                                    {"unavailable_after_ms", "0"},
                                    {"close_wait_ms", "1000"}});
  ASSERT_NE(pool, nullptr);
  ASSERT_EQ(connpool_pool_wait_ready(pool, 10000), CONNPOOL_OK);
  LeaseAllAndQuery(pool, 4);
  // Quiet: no create in flight whose backend could escape the freeze.
  ASSERT_TRUE(WaitUntil(
      [&] {
        PoolStats q = ReadStats(pool);
        return q.total >= 4 && q.idle == q.total && q.creating == 0;
      },
      10000))
      << ReadStats(pool).raw;

  connpool_lease_t held[2];
  for (connpool_lease_t& l : held) ASSERT_EQ(connpool_acquire(pool, 1000, &l, nullptr), CONNPOOL_OK);

  Freeze frozen(pg_.data_dir());
  ASSERT_GE(frozen.size(), static_cast<size_t>(ReadStats(pool).total) + 1) << "postmaster and every backend";

  // 1. A release whose reset meets the frozen server returns at reset_timeout_ms.
  int64_t t0 = NowNs();
  EXPECT_EQ(connpool_release(pool, held[0]), CONNPOOL_OK);
  const double release_ms = MsBetween(t0, NowNs());
  Timing("release with a frozen server (reset abandoned)", release_ms);
  EXPECT_GE(release_ms, kResetTimeoutMs - 5.0);
  EXPECT_LT(release_ms, kResetTimeoutMs + kMarginMs);
  EXPECT_EQ(ReadStats(pool).counter("resets_abandoned"), 1) << ReadStats(pool).raw;

  // 2. Callers: whoever gets a connection runs a query (and hangs in it, as an application
  //    would); every acquire ends by its timeout.
  std::atomic<bool> stop{false};
  std::atomic<int> timeouts{0}, others{0};
  std::atomic<int64_t> worst_overrun_us{0};
  std::vector<std::thread> callers;
  // Whatever fails below: thaw, then join (the callers may be inside a query until then).
  struct Joiner {
    std::atomic<bool>& stop;
    Freeze& frozen;
    std::vector<std::thread>& threads;
    ~Joiner() {
      stop = true;
      frozen.Thaw();
      for (std::thread& t : threads)
        if (t.joinable()) t.join();
    }
  } joiner{stop, frozen, callers};
  for (int i = 0; i < 6; ++i)
    callers.emplace_back([&] {
      while (!stop.load()) {
        connpool_lease_t l;
        void* conn = nullptr;
        const int64_t a = NowNs();
        const int rc = connpool_acquire(pool, kAcquireTimeoutMs, &l, &conn);
        const int64_t overrun_us = (NowNs() - a) / 1000 - kAcquireTimeoutMs * 1000;
        int64_t prev = worst_overrun_us.load();
        while (overrun_us > prev && !worst_overrun_us.compare_exchange_weak(prev, overrun_us)) {
        }
        if (rc == CONNPOOL_OK) {
          RunSql(conn, "SELECT 1");  // hangs until SIGCONT
          connpool_release(pool, l);
        } else if (rc == CONNPOOL_ETIMEOUT) {
          ++timeouts;
        } else {
          ++others;
        }
      }
    });

  // 3. The pool says it is stalled (every connection out, acquires timing out, nothing back).
  t0 = NowNs();
  ASSERT_TRUE(WaitUntil([&] { return Stalled(ReadStats(pool)); }, 10000)) << ReadStats(pool).raw;
  Timing("freeze -> stats say stalled", MsBetween(t0, NowNs()));
  PoolStats s = ReadStats(pool);
  EXPECT_EQ(s.state, "degraded") << s.raw;
  EXPECT_EQ(s.http_status, 200) << "stalled is reported, not pulled from rotation (HEALTH.md)";
  EXPECT_GE(s.counter("stalls"), 1);
  ASSERT_TRUE(WaitUntil([&] { return timeouts.load() >= 6; }, 10000));
  EXPECT_LT(static_cast<double>(worst_overrun_us.load()) / 1000.0, kMarginMs)
      << "an acquire overran its timeout by " << worst_overrun_us.load() << " us";
  // The other held lease comes back broken: its slot frees, the waiters' demand makes the
  // connector create against the frozen listener (TCP accepts, nothing answers), and the
  // create is abandoned at create_timeout_ms while acquires keep ending at their timeout.
  t0 = NowNs();
  EXPECT_EQ(connpool_release_broken(pool, held[1]), CONNPOOL_OK);
  EXPECT_LT(MsBetween(t0, NowNs()), kMarginMs);
  ASSERT_TRUE(WaitUntil([&] { return ReadStats(pool).counter("creates_abandoned") >= 1; }, 10000))
      << ReadStats(pool).raw;
  EXPECT_LT(static_cast<double>(worst_overrun_us.load()) / 1000.0, kMarginMs)
      << "an acquire overran its timeout by " << worst_overrun_us.load() << " us";

  // 4. Thaw: the hung queries and callbacks return, the pool serves again, nothing is lost.
  frozen.Thaw();
  stop = true;
  for (std::thread& t : callers) t.join();
  // Each abandoned create came back (libpq's connect_timeout) and what it made is destroyed.
  EXPECT_EQ(others.load(), 0);
  ASSERT_TRUE(WaitUntil(
      [&] {
        PoolStats r = ReadStats(pool);
        return !Stalled(r) && r.state == "ready" && r.raw.find("\"abandoned_calls\":0") != std::string::npos;
      },
      15000))
      << ReadStats(pool).raw;
  LeaseAllAndQuery(pool, 4);
  s = ReadStats(pool);
  EXPECT_EQ(s.counter("created") - s.counter("destroyed"), s.total - s.creating) << s.raw;
  ExpectNoLeaks(pool);
  std::printf("[ frozen   ] %d acquires timed out, worst overrun %.1f ms, release %.0f ms\n", timeouts.load(),
              static_cast<double>(worst_overrun_us.load()) / 1000.0, release_ms);
}

}  // namespace
}  // namespace connpool_it
