// SPDX-License-Identifier: Apache-2.0
// The one polling helper of the test suites: waits for a condition another thread (or
// process) makes true, and fails (returns false) after a generous real-time bound instead of
// hanging. Not a sleep: it returns as soon as `pred` holds; the short pause between polls
// leaves the CPU to the threads being waited for (the machine may have two cores). Tests
// about time use a fake clock instead; this is only for waiting on real threads.
#ifndef CONNPOOL_TESTS_COMMON_EVENTUALLY_H
#define CONNPOOL_TESTS_COMMON_EVENTUALLY_H

#include <chrono>
#include <thread>

namespace connpool_test {

template <typename Pred>
bool Eventually(Pred&& pred, std::chrono::milliseconds bound = std::chrono::seconds(30),
                std::chrono::microseconds pause = std::chrono::microseconds(200)) {
  const auto end = std::chrono::steady_clock::now() + bound;
  while (!pred()) {
    // One last look after the bound, so a condition that came true during the pause counts.
    if (std::chrono::steady_clock::now() > end) return pred();
    std::this_thread::sleep_for(pause);
  }
  return true;
}

}  // namespace connpool_test

#endif  // CONNPOOL_TESTS_COMMON_EVENTUALLY_H
