// SPDX-License-Identifier: Apache-2.0
// A backend for fault-injection tests: each factory callback (create, validate, reset,
// destroy) can be told to succeed, fail, return OK with a NULL connection (create only) or
// throw, and can be stalled on a latch the test holds closed and opens when it chooses. The
// test learns that a callback is parked (and on which thread) from the latch, never by
// sleeping. Connections are heap ints; the backend tracks which are alive, so a double
// destroy aborts and a leak shows as created != destroyed.
//
// Two faces over one backend: C callbacks for connpool_factory_new (the C API, as users see
// it), and a connpool::Factory for tests that drive the core on a FakeClock.
#ifndef CONNPOOL_TESTS_FAULTS_FAULT_BACKEND_H
#define CONNPOOL_TESTS_FAULTS_FAULT_BACKEND_H

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>

#include "../common/eventually.h"
#include "connpool/connpool.h"
#include "pool/factory.h"

namespace connpool_faults {

// Callers park in Pass() while the latch is closed. Open() lets every parked and later caller
// through.
class Latch {
 public:
  void Close() {
    std::lock_guard<std::mutex> lk(mu_);
    open_ = false;
  }
  void Open() {
    std::lock_guard<std::mutex> lk(mu_);
    open_ = true;
    cv_.notify_all();
  }
  void Pass() {
    std::unique_lock<std::mutex> lk(mu_);
    if (open_) return;
    parked_.insert(std::this_thread::get_id());
    ++ever_parked_;
    cv_.notify_all();
    cv_.wait(lk, [&] { return open_; });
    parked_.erase(std::this_thread::get_id());
  }
  // Waits until at least `n` callers are parked right now; false after a generous bound
  // (a broken test fails instead of hanging).
  bool WaitParked(size_t n) {
    std::unique_lock<std::mutex> lk(mu_);
    return cv_.wait_for(lk, std::chrono::seconds(30), [&] { return parked_.size() >= n; });
  }
  bool IsParked(std::thread::id t) {
    std::lock_guard<std::mutex> lk(mu_);
    return parked_.count(t) == 1;
  }
  size_t parked() {
    std::lock_guard<std::mutex> lk(mu_);
    return parked_.size();
  }
  int ever_parked() {
    std::lock_guard<std::mutex> lk(mu_);
    return ever_parked_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = true;
  std::multiset<std::thread::id> parked_;  // guarded by mu_
  int ever_parked_ = 0;                    // guarded by mu_
};

enum class Fault {
  kNone,     // succeed
  kFail,     // create: CONNPOOL_FACTORY_RETRY; validate/reset: non-zero (broken)
  kFatal,    // create only: CONNPOOL_FACTORY_FATAL
  kNull,     // create only: CONNPOOL_FACTORY_OK without a connection
  kUnknown,  // create only: an undocumented return code (42)
  kThrow,    // a C++ exception out of the callback
};

struct FaultBackend {
  std::atomic<Fault> create{Fault::kNone}, validate{Fault::kNone}, reset{Fault::kNone};
  std::atomic<bool> destroy_throws{false};
  Latch create_latch, validate_latch, reset_latch, destroy_latch;
  std::atomic<int> creates{0}, create_calls{0}, destroys{0}, validates{0}, resets{0};
  std::atomic<int> ctx_frees{0};

  ~FaultBackend() {
    // Never leave a parked callback behind if a test fails half-way.
    create_latch.Open();
    validate_latch.Open();
    reset_latch.Open();
    destroy_latch.Open();
  }

  int live() {
    std::lock_guard<std::mutex> lk(mu_);
    return static_cast<int>(live_.size());
  }
  bool alive(void* c) {
    std::lock_guard<std::mutex> lk(mu_);
    return live_.count(static_cast<int*>(c)) == 1;
  }

  // --- the callbacks' bodies (shared by both faces)
  int DoCreate(void** conn_out, std::string* err) {
    create_calls++;
    create_latch.Pass();
    switch (create.load()) {
      case Fault::kNone: {
        int* c = new int(creates.load() + 1);
        {
          std::lock_guard<std::mutex> lk(mu_);
          live_.insert(c);
        }
        creates++;
        *conn_out = c;
        return CONNPOOL_FACTORY_OK;
      }
      case Fault::kFail: *err = "connect failed: password=hunter2"; return CONNPOOL_FACTORY_RETRY;
      case Fault::kFatal: *err = "authentication failed for token=hunter2"; return CONNPOOL_FACTORY_FATAL;
      case Fault::kNull: return CONNPOOL_FACTORY_OK;
      case Fault::kUnknown: *err = "odd"; return 42;
      case Fault::kThrow: throw std::runtime_error("create threw secret=hunter2");
    }
    return CONNPOOL_FACTORY_RETRY;
  }
  void DoDestroy(void* conn) {
    destroy_latch.Pass();
    int* c = static_cast<int*>(conn);
    {
      std::lock_guard<std::mutex> lk(mu_);
      if (live_.erase(c) != 1) {
        fprintf(stderr, "FaultBackend: destroy of a connection that is not alive\n");
        abort();
      }
    }
    delete c;
    destroys++;
    if (destroy_throws.load()) throw std::runtime_error("destroy threw");
  }
  bool DoCheck(Latch& latch, std::atomic<Fault>& fault, std::atomic<int>& calls, void* conn) {
    calls++;
    if (!alive(conn)) {
      fprintf(stderr, "FaultBackend: callback on a connection that is not alive\n");
      abort();
    }
    latch.Pass();
    switch (fault.load()) {
      case Fault::kNone: return true;
      case Fault::kThrow: throw std::logic_error("check threw");
      default: return false;
    }
  }

  // --- C face
  static int CCreate(void* ctx, void** conn_out, char* err, size_t errlen) {
    std::string msg;
    int rc = static_cast<FaultBackend*>(ctx)->DoCreate(conn_out, &msg);
    if (err != nullptr && errlen > 0) snprintf(err, errlen, "%s", msg.c_str());
    return rc;
  }
  static void CDestroy(void* ctx, void* conn) { static_cast<FaultBackend*>(ctx)->DoDestroy(conn); }
  static int CValidate(void* ctx, void* conn) {
    auto* b = static_cast<FaultBackend*>(ctx);
    return b->DoCheck(b->validate_latch, b->validate, b->validates, conn) ? 0 : 1;
  }
  static int CReset(void* ctx, void* conn) {
    auto* b = static_cast<FaultBackend*>(ctx);
    return b->DoCheck(b->reset_latch, b->reset, b->resets, conn) ? 0 : 1;
  }
  static void CCtxFree(void* ctx) { static_cast<FaultBackend*>(ctx)->ctx_frees++; }

  connpool_factory_t* NewCFactory(bool with_validate = true, bool with_reset = true) {
    connpool_factory_t* f = connpool_factory_new(this, CCtxFree, CCreate, CDestroy);
    if (with_validate) connpool_factory_set_validate(f, CValidate);
    if (with_reset) connpool_factory_set_reset(f, CReset);
    return f;
  }

 private:
  std::mutex mu_;
  std::set<int*> live_;  // guarded by mu_
};

// The core face: a connpool::Factory over a FaultBackend (which must outlive it).
class FaultFactory final : public connpool::Factory {
 public:
  explicit FaultFactory(FaultBackend* b, bool with_validate = true, bool with_reset = true)
      : b_(b), with_validate_(with_validate), with_reset_(with_reset) {}
  ~FaultFactory() override { b_->ctx_frees++; }
  connpool::CreateResult Create(void** conn, std::string* err) override {
    int rc = b_->DoCreate(conn, err);
    return rc == CONNPOOL_FACTORY_OK      ? connpool::CreateResult::kOk
           : rc == CONNPOOL_FACTORY_FATAL ? connpool::CreateResult::kFatal
                                          : connpool::CreateResult::kRetry;
  }
  void Destroy(void* conn) override { b_->DoDestroy(conn); }
  bool HasValidate() const override { return with_validate_; }
  bool Validate(void* conn) override { return b_->DoCheck(b_->validate_latch, b_->validate, b_->validates, conn); }
  bool HasReset() const override { return with_reset_; }
  bool Reset(void* conn) override { return b_->DoCheck(b_->reset_latch, b_->reset, b_->resets, conn); }

 private:
  FaultBackend* b_;
  bool with_validate_, with_reset_;
};

using connpool_test::Eventually;  // tests/common/eventually.h

inline int64_t MsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace connpool_faults

#endif
