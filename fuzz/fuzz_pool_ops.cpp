// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: random sequences of pool calls on a factory whose callbacks fail at random,
// with the pool's invariants checked after every step.
//
// The pool is made by the core (connpool::Pool::Create) so that it runs on a FakeClock the
// input drives, then used only through the C API: a connpool_pool_t* is the Pool* itself
// (capi/pool_api.cpp), and the factory is a real connpool_factory_new() over C callbacks, so
// acquire/release/drain/stats/metrics/free run exactly the code users call.
//
// No call ever waits: acquires use timeout 0 and drains deadline 0. The only background work
// is the connector threads' creates (the startup probe and outage probes once the fake clock
// passes the backoff); after each step the harness waits until none is due or in flight
// (bounded: a pool that never settles is reported as a bug), so every check below runs on a
// quiescent pool and the run is deterministic.
//
// Checked after every step:
//   * created == destroyed + idle + in_use + creating (pool counters) and the factory's live
//     connections == idle + in_use;
//   * in_use == leases this harness holds; total <= max_size unless a resize shrank the pool
//     under leases that are still out (then nothing is idle); stats show the resized max_size;
//   * no lease is served twice, no connection carries more than max_leases_per_conn leases
//     (1 unless the run shares connections), every connection served is alive;
//   * every status is one the call documents; stale, doubled and forged leases are ESTALE;
//   * a draining/closed pool refuses acquires with ECLOSED;
//   * an acquire that may create, on a healthy factory, below max_size, succeeds;
//   * stats JSON parses and agrees with the gauges; no secret reaches stats or metrics.
// At the end (after release-then-free or free-with-leases-out): every connection destroyed,
// ctx_free called exactly once, and only after the last lease came back.
#include <cjson/cJSON.h>
#include <fuzzer/FuzzedDataProvider.h>

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "capi_types.h"
#include "config/config.h"
#include "connpool/connpool.h"
#include "pool/pool.h"
#include "util/clock.h"

namespace {

[[noreturn]] void Fail(const char* what, long a = 0, long b = 0) {
  fprintf(stderr, "fuzz_pool_ops: invariant violated: %s (%ld, %ld)\n", what, a, b);
  abort();
}
// CHECK(cond) aborts with the condition's text; CHECK_V also prints two values.
#define CHECK(cond)              \
  do {                           \
    if (!(cond)) Fail(#cond);    \
  } while (0)
#define CHECK_V(cond, a, b)                                         \
  do {                                                              \
    if (!(cond)) Fail(#cond, static_cast<long>(a), static_cast<long>(b)); \
  } while (0)

const char kSecret[] = "hunter2-fuzz-secret";

enum CreateMode : int {
  kCreateOk,
  kCreateRetry,
  kCreateFatal,
  kCreateNull,     // returns OK without a connection
  kCreateThrow,    // a C++ exception through the C callback
  kCreateUnknown,  // an undocumented return code
  kCreateLongErr,  // fills the whole error buffer, with a secret in it
  kCreateModes
};

thread_local bool t_fuzzer_thread = false;

// The backend behind the C callbacks. Behaviour flags are set by the input between steps.
struct Backend {
  std::atomic<int> create_mode{kCreateOk};
  std::atomic<bool> validate_fails{false}, validate_throws{false};
  std::atomic<bool> reset_fails{false}, reset_throws{false}, destroy_throws{false};
  std::atomic<bool> stats_in_callbacks{false};
  std::atomic<connpool_pool_t*> pool{nullptr};
  std::atomic<int> ctx_free_calls{0};
  // Failed creates made for the fuzzer's own acquires: the create of a timeout-0 acquire runs
  // on a pool helper thread ("connpool-call") while the acquire waits for it, so those count
  // too; creates on the connector threads do not.
  std::atomic<int> failed_creates_here{0};

  std::mutex mu;
  std::set<void*> live;  // guarded by mu
  long created = 0, destroyed = 0;

  bool Alive(void* c) {
    std::lock_guard<std::mutex> lk(mu);
    return live.count(c) == 1;
  }
  long LiveCount() {
    std::lock_guard<std::mutex> lk(mu);
    return static_cast<long>(live.size());
  }
  void MaybeReadStats() {
    connpool_pool_t* p = pool.load();
    if (p != nullptr && stats_in_callbacks.load()) connpool_free(connpool_pool_stats_json(p));
  }
};

bool OnPoolHelperThread() {
  char name[16] = {};
  pthread_getname_np(pthread_self(), name, sizeof name);
  return strcmp(name, "connpool-call") == 0;
}

int CbCreate(void* ctx, void** conn_out, char* err, size_t errlen) {
  auto* b = static_cast<Backend*>(ctx);
  b->MaybeReadStats();
  int mode = b->create_mode.load();
  if (mode != kCreateOk && (t_fuzzer_thread || OnPoolHelperThread())) b->failed_creates_here++;
  switch (mode) {
    case kCreateOk: {
      void* c = malloc(16);
      if (c == nullptr) return CONNPOOL_FACTORY_RETRY;
      std::lock_guard<std::mutex> lk(b->mu);
      b->live.insert(c);
      b->created++;
      *conn_out = c;
      return CONNPOOL_FACTORY_OK;
    }
    case kCreateRetry:
      snprintf(err, errlen, "connection refused: host=db password=%s", kSecret);
      return CONNPOOL_FACTORY_RETRY;
    case kCreateFatal:
      snprintf(err, errlen, "authentication failed token=%s", kSecret);
      return CONNPOOL_FACTORY_FATAL;
    case kCreateNull: return CONNPOOL_FACTORY_OK;
    case kCreateThrow: throw std::runtime_error(std::string("create exploded secret=") + kSecret);
    case kCreateUnknown: return 42;
    default:
      if (errlen > 0) {
        std::string s = std::string("password=") + kSecret + " ";
        for (size_t i = 0; i + 1 < errlen; ++i) err[i] = s[i % s.size()];
        err[errlen - 1] = '\0';
      }
      return CONNPOOL_FACTORY_RETRY;
  }
}

void CbDestroy(void* ctx, void* conn) {
  auto* b = static_cast<Backend*>(ctx);
  {
    std::lock_guard<std::mutex> lk(b->mu);
    if (b->live.erase(conn) != 1) Fail("destroy of a connection that is not alive");
    b->destroyed++;
  }
  free(conn);
  if (b->destroy_throws.load()) throw 7;  // not even a std::exception
}

int CbValidate(void* ctx, void* conn) {
  auto* b = static_cast<Backend*>(ctx);
  if (!b->Alive(conn)) Fail("validate of a connection that is not alive");
  b->MaybeReadStats();
  if (b->validate_throws.load()) throw std::logic_error("validate exploded");
  return b->validate_fails.load() ? 1 : 0;
}

int CbReset(void* ctx, void* conn) {
  auto* b = static_cast<Backend*>(ctx);
  if (!b->Alive(conn)) Fail("reset of a connection that is not alive");
  b->MaybeReadStats();
  if (b->reset_throws.load()) throw std::runtime_error("reset exploded");
  return b->reset_fails.load() ? 1 : 0;
}

void CbCtxFree(void* ctx) { static_cast<Backend*>(ctx)->ctx_free_calls++; }

bool Contains(const char* text, const char* needle) { return text != nullptr && strstr(text, needle) != nullptr; }

class Harness {
 public:
  explicit Harness(FuzzedDataProvider& in) : in_(in) {}

  void Run() {
    connpool::Config cfg;
    cfg.name = in_.ConsumeBool() ? "fuzz" : "fuzz \"pool\"\n";
    cfg.max_size = in_.ConsumeIntegralInRange<int64_t>(1, 4);
    cfg.min_idle = 0;  // warm-up creates would run in the background at any time
    cfg.connect_concurrency = in_.ConsumeIntegralInRange<int64_t>(1, 2);
    cfg.validate_on_acquire = in_.ConsumeIntegralInRange<int64_t>(0, 2);
    cfg.validation_idle_ms = in_.ConsumeIntegralInRange<int64_t>(0, 1000);
    cfg.validate_interval_ms = in_.ConsumeBool() ? 0 : in_.ConsumeIntegralInRange<int64_t>(1, 5000);
    cfg.max_uses = in_.ConsumeIntegralInRange<int64_t>(0, 3);
    cfg.max_lifetime_ms = in_.ConsumeBool() ? 0 : in_.ConsumeIntegralInRange<int64_t>(1, 5000);
    cfg.lifetime_jitter_pct = in_.ConsumeIntegralInRange<int>(0, 50);
    cfg.idle_timeout_ms = in_.ConsumeBool() ? 0 : in_.ConsumeIntegralInRange<int64_t>(1, 5000);
    cfg.reset_on_release = in_.ConsumeBool();
    cfg.leak_threshold_ms = in_.ConsumeIntegralInRange<int64_t>(0, 5000);
    cfg.retry_initial_ms = in_.ConsumeIntegralInRange<int64_t>(1, 100);
    cfg.retry_max_ms = cfg.retry_initial_ms + in_.ConsumeIntegralInRange<int64_t>(0, 1000);
    cfg.retry_jitter = in_.ConsumeIntegralInRange<int>(0, 10) / 10.0;
    cfg.unavailable_after_ms = in_.ConsumeIntegralInRange<int64_t>(0, 5000);
    cfg.startup_retry_ms = in_.ConsumeBool() ? -1 : in_.ConsumeIntegralInRange<int64_t>(0, 5000);
    // Half the runs share connections (the multiplexed path), the others use the lock-free one.
    cfg.max_leases_per_conn = std::max(1, in_.ConsumeIntegralInRange<int>(0, 3));
    per_conn_ = static_cast<size_t>(cfg.max_leases_per_conn);
    max_size_ = static_cast<size_t>(cfg.max_size);
    cfg_ = cfg;
    SetBehaviour(in_.ConsumeIntegral<uint8_t>());
    const bool with_validate = in_.ConsumeBool(), with_reset = in_.ConsumeBool();

    connpool_factory_t* f = connpool_factory_new(&backend_, CbCtxFree, CbCreate, CbDestroy);
    CHECK(f != nullptr);
    if (with_validate) connpool_factory_set_validate(f, CbValidate);
    if (with_reset) connpool_factory_set_reset(f, CbReset);
    connpool::PoolOptions opts;
    opts.clock = &clock_;
    opts.maintenance_thread = false;  // RunMaintenance is a step of the input
    opts.seed = 1;
    std::string err;
    // connpool_factory_s is the C API's adapter onto connpool::Factory (capi_types.h).
    connpool::Status st = connpool::Pool::Create(cfg, std::unique_ptr<connpool::Factory>(f), opts, &core_, &err);
    if (st != connpool::Status::kOK) {
      fprintf(stderr, "fuzz_pool_ops: Pool::Create: %s\n", err.c_str());
      abort();
    }
    pool_ = reinterpret_cast<connpool_pool_t*>(core_);
    backend_.pool = pool_;
    Settle();

    for (int step = 0; step < 256 && in_.remaining_bytes() > 0; ++step) {
      Step(in_.ConsumeIntegralInRange<int>(0, 16));
      Settle();
      CheckInvariants();
    }
    Finish(in_.ConsumeBool());
  }

 private:
  void SetBehaviour(uint8_t bits) {
    static const int kModes[8] = {kCreateOk,    kCreateOk,      kCreateOk,     kCreateRetry,
                                  kCreateFatal, kCreateNull,    kCreateThrow,  kCreateUnknown};
    int mode = kModes[bits & 7];
    if (mode == kCreateUnknown && (bits & 0x80)) mode = kCreateLongErr;
    backend_.create_mode = mode;
    backend_.validate_fails = (bits & 0x18) == 0x08;
    backend_.validate_throws = (bits & 0x18) == 0x18;
    backend_.reset_fails = (bits & 0x60) == 0x20;
    backend_.reset_throws = (bits & 0x60) == 0x60;
    backend_.destroy_throws = (bits & 0x70) == 0x50;
    backend_.stats_in_callbacks = (bits & 0x90) == 0x90;
  }

  bool Healthy() const {
    return backend_.create_mode.load() == kCreateOk && !backend_.validate_fails.load() &&
           !backend_.validate_throws.load();
  }

  // Waits until no create is in flight or due: background creates only start when the pool
  // has never connected, or when an outage's backoff has expired on the fake clock.
  void Settle() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    for (;;) {
      connpool::StatsSnapshot s = core_->Snapshot();
      bool closing = s.state == connpool::Health::kDraining || s.state == connpool::Health::kClosed;
      // A probe needs room: after a resize shrank the pool under held leases there may be none.
      const bool room = s.total < static_cast<uint64_t>(s.max_size);
      bool due = !closing && room &&
                 (s.consecutive_failures > 0 ? s.next_attempt_in_ms == 0 : s.state == connpool::Health::kStarting);
      // Time-driven health changes the connectors apply when the clock moves (pool_health.cpp).
      if (!closing && s.consecutive_failures > 0) {
        if (s.state == connpool::Health::kStarting && cfg_.startup_retry_ms >= 0 &&
            s.uptime_ms >= cfg_.startup_retry_ms)
          due = true;
        // The cutoff counts from the outage's start or from when the connections last worked,
        // and stands still at a capacity limit (docs/HEALTH.md): the pool says when it is due.
        if (s.state == connpool::Health::kDegraded && s.cutoff_in_ms == 0) due = true;
      }
      if (s.creating == 0 && !due) return;
      if (std::chrono::steady_clock::now() > deadline)
        Fail("pool never settled (creating, consecutive_failures)", static_cast<long>(s.creating),
             static_cast<long>(s.consecutive_failures));
      // Poll, leaving the CPU to the connector thread we are waiting for.
      std::this_thread::sleep_for(std::chrono::microseconds(20));
    }
  }

  void CheckInvariants() {
    connpool::StatsSnapshot s = core_->Snapshot();
    // Connections with a lease out: in_use counts leases, several per connection when shared.
    const uint64_t busy = per_conn_ > 1 ? s.busy : s.in_use;
    if (per_conn_ == 1) CHECK_V(s.busy == s.in_use, s.busy, s.in_use);
    CHECK_V(s.busy <= s.in_use && s.in_use <= s.busy * per_conn_, s.busy, s.in_use);
    CHECK_V(s.created == s.destroyed + s.idle + busy + s.creating, s.created,
            s.destroyed + s.idle + busy + s.creating);
    CHECK_V(s.in_use == held_.size(), s.in_use, held_.size());
    // A shrink never takes a lease back, so only leases may keep the pool above max_size, and
    // then nothing is idle or being created.
    CHECK_V(s.total <= std::max(max_size_, held_.size()), s.total, max_size_);
    if (s.total > max_size_) CHECK_V(s.idle == 0 && s.creating == 0, s.idle, s.creating);
    CHECK_V(s.max_size == static_cast<int64_t>(max_size_), s.max_size, max_size_);
    CHECK_V(backend_.LiveCount() == static_cast<long>(s.idle + busy), backend_.LiveCount(), s.idle + busy);
    CHECK(s.waiters == 0);
    if (drained_) {
      CHECK(s.state == connpool::Health::kDraining || s.state == connpool::Health::kClosed);
      CHECK((s.state == connpool::Health::kClosed) == held_.empty());
      CHECK(s.idle == 0);
    }
  }

  uint64_t PickHeld() {
    auto it = held_.begin();
    std::advance(it, in_.ConsumeIntegralInRange<size_t>(0, held_.size() - 1));
    return it->first;
  }

  void Acquire(bool with_priority) {
    const size_t before = held_.size();
    const bool healthy = Healthy();
    const connpool::StatsSnapshot s = core_->Snapshot();
    const int failed_before = backend_.failed_creates_here.load();
    connpool_lease_t lease = 12345;
    void* conn = reinterpret_cast<void*>(1);
    int rc = with_priority ? connpool_acquire_priority(pool_, in_.ConsumeIntegral<int8_t>(), 0, &lease, &conn)
                           : connpool_acquire(pool_, 0, &lease, &conn);
    switch (rc) {
      case CONNPOOL_OK:
        CHECK(!drained_);
        CHECK(lease != 0 && conn != nullptr);
        CHECK(held_.count(lease) == 0);  // a lease served twice
        {
          size_t sharing = 1;  // leases on this connection, this one included
          for (const auto& h : held_) sharing += h.second == conn;
          CHECK_V(sharing <= per_conn_, sharing, per_conn_);  // a connection served too often
        }
        CHECK(backend_.Alive(conn));
        CHECK(ever_issued_.insert(lease).second);  // a lease value reused
        if (per_conn_ == 1) CHECK(before < max_size_);
        held_[lease] = conn;
        return;
      case CONNPOOL_ECLOSED: CHECK(drained_); break;
      case CONNPOOL_EUNAVAILABLE: CHECK(!drained_); break;
      case CONNPOOL_ETIMEOUT: CHECK(!drained_); break;
      case CONNPOOL_EFACTORY:
        CHECK(!drained_);
        CHECK(backend_.failed_creates_here.load() > failed_before);  // EFACTORY needs a failed create
        break;
      default: Fail("acquire returned an undocumented status", rc);
    }
    CHECK(lease == 0 && conn == nullptr);  // outputs cleared on failure
    // A pool that may create (no outage, healthy factory, below max_size) must lend.
    if (!drained_ && healthy && before < max_size_ && s.consecutive_failures == 0 &&
        s.state != connpool::Health::kUnavailable)
      Fail("healthy pool below max_size refused an acquire", rc, static_cast<long>(before));
  }

  void ReleaseHeld(bool broken) {
    if (held_.empty()) return;
    uint64_t lease = PickHeld();
    int rc = broken ? connpool_release_broken(pool_, lease) : connpool_release(pool_, lease);
    CHECK_V(rc == CONNPOOL_OK, rc, 0);
    held_.erase(lease);
    released_.push_back(lease);
  }

  void ReleaseStale() {
    if (released_.empty()) return;
    uint64_t lease = released_[in_.ConsumeIntegralInRange<size_t>(0, released_.size() - 1)];
    if (held_.count(lease)) return;  // cannot happen (generations grow), but stay honest
    int rc = in_.ConsumeBool() ? connpool_release(pool_, lease) : connpool_release_broken(pool_, lease);
    CHECK_V(rc == CONNPOOL_ESTALE, rc, 0);
  }

  void ReleaseForged() {
    uint64_t lease;
    switch (in_.ConsumeIntegralInRange<int>(0, 3)) {
      case 0: lease = in_.ConsumeIntegral<uint64_t>(); break;
      case 1: lease = 0; break;
      case 2:  // a held lease with another generation, slot index or pool tag
        if (held_.empty()) return;
        lease = PickHeld() ^ (uint64_t{1} << in_.ConsumeIntegralInRange<int>(0, 63));
        break;
      default: lease = ~uint64_t{0}; break;
    }
    if (held_.count(lease)) return;  // a forged value that names a real lease is a release
    CHECK(connpool_release(pool_, lease) == CONNPOOL_ESTALE);
  }

  void Drain() {
    int rc = connpool_pool_drain(pool_, 0);
    drained_ = true;
    CHECK_V(rc == (held_.empty() ? CONNPOOL_OK : CONNPOOL_ETIMEOUT), rc, held_.size());
  }

  void Stats() {
    char* text = connpool_pool_stats_json(pool_);
    CHECK(text != nullptr);
    CHECK(!Contains(text, kSecret));  // a secret in stats JSON
    cJSON* root = cJSON_Parse(text);
    CHECK(root != nullptr);  // stats JSON must parse
    const cJSON* c = cJSON_GetObjectItemCaseSensitive(root, "connections");
    CHECK(cJSON_IsObject(c));
    auto num = [&](const char* k) {
      const cJSON* v = cJSON_GetObjectItemCaseSensitive(c, k);
      CHECK(cJSON_IsNumber(v));
      return static_cast<long>(v->valuedouble);
    };
    CHECK(num("total") == num("idle") + num(per_conn_ > 1 ? "busy" : "in_use") + num("creating"));
    CHECK(num("in_use") == static_cast<long>(held_.size()));
    cJSON_Delete(root);
    connpool_free(text);
  }

  void Metrics() {
    char* text = connpool_pool_metrics_text(pool_);
    CHECK(text != nullptr);
    CHECK(!Contains(text, kSecret));  // a secret in metrics
    size_t n = strlen(text);
    CHECK(n > 0 && text[n - 1] == '\n');
    connpool_free(text);
  }

  void BadArguments() {
    connpool_lease_t lease = 5;
    CHECK(connpool_acquire(pool_, 0, nullptr, nullptr) == CONNPOOL_EINVAL);
    CHECK(connpool_acquire(nullptr, 0, &lease, nullptr) == CONNPOOL_EINVAL && lease == 0);
    CHECK(connpool_release(nullptr, 1) == CONNPOOL_EINVAL);
    int rc = connpool_pool_wait_ready(pool_, 0);
    CHECK_V(rc == CONNPOOL_OK || rc == CONNPOOL_ECLOSED || rc == CONNPOOL_EUNAVAILABLE || rc == CONNPOOL_ETIMEOUT,
            rc, 0);
    if (drained_) CHECK_V(rc == CONNPOOL_ECLOSED, rc, 0);
    int st = connpool_pool_state(pool_);
    CHECK_V(st >= CONNPOOL_STATE_STARTING && st <= CONNPOOL_STATE_CLOSED, st, 0);
    int http = connpool_pool_http_status(pool_);
    CHECK_V(http == ((st == CONNPOOL_STATE_READY || st == CONNPOOL_STATE_DEGRADED) ? 200 : 503), http, st);
  }

  // connpool_pool_resize: valid sizes (min_idle stays 0: warm-up creates would run in the
  // background at any time) take effect at once, bad ones are EINVAL and change nothing.
  void Resize() {
    int rc;
    switch (in_.ConsumeIntegralInRange<int>(0, 7)) {
      case 0: CHECK(connpool_pool_resize(nullptr, 0, 1) == CONNPOOL_EINVAL); return;
      case 1: CHECK(connpool_pool_resize(pool_, 0, in_.ConsumeIntegralInRange<int>(-3, 0)) == CONNPOOL_EINVAL); return;
      case 2: CHECK(connpool_pool_resize(pool_, in_.ConsumeIntegralInRange<int>(-3, -1), 2) == CONNPOOL_EINVAL); return;
      case 3: CHECK(connpool_pool_resize(pool_, 3, 2) == CONNPOOL_EINVAL); return;
      case 4: CHECK(connpool_pool_resize(pool_, 0, 100001) == CONNPOOL_EINVAL); return;
      default: break;
    }
    const int new_max = in_.ConsumeIntegralInRange<int>(1, 6);
    rc = connpool_pool_resize(pool_, 0, new_max);
    if (drained_) {
      CHECK_V(rc == CONNPOOL_ECLOSED, rc, 0);
      return;
    }
    CHECK_V(rc == CONNPOOL_OK, rc, new_max);
    max_size_ = static_cast<size_t>(new_max);
  }

  void Step(int op) {
    switch (op) {
      case 0:
      case 1:
      case 2: Acquire(false); break;
      case 3: Acquire(true); break;
      case 4:
      case 5: ReleaseHeld(false); break;
      case 6: ReleaseHeld(true); break;
      case 7: ReleaseStale(); break;
      case 8: ReleaseForged(); break;
      case 9:
        if (in_.ConsumeIntegralInRange<int>(0, 7) == 0) Drain();
        break;
      case 10: Stats(); break;
      case 11: Metrics(); break;
      case 12: {
        // Powers of two up to ~1 h reach backoffs, lifetimes, idle timeouts and cutoffs.
        int64_t ms = (int64_t{1} << in_.ConsumeIntegralInRange<int>(0, 22)) + in_.ConsumeIntegralInRange<int>(0, 7);
        clock_.AdvanceMs(ms);
        break;
      }
      case 13: core_->RunMaintenance(); break;
      case 14: SetBehaviour(in_.ConsumeIntegral<uint8_t>()); break;
      case 15: BadArguments(); break;
      default: Resize(); break;
    }
  }

  // Ends the run either by releasing everything and then freeing the pool, or by freeing it
  // with leases out (it lives on until the last one comes back); then nothing may be left.
  void Finish(bool free_first) {
    backend_.pool = nullptr;  // callbacks may not read stats once pool_free has begun
    if (!free_first) {
      while (!held_.empty()) ReleaseHeld(in_.ConsumeBool());
      connpool_pool_free(pool_);
    } else {
      connpool_pool_free(pool_);
      CHECK_V(backend_.ctx_free_calls.load() == (held_.empty() ? 1 : 0), backend_.ctx_free_calls.load(),
              held_.size());
      while (!held_.empty()) {
        uint64_t lease = held_.begin()->first;
        held_.erase(held_.begin());
        int rc = in_.ConsumeBool() ? connpool_release(pool_, lease) : connpool_release_broken(pool_, lease);
        CHECK_V(rc == CONNPOOL_OK, rc, 0);
        if (!held_.empty()) CHECK(backend_.ctx_free_calls.load() == 0);
      }
    }
    pool_ = nullptr;
    core_ = nullptr;
    CHECK_V(backend_.ctx_free_calls.load() == 1, backend_.ctx_free_calls.load(), 0);
    CHECK_V(backend_.LiveCount() == 0, backend_.LiveCount(), 0);
    CHECK_V(backend_.created == backend_.destroyed, backend_.created, backend_.destroyed);
  }

  FuzzedDataProvider& in_;
  connpool::FakeClock clock_;
  Backend backend_;
  connpool::Pool* core_ = nullptr;
  connpool_pool_t* pool_ = nullptr;
  connpool::Config cfg_;
  size_t max_size_ = 0;
  size_t per_conn_ = 1;  // max_leases_per_conn
  bool drained_ = false;
  std::map<uint64_t, void*> held_;
  std::vector<uint64_t> released_;
  std::set<uint64_t> ever_issued_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  t_fuzzer_thread = true;
  FuzzedDataProvider in(data, size);
  Harness h(in);
  h.Run();
  return 0;
}
