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

/// The acknowledgement slot of a synchronous start. The child writes its
/// outcome; if it ends without acknowledging ready (a crash, or after ignore
/// and fail), the runtime records its exit reason in `ended` and wakes the
/// starter: no monitor is needed to learn that the child died.
struct start_ack final : reply_slot {
  enum class outcome { ready, ignore, fail } what = outcome::ready;
  exit_reason reason;
  std::atomic<bool> ended{false};
  exit_reason end_reason;  ///< valid once `ended`
  void owner_ended(const exit_reason& r) noexcept override;
};

class start_base : waiter, timer_entry {
 public:
  start_base(start_base&& o) noexcept;
  ~start_base();
  void bind(process_base& p) noexcept { p_ = &p; }
  bool await_ready() const noexcept { return false; }

 protected:
  explicit start_base(const start_options& o) noexcept : opts_(o) {}
  /// Before the child is created: the slot it acknowledges into.
  reply_slot* make_ack();
  /// After: wait for the ack, or for the child's end.
  void begin(pid child);
  /// Instead: the child was never started; resume at once with `e`.
  void refuse(error e);
  bool ready(process_base& p) noexcept override;
  void fire() noexcept override;
  result<pid> outcome();

  process_base* p_ = nullptr;
  start_options opts_;

 private:
  void finish() noexcept;
  pid child_;
  start_ack* ack_ = nullptr;
  bool active_ = false;
  bool timed_out_ = false;
  bool acked_ = false;
  std::optional<result<pid>> out_;
};

template <class F, class... A>
class start_awaiter final : public start_base {
 public:
  using M = body_message_t<F, A...>;
  start_awaiter(const start_options& o, F f, A... a) : start_base(o), f_(std::move(f)), args_(std::move(a)...) {}
  start_awaiter(start_awaiter&&) noexcept = default;

  void await_suspend(std::coroutine_handle<>) {
    spawn_options so = opts_.spawn;
    so.link = opts_.link;  // linked atomically with the spawn, as proc_lib does
    auto* ack = make_ack();
    error refused;
    auto child = std::apply(
        [&](auto&&... a) { return spawn_with_ack(ack, &refused, nullptr, p_, so, std::move(f_), std::move(a)...); },
        std::move(args_));
    if (child.pid)
      begin(std::move(child.pid));
    else
      refuse(std::move(refused));  // its name is taken: it never ran
  }
  result<handle<M>> await_resume() {
    auto r = outcome();
    if (!r) return r.error();
    return handle<M>::unchecked(std::move(r).value());
  }

 private:
  F f_;
  std::tuple<A...> args_;
};

/// start_opt for the library's own values, moved from names: no GCC 12 guard.
template <class F, class... A>
start_awaiter<std::decay_t<F>, std::decay_t<A>...> start_unguarded(const start_options& o, F&& f, A&&... a) {
  return start_awaiter<std::decay_t<F>, std::decay_t<A>...>(o, std::forward<F>(f), std::forward<A>(a)...);
}

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
