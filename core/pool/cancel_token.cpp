// SPDX-License-Identifier: Apache-2.0
#include "pool/cancel_token.h"

#include "pool/pool.h"

namespace connpool {

void CancelToken::Trigger() {
  std::lock_guard<std::mutex> lk(mu_);
  if (triggered_.exchange(true, std::memory_order_acq_rel)) return;  // idempotent
  // Each registered acquire pins its pool until it unregisters, which needs mu_: every pool
  // named here is alive. A pool with several registered acquires is woken once per acquire;
  // waking is cheap and a trigger happens once per token.
  for (Registration* r = head_; r != nullptr; r = r->next) r->pool->WakeCanceled(this);
}

void CancelToken::Register(Registration* r) {
  std::lock_guard<std::mutex> lk(mu_);
  r->prev = nullptr;
  r->next = head_;
  if (head_ != nullptr) head_->prev = r;
  head_ = r;
}

void CancelToken::Unregister(Registration* r) {
  std::lock_guard<std::mutex> lk(mu_);
  if (r->prev != nullptr) r->prev->next = r->next;
  else head_ = r->next;
  if (r->next != nullptr) r->next->prev = r->prev;
  r->prev = r->next = nullptr;
}

}  // namespace connpool
