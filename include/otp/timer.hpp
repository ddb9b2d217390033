// SPDX-License-Identifier: MIT
#pragma once
// otp::send_after: deliver a message later, cancellably.
//
// The timer lives in the target's shard (its timer queue, on the runtime's
// clock), not in the caller: it fires even if the caller has ended, and is
// dropped if the target has ended by then (Erlang's erlang:send_after with a
// pid). Thread safety: send_after and cancel may be called from any thread,
// inside or outside a process.

#include <otp/process.hpp>
#include <otp/detail/delayed_send.hpp>

#include <atomic>

namespace otp {

class timer_ref;
namespace detail {
template <class H, class M>
timer_ref schedule_message(duration delay, const H& to, M msg);
}  // namespace detail

/// A pending send_after. Copyable; cancel from any copy.
class timer_ref {
 public:
  timer_ref() noexcept = default;

  /// Cancels the timer: true if the message will not be sent, false if it was
  /// already sent (or cancelled, or this ref is empty).
  bool cancel() noexcept {
    int pending = 0;
    return e_ && e_->state.compare_exchange_strong(pending, 2, std::memory_order_acq_rel);
  }
  /// True while neither sent nor cancelled.
  bool pending() const noexcept { return e_ && e_->state.load(std::memory_order_acquire) == 0; }

 private:
  template <class H, class M>
  friend timer_ref detail::schedule_message(duration, const H&, M);
  using entry_ref = detail::intrusive_ref<detail::delayed_send>;
  explicit timer_ref(entry_ref e) noexcept : e_(std::move(e)) {}
  entry_ref e_;
};

namespace detail {
/// send_after's body, for any handle type H that `send` takes.
template <class H, class M>
timer_ref schedule_message(duration delay, const H& to, M msg) {
  auto* p = as_core(to);
  if (!p || p->exiting.load(std::memory_order_acquire)) return {};
  auto* e = new delayed_message<H, M>(to, std::move(msg));
  schedule_delayed(*p, e, delay);
  return timer_ref(timer_ref::entry_ref::adopt(e));  // the second of its two references
}
}  // namespace detail

/// Sends `msg` to `to` after `delay` on the runtime's clock. A null or dead
/// target gives an empty timer_ref and sends nothing.
template <class M, class Rep, class Period>
timer_ref send_after(std::chrono::duration<Rep, Period> delay, const handle<M>& to, std::type_identity_t<M> msg) {
  return detail::schedule_message(std::chrono::duration_cast<duration>(delay), to, std::move(msg));
}


}  // namespace otp
