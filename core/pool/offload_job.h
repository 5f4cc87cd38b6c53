// SPDX-License-Identifier: Apache-2.0
// The records shared by the files that run factory callbacks on helper threads
// (connector_helpers.cpp: the threads and the jobs of an acquire; connector_bounded.cpp: the bounded
// create and reset, and Close()'s wait for callbacks that do not return).
#ifndef CONNPOOL_CORE_OFFLOAD_JOB_H
#define CONNPOOL_CORE_OFFLOAD_JOB_H

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>

#include "pool/factory.h"
#include "pool/pool.h"

namespace connpool {

// One callback for a helper. Ownership: the job and the slot it names belong to the thread
// that waits on it (an acquirer, a connector, a releaser, maintenance) until that thread stops
// waiting and marks it abandoned; from then on the helper owns both. All fields but the
// constants are guarded by the pool's mu_.
struct Connector::OffloadJob {
  enum Kind { kValidate, kCreate, kReset };
  // Why the waiter stopped waiting; decides what the helper does with the result.
  enum Abandon { kNo, kCallerDeadline, kValidationTimeout, kPoolClosed, kCreateTimeout, kResetTimeout };
  OffloadJob(Kind k, uint32_t i) : kind(k), idx(i) {}
  const Kind kind;
  const uint32_t idx;
  int abandoned = kNo;
  bool done = false;
  OffloadJob* next = nullptr;   // in offload_queue_ (intrusive: queueing allocates nothing)
  OffloadJob* prev_waited = nullptr;  // in offload_waited_ (intrusive as well)
  OffloadJob* next_waited = nullptr;
  bool ok = false;              // validate: the connection is good;
                                // reset: the connection may be reused
  std::condition_variable cv;   // the waiting thread sleeps here
  // A create's outcome, recorded (FinishCreateLocked) by the waiter itself, in the same
  // critical section in which it decides where the connection goes: between the two, the slot
  // would count neither as creating nor as idle and the connectors would create one too many.
  CreateResult result = CreateResult::kRetry;
  void* conn = nullptr;
  std::string err;
  int64_t t0_ns = 0, t1_ns = 0;
};

// What Close() knows of one helper thread; guarded by the pool's mu_. A helper still inside a
// callback when Close() stops waiting (close_wait_ms) is detached instead of joined: it
// finishes its job as usual, exits, and if its job held the pool's last connection it deletes
// the pool (so the pool, and the factory with the user's ctx, outlive a stuck callback).
struct HelperSeat {
  bool in_call = false;             // inside a factory callback with mu_ released
  bool detached = false;            // Close() detached it: exit after this job
  Connector::OffloadJob* job = nullptr;  // the job being run, if any
};

}  // namespace connpool

#endif
