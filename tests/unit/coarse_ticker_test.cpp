// SPDX-License-Identifier: Apache-2.0
// The coarse time word (util/coarse_ticker.h, Clock::CoarseWord): what the pools' fast paths
// read instead of calling a clock. The ticker runs on real time, so these tests wait for it
// with Eventually (never a sleep) and assert only orderings, never durations.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/eventually.h"
#include "util/clock.h"
#include "util/coarse_ticker.h"

namespace connpool {
namespace {

int64_t PreciseNs() { return SteadyClock::Instance()->NowNs(); }

TEST(CoarseTicker, HeldReferenceKeepsAKernelCoarseReadingThatMoves) {
  CoarseTicker::Retain();
  const int64_t first = CoarseTicker::Load();
  ASSERT_NE(first, 0) << "Retain stores a first reading before it returns";
  EXPECT_LE(first, ReadKernelCoarseNs()) << "never ahead of the kernel's coarse clock";
  EXPECT_LE(first, PreciseNs());
  EXPECT_EQ(ReadCoarseMonotonicNs(), CoarseTicker::Load()) << "readers take the word while it is set";
  int64_t last = first;
  bool monotonic = true;
  EXPECT_TRUE(connpool_test::Eventually([&] {
    const int64_t now = CoarseTicker::Load();
    monotonic = monotonic && now >= last;
    last = now;
    return now > first;
  })) << "the ticker thread stores new readings";
  EXPECT_TRUE(monotonic);
  EXPECT_LE(last, ReadKernelCoarseNs());
  CoarseTicker::Release();
}

TEST(CoarseTicker, NestedReferencesShareOneTicker) {
  CoarseTicker::Retain();
  CoarseTicker::Retain();
  CoarseTicker::Release();
  EXPECT_NE(CoarseTicker::Load(), 0) << "one reference is still held";
  CoarseTicker::Release();
  // Whatever other references the process holds, a reading stays on the kernel's scale.
  const int64_t after = ReadCoarseMonotonicNs();
  EXPECT_NE(after, 0);
  EXPECT_LE(after, ReadKernelCoarseNs());
}

TEST(CoarseTicker, SteadyClockListenersHoldTheTicker) {
  Clock* steady = const_cast<Clock*>(SteadyClock::Instance());
  ASSERT_EQ(steady->CoarseWord(), CoarseTicker::Word());
  ClockListener* none = nullptr;
  steady->AddListener(none);  // what a pool on the steady clock does when it is made
  EXPECT_NE(steady->CoarseWord()->load(), 0);
  EXPECT_EQ(steady->CoarseNowNs(), steady->CoarseWord()->load());
  steady->RemoveListener(none);
}

// fork() copies only the calling thread: the child has no ticker, so it must not read a
// frozen word. It reads the kernel instead until it takes a reference of its own.
TEST(CoarseTicker, ChildOfForkReadsTheKernelUntilItStartsItsOwn) {
  CoarseTicker::Retain();
  ASSERT_NE(CoarseTicker::Load(), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    int bad = 0;
    if (CoarseTicker::Load() != 0) bad |= 1;
    if (ReadCoarseMonotonicNs() == 0) bad |= 2;
#if !defined(__SANITIZE_THREAD__)  // TSan cannot start threads in the child of a threaded fork
    CoarseTicker::Retain();
    if (CoarseTicker::Load() == 0) bad |= 4;
    CoarseTicker::Release();
#endif
    _exit(bad);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "1: word left set, 2: no reading, 4: no new ticker";
  EXPECT_NE(CoarseTicker::Load(), 0) << "the parent's ticker is untouched";
  CoarseTicker::Release();
}

TEST(FakeClockCoarseWord, FollowsAdvanceAndTick) {
  FakeClock clock(1'000'000'000);
  const std::atomic<int64_t>* word = clock.CoarseWord();
  ASSERT_NE(word, nullptr);
  EXPECT_EQ(word->load(), 1'000'000'000);
  clock.Advance(1'234'567);
  EXPECT_EQ(word->load(), clock.NowNs()) << "no tick: the coarse reading is the precise one";
  clock.SetCoarseTickNs(4'000'000);
  EXPECT_EQ(word->load(), 1'000'000'000) << "rounded down to the tick";
  clock.Advance(3'000'000);
  EXPECT_EQ(word->load(), 1'004'000'000);
  EXPECT_EQ(clock.CoarseNowNs(), word->load());
}

}  // namespace
}  // namespace connpool
