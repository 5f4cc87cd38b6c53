// SPDX-License-Identifier: Apache-2.0
#include "sizing/adaptive_sizer.h"

#include <algorithm>
#include <cstdio>

namespace connpool {
namespace {

std::string Ms(uint64_t us) { return std::to_string(us / 1000) + "." + std::to_string(us % 1000 / 100) + " ms"; }

std::string Fmt(const char* f, double v) {
  char buf[48];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

}  // namespace

const char* AdaptiveSizer::ActionName(Action a) {
  switch (a) {
    case Action::kRaise: return "raise";
    case Action::kLower: return "lower";
    case Action::kHold: break;
  }
  return "hold";
}

void AdaptiveSizer::Window::Add(const Window& w) {
  completed += w.completed;
  hold_us_sum += w.hold_us_sum;
  elapsed_ns += w.elapsed_ns;
}

double AdaptiveSizer::Window::PerSecond() const {
  return elapsed_ns > 0 ? static_cast<double>(completed) * 1e9 / static_cast<double>(elapsed_ns) : 0.0;
}

double AdaptiveSizer::Window::MeanHoldUs() const {
  return completed > 0 ? static_cast<double>(hold_us_sum) / static_cast<double>(completed) : 0.0;
}

AdaptiveSizer::Window AdaptiveSizer::Recent() const {
  Window sum;
  for (const Window& w : recent_) sum.Add(w);
  return sum;
}

void AdaptiveSizer::SizeChanged() {
  recent_.clear();
  shrink_streak_ = 0;
  while (!ladder_.empty() && ladder_.back().size >= floor_) ladder_.pop_back();
}

bool AdaptiveSizer::Clamp(int64_t min_idle, int64_t max_size) {
  int64_t f = std::clamp(floor_, min_idle, std::max(min_idle, max_size));
  bool moved = f != floor_;
  floor_ = f;
  if (moved) {
    probing_ = false;  // the sizes being compared are gone
    SizeChanged();
  }
  return moved;
}

AdaptiveSizer::Decision AdaptiveSizer::Finish(Decision d, Action a, std::string reason) {
  d.action = a;
  d.to = floor_;
  d.reason = std::move(reason);
  return d;
}

AdaptiveSizer::Decision AdaptiveSizer::Step(const Sample& s) {
  ++pass_;
  Clamp(s.min_idle, s.max_size);
  Decision d;
  d.from = d.to = floor_;
  const uint64_t mean_us = s.acquires > 0 ? s.wait_us_sum / s.acquires : 0;
  // An interval of unknown length counts as one second, so throughput is per pass.
  const Window cur{s.completed, s.hold_us_sum, s.elapsed_ns > 0 ? s.elapsed_ns : 1'000'000'000};
  std::string why = "mean wait " + Ms(mean_us) + " (target " + std::to_string(target_us_ / 1000) + " ms)";
  if (cur.completed > 0)
    why += ", " + Fmt("%.1f", cur.PerSecond()) + " leases/s held " + Ms(static_cast<uint64_t>(cur.MeanHoldUs()));
  const bool hot = mean_us > static_cast<uint64_t>(target_us_) || s.timeouts > 0 || s.waiters > 0;
  const bool calm = !hot && mean_us * 2 <= static_cast<uint64_t>(target_us_) &&
                    static_cast<int64_t>(s.in_use) * 2 < floor_;
  if (hot) {
    why += ", " + std::to_string(s.timeouts) + " timeouts, " + std::to_string(s.waiters) + " waiting";
    calm_streak_ = 0;
    ++hot_streak_;
  } else if (calm) {
    why += ", " + std::to_string(s.in_use) + " in use";
    hot_streak_ = 0;
    ++calm_streak_;
  } else {
    why += ", " + std::to_string(s.in_use) + " in use: within the band";
    hot_streak_ = calm_streak_ = 0;
  }
  recent_.push_back(cur);
  if (recent_.size() > static_cast<size_t>(kRaiseAfter)) recent_.erase(recent_.begin());

  // 1. Judge the last raise once its probe window is complete.
  std::string verdict;
  if (probing_) {
    if (++probe_passes_ < kProbePasses)
      return Finish(d, Action::kHold, why + " (judging the raise from " + std::to_string(probe_base_.size) + ": pass " +
                                          std::to_string(probe_passes_) + "/" + std::to_string(kProbePasses) + ")");
    probing_ = false;
    const Window now = Recent();
    const double before = probe_base_.w.PerSecond(), after = now.PerSecond();
    const std::string compare = Fmt("%.1f", after) + " leases/s at " + std::to_string(floor_) + " vs " +
                                Fmt("%.1f", before) + " at " + std::to_string(probe_base_.size);
    if (now.completed == 0) {
      verdict = "; the raise from " + std::to_string(probe_base_.size) + " could not be judged (no lease completed)";
    } else if (after * 100 > before * (100 + kGainPct)) {
      ladder_.push_back(probe_base_);
      if (knee_ >= 0 && floor_ > knee_) knee_ = -1;
      verdict = "; the raise paid off: " + compare;
    } else {
      floor_ = std::max(probe_base_.size, s.min_idle);
      knee_ = floor_;
      knee_until_ = pass_ + kReprobeAfter;
      hot_streak_ = 0;
      SizeChanged();
      return Finish(d, Action::kLower, why + "; the raise did not pay off: " + compare + " (needs +" +
                                           std::to_string(kGainPct) + "%); knee at " + std::to_string(floor_) +
                                           ", next probe above it in " + std::to_string(kReprobeAfter) + " passes");
    }
  }

  // 2. Vegas-like shrink: holds grew well past the best seen lower down, throughput did not.
  bool saturated = false;
  if (!ladder_.empty() && cur.completed > 0 && ladder_.back().w.completed > 0) {
    double best_hold = 0;
    int64_t best_at = 0;
    for (const Rung& r : ladder_)
      if (r.w.completed > 0 && (best_hold == 0 || r.w.MeanHoldUs() < best_hold)) {
        best_hold = r.w.MeanHoldUs();
        best_at = r.size;
      }
    const Rung& below = ladder_.back();
    saturated = cur.PerSecond() * 100 < below.w.PerSecond() * (100 + kGainPct) && best_hold > 0 &&
                cur.MeanHoldUs() > best_hold * kHoldRatio;
    shrink_streak_ = saturated ? shrink_streak_ + 1 : 0;
    const std::string compare = "mean hold " + Ms(static_cast<uint64_t>(cur.MeanHoldUs())) + " is " +
                                Fmt("%.1f", cur.MeanHoldUs() / best_hold) + "x the best (" +
                                Ms(static_cast<uint64_t>(best_hold)) + " at " + std::to_string(best_at) +
                                ") while " + Fmt("%.1f", cur.PerSecond()) + " leases/s is not above " +
                                Fmt("%.1f", below.w.PerSecond()) + " at " + std::to_string(below.size);
    if (saturated && shrink_streak_ >= kShrinkAfter) {
      // Back to the smallest size that delivered this throughput: the knee.
      int64_t target = below.size;
      for (const Rung& r : ladder_)
        if (r.w.completed > 0 && r.w.PerSecond() * (100 + kGainPct) >= cur.PerSecond() * 100) {
          target = r.size;
          break;
        }
      floor_ = std::max(target, s.min_idle);
      hot_streak_ = 0;
      SizeChanged();
      return Finish(d, Action::kLower, why + verdict + "; " + compare + " for " + std::to_string(kShrinkAfter) +
                                           " passes: back to " + std::to_string(floor_));
    }
    if (saturated)
      return Finish(d, Action::kHold, why + verdict + "; " + compare + " (" + std::to_string(shrink_streak_) + "/" +
                                          std::to_string(kShrinkAfter) + "): not raising");
  }

  // 3. Raise (a probe), only with evidence that the current size is measured.
  if (hot && hot_streak_ >= kRaiseAfter && floor_ < s.max_size) {
    if (knee() >= 0 && floor_ >= knee_)
      return Finish(d, Action::kHold, why + verdict + " (at the knee " + std::to_string(knee_) +
                                          ": raising did not pay off; next probe in " +
                                          std::to_string(knee_until_ - pass_) + " passes)");
    const Window base = Recent();
    if (base.completed == 0 && limit() > 1)
      return Finish(d, Action::kHold, why + verdict + " (no lease completed at " + std::to_string(floor_) +
                                          ": throughput unknown, not raising)");
    const int64_t size = limit();
    probe_base_ = Rung{floor_, base};
    floor_ = std::min(s.max_size, size + std::max<int64_t>(1, size / 4));
    probing_ = true;
    probe_passes_ = 0;
    hot_streak_ = 0;
    SizeChanged();
    return Finish(d, Action::kRaise, why + " for " + std::to_string(kRaiseAfter) + " passes" + verdict +
                                         "; probing: " + Fmt("%.1f", base.PerSecond()) + " leases/s at " +
                                         std::to_string(probe_base_.size));
  }

  // 4. Lower slowly on calm.
  if (calm && calm_streak_ >= kLowerAfter && floor_ > s.min_idle) {
    floor_ -= 1;
    calm_streak_ = 0;
    SizeChanged();
    return Finish(d, Action::kLower, why + " for " + std::to_string(kLowerAfter) + " passes" + verdict);
  }
  std::string reason = why + verdict;
  if (hot) reason += floor_ >= s.max_size ? " (floor at max_size)" : " (hot " + std::to_string(hot_streak_) + "/" + std::to_string(kRaiseAfter) + ")";
  if (calm) reason += floor_ <= s.min_idle ? " (floor at min_idle)" : " (calm " + std::to_string(calm_streak_) + "/" + std::to_string(kLowerAfter) + ")";
  return Finish(d, Action::kHold, reason);
}

}  // namespace connpool
