// SPDX-License-Identifier: Apache-2.0
// HealthMachine (core/health/health_machine.h) alone, on plain time values: each test walks a
// table of events (what happened, at which ms, with which random value and evidence) and
// states the machine after each one. No pool, no factory, no clock, no threads.
#include "health/health_machine.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

namespace connpool {
namespace {

constexpr int64_t kMs = 1'000'000;
constexpr int64_t kUnset = std::numeric_limits<int64_t>::min();  // not checked at this step
constexpr int64_t kNeverMs = -2;                                 // LookAgain: HealthMachine::kNever

enum class Ev { kCreateOk, kCreateFailed, kCreateFatal, kTick, kBroken, kStalled, kStallOver, kDraining, kClosed };

// One row: an event at `at_ms`, then what the machine must say. State and reason are always
// checked; the rest only when set.
struct Step {
  int64_t at_ms = 0;
  Ev ev = Ev::kTick;
  Health state = Health::kStarting;
  const char* reason = nullptr;
  double u = 0.5;  // the random value of a failure or of ProbeSoon; 0.5 means no retry_jitter
  int64_t started_ms = kUnset;  // when a failed create began; kUnset: at_ms
  ConnectionEvidence seen;
  bool creating = false;   // Tick: a create is in flight
  bool probe_due = false;  // Tick: expected Outcome::probe_due
  int64_t next_ms = kUnset, look_ms = kUnset, outage_ms = kUnset, cutoff_ms = kUnset, limit = kUnset;

  Step& Is(Health h, const char* r = nullptr) {
    state = h;
    reason = r;
    return *this;
  }
  Step& U(double v) { return u = v, *this; }
  Step& Started(int64_t ms) { return started_ms = ms, *this; }
  // What the slots would show: a connection idle, the newest release (ms; -1: none live).
  Step& Seen(bool idle, int64_t newest_ms) {
    seen = ConnectionEvidence{idle, newest_ms < 0 ? -1 : newest_ms * kMs};
    return *this;
  }
  Step& Creating() { return creating = true, *this; }
  Step& ProbeDue() { return probe_due = true, *this; }
  Step& Next(int64_t ms) { return next_ms = ms, *this; }
  Step& LookAgain(int64_t ms) { return look_ms = ms, *this; }
  Step& Outage(int64_t ms) { return outage_ms = ms, *this; }
  Step& Cutoff(int64_t ms) { return cutoff_ms = ms, *this; }
  Step& Limit(int64_t n) { return limit = n, *this; }
};

Step At(int64_t ms, Ev ev) {
  Step s;
  s.at_ms = ms;
  s.ev = ev;
  return s;
}

// Runs `steps` on a machine made at t = 0. Checks on every step that the outcome reports the
// state before and after, and that state_since moves exactly when the state changes.
void Walk(const Config& cfg, const std::vector<Step>& steps) {
  HealthMachine m(cfg, 0);
  for (size_t i = 0; i < steps.size(); ++i) {
    const Step& st = steps[i];
    SCOPED_TRACE("row " + std::to_string(i) + ", at " + std::to_string(st.at_ms) + " ms");
    const int64_t now = st.at_ms * kMs;
    const Health before = m.state();
    const int64_t since_before = m.state_since_ns();
    HealthMachine::Outcome o{before, before};
    switch (st.ev) {
      case Ev::kCreateOk: o = m.OnCreateSucceeded(now); break;
      case Ev::kCreateFailed:
      case Ev::kCreateFatal:
        o = m.OnCreateFailed(now, st.ev == Ev::kCreateFatal ? CreateFailure::kFatal : CreateFailure::kOrdinary,
                             "connection refused", (st.started_ms == kUnset ? st.at_ms : st.started_ms) * kMs,
                             st.seen, st.u);
        break;
      case Ev::kTick:
        o = m.Tick(now, st.seen, st.creating);
        EXPECT_EQ(o.probe_due, st.probe_due);
        if (o.probe_due) {
          m.ProbeSoon(now, st.u);
        }
        break;
      case Ev::kBroken: m.OnConnectionBroken(now); break;
      case Ev::kStalled: o = m.OnStalled(now); break;
      case Ev::kStallOver: o = m.OnStallOver(now); break;
      case Ev::kDraining: o = m.OnDraining(now); break;
      case Ev::kClosed: o = m.OnClosed(now); break;
    }
    EXPECT_EQ(o.from, before);
    EXPECT_EQ(o.to, m.state());
    EXPECT_EQ(m.state_since_ns(), o.changed() ? now : since_before);
    EXPECT_EQ(m.state(), st.state);
    EXPECT_STREQ(m.reason(), st.reason);
    if (st.next_ms != kUnset) {
      EXPECT_EQ(m.NextAttemptInMs(now), st.next_ms);
    }
    if (st.look_ms != kUnset) {
      EXPECT_EQ(st.ev, Ev::kTick);
      EXPECT_EQ(o.look_again_ns, st.look_ms == kNeverMs ? HealthMachine::kNever : st.look_ms * kMs);
    }
    if (st.outage_ms != kUnset) {
      EXPECT_EQ(m.OutageMs(now), st.outage_ms);
    }
    if (st.cutoff_ms != kUnset) {
      EXPECT_EQ(m.CutoffInMs(now, st.seen), st.cutoff_ms);
    }
    if (st.limit != kUnset) {
      EXPECT_EQ(m.create_limit(), st.limit);
    }
  }
}

TEST(HealthMachine, StartsInStartingAndTurnsReadyOnTheFirstCreate) {
  Walk(Config{}, {
      At(0, Ev::kTick).Is(Health::kStarting).Next(-1).LookAgain(kNeverMs).Outage(0).Limit(2),
      At(5, Ev::kCreateOk).Is(Health::kReady).Next(-1).Outage(0).Limit(2),
      At(6, Ev::kTick).Is(Health::kReady).LookAgain(kNeverMs),
  });
}

// Defaults: the outage's first probe at a random point of one probe interval (u = 0.5: 500 ms),
// then one interval apart; unavailable 30 s after the outage began; one create ok ends it.
TEST(HealthMachine, FailuresDegradeThenTurnUnavailableAfterUnavailableAfterMs) {
  Walk(Config{}, {
      At(0, Ev::kCreateOk).Is(Health::kReady),
      At(1000, Ev::kCreateFailed).Is(Health::kDegraded, "outage").Next(500).Outage(0).Cutoff(30000),
      At(1500, Ev::kCreateFailed).Is(Health::kDegraded, "outage").Next(1000).Outage(500).Cutoff(29500),
      At(30999, Ev::kTick).Is(Health::kDegraded, "outage").LookAgain(31000).Next(0).Outage(29999).Cutoff(1),
      At(31000, Ev::kTick).Is(Health::kUnavailable, "outage").LookAgain(kNeverMs).Cutoff(-1),
      At(32000, Ev::kCreateFailed).Is(Health::kUnavailable, "outage").Next(1000).Outage(31000),
      At(33000, Ev::kCreateOk).Is(Health::kReady).Next(-1).Outage(0).Cutoff(-1),
  });
}

TEST(HealthMachine, ZeroUnavailableAfterMsStaysDegraded) {
  Config cfg;
  cfg.unavailable_after_ms = 0;
  Walk(cfg, {
      At(0, Ev::kCreateOk).Is(Health::kReady),
      At(1000, Ev::kCreateFailed).Is(Health::kDegraded, "outage").Cutoff(-1),
      At(36'000'000, Ev::kTick).Is(Health::kDegraded, "outage").LookAgain(kNeverMs).Cutoff(-1),
  });
}

// Creates refused while an idle connection is there ("too many clients"): degraded for as long
// as that lasts, growth retried on the plain backoff (not capped), the cutoff stopped.
TEST(HealthMachine, CapacityLimitNeverTurnsUnavailable) {
  Walk(Config{}, {
      At(0, Ev::kCreateOk).Is(Health::kReady),
      At(1000, Ev::kCreateFailed).Seen(true, 500).Is(Health::kDegraded, "capacity").Next(1000).Cutoff(-1),
      At(2000, Ev::kCreateFailed).Seen(true, 500).Is(Health::kDegraded, "capacity").Next(2000),
      At(4000, Ev::kCreateFailed).Seen(true, 500).Is(Health::kDegraded, "capacity").Next(4000),
      At(8000, Ev::kCreateFailed).Seen(true, 500).Is(Health::kDegraded, "capacity").Next(8000),
      At(16000, Ev::kCreateFailed).Seen(true, 500).Is(Health::kDegraded, "capacity").Next(16000),
      At(32000, Ev::kCreateFailed).Seen(true, 500).Is(Health::kDegraded, "capacity").Next(32000),
      At(64000, Ev::kCreateFailed).Seen(true, 500).Is(Health::kDegraded, "capacity").Next(60000),
      // Ten hours on, the connections still working: no cutoff.
      At(36'000'000, Ev::kTick).Seen(true, 500).Is(Health::kDegraded, "capacity").LookAgain(kNeverMs).Cutoff(-1),
      At(36'000'001, Ev::kCreateOk).Is(Health::kReady).Next(-1),
  });
}

// Only leased connections: they count as working once one came back during the failures (a
// lease hung on a dead server must not hold off the cutoff).
TEST(HealthMachine, LeasedConnectionsWorkOnlyIfOneCameBackDuringTheFailures) {
  Walk(Config{}, {
      At(0, Ev::kCreateOk).Is(Health::kReady),
      At(1000, Ev::kCreateFailed).Seen(false, 900).Is(Health::kDegraded, "outage").Next(500),
      At(1500, Ev::kCreateFailed).Seen(false, 1200).Is(Health::kDegraded, "capacity").Next(2000).Cutoff(-1),
      At(2000, Ev::kTick).Seen(false, 1200).Is(Health::kDegraded, "capacity").LookAgain(kNeverMs),
  });
}

// A connection breaks at a capacity limit: the others are suspect, so it is an outage after
// all. The growth retry (due at 4000) would come late on the plain backoff; the next probe
// comes within one interval (at random: u = 0.1, 100 ms), the cutoff counts from the break.
TEST(HealthMachine, CapacityLimitWhoseConnectionsBreakIsAnOutage) {
  Walk(Config{}, {
      At(0, Ev::kCreateOk).Is(Health::kReady),
      At(1000, Ev::kCreateFailed).Seen(true, 500).Is(Health::kDegraded, "capacity").Next(1000),
      At(2000, Ev::kCreateFailed).Seen(true, 500).Is(Health::kDegraded, "capacity").Next(2000),
      At(2500, Ev::kBroken).Is(Health::kDegraded, "capacity"),
      At(3000, Ev::kTick).Seen(true, 2000).U(0.1).ProbeDue()
          .Is(Health::kDegraded, "outage").Next(100).LookAgain(32500).Cutoff(29500),
      At(32499, Ev::kTick).Is(Health::kDegraded, "outage").LookAgain(32500),
      At(32500, Ev::kTick).Is(Health::kUnavailable, "outage").LookAgain(kNeverMs),
  });
}

TEST(HealthMachine, CapacityTurnedOutageWithACreateInFlightKeepsItsSchedule) {
  Walk(Config{}, {
      At(0, Ev::kCreateOk).Is(Health::kReady),
      At(1000, Ev::kCreateFailed).Seen(true, 500).Is(Health::kDegraded, "capacity"),
      At(2000, Ev::kCreateFailed).Seen(true, 500).Is(Health::kDegraded, "capacity").Next(2000),
      At(2500, Ev::kBroken).Is(Health::kDegraded, "capacity"),
      // That create's result decides; no extra probe.
      At(3000, Ev::kTick).Seen(true, 2000).Creating().Is(Health::kDegraded, "outage").Next(1000),
  });
}

TEST(HealthMachine, FatalIsUnavailableAtOnceAlsoWhileStarting) {
  Walk(Config{}, {
      // retry_max_ms after a fatal failure, not capped by probe_interval_ms.
      At(0, Ev::kCreateFatal).Is(Health::kUnavailable, "fatal").Next(60000).Cutoff(-1),
      At(1000, Ev::kTick).Is(Health::kUnavailable, "fatal").LookAgain(kNeverMs),
      At(60000, Ev::kCreateFailed).Is(Health::kUnavailable, "outage").Next(1000),
      At(61000, Ev::kCreateOk).Is(Health::kReady),
      At(62000, Ev::kCreateFatal).Is(Health::kUnavailable, "fatal").Next(60000),
  });
}

TEST(HealthMachine, StartupRetryLimitEndsInUnavailable) {
  Config cfg;
  cfg.startup_retry_ms = 1000;
  Walk(cfg, {
      At(10, Ev::kCreateFailed).Is(Health::kStarting, "outage"),
      At(999, Ev::kTick).Is(Health::kStarting, "outage").LookAgain(1000),
      At(1000, Ev::kTick).Is(Health::kUnavailable, "outage").LookAgain(kNeverMs),
      At(1500, Ev::kCreateOk).Is(Health::kReady),
  });
  Walk(Config{}, {  // startup_retry forever
      At(10, Ev::kCreateFailed).Is(Health::kStarting, "outage"),
      At(36'000'000, Ev::kTick).Is(Health::kStarting, "outage").LookAgain(kNeverMs),
  });
}

// The delay after each consecutive failure of an outage: the backoff grows until it reaches
// probe_interval_ms; that step lands at a random point of the interval (u = 0.5: 500 ms),
// later ones exactly one interval apart. probe_interval_ms = 0: the plain backoff.
TEST(HealthMachine, ProbeIntervalsAreCappedByProbeIntervalMs) {
  struct Case {
    int64_t probe_interval_ms;
    std::vector<int64_t> delays_ms;
  };
  const Case cases[] = {
      {1000, {100, 200, 400, 800, 500, 1000, 1000, 1000, 1000, 1000, 1000, 1000}},
      {0, {100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 51200, 60000, 60000}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE("probe_interval_ms " + std::to_string(c.probe_interval_ms));
    Config cfg;
    cfg.retry_initial_ms = 100;
    cfg.probe_interval_ms = c.probe_interval_ms;
    cfg.unavailable_after_ms = 0;
    std::vector<Step> steps{At(0, Ev::kCreateOk).Is(Health::kReady)};
    int64_t t = 1000;
    for (int64_t d : c.delays_ms) {
      steps.push_back(At(t, Ev::kCreateFailed).Is(Health::kDegraded, "outage").Next(d));
      t += d;
    }
    Walk(cfg, steps);
  }
}

// With the defaults the very first retry is the capped step: full jitter over one interval, so
// pools that lost a backend together spread their probes. Creates already in flight when the
// outage began (a burst) keep that first probe's phase; one begun after it moves on.
TEST(HealthMachine, FirstProbeComesAtARandomPointOfTheInterval) {
  const struct {
    double u;
    int64_t next_ms;
  } cases[] = {{0.0, 1}, {0.25, 250}, {0.5, 500}, {0.9999, 1000}};
  for (const auto& c : cases) {
    SCOPED_TRACE("u " + std::to_string(c.u));
    Walk(Config{}, {
        At(100, Ev::kCreateOk).Is(Health::kReady),
        At(300, Ev::kCreateFailed).U(c.u).Is(Health::kDegraded, "outage").Next(c.next_ms),
    });
  }
  Walk(Config{}, {
      At(100, Ev::kCreateOk).Is(Health::kReady),
      At(300, Ev::kCreateFailed).Started(200).U(0.25).Is(Health::kDegraded, "outage").Next(250),
      At(310, Ev::kCreateFailed).Started(250).U(0.9).Is(Health::kDegraded, "outage").Next(240),  // burst
      At(320, Ev::kCreateFailed).Started(315).Is(Health::kDegraded, "outage").Next(1000),
  });
}

// After an outage the probe's success allows one create in flight, then each success one more:
// per round of creates 1 (the probe), 1, 2, 4, 8, up to connect_concurrency.
TEST(HealthMachine, SlowStartRampsCreatesInFlightUpAfterAnOutage) {
  Config cfg;
  cfg.connect_concurrency = 16;
  HealthMachine m(cfg, 0);
  EXPECT_EQ(m.create_limit(), 16) << "no ramp at startup";
  EXPECT_TRUE(m.WantsProbe()) << "the backend is proven at start";
  EXPECT_FALSE(m.OnCreateSucceeded(1 * kMs).more_creates);
  EXPECT_FALSE(m.WantsProbe());
  m.OnCreateFailed(2 * kMs, CreateFailure::kOrdinary, "down", 2 * kMs, {}, 0.5);
  EXPECT_TRUE(m.WantsProbe());
  EXPECT_EQ(m.create_limit(), 1);
  const int64_t rounds[] = {1, 1, 2, 4, 8, 16};
  int64_t t = 10'000;
  for (int64_t want : rounds) {
    ASSERT_EQ(m.create_limit(), want) << "round at " << t << " ms";
    for (int64_t i = 0, n = m.create_limit(); i < n; ++i) {
      const int64_t before = m.create_limit();
      HealthMachine::Outcome o = m.OnCreateSucceeded((t + i) * kMs);
      EXPECT_EQ(o.more_creates, m.create_limit() > before);
    }
    t += 1000;
  }
  EXPECT_EQ(m.create_limit(), 16);
  EXPECT_FALSE(m.OnCreateSucceeded(t * kMs).more_creates) << "the ramp is over";
}

// The create gate: the slow start's limit, and during an outage one probe at a time, not before
// the next attempt (which becomes the connectors' wake time).
TEST(HealthMachine, MayCreateObeysSlowStartAndBackoff) {
  HealthMachine m(Config{}, 0);  // connect_concurrency 2
  int64_t wake = HealthMachine::kNever;
  EXPECT_TRUE(m.MayCreate(0, 1, &wake));
  EXPECT_FALSE(m.MayCreate(0, 2, &wake));
  EXPECT_EQ(wake, HealthMachine::kNever);
  m.OnCreateFailed(1000 * kMs, CreateFailure::kOrdinary, "down", 1000 * kMs, {}, 0.5);  // next at 1500
  EXPECT_FALSE(m.MayCreate(1200 * kMs, 0, &wake));
  EXPECT_EQ(wake, 1500 * kMs);
  EXPECT_FALSE(m.MayCreate(1500 * kMs, 1, &wake)) << "one probe at a time";
  EXPECT_TRUE(m.MayCreate(1500 * kMs, 0, &wake));
}

// A stall degrades a ready pool and its end restores it, unless creates are failing too; a
// drain ends it all, whatever comes after.
TEST(HealthMachine, StallDrainAndClose) {
  Walk(Config{}, {
      At(0, Ev::kCreateOk).Is(Health::kReady),
      At(10, Ev::kStalled).Is(Health::kDegraded),
      At(20, Ev::kStallOver).Is(Health::kReady),
      At(30, Ev::kStallOver).Is(Health::kReady),
      At(40, Ev::kCreateFailed).Is(Health::kDegraded, "outage"),
      At(50, Ev::kStalled).Is(Health::kDegraded, "outage"),
      At(60, Ev::kStallOver).Is(Health::kDegraded, "outage"),
      At(70, Ev::kClosed).Is(Health::kDegraded, "outage"),  // only a draining pool closes
      At(80, Ev::kDraining).Is(Health::kDraining).Next(-1).Cutoff(-1),
      At(90, Ev::kCreateFailed).Is(Health::kDraining),
      At(100, Ev::kCreateFatal).Is(Health::kDraining),
      At(100'000, Ev::kTick).Is(Health::kDraining).LookAgain(kNeverMs),
      At(100'010, Ev::kCreateOk).Is(Health::kDraining),
      At(100'020, Ev::kClosed).Is(Health::kClosed),
      At(100'030, Ev::kStallOver).Is(Health::kClosed),
  });
}

TEST(HealthMachine, LastErrorIsRedactedBoundedAndKeptAfterRecovery) {
  HealthMachine m(Config{}, 0);
  EXPECT_EQ(m.last_error().at_ns, -1);
  m.OnCreateFailed(5 * kMs, CreateFailure::kOrdinary, "auth failed: password=hunter2", 5 * kMs, {}, 0.5);
  EXPECT_EQ(m.last_error().at_ns, 5 * kMs);
  EXPECT_EQ(m.last_error().code, ToInt(Status::kEFACTORY));
  EXPECT_EQ(m.last_error().message.find("hunter2"), std::string::npos) << m.last_error().message;
  m.OnCreateFailed(6 * kMs, CreateFailure::kFatal, std::string(5000, 'x'), 6 * kMs, {}, 0.5);
  EXPECT_EQ(m.last_error().message.size(), 1024u);
  m.OnCreateSucceeded(7 * kMs);
  EXPECT_EQ(m.last_error().at_ns, 6 * kMs) << "stats keep the last error with its age";
}

}  // namespace
}  // namespace connpool
