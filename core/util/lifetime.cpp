// SPDX-License-Identifier: Apache-2.0
// Lifetime: the phase steps and the deletion decision (lifetime.h).
#include "util/lifetime.h"

#include <cassert>

namespace connpool {

void Lifetime::Step(Phase from, Phase to) {
  assert(phase_ == from && "Lifetime: phases move forward one step at a time");
  (void)from;
  phase_ = to;
}

bool Lifetime::BeginDrain() {
  if (phase_ != Phase::kOpen) return false;
  Step(Phase::kOpen, Phase::kDraining);
  return true;
}

void Lifetime::BeginStop() { Step(Phase::kDraining, Phase::kStopping); }

void Lifetime::MarkFreed() { Step(Phase::kStopping, Phase::kFreed); }

bool Lifetime::TryBeginDelete(bool owner_busy) {
  if (phase_ != Phase::kFreed || owner_busy || pins_ != 0) return false;
  Step(Phase::kFreed, Phase::kDeleting);
  return true;
}

void Lifetime::Unpin(int64_t n) {
  assert(n >= 0 && pins_ >= n && "Lifetime: more unpins than pins");
  pins_ -= n;
}

}  // namespace connpool
