// SPDX-License-Identifier: Apache-2.0
// Creating connections under backoff and connect_concurrency, and the glue to the health
// state machine (health/health_machine.h, DESIGN.md §4): the pool feeds it create results,
// ticks and what its slots show, publishes its state into health_ for the fast path, and logs
// and wakes on each transition.
#include <algorithm>

#include "pool/pool.h"
#include "util/log.h"

namespace connpool {

double Pool::UnitRandomLocked() {
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
}

ConnectionEvidence Pool::SeeConnectionsLocked() const {
  ConnectionEvidence seen;
  if (live_ == 0) return seen;
  slots_.ForEach([&](uint32_t, SlotWord w, const Slot& s) {
    if (w.state() == kEmpty || w.state() == kCreating) return;
    if (w.idle_or_reserved()) seen.idle = true;
    seen.newest_use_ns = std::max(seen.newest_use_ns, s.last_used_ns.load(std::memory_order_relaxed));
  });
  return seen;
}

const char* Pool::HealthReasonLocked() const {
  if (lifetime_.draining()) return nullptr;
  if (const char* r = health_machine_.reason()) return r;
  // Creates succeed but no lease moves (maintenance.cpp): the other way to be degraded.
  return maintenance_.stalled_locked() ? "stalled" : nullptr;
}

void Pool::OnCreateFailureLocked(int64_t now_ns, CreateResult r, const std::string& msg, int64_t started_ns) {
  const CreateFailure kind = r == CreateResult::kFatal ? CreateFailure::kFatal : CreateFailure::kOrdinary;
  const ConnectionEvidence seen = SeeConnectionsLocked();
  ApplyHealthLocked(health_machine_.OnCreateFailed(now_ns, kind, msg, started_ns, seen, UnitRandomLocked()));
}

int64_t Pool::UpdateHealthLocked(int64_t now_ns) {
  // The scan costs O(pool size): only when the machine reads it (degraded by failing creates).
  const ConnectionEvidence seen = health_machine_.WatchesConnections() ? SeeConnectionsLocked() : ConnectionEvidence{};
  const HealthMachine::Outcome o = health_machine_.Tick(now_ns, seen, connector_.creating_locked() > 0);
  if (o.probe_due) {
    health_machine_.ProbeSoon(now_ns, UnitRandomLocked());
    connector_.WakeLocked();
  }
  ApplyHealthLocked(o);
  return o.look_again_ns;
}

void Pool::ApplyHealthLocked(const HealthMachine::Outcome& o) {
  // The finishing connector takes one create; the others sleep until told there is room.
  if (o.more_creates) connector_.WakeLocked();
  if (!o.changed()) return;
  const Health h = o.to;
  health_.store(h, std::memory_order_release);
  accepting_.store(!lifetime_.draining() && (h == Health::kStarting || h == Health::kReady || h == Health::kDegraded),
                   std::memory_order_seq_cst);
  if (h == Health::kUnavailable) WakeAllWaitersLocked(Status::kEUNAVAILABLE);
  state_cv_.notify_all();
  if (LogEnabled()) {
    int level = (h == Health::kUnavailable) ? CONNPOOL_LOG_ERROR
                : (h == Health::kDegraded)  ? CONNPOOL_LOG_WARN
                                            : CONNPOOL_LOG_INFO;
    std::string msg = "pool '" + cfg_.name + "': " + HealthName(o.from) + " -> " + HealthName(h);
    const std::string& last_error = health_machine_.last_error().message;
    if ((h == Health::kDegraded || h == Health::kUnavailable) && !last_error.empty())
      msg += " (last error: " + last_error + ")";
    logs_.AddLocked(level, std::move(msg));
  }
}

void Pool::DeleteSelf() {
  // Only the deleting thread is left in pool code, so no ticket is issued any more; wait for
  // batches other threads took but have not delivered yet (they may be between unlock and sink).
  uint64_t issued;
  {
    std::lock_guard<std::mutex> lk(mu_);
    issued = logs_.IssuedLocked();
  }
  logs_.AwaitDelivered(issued);
  delete this;
}

}  // namespace connpool
