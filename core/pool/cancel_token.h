// SPDX-License-Identifier: Apache-2.0
// connpool::CancelToken - what a connpool_cancel_t is: a one-way flag that ends the acquires
// waiting with it (a Go context's Done, a .NET CancellationToken, a Java interrupt, made C).
//
// Requirements: one token may serve many acquires on many pools at once; Trigger() may run on
// any thread at any time, also while acquires register and unregister.
// Guarantees: after Trigger() returns, every acquire registered with the token has been woken
// and no acquire that checks Triggered() afterwards sees false.
//
// Lock order (the reason for the shape of this class): a token's mu_ is always taken BEFORE a
// pool's mutex, never after. Trigger() holds mu_ while it wakes each registered pool (which
// locks that pool's mutex briefly); acquires therefore Register()/Unregister() while holding no
// pool lock (Pool::AcquireCancellable does so around its slow path). The wake-up cannot be lost:
// the flag is set before the pool's mutex is taken to notify, and a waiter checks the flag under
// that same mutex before it sleeps.
// Lifetime: a registration names a pool that its acquire keeps alive (pinned) until it has
// unregistered, so Trigger() never touches a freed pool. The token itself must outlive every
// call given it (the C API's rule for connpool_cancel_free).
#ifndef CONNPOOL_CORE_CANCEL_TOKEN_H
#define CONNPOOL_CORE_CANCEL_TOKEN_H

#include <atomic>
#include <mutex>

namespace connpool {

class Pool;

class CancelToken {
 public:
  // One waiting acquire's entry in the token's list; lives on the acquiring thread's stack.
  struct Registration {
    Pool* pool = nullptr;
    Registration* prev = nullptr;  // guarded by the token's mu_
    Registration* next = nullptr;  // guarded by the token's mu_
  };

  CancelToken() = default;
  CancelToken(const CancelToken&) = delete;
  CancelToken& operator=(const CancelToken&) = delete;

  void Trigger();
  bool Triggered() const { return triggered_.load(std::memory_order_acquire); }
  void Register(Registration* r);
  void Unregister(Registration* r);

 private:
  std::atomic<bool> triggered_{false};
  std::mutex mu_;
  Registration* head_ = nullptr;  // guarded by mu_
};

}  // namespace connpool

#endif
