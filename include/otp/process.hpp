// SPDX-License-Identifier: MIT
#pragma once
// Processes: otp::process<M>, spawn, send, receive, links, monitors, exits.
//
// A process is a coroutine returning `otp::process<M>`, where M is the type of
// the messages it takes. It runs on a shard of an otp::runtime; its body is
// never run on two threads at once. It talks to others only by messages:
//
//   otp::process<int> doubler(otp::handle<int> out) {
//     for (;;) {
//       auto m = co_await otp::receive();              // message<int>
//       if (auto* v = std::get_if<int>(&m)) otp::send(out, *v * 2);
//     }
//   }
//
// Lifetime. A process ends when its body returns (reason `normal`), when an
// exception escapes it (reason `error`, carrying the exception's type and
// what(); nothing else is harmed), when it calls otp::exit(reason), or when an
// exit signal it does not trap reaches it. From the moment it ends it is dead
// to the world: sends to it are dropped, links and monitors to it answer
// `noproc`. Its current wait completes at once: a receive or a timer is
// simply abandoned, an Asio operation is cancelled and its handler awaited,
// and then its frame is destroyed, so every destructor in the body runs
// (nothing after the suspension point does). Only then do its links and
// monitors fire, so whatever the body held (a listening socket, say) is
// released before a supervisor restarts it. `kill` does not wait for an Asio
// cancellation to finish before firing links and monitors.
//
// A process is never preempted: one busy computing is stopped at its next
// suspension point. Long loops should `co_await otp::yield()` now and then.
//
// Shards. A runtime has one shard (a run queue) per thread. A process is
// spawned on its parent's shard unless spawn_options says otherwise
// (placement::balanced, or an explicit shard), and it may move: a shard that
// has nothing to run takes half the runnable processes of a busy one, as
// BEAM's schedulers steal work (docs/scheduling.md). A process moves only
// between two resumptions, never while an Asio operation or offloaded work
// of its own is in flight, never if it was pinned (spawn_options::shard or
// ::pin) or asked for otp::executor(). Moving changes nothing it can see:
// its pid, mailbox, links, monitors, names, timers and pending requests go
// with it, and messages between two processes keep their order.
//
// Inside a body, only otp's awaitables may be co_awaited (receive, send,
// yield, sleep_for, request, start_link, and Asio operations through
// otp::use_process from <otp/asio.hpp>); anything else is a compile error.
//
// Body parameters are copied into the frame: take them by value. A capturing
// lambda given to spawn is kept alive by the runtime for the process's life.
//
// What spawn takes (a "body") is any callable returning otp::process<M>, and
// only a coroutine can make one (a function or lambda with co_await or
// co_return in it). So a body is either such a coroutine, or a plain
// function or lambda that returns one made by calling a coroutine:
//
//   otp::spawn(worker, 42);                        // worker is a coroutine
//   otp::spawn([n] { return worker(n); });         // a plain lambda: fine
//
// A plain one runs inside spawn, in the caller, before the process exists:
// it must not call otp::self(), receive or send as the process, and what it
// throws is thrown by spawn. The process is the coroutine it returns.

#include <otp/config.hpp>
#include <otp/error.hpp>
#include <otp/exit_reason.hpp>
#include <otp/messages.hpp>
#include <otp/name.hpp>
#include <otp/handle.hpp>
#include <otp/pid.hpp>
#include <otp/runtime.hpp>
#include <otp/detail/process_awaiters.hpp>
#include <otp/detail/process_base.hpp>
#include <otp/detail/process_promise.hpp>
#include <otp/detail/temporaries.hpp>

#include <coroutine>
#include <cstdint>
#include <functional>
#include <optional>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <variant>

namespace otp {

/// What a bounded mailbox does with a message that does not fit.
enum class overflow : std::uint8_t {
  fail,  ///< send returns send_status::full (the message is dropped)
  drop,  ///< send returns send_status::dropped, as for a dead target
  wait,  ///< `co_await send(...)` waits for room; a plain send behaves as `fail`
};

/// Where spawn puts a new process (spawn_options::place). See "Shards" at
/// the top of this header.
enum class placement : std::uint8_t {
  /// The caller's shard (round robin when spawned from outside any process):
  /// a parent and the children it talks to share caches and need no
  /// cross-thread wake-ups; an idle shard still takes work from a busy one.
  local,
  /// The less loaded of two shards picked at random (load: processes living
  /// there plus those on their way): for processes that will run on their
  /// own for a long time, as a server's connection handlers do.
  balanced,
};

struct spawn_options {
  bool link = false;       ///< link the new process to the caller (spawn_link)
  bool monitor = false;    ///< monitor it from the caller (spawn_monitor)
  bool trap_exit = false;  ///< start trapping exits
  std::uint32_t mailbox_bound = 0;  ///< 0: unbounded (Erlang's default)
  overflow on_full = overflow::fail;
  /// Shard to run on, 0 .. shard_count() - 1 (otp::current_shard() is the
  /// caller's), for good: the process never moves. Unset: chosen by `place`.
  /// One out of range makes spawn throw std::out_of_range.
  std::optional<std::size_t> shard;
  /// How the shard is chosen when `shard` is unset.
  placement place = placement::local;
  /// Never move the process to another shard after its placement (it stays
  /// where `place` put it, as with `shard`).
  bool pin = false;
  /// Registered under this name before its body runs (otp/name.hpp). A
  /// taken name: spawn throws otp::name_refused, start returns
  /// errc::already_started with the holder.
  otp::name name;
};

/// What spawn_opt returns.
template <class M>
struct spawned {
  handle<M> pid;
  monitor_ref monitor;  ///< set when spawn_options::monitor was
};

/// The return type of a process body taking messages of type M.
template <class M = nothing>
class [[nodiscard]] process {
 public:
  using message_type = M;

  struct promise_type : detail::promise_base {
    process get_return_object() noexcept {
      return process(std::coroutine_handle<promise_type>::from_promise(*this));
    }
    using detail::promise_base::await_transform;
    detail::receive_awaiter<M> await_transform(detail::receive_op) noexcept {
      return detail::receive_awaiter<M>(this->self);
    }
    detail::timed_receive_awaiter<M> await_transform(detail::timed_receive_op op) noexcept {
      return detail::timed_receive_awaiter<M>(this->self, op.timeout);
    }
    template <class T, class TM>
    decltype(auto) await_transform(task<T, TM>&& t) noexcept {
      static_assert(detail::task_fits<TM, M>, "this task receives another message type than the process awaiting it");
      return detail::promise_base::await_transform(std::move(t));
    }
    template <class T, class TM>
    decltype(auto) await_transform(task<T, TM>& t) noexcept {
      static_assert(detail::task_fits<TM, M>, "this task receives another message type than the process awaiting it");
      return detail::promise_base::await_transform(t);
    }
  };

  process(process&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  process(const process&) = delete;
  process& operator=(const process&) = delete;
  ~process() {
    if (h_) h_.destroy();
  }
  /// Internal: hands the frame to the runtime.
  std::coroutine_handle<promise_type> release() noexcept { return std::exchange(h_, {}); }

 private:
  explicit process(std::coroutine_handle<promise_type> h) noexcept : h_(h) {}
  std::coroutine_handle<promise_type> h_;
};

template <class T>
inline constexpr bool is_process_v = false;
template <class M>
inline constexpr bool is_process_v<process<M>> = true;

// ---------------------------------------------------------------- receive

/// Waits for the next message: the process's own type, an exit_message (when
/// trapping exits) or a down_message, in arrival order. To wait for one
/// particular down or exit and leave the rest in order, see receive_down and
/// receive_exit below.
///
/// Cancellation: if the process is ended while waiting, no message is taken.
/// Errors: none. Thread safety: a process receives only its own mailbox.
inline detail::receive_op receive() noexcept { return {}; }

/// Waits at most `timeout` for the next message; an empty optional on
/// timeout. One waiter with one deadline: a message that arrives as the
/// timeout fires is returned, or stays in the mailbox, never lost. A zero
/// timeout polls (Erlang's `after 0`).
///
/// Cancellation: if the process is ended while waiting, no message is taken
/// and the deadline is dropped. Errors: none. Thread safety: the calling
/// process only.
inline detail::timed_receive_op receive(duration timeout) noexcept { return detail::timed_receive_op(timeout); }
template <class Rep, class Period>
detail::timed_receive_op receive(std::chrono::duration<Rep, Period> timeout) noexcept {
  return detail::timed_receive_op(std::chrono::duration_cast<duration>(timeout));
}

// ---------------------------------------------------------------- one down, one exit

/// Waits for the down_message of the monitor `ref`, and takes it out of the
/// mailbox, leaving every other message where it is, in order (Erlang's
/// `receive {'DOWN', Ref, ...} -> ... end`). A down already in the mailbox
/// is taken at once. Works in a process of any message type, and in a
/// task<T> that receives nothing else, so one helper serves them all.
///
/// Cancellation: if the process is ended while waiting, nothing is taken.
/// Errors: none; a monitor that never fires (demonitored, or never set)
/// waits for ever: use the timed form. Thread safety: the calling process only.
inline detail::selective_receive<detail::down_of, false> receive_down(const monitor_ref& ref) noexcept {
  return {detail::down_of{ref}, duration::max()};
}
/// receive_down waiting at most `timeout`: an empty optional on timeout,
/// the down left for later if it comes after. A zero timeout only looks;
/// duration::max() waits for ever.
template <class Rep, class Period>
detail::selective_receive<detail::down_of, true> receive_down(const monitor_ref& ref,
                                                              std::chrono::duration<Rep, Period> timeout) noexcept {
  return {detail::down_of{ref}, std::chrono::duration_cast<duration>(timeout)};
}

/// Waits for the exit_message from `from` (which arrives only while the
/// caller traps exits), and takes it out of the mailbox, leaving every other
/// message where it is, in order. As receive_down otherwise: any process or
/// task, nothing taken if the caller is ended meanwhile.
inline detail::selective_receive<detail::exit_from, false> receive_exit(const pid& from) noexcept {
  return {detail::exit_from{from}, duration::max()};
}
/// receive_exit waiting at most `timeout`: an empty optional on timeout.
template <class Rep, class Period>
detail::selective_receive<detail::exit_from, true> receive_exit(const pid& from,
                                                                std::chrono::duration<Rep, Period> timeout) noexcept {
  return {detail::exit_from{from}, std::chrono::duration_cast<duration>(timeout)};
}

// ---------------------------------------------------------------- send

enum class send_status : std::uint8_t {
  delivered,  ///< in the target's mailbox
  dropped,    ///< the target is dead (or the null pid), or its full mailbox drops
  full,       ///< a bounded mailbox with overflow::fail (or wait, when not awaited) refused it
};

namespace detail {
class room_waiter;
/// Overflow::wait: parks `p` until `target` has room for `n`, then delivers it.
room_waiter* wait_for_room(process_base& p, node* n, pid target);
send_status room_status(room_waiter* w) noexcept;
void drop_room_waiter(room_waiter* w) noexcept;
}  // namespace detail

/// The outcome of a send. Use it as a value, or co_await it inside a process:
/// the send has already happened; awaiting lets the scheduler run others when
/// this process has spent its reductions, and waits for room in a bounded
/// mailbox with overflow::wait.
class sent {
 public:
  explicit sent(send_status s) noexcept : status_(s) {}
  sent(detail::node* pending, pid target) noexcept
      : status_(send_status::full), pending_(pending), target_(std::move(target)) {}
  sent(sent&& o) noexcept
      : status_(o.status_), pending_(std::exchange(o.pending_, nullptr)), target_(std::move(o.target_)),
        self_(o.self_), room_(std::exchange(o.room_, nullptr)) {}
  sent& operator=(sent&&) = delete;
#if defined(__GNUC__) || defined(__clang__)
  [[gnu::always_inline]]  // else left out of line in coroutine bodies: one call per message
#endif
  ~sent() {
    if (pending_ || room_) release();
  }

  send_status status() const noexcept { return status_; }
  operator send_status() const noexcept { return status_; }

  void bind(detail::process_base& p) noexcept { self_ = &p; }
  bool await_ready() noexcept { return !pending_ && --self_->reductions > 0; }
  void await_suspend(std::coroutine_handle<>) {
    if (pending_) {
      room_ = detail::wait_for_room(*self_, pending_, std::move(target_));
      pending_ = nullptr;
    } else {
      self_->wait = nullptr;
      self_->yield_requested = true;
    }
  }
  send_status await_resume() noexcept {
    if (room_) status_ = detail::room_status(room_);
    return status_;
  }

 private:
  void release() noexcept;

  send_status status_;
  detail::node* pending_ = nullptr;  ///< overflow::wait: the message not yet delivered
  pid target_;
  detail::process_base* self_ = nullptr;
  detail::room_waiter* room_ = nullptr;
};

namespace detail {
// Defined in detail/process_ops.hpp.
template <class M, class Make>
sent send_with(const handle<M>& to, Make make);
}  // namespace detail

/// Sends `msg` to `to`. Never blocks and never fails the sender: a dead target
/// drops the message (Erlang semantics) and says so in the status. Safe from
/// any thread and from code outside any process. Between one sender and one
/// receiver, messages arrive in the order sent.
///
/// Inside a process, `co_await send(...)` also lets others run once this
/// process has spent its reductions, and waits for room in a bounded mailbox
/// with overflow::wait.
///
/// Completes with: the send_status. Cancellation: awaiting only yields or
/// waits for room; if the sender is ended meanwhile, a message still waiting
/// for room is destroyed, never delivered (a delivered one stays delivered).
/// If the target dies while the sender waits for room, the message is
/// dropped and the await completes with send_status::dropped. Thread safety:
/// a plain send from any thread; co_await send inside a process.
///
/// `msg` is anything M can be made from (a braced list too: send(h, {1, 2})).
///
/// GCC 12: `co_await send(h, Agg{"x"})`, with a braced aggregate whose
/// members have destructors, does not compile there, because GCC 12 would
/// destroy the aggregate twice (otp/detail/temporaries.hpp). Give the type
/// a constructor, write `co_await send(h, std::in_place, "x")`, or send
/// without awaiting.
template <class M, class T = M>
  requires(!std::is_same_v<std::remove_cvref_t<T>, std::in_place_t> && std::is_convertible_v<T &&, M>)
detail::guarded<sent, T> send(const handle<M>& to, T&& msg) {
  return detail::guarded<sent, T>(detail::send_with(to, [&] {
    return new detail::message_node<M>(std::in_place, std::forward<T>(msg));
  }));
}
/// Sends a message constructed in place from `args` (parenthesised
/// initialisation, so aggregates work too).
template <class M, class... A>
detail::guarded<sent, A...> send(const handle<M>& to, std::in_place_t, A&&... args) {
  return detail::guarded<sent, A...>(detail::send_with(
      to, [&] { return new detail::message_node<M>(std::in_place, std::forward<A>(args)...); }));
}

/// Sends to the process under `to`, checking at run time that it takes M
/// (by default the message's own type; otp::send<server_msg>(name, A{})
/// names the mailbox type when it is another, a variant say).
/// errc::noproc when nobody has the name, errc::bad_message_type (reason:
/// the type it takes) when its process takes another type. Outside a
/// process, a local name needs name::whereis(rt) and a handle instead.
template <class M = void, class T>
result<send_status> send(const name& to, T&& msg) {
  using Msg = std::conditional_t<std::is_void_v<M>, std::remove_cvref_t<T>, M>;
  pid p = to.whereis();
  if (!p) return error(errc::noproc, exit_reason::noproc());
  auto h = handle<Msg>::from(std::move(p));
  if (!h) return h.error();
  return send(h.value(), Msg(std::forward<T>(msg))).status();
}

// ---------------------------------------------------------------- yield, sleep

/// Lets the other ready processes of this shard run, then continues.
/// Cancellation: a process ended while yielded does not resume (its frame is
/// destroyed). Thread safety: the calling process only.
inline detail::yield_awaiter yield() noexcept { return {}; }

/// Suspends for `d` on the runtime's clock. Messages keep arriving meanwhile;
/// exit signals are handled at once.
/// Cancellation: a process ended while sleeping does not resume; its timer is
/// removed. Thread safety: the calling process only.
template <class Rep, class Period>
detail::sleep_awaiter sleep_for(std::chrono::duration<Rep, Period> d) noexcept {
  return detail::sleep_awaiter(std::chrono::duration_cast<duration>(d));
}

// ---------------------------------------------------------------- identity, links, monitors, exits

/// The calling process's pid.
///
/// Every function of this header that acts for the calling process (self,
/// now, current_shard, shard_count, link, unlink, monitor, demonitor,
/// trap_exit, spawn_link, spawn_monitor) needs one: called outside a
/// process, it is a broken contract (OTP_ASSERT, otp/config.hpp:
/// std::logic_error by default).
pid self();
/// The calling process's pid as a typed handle; throws otp::exit_error
/// (bad_message_type) if M is not its message type.
template <class M>
handle<M> self_as() {
  return handle<M>::from(self()).value();
}
/// Now, on the calling process's runtime clock (virtual in tests).
time_point now();
/// The process that spawned the caller (the null pid for one spawned from outside).
pid parent();
/// The shard the calling process runs on now, 0 .. shard_count() - 1: what
/// spawn_options::shard and process_info::shard hold. An unpinned process
/// may run on another shard after its next suspension.
std::size_t current_shard();
/// The number of shards of the calling process's runtime (runtime::shard_count()).
std::size_t shard_count();
/// True while `p` has not ended. A snapshot: it may end right after.
bool is_alive(const pid& p) noexcept;

/// Links the caller and `p` (bidirectional, idempotent). Linking to a dead or
/// null pid delivers an exit signal with reason `noproc` to the caller.
void link(const pid& p);
/// Removes the link, if any; no exit signal due to it arrives afterwards.
void unlink(const pid& p);

/// Monitors `p`: exactly one down_message with the returned ref follows when it
/// ends (at once, with `noproc`, if it is already dead). Each call makes a new
/// monitor.
monitor_ref monitor(const pid& p);
enum class demonitor_option { none, flush };
/// Cancels a monitor: no down_message for it arrives afterwards, except one
/// already in the mailbox, which `flush` removes too. Returns false if the
/// monitor was not active (already fired or removed).
bool demonitor(const monitor_ref& ref, demonitor_option opt = demonitor_option::none);

/// Sets whether the caller traps exits; returns the previous setting.
bool trap_exit(bool on);

/// Sends an exit signal to `p` (from the caller, or from the null pid outside
/// a process): `kill` ends it with `killed` and cannot be trapped; `normal` is
/// ignored unless trapped, except by the caller itself, which then ends with
/// `normal`; any other reason ends it unless it traps exits, in which case an
/// exit_message arrives. A signal to oneself takes effect at the next
/// suspension point. Dead targets ignore it.
void exit(const pid& p, exit_reason reason);
/// Ends the calling process with `reason` now (throws otp::exit_exception,
/// which the process boundary turns into the exit reason).
[[noreturn]] void exit(exit_reason reason);

// ---------------------------------------------------------------- by name (otp/name.hpp)

/// Links the caller to the process under `to`; nobody under it behaves as
/// a dead pid (an exit signal `noproc`).
inline void link(const name& to) { link(to.whereis()); }
/// Monitors the process under `to`; nobody under it gives a down `noproc` at once.
inline monitor_ref monitor(const name& to) { return monitor(to.whereis()); }
/// Sends an exit signal to the process under `to`; errc::noproc when nobody has the name.
inline result<void> exit(const name& to, exit_reason reason) {
  pid p = to.whereis();
  if (!p) return error(errc::noproc, exit_reason::noproc());
  exit(p, std::move(reason));
  return otp::ok();
}

// ---------------------------------------------------------------- spawn

namespace detail {
// Defined in detail/process_ops.hpp.
template <class F, class... A>
auto spawn_impl(runtime* rt, process_base* parent, const spawn_options& o, F&& f, A&&... a);
/// spawn(f, args...) inside a process: f is neither a runtime nor options.
template <class F>
concept not_runtime = !std::is_same_v<std::remove_cvref_t<F>, runtime> &&
                      !std::is_same_v<std::remove_cvref_t<F>, spawn_options>;
}  // namespace detail

/// Starts `f(args...)` as a new process on `rt` (from anywhere: main, another
/// thread, an Asio handler). Returns its typed handle; the body starts running
/// on the runtime's executor. Throws what f throws before its first suspension
/// point (the coroutine's creation), and std::bad_alloc.
template <class F, class... A>
auto spawn(runtime& rt, F&& f, A&&... a) {
  return detail::spawn_impl(&rt, nullptr, spawn_options{}, std::forward<F>(f), std::forward<A>(a)...).pid;
}
/// spawn with options (link and monitor need a calling process: outside one,
/// a broken contract, OTP_ASSERT).
template <class F, class... A>
auto spawn_opt(runtime& rt, const spawn_options& o, F&& f, A&&... a) {
  return detail::spawn_impl(&rt, nullptr, o, std::forward<F>(f), std::forward<A>(a)...);
}

/// Inside a process: starts a new process on the caller's shard
/// (placement::local), with the caller recorded as its parent.
template <detail::not_runtime F, class... A>
auto spawn(F&& f, A&&... a) {
  return detail::spawn_impl(nullptr, &detail::current_or_throw("otp::spawn"), spawn_options{}, std::forward<F>(f),
                            std::forward<A>(a)...)
      .pid;
}
template <class F, class... A>
auto spawn_opt(const spawn_options& o, F&& f, A&&... a) {
  return detail::spawn_impl(nullptr, &detail::current_or_throw("otp::spawn_opt"), o, std::forward<F>(f),
                            std::forward<A>(a)...);
}
/// Inside a process: spawn and link atomically (the link exists before the
/// child runs, so even an instant crash reaches the caller).
template <class F, class... A>
auto spawn_link(F&& f, A&&... a) {
  spawn_options o;
  o.link = true;
  return detail::spawn_impl(nullptr, &detail::current_or_throw("otp::spawn_link"), o, std::forward<F>(f),
                            std::forward<A>(a)...)
      .pid;
}
/// Inside a process: spawn and monitor atomically; returns the handle and the ref.
template <class F, class... A>
auto spawn_monitor(F&& f, A&&... a) {
  spawn_options o;
  o.monitor = true;
  return detail::spawn_impl(nullptr, &detail::current_or_throw("otp::spawn_monitor"), o, std::forward<F>(f),
                            std::forward<A>(a)...);
}

}  // namespace otp

// The definitions of send and spawn's machinery, declared above.
#include <otp/detail/process_ops.hpp>
