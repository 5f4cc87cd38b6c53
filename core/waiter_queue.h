// SPDX-License-Identifier: Apache-2.0
// Acquirers waiting for a connection, ordered by priority (higher first), then arrival (FIFO).
//
// Intrusive (Boost.Intrusive multiset): a Waiter lives on its acquiring thread's stack and
// queueing it allocates nothing. Not synchronised: the pool guards it with its mutex.
#ifndef CONNPOOL_CORE_WAITER_QUEUE_H
#define CONNPOOL_CORE_WAITER_QUEUE_H

#include <boost/intrusive/set.hpp>
#include <condition_variable>
#include <cstdint>

#include "status.h"

namespace connpool {
class CancelToken;
}

namespace connpool {

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

}  // namespace connpool

#endif
