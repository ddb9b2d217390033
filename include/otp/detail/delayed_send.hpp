// SPDX-License-Identifier: MIT
#pragma once
// A send that waits in a shard's timer queue (otp/timer.hpp): fired once,
// cancellable once, freed by whichever of the queue and the timer_ref lets go
// last. The bodies of the queue are in lib/timer.cpp.

#include <otp/process.hpp>

#include <atomic>
#include <optional>
#include <utility>

namespace otp {

namespace detail {

struct delayed_send : timer_entry {
  ref_count refs{2};  ///< the timer queue's and the timer_ref's (detail/intrusive_ref.hpp)
  std::atomic<int> state{0};  // 0 pending, 1 fired, 2 cancelled
  void retain() noexcept { refs.add(); }
  void release() noexcept {
    if (refs.drop()) delete this;
  }
  virtual void deliver() noexcept = 0;
  void fire() noexcept final {
    int pending = 0;
    if (state.compare_exchange_strong(pending, 1, std::memory_order_acq_rel)) deliver();
    release();
  }
  virtual ~delayed_send() = default;
};

/// `msg` for `to`, a handle<M> (or a server_ref, whose send goes to handle_info).
template <class H, class M>
struct delayed_message final : delayed_send {
  delayed_message(H t, M m) : to(std::move(t)), msg(std::move(m)) {}
  H to;
  std::optional<M> msg;
  process_core* follows() const noexcept override { return as_core(to); }
  void deliver() noexcept override {
    try {
      (void)send(to, std::move(*msg));  // found by ADL: otp::send for this handle
    } catch (...) {  // allocation failure: the message is lost, as a dead target's would be
    }
  }
};

/// Queues `e` in the timer queue of `target`'s shard, from any thread.
void schedule_delayed(process_core& target, delayed_send* e, duration delay);

}  // namespace detail

}  // namespace otp
