// SPDX-License-Identifier: Apache-2.0
// A scriptable factory for unit tests of pool logic. Connections are heap ints with an id.
// Every callback is counted; behaviour is switched by the test at any time (thread-safe).
// `Gate` lets a test hold a callback inside the factory and release it, instead of sleeping.
#ifndef CONNPOOL_TESTS_FAKE_FACTORY_H
#define CONNPOOL_TESTS_FAKE_FACTORY_H

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

#include "../common/eventually.h"
#include "pool/factory.h"

namespace connpool::testing {

// A latch a callback can be parked on until the test opens it.
class Gate {
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
  // Lets `n` callers through a closed gate (one each), parked now or arriving later.
  void Let(int n) {
    std::lock_guard<std::mutex> lk(mu_);
    permits_ += n;
    cv_.notify_all();
  }
  void PassThrough() {
    std::unique_lock<std::mutex> lk(mu_);
    ++parked_;
    cv_.notify_all();
    cv_.wait(lk, [&] { return open_ || permits_ > 0; });
    if (!open_) --permits_;
    --parked_;
    cv_.notify_all();
  }
  // Waits until exactly `n` callers are parked (bounded like WaitParked).
  bool WaitParkedExactly(int n) {
    std::unique_lock<std::mutex> lk(mu_);
    return cv_.wait_for(lk, std::chrono::seconds(10), [&] { return parked_ == n; });
  }
  // Waits until `n` callers are parked (bounded so a broken test fails instead of hanging).
  bool WaitParked(int n) {
    std::unique_lock<std::mutex> lk(mu_);
    return cv_.wait_for(lk, std::chrono::seconds(10), [&] { return parked_ >= n; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = true;
  int parked_ = 0;
  int permits_ = 0;
};

struct FakeState {
  std::atomic<int> created{0}, destroyed{0}, create_calls{0}, validate_calls{0}, reset_calls{0};
  std::atomic<CreateResult> create_result{CreateResult::kOk};
  std::atomic<bool> create_null{false};    // return OK with no connection
  std::atomic<bool> create_throws{false};
  std::atomic<bool> validate_ok{true};
  std::atomic<bool> validate_throws{false};
  std::atomic<bool> reset_ok{true};
  std::atomic<bool> reset_throws{false};
  std::atomic<bool> destroy_throws{false};
  std::atomic<bool> ctx_freed{false};
  std::atomic<int> next_id{1};
  Gate create_gate;
  Gate validate_gate, reset_gate;  // park validate / reset the same way
  std::string error_text = "backend down: password=hunter2 host=db";
  std::mutex live_mu;
  std::set<int*> live;  // guarded by live_mu: connections not yet destroyed
};

class FakeFactory final : public Factory {
 public:
  FakeFactory(std::shared_ptr<FakeState> st, bool with_validate = true, bool with_reset = true)
      : st_(std::move(st)), with_validate_(with_validate), with_reset_(with_reset) {}
  ~FakeFactory() override { st_->ctx_freed = true; }

  CreateResult Create(void** conn, std::string* err) override {
    st_->create_calls++;
    st_->create_gate.PassThrough();
    if (st_->create_throws) throw std::runtime_error("boom in create");
    CreateResult r = st_->create_result;
    if (r != CreateResult::kOk) {
      *err = st_->error_text;
      return r;
    }
    if (st_->create_null) return CreateResult::kOk;
    int* c = new int(st_->next_id++);
    {
      std::lock_guard<std::mutex> lk(st_->live_mu);
      st_->live.insert(c);
    }
    st_->created++;
    *conn = c;
    return CreateResult::kOk;
  }
  void Destroy(void* conn) override {
    int* c = static_cast<int*>(conn);
    {
      std::lock_guard<std::mutex> lk(st_->live_mu);
      if (st_->live.erase(c) != 1) std::abort();  // destroyed twice or never created
    }
    delete c;
    st_->destroyed++;
    if (st_->destroy_throws) throw std::runtime_error("boom in destroy");
  }
  bool HasValidate() const override { return with_validate_; }
  bool Validate(void*) override {
    st_->validate_calls++;
    st_->validate_gate.PassThrough();
    if (st_->validate_throws) throw std::runtime_error("boom in validate");
    return st_->validate_ok;
  }
  bool HasReset() const override { return with_reset_; }
  bool Reset(void*) override {
    st_->reset_calls++;
    st_->reset_gate.PassThrough();
    if (st_->reset_throws) throw 42;  // not even a std::exception
    return st_->reset_ok;
  }

 private:
  std::shared_ptr<FakeState> st_;
  bool with_validate_, with_reset_;
};

using connpool_test::Eventually;  // tests/common/eventually.h

}  // namespace connpool::testing

#endif
