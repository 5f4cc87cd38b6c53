// SPDX-License-Identifier: Apache-2.0
// Proves that an uncontended acquire/release cycle allocates nothing (DESIGN.md §7), through the
// core (connpool_core, linked statically) and through libconnpool.so's C ABI. The counting
// allocator (counting_alloc.h) replaces malloc and operator new for the whole process, so an
// allocation anywhere on the calling thread - our code, libstdc++, Boost, glibc - is counted.
#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <thread>

#include "connpool/connpool.h"
#include "counting_alloc.h"
#include "pool/factory.h"
#include "pool/pool.h"

namespace {

using counting_alloc::ThisThread;

constexpr int kWarmup = 1000;
constexpr int kCycles = 100000;

// Connections are slots of a static array: the factory itself never allocates.
int g_conns[64];

class StaticFactory final : public connpool::Factory {
 public:
  StaticFactory(bool validate, bool reset) : validate_(validate), reset_(reset) {}
  connpool::CreateResult Create(void** conn, std::string*) override {
    *conn = &g_conns[next_.fetch_add(1) % 64];
    return connpool::CreateResult::kOk;
  }
  void Destroy(void*) override {}
  bool HasValidate() const override { return validate_; }
  bool Validate(void*) override { return true; }
  bool HasReset() const override { return reset_; }
  bool Reset(void*) override { return true; }

 private:
  const bool validate_, reset_;
  std::atomic<int> next_{0};
};

// A core pool holding `size` ready connections.
connpool::Pool* MakeCorePool(connpool::Config cfg, bool validate, bool reset) {
  connpool::Pool* pool = nullptr;
  std::string err;
  EXPECT_EQ(connpool::Pool::Create(cfg, std::make_unique<StaticFactory>(validate, reset), {}, &pool, &err),
            connpool::Status::kOK)
      << err;
  std::vector<uint64_t> leases(static_cast<size_t>(cfg.max_size));
  for (uint64_t& l : leases) EXPECT_EQ(pool->Acquire(0, 10000, &l, nullptr), connpool::Status::kOK);
  for (uint64_t l : leases) EXPECT_EQ(pool->Release(l, false), connpool::Status::kOK);
  return pool;
}

struct Delta {
  uint64_t allocs, frees, news;
};

// Allocations on this thread while `body` runs.
template <typename F>
Delta CountDuring(F&& body) {
  counting_alloc::ThreadCounts before = ThisThread();
  body();
  counting_alloc::ThreadCounts after = ThisThread();
  return {after.allocs - before.allocs, after.frees - before.frees, after.news - before.news};
}

template <typename F>
void ExpectNoAllocations(const char* what, F&& cycle) {
  for (int i = 0; i < kWarmup; ++i) cycle();
  Delta d = CountDuring([&] {
    for (int i = 0; i < kCycles; ++i) cycle();
  });
  EXPECT_EQ(d.allocs, 0u) << what << ": " << d.allocs << " allocations in " << kCycles << " cycles";
  EXPECT_EQ(d.frees, 0u) << what;
  EXPECT_EQ(d.news, 0u) << what;
}

// The counter is not blind: allocations here, in libstdc++ and inside libconnpool.so are seen.
TEST(AllocationCounter, SeesMallocNewAndAllocationsInsideTheLibrary) {
  Delta d = CountDuring([] {
    void* volatile p = std::malloc(24);
    std::free(p);
    delete new std::string(100, 'x');
  });
  EXPECT_GE(d.allocs, 3u);
  EXPECT_GE(d.news, 2u);

  connpool_factory_t* f = connpool_factory_new(
      nullptr, nullptr, [](void*, void** c, char*, size_t) { return *c = &g_conns[0], CONNPOOL_FACTORY_OK; },
      [](void*, void*) {});
  connpool_pool_t* pool = nullptr;
  ASSERT_EQ(connpool_pool_new(nullptr, f, &pool, nullptr, 0), CONNPOOL_OK);
  d = CountDuring([&] { connpool_free(connpool_pool_stats_json(pool)); });
  EXPECT_GT(d.allocs, 0u) << "stats_json surely allocates: the counter misses the shared library";
  connpool_pool_free(pool);
}

TEST(ZeroAllocation, CoreCycleWithoutCallbacks) {
  connpool::Config cfg;
  cfg.max_size = cfg.min_idle = 4;
  cfg.validate_on_acquire = static_cast<int64_t>(connpool::ValidateMode::kNever);
  connpool::Pool* pool = MakeCorePool(cfg, false, false);
  ExpectNoAllocations("core acquire/release", [&] {
    uint64_t lease;
    void* conn;
    ASSERT_EQ(pool->Acquire(0, 1000, &lease, &conn), connpool::Status::kOK);
    ASSERT_EQ(pool->Release(lease, false), connpool::Status::kOK);
  });
  pool->Close();
}

// Defaults (validate_on_acquire=idle, reset_on_release=true, lifetime on) with validate and
// reset callbacks set, plus priorities and a leak threshold: the branches a real pool takes.
TEST(ZeroAllocation, CoreCycleWithDefaultsCallbacksAndPriority) {
  connpool::Config cfg;
  cfg.max_size = 4;
  cfg.leak_threshold_ms = 60000;
  connpool::Pool* pool = MakeCorePool(cfg, true, true);
  int priority = 0;
  ExpectNoAllocations("core acquire/release with callbacks", [&] {
    uint64_t lease;
    ASSERT_EQ(pool->Acquire(priority++ % 3, 1000, &lease, nullptr), connpool::Status::kOK);
    ASSERT_EQ(pool->Release(lease, false), connpool::Status::kOK);
  });
  pool->Close();
}

connpool_pool_t* MakeCApiPool() {
  connpool_config_t* cfg = connpool_config_new();
  EXPECT_EQ(connpool_config_set(cfg, "max_size", "4", nullptr, 0), CONNPOOL_OK);
  EXPECT_EQ(connpool_config_set(cfg, "min_idle", "4", nullptr, 0), CONNPOOL_OK);
  connpool_factory_t* f = connpool_factory_new(
      nullptr, nullptr, [](void*, void** c, char*, size_t) { return *c = &g_conns[1], CONNPOOL_FACTORY_OK; },
      [](void*, void*) {});
  connpool_factory_set_validate(f, [](void*, void*) { return 0; });
  connpool_factory_set_reset(f, [](void*, void*) { return 0; });
  connpool_pool_t* pool = nullptr;
  EXPECT_EQ(connpool_pool_new(cfg, f, &pool, nullptr, 0), CONNPOOL_OK);
  connpool_config_free(cfg);
  EXPECT_EQ(connpool_pool_wait_ready(pool, 10000), CONNPOOL_OK);
  return pool;
}

TEST(ZeroAllocation, CApiCycleThroughSharedLibrary) {
  connpool_pool_t* pool = MakeCApiPool();
  ExpectNoAllocations("connpool_acquire/connpool_release", [&] {
    connpool_lease_t lease;
    void* conn;
    ASSERT_EQ(connpool_acquire(pool, 1000, &lease, &conn), CONNPOOL_OK);
    ASSERT_EQ(connpool_release(pool, lease), CONNPOOL_OK);
  });
  ExpectNoAllocations("connpool_acquire_priority/connpool_release", [&] {
    connpool_lease_t lease;
    ASSERT_EQ(connpool_acquire_priority(pool, 7, 1000, &lease, nullptr), CONNPOOL_OK);
    ASSERT_EQ(connpool_release(pool, lease), CONNPOOL_OK);
  });
  connpool_pool_free(pool);
}

// A thread's very first cycle too: its thread-local hint and stripe need no allocation.
TEST(ZeroAllocation, FirstCycleOnANewThread) {
  connpool_pool_t* pool = MakeCApiPool();
  Delta d{};
  std::thread t([&] {
    d = CountDuring([&] {
      connpool_lease_t lease;
      if (connpool_acquire(pool, 1000, &lease, nullptr) == CONNPOOL_OK) connpool_release(pool, lease);
    });
  });
  t.join();
  EXPECT_EQ(d.allocs, 0u);
  connpool_pool_free(pool);
}

}  // namespace
