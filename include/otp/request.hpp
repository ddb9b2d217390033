// SPDX-License-Identifier: MIT
#pragma once
// otp::request: a synchronous request/reply to another process.
//
// The caller sends the target a message that carries a `reply_to<R>` and
// waits on that request's own reply slot with a deadline. The reply never
// passes through the caller's mailbox. The target watches the request for
// the caller, which is what OTP's monitor does in gen:call: when the message
// reaches its mailbox it records the slot, and if it ends before anyone
// answers, it answers with its exit reason (no monitor or demonitor signal
// travels: a request costs one message and one reply).
// Outcomes, as OTP's gen:call:
//
//   the target replies           -> the value
//   the target is dead           -> errc::noproc   (error::reason: noproc), at once
//   the target dies meanwhile    -> errc::exited   (error::reason: its exit reason), at once
//   the deadline passes          -> errc::timeout; a reply that comes later is
//                                   dropped, never left in the mailbox
//   the target is the caller     -> errc::calling_self, at once (it would deadlock)
//
// The request is sent when `request` (or `call`) is called, as `send` sends
// at once; co_await waits for the answer. An awaiter dropped without being
// awaited gives up the request: a later answer is dropped.
//
// Cancellation: if the caller is ended while waiting, the request is
// abandoned: its timer is removed and a later reply is dropped.
// Thread safety: a reply_to may be used from any thread, inside or outside a
// process; the first reply wins.
//
// otp::call (otp/server.hpp) and the supervisor's admin calls are built on it.

#include <otp/process.hpp>
#include <otp/detail/request_slot.hpp>

#include <functional>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

namespace otp {

/// Where a request's answer goes. Copyable; answer once, from anywhere.
template <class R>
class reply_to {
 public:
  reply_to() noexcept = default;
  /// Internal: takes a reference the slot's creator counted for it.
  reply_to(detail::adopt_ref_t, detail::reply_value<R>* s) noexcept : s_(slot_ref::adopt(s)) {}

  /// Delivers the answer. True if the caller was still waiting for it; false
  /// if it gave up (timeout, ended) or another answer came first: then the
  /// value is dropped.
  bool send(std::conditional_t<std::is_void_v<R>, std::monostate, R> value) const
    requires(!std::is_void_v<R>)
  {
    if (!s_ || !s_->claim()) return false;
    s_->value.emplace(std::move(value));
    s_->publish();
    return true;
  }
  /// The answer of a request whose reply carries nothing (reply_to<void>).
  bool send() const
    requires std::is_void_v<R>
  {
    if (!s_ || !s_->claim()) return false;
    s_->value.emplace();
    s_->publish();
    return true;
  }
  /// The caller, for servers that want to know who asks.
  const pid& caller() const noexcept {
    static const pid none;
    return s_ ? s_->waiter : none;
  }
  explicit operator bool() const noexcept { return bool(s_); }

 private:
  using slot_ref = detail::intrusive_ref<detail::reply_value<R>>;
  slot_ref s_;
};

/// Sends `build(reply_to<R>)` (which returns the target's message type) to
/// `to`, and waits at most `timeout` for the answer (duration::max() waits
/// forever). See the outcomes at the top of this header.
/// GCC 12: a lambda capturing by value something with a destructor, given
/// as a temporary inside co_await, does not compile there
/// (otp/detail/temporaries.hpp); name it first, or capture by reference.
template <class R, class M, class Build>
detail::guarded<detail::request_awaiter<R>, Build> request(const handle<M>& to, Build&& build,
                                                          duration timeout = config::default_call_timeout) {
  auto* slot = detail::slot_for_request<R>(3);  // the waiter's, the node's, r's
  reply_to<R> r(detail::adopt_ref, slot);
  detail::node* msg;
  try {
    msg = new detail::request_node<M>(detail::adopt_ref, slot, std::in_place, std::invoke(build, std::move(r)));
  } catch (...) {
    slot->release();  // the node's reference (r let go of its own)
    slot->release();
    throw;
  }
  return detail::guarded<detail::request_awaiter<R>, Build>(detail::request_awaiter<R>(to, msg, timeout, slot));
}

}  // namespace otp
