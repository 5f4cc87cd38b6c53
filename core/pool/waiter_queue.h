// SPDX-License-Identifier: Apache-2.0
// Acquirers waiting for a connection, ordered by priority (higher first), then arrival (FIFO).
// A waiter is either a blocked thread (connpool_acquire*: the Waiter lives on its stack and
// queueing it allocates nothing) or a callback (connpool_acquire_async: the Waiter lives on the
// heap until the pool's dispatcher thread has called it). Both kinds share one queue, so FIFO
// within a priority, max_waiters and `waiters` cover them alike.
//
// Intrusive (Boost.Intrusive multisets). Not synchronised: the pool guards it with its mutex.
#ifndef CONNPOOL_CORE_WAITER_QUEUE_H
#define CONNPOOL_CORE_WAITER_QUEUE_H

#include <boost/intrusive/set.hpp>
#include <condition_variable>
#include <cstdint>

#include "pool/cancel_token.h"
#include "util/status.h"

namespace connpool {

// What an asynchronous acquire is told when it ends (status a connpool status code; with OK,
// `lease` and `conn` are the caller's). The C API's connpool_acquire_cb, so it passes through.
using AsyncAcquireCallback = void (*)(void* ud, int status, uint64_t lease, void* conn);

struct Waiter : public boost::intrusive::set_base_hook<boost::intrusive::link_mode<boost::intrusive::normal_link>> {
  int priority = 0;
  uint64_t seq = 0;  // arrival order, unique per pool
  uint64_t thread_id = 0;
  // The token this waiter may be canceled with (null: none). A trigger only wakes the waiter;
  // the waiter itself leaves the queue, so a hand-off that came first still wins.
  const CancelToken* cancel = nullptr;
  std::condition_variable cv;
  // Set by whoever removes the waiter from the queue on its behalf (hand-off or wake-up).
  bool done = false;
  Status status = Status::kOK;
  uint32_t slot = 0;      // with status OK: the slot handed over, already leased to us
  uint64_t lease = 0;
  bool fresh = false;      // the connection was created for this hand-off: no validation needed
  // Multiplexed pools (max_leases_per_conn > 1): a share of a connection already out, given
  // whole; 0 when the waiter was handed a slot instead.
  uint64_t mux_lease = 0;
  void* mux_conn = nullptr;

  // --- asynchronous acquires only (cb != nullptr); the pool's dispatcher owns such a waiter
  // once it is queued and deletes it after calling cb.
  AsyncAcquireCallback cb = nullptr;
  void* ud = nullptr;
  int64_t start_ns = 0;      // when the acquire began: wait histogram and deadline
  int64_t timeout_ms = 0;
  int64_t deadline_ns = 0;
  // safe_link: unlinked hooks say so, as a waiter that timed out is no longer in the queue.
  boost::intrusive::set_member_hook<boost::intrusive::link_mode<boost::intrusive::safe_link>> deadline_hook;
  Waiter* next_ready = nullptr;  // the dispatcher's list of waiters whose outcome is decided
  CancelToken* registered = nullptr;  // the token `reg` is registered with, if any
  CancelToken::Registration reg;

  bool operator<(const Waiter& o) const {
    return priority != o.priority ? priority > o.priority : seq < o.seq;
  }
};

class WaiterQueue {
 public:
  void Push(Waiter* w) { set_.insert(*w); }
  void Remove(Waiter* w) { set_.erase(set_.iterator_to(*w)); }
  Waiter* Front() { return set_.empty() ? nullptr : &*set_.begin(); }
  bool Empty() const { return set_.empty(); }
  size_t Size() const { return set_.size(); }
  template <typename F>
  void ForEach(F&& f) {
    for (Waiter& w : set_) f(&w);
  }

 private:
  boost::intrusive::multiset<Waiter, boost::intrusive::constant_time_size<true>> set_;
};

// Queued asynchronous acquires by deadline, earliest first: nobody sleeps on their timeout, so
// the dispatcher wakes at the front's deadline and ends every acquire that has run out.
class DeadlineQueue {
 public:
  void Push(Waiter* w) { set_.insert(*w); }
  void Remove(Waiter* w) {
    if (w->deadline_hook.is_linked()) set_.erase(set_.iterator_to(*w));
  }
  Waiter* Front() { return set_.empty() ? nullptr : &*set_.begin(); }
  bool Empty() const { return set_.empty(); }

 private:
  struct ByDeadline {
    bool operator()(const Waiter& a, const Waiter& b) const {
      return a.deadline_ns != b.deadline_ns ? a.deadline_ns < b.deadline_ns : a.seq < b.seq;
    }
  };
  using Hook = boost::intrusive::member_hook<
      Waiter, boost::intrusive::set_member_hook<boost::intrusive::link_mode<boost::intrusive::safe_link>>,
      &Waiter::deadline_hook>;
  boost::intrusive::multiset<Waiter, Hook, boost::intrusive::compare<ByDeadline>> set_;
};

}  // namespace connpool

#endif
