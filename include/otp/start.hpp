// SPDX-License-Identifier: MIT
#pragma once
// Synchronous starts: OTP's proc_lib:start_link and init_ack.
//
// `co_await otp::start_link(f, args...)` spawns `f(args...)` linked to the
// caller and waits until the new process says how its initialisation went:
//
//   otp::init_ack()          ready: start_link returns its handle; the child
//                            goes on running (a *continue* step is simply the
//                            code after init_ack, before its first receive)
//   otp::init_ignore()       it declines: start returns errc::ignored and the
//                            child ends with `normal`
//   otp::init_fail(reason)   it failed: start returns errc::start_failed with
//                            that reason, and the child ends with it
//   it ends before acking    errc::start_failed with its exit reason (an
//                            escaped exception, say); through the link, a
//                            caller that does not trap exits ends too, as in OTP
//   the timeout passes       the child is unlinked and killed; errc::timeout
//
// Whatever the outcome, a caller that traps exits finds no exit_message from
// a child that failed to start: it is flushed, as proc_lib does. After an
// ignore or a failure, the child is gone when start returns.
//
// Cancellation: if the caller is ended while waiting, the link takes the
// child down with it (reason of the caller, unless normal).
//
// Thread safety: start_link and start_opt are awaited by the starting
// process; init_ack, init_ignore and init_fail act for the calling process
// (outside a process: a broken contract, OTP_ASSERT in otp/config.hpp).

#include <otp/process.hpp>

#include <utility>

namespace otp {

struct start_options {
  /// How long to wait for init_ack (duration::max(): forever, OTP's default).
  duration timeout = duration::max();
  bool link = true;   ///< start_link (true) or start (false)
  spawn_options spawn;  ///< anything else for the child (trap_exit, mailbox bound, shard)
};

namespace detail {
template <class F, class... A>
class start_awaiter;  // detail/start_awaiter.hpp
template <class F, class... A>
start_awaiter<std::decay_t<F>, std::decay_t<A>...> start_unguarded(const start_options& o, F&& f, A&&... a);
}  // namespace detail

/// Spawns `f(args...)` linked to the caller and waits for its init_ack (see
/// the top of this header). Inside a process only.
/// GCC 12: a braced aggregate or a capturing lambda given here as a
/// temporary inside co_await does not compile there (otp/detail/temporaries.hpp).
template <class F, class... A>
detail::guarded<detail::start_awaiter<std::decay_t<F>, std::decay_t<A>...>, F, A...> start_link(F&& f, A&&... a) {
  return detail::guarded<detail::start_awaiter<std::decay_t<F>, std::decay_t<A>...>, F, A...>(
      detail::start_unguarded(start_options{}, std::forward<F>(f), std::forward<A>(a)...));
}
/// start_link with options: a timeout, no link (`start`), spawn options.
template <class F, class... A>
detail::guarded<detail::start_awaiter<std::decay_t<F>, std::decay_t<A>...>, F, A...> start_opt(const start_options& o,
                                                                                              F&& f, A&&... a) {
  return detail::guarded<detail::start_awaiter<std::decay_t<F>, std::decay_t<A>...>, F, A...>(
      detail::start_unguarded(o, std::forward<F>(f), std::forward<A>(a)...));
}

/// In a process started synchronously: initialisation succeeded; the starter
/// resumes with this process's handle. Returns false (and does nothing) when
/// nobody waits for an acknowledgement (already acked, or not started
/// synchronously).
bool init_ack();
/// Initialisation declines (OTP's `ignore`): acknowledges, then ends the
/// process with `normal`.
[[noreturn]] void init_ignore();
/// Initialisation failed: acknowledges with `reason`, then ends the process
/// with it.
[[noreturn]] void init_fail(exit_reason reason);

}  // namespace otp

// The awaiter of start_link and start_opt, declared above.
#include <otp/detail/start_awaiter.hpp>
