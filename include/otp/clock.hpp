// SPDX-License-Identifier: MIT
#pragma once
// The runtime's clock: where every deadline comes from.
//
// Every deadline in the runtime (receive timeouts, send_after, request and
// start timeouts, shutdown grace periods, and later restart-intensity windows)
// is read from one `otp::clock` per runtime and kept in one timer queue per
// shard. Two clocks ship:
//
//   steady_clock_source  real time (std::chrono::steady_clock); each shard
//                        waits with one Asio timer, re-armed only when its
//                        earliest deadline moves earlier.
//   manual_clock         virtual time for tests: it never moves by itself;
//                        when nothing is runnable and no Asio operation is
//                        pending, the runtime advances it straight to the
//                        earliest deadline, so a 5 s timeout takes no time at
//                        all and the order of events is exact.
//
// A user clock derives from `clock`; a non-virtual one is waited on with
// steady-clock timers for the remaining duration.

#include <atomic>
#include <chrono>
#include <cstdint>

namespace otp {

using duration = std::chrono::nanoseconds;
using time_point = std::chrono::time_point<std::chrono::steady_clock, duration>;

class clock {
 public:
  virtual ~clock() = default;
  /// Now, on this clock. Thread-safe.
  virtual time_point now() const noexcept = 0;
  /// True for a clock the runtime advances itself when idle (manual_clock).
  virtual bool is_virtual() const noexcept { return false; }
  /// Virtual clocks: move time forward to `t` (never backward). The runtime
  /// calls it when idle with the earliest pending deadline.
  virtual void advance_to(time_point) noexcept {}
};

class steady_clock_source final : public clock {
 public:
  time_point now() const noexcept override {
    return std::chrono::time_point_cast<duration>(std::chrono::steady_clock::now());
  }
};

class manual_clock : public clock {
 public:
  time_point now() const noexcept override { return time_point(duration(ns_.load(std::memory_order_acquire))); }
  bool is_virtual() const noexcept override { return true; }
  /// Moves time forward (never backward). The runtime calls this when idle;
  /// tests may call it too.
  void advance_to(time_point t) noexcept override {
    auto v = t.time_since_epoch().count();
    auto cur = ns_.load(std::memory_order_relaxed);
    while (v > cur && !ns_.compare_exchange_weak(cur, v, std::memory_order_acq_rel)) {
    }
  }
  void advance(duration d) noexcept { advance_to(now() + d); }

 private:
  std::atomic<std::int64_t> ns_{0};
};

}  // namespace otp
