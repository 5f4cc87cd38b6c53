// SPDX-License-Identifier: Apache-2.0
#include "util/thread_stripe.h"

#include <atomic>

namespace connpool {

unsigned ThreadStripe() {
  static std::atomic<unsigned> next{0};
  thread_local unsigned stripe = next.fetch_add(1, std::memory_order_relaxed);
  return stripe;
}

}  // namespace connpool
