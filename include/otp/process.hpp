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
#include <otp/detail/process_base.hpp>
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

struct spawn_options {
  bool link = false;       ///< link the new process to the caller (spawn_link)
  bool monitor = false;    ///< monitor it from the caller (spawn_monitor)
  bool trap_exit = false;  ///< start trapping exits
  std::uint32_t mailbox_bound = 0;  ///< 0: unbounded (Erlang's default)
  overflow on_full = overflow::fail;
  /// Shard to run on, 0 .. shard_count() - 1 (otp::current_shard() is the
  /// caller's). Unset: the caller's shard inside a process, round robin
  /// outside one. One out of range makes spawn throw std::out_of_range.
  std::optional<std::size_t> shard;
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

namespace detail {

template <class T>
concept otp_awaitable = requires(T& a, process_base& p) { a.bind(p); };

/// Awaits a named awaitable in place.
template <class A>
class ref_awaiter {
 public:
  explicit ref_awaiter(A& a) noexcept : a_(&a) {}
  bool await_ready() { return a_->await_ready(); }
  auto await_suspend(std::coroutine_handle<> h) { return a_->await_suspend(h); }
  decltype(auto) await_resume() { return a_->await_resume(); }

 private:
  A* a_;
};

// What every coroutine running in a process shares: the process it runs in,
// and the binding of what it awaits to that process.
struct promise_core {
  process_base* self = nullptr;

  std::suspend_always initial_suspend() noexcept { return {}; }

  // Every awaitable is bound to the awaiting process here, and handed back as
  // a prvalue: GCC 12 copies an awaiter returned by reference.
  template <class A>
  auto await_transform(A&& a) noexcept {
    static_assert(otp_awaitable<std::remove_reference_t<A>>,
                  "a process can co_await only otp's awaitables: otp::receive, otp::send, otp::yield, "
                  "otp::sleep_for, otp::request, otp::start_link, and Asio operations with otp::use_process");
    static_assert(std::is_lvalue_reference_v<A> || !is_refused_temporary<std::remove_cvref_t<A>>,
                  "GCC before 13 destroys twice a braced aggregate (or a lambda capturing by value) that is a "
                  "temporary inside co_await, and this co_await holds one (see otp/detail/temporaries.hpp). "
                  "Give the message type a constructor, build it in place (otp::send(h, std::in_place, "
                  "args...), otp::call(s, std::in_place_type<T>, args...)), or name the awaitable first "
                  "(auto op = otp::call(s, T{...}), then co_await op).");
    a.bind(*self);
    if constexpr (std::is_lvalue_reference_v<A>)
      return ref_awaiter<std::remove_reference_t<A>>(a);
    else
      return std::remove_cvref_t<A>(std::move(a));
  }

  static void* operator new(std::size_t n) { return allocate(n); }
  static void operator delete(void* p, std::size_t n) noexcept { deallocate(p, n); }
};

// A process body's promise: it ends the process.
struct promise_base : promise_core {
  std::suspend_always final_suspend() noexcept { return {}; }
  void return_void() noexcept {}
  void unhandled_exception() noexcept;
};

struct receive_op {
  receive_op() noexcept = default;
};
struct timed_receive_op {
  explicit timed_receive_op(duration t) noexcept : timeout(t) {}
  duration timeout;
};

/// How a receive hands over what it took: as the variant message<M> (the
/// default), or as the raw node (a server's loop dispatches it itself).
template <class M>
struct take_variant;

template <class M, class Take = take_variant<M>>
class receive_awaiter;
template <class M, class Take = take_variant<M>>
class timed_receive_awaiter;

}  // namespace detail

template <class T, class M>
class task;

namespace detail {
/// A task that receives must run in a process of its message type.
template <class TaskM, class M>
inline constexpr bool task_fits = std::is_void_v<TaskM> || std::is_same_v<TaskM, M>;
}  // namespace detail

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

namespace detail {

// A trapped exit or a down: the rare case, out of the way of the common one.
template <class M>
[[gnu::noinline]] message<M> take_system_message(node* n) {
  auto* s = static_cast<signal_node*>(n);
  if (n->kind == node_kind::exit_message) {
    message<M> r(std::in_place_index<1>, std::move(s->from), std::move(s->reason));
    delete s;
    return r;
  }
  message<M> r(std::in_place_index<2>, s->ref, std::move(s->from), std::move(s->reason));
  delete s;
  return r;
}

template <class M>
message<M> take_message(process_base& p, node* n) {
  if (n->kind != node_kind::message) [[unlikely]]
    return take_system_message<M>(n);
  if (p.core->bound) p.core->queued.fetch_sub(1, std::memory_order_relaxed);
  auto* m = static_cast<message_node<M>*>(n);
  message<M> r(std::in_place_index<0>, std::move(m->value));
  delete m;
  return r;
}

template <class M>
struct take_variant {
  using type = message<M>;
  static type take(process_base& p, node* n) { return take_message<M>(p, n); }
};

// The part of receive shared by its two forms.
template <class M>
class receive_base : public waiter {
 protected:
  explicit receive_base(process_base* p) noexcept : p_(p) { woken_from_outside = false; }
  receive_base(receive_base&& o) noexcept : p_(o.p_), got_(std::exchange(o.got_, nullptr)) {
    woken_from_outside = false;
  }
  ~receive_base() {
    if (got_) delete got_;
  }
  // A message already merged, no signal pending, reductions left: no suspension.
  bool take_now() noexcept {
    if (p_->first && !p_->inbox_pending() && --p_->reductions > 0) {
      got_ = p_->pop_front();
      return true;
    }
    return false;
  }
  void park() noexcept {
    p_->wait = this;
    if (p_->reductions <= 0) p_->yield_requested = true;
  }
  bool take_merged() noexcept {
    if (got_) return true;
    if (!p_->first) return false;
    got_ = p_->pop_front();
    return true;
  }

  process_base* p_;
  node* got_ = nullptr;
};

template <class M, class Take>
class receive_awaiter final : receive_base<M> {
 public:
  explicit receive_awaiter(process_base* p) noexcept : receive_base<M>(p) {}
  receive_awaiter(receive_awaiter&&) noexcept = default;
  void bind(process_base& p) noexcept { this->p_ = &p; }
  bool await_ready() noexcept { return this->take_now(); }
  void await_suspend(std::coroutine_handle<>) noexcept { this->park(); }
  typename Take::type await_resume() { return Take::take(*this->p_, std::exchange(this->got_, nullptr)); }
  bool ready(process_base&) noexcept override { return this->take_merged(); }
};

template <class M, class Take>
class timed_receive_awaiter final : receive_base<M>, timer_entry {
 public:
  timed_receive_awaiter(process_base* p, duration t) noexcept : receive_base<M>(p), timeout_(t) {}
  timed_receive_awaiter(timed_receive_awaiter&& o) noexcept
      : receive_base<M>(std::move(o)), timeout_(o.timeout_), timed_out_(o.timed_out_), started_(o.started_) {}
  ~timed_receive_awaiter() {
    if (armed()) timer_remove(*this->p_, *this);
  }
  void bind(process_base& p) noexcept { this->p_ = &p; }
  bool await_ready() noexcept { return this->take_now(); }
  void await_suspend(std::coroutine_handle<>) noexcept { this->park(); }
  std::optional<typename Take::type> await_resume() {
    if (!this->got_) return std::nullopt;
    return Take::take(*this->p_, std::exchange(this->got_, nullptr));
  }
  bool ready(process_base& p) noexcept override {
    if (this->take_merged()) {
      if (armed()) timer_remove(p, *this);
      return true;
    }
    if (timed_out_) return true;
    if (!started_) {
      started_ = true;
      if (timeout_ <= duration::zero()) return timed_out_ = true;
      timer_add(p, *this, timeout_);
    }
    return false;
  }
  void fire() noexcept override {
    timed_out_ = true;
    if (this->p_->try_unblock()) schedule(*this->p_);
  }

 private:
  duration timeout_;
  bool timed_out_ = false;
  bool started_ = false;
};

}  // namespace detail

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
inline detail::timed_receive_op receive(duration timeout) noexcept { return detail::timed_receive_op(timeout); }
template <class Rep, class Period>
detail::timed_receive_op receive(std::chrono::duration<Rep, Period> timeout) noexcept {
  return detail::timed_receive_op(std::chrono::duration_cast<duration>(timeout));
}

// ---------------------------------------------------------------- one down, one exit

namespace detail {

/// The down of one monitor.
struct down_of {
  using message_type = down_message;
  monitor_ref ref;
  bool operator()(const node* n) const noexcept {
    return n->kind == node_kind::down_message && static_cast<const signal_node*>(n)->ref == ref;
  }
  static down_message take(signal_node* s) { return down_message(s->ref, std::move(s->from), std::move(s->reason)); }
};
/// The trapped exit of one process.
struct exit_from {
  using message_type = exit_message;
  pid from;
  bool operator()(const node* n) const noexcept {
    return n->kind == node_kind::exit_message && static_cast<const signal_node*>(n)->from == from;
  }
  static exit_message take(signal_node* s) { return exit_message(std::move(s->from), std::move(s->reason)); }
};

/// Waits for the first node `match` accepts and takes it out of the mailbox,
/// leaving the others where they are. Each wake-up looks only at what
/// arrived since the last.
template <class Match, bool Timed>
class selective_receive final : waiter, timer_entry {
 public:
  using message_type = typename Match::message_type;
  selective_receive(Match m, duration timeout) noexcept : match_(std::move(m)), timeout_(timeout) {
    woken_from_outside = false;
  }
  selective_receive(selective_receive&& o) noexcept
      : match_(std::move(o.match_)), timeout_(o.timeout_), p_(o.p_), got_(std::exchange(o.got_, nullptr)) {
    woken_from_outside = false;
  }
  ~selective_receive() {
    if (armed()) timer_remove(*p_, *this);
    delete got_;
  }
  void bind(process_base& p) noexcept { p_ = &p; }
  bool await_ready() noexcept { return scan(); }
  void await_suspend(std::coroutine_handle<>) noexcept { p_->wait = this; }
  auto await_resume() {
    if constexpr (Timed) {
      if (!got_) return std::optional<message_type>();
      return std::optional<message_type>(take());
    } else {
      return take();
    }
  }
  bool ready(process_base& p) noexcept override {
    if (scan()) {
      if (armed()) timer_remove(p, *this);
      return true;
    }
    if constexpr (Timed) {
      if (timed_out_) return true;
      if (!started_) {
        started_ = true;
        if (timeout_ <= duration::zero()) return timed_out_ = true;
        if (timeout_ != duration::max()) timer_add(p, *this, timeout_);  // max: no deadline
      }
    }
    return false;
  }
  void fire() noexcept override {
    timed_out_ = true;
    if (p_->try_unblock()) schedule(*p_);
  }

 private:
  bool scan() noexcept {
    if (got_) return true;
    node* prev = seen_;
    for (node* n = seen_ ? seen_->next : p_->first; n; prev = n, n = n->next) {
      if (!match_(n)) continue;
      (prev ? prev->next : p_->first) = n->next;
      if (p_->last == n) p_->last = prev;
      got_ = n;
      return true;
    }
    seen_ = prev;
    return false;
  }
  message_type take() {
    auto* s = static_cast<signal_node*>(std::exchange(got_, nullptr));
    message_type m = Match::take(s);
    delete s;
    return m;
  }

  Match match_;
  duration timeout_;
  process_base* p_ = nullptr;
  node* seen_ = nullptr;  ///< the last node looked at: the next scan starts after it
  node* got_ = nullptr;
  bool timed_out_ = false;
  bool started_ = false;
};

}  // namespace detail

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
/// Pushes a message node, waking the target if it slept.
inline send_status deliver(process_core& to, node* n) noexcept {
  switch (to.push(n)) {
    case process_core::push_result::woke:
      schedule(to);
      return send_status::delivered;
    case process_core::push_result::ok:
      return send_status::delivered;
    case process_core::push_result::closed:
      break;
  }
  if (to.bound) to.queued.fetch_sub(1, std::memory_order_relaxed);
  delete n;
  return send_status::dropped;
}
}  // namespace detail

namespace detail {
// A bounded mailbox: the rare case, kept out of the common path.
template <class M, class Make>
[[gnu::noinline]] sent send_bounded(process_core& p, const handle<M>& to, Make& make) {
  if (p.queued.fetch_add(1, std::memory_order_relaxed) >= p.bound) {
    p.queued.fetch_sub(1, std::memory_order_relaxed);
    switch (p.policy) {
      case overflow::drop:
        return sent(send_status::dropped);
      case overflow::fail:
        return sent(send_status::full);
      case overflow::wait:
        return sent(make(), to);
    }
  }
  return sent(deliver(p, make()));
}

template <class M, class Make>
sent send_with(const handle<M>& to, Make make) {
  auto* p = as_core(to);
  if (!p || p->exiting.load(std::memory_order_relaxed)) return sent(send_status::dropped);
  if (p->bound) [[unlikely]]
    return send_bounded(*p, to, make);
  return sent(deliver(*p, make()));
}
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

namespace detail {
class yield_awaiter {
 public:
  yield_awaiter() noexcept = default;
  void bind(process_base& p) noexcept { p_ = &p; }
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<>) noexcept {
    p_->wait = nullptr;
    p_->yield_requested = true;
  }
  void await_resume() const noexcept {}

 private:
  process_base* p_ = nullptr;
};

class sleep_awaiter final : waiter, timer_entry {
 public:
  explicit sleep_awaiter(duration d) noexcept : d_(d) { woken_from_outside = false; }
  sleep_awaiter(sleep_awaiter&& o) noexcept : d_(o.d_), p_(o.p_), done_(o.done_) { woken_from_outside = false; }
  ~sleep_awaiter() {
    if (armed()) timer_remove(*p_, *this);
  }
  void bind(process_base& p) noexcept { p_ = &p; }
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<>) noexcept { p_->wait = this; }
  void await_resume() const noexcept {}
  bool ready(process_base& p) noexcept override {
    if (done_) return true;
    if (!armed()) {
      if (d_ <= duration::zero()) return true;
      timer_add(p, *this, d_);
    }
    return false;
  }
  void fire() noexcept override {
    done_ = true;
    if (p_->try_unblock()) schedule(*p_);
  }

 private:
  duration d_;
  process_base* p_ = nullptr;
  bool done_ = false;
};
}  // namespace detail

/// Lets the other ready processes of this shard run, then continues.
inline detail::yield_awaiter yield() noexcept { return {}; }

/// Suspends for `d` on the runtime's clock. Messages keep arriving meanwhile;
/// exit signals are handled at once.
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
/// The shard the calling process runs on, 0 .. shard_count() - 1: what
/// spawn_options::shard and process_info::shard hold.
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

process_base* new_process(runtime* rt, process_base* parent, const spawn_options& o, type_tag tag);
/// may_run_inline: whether this spawn may run the caller's fresh processes
/// inline (config::spawn_batch).
void start_process(process_base& p, process_base* parent, const spawn_options& o, monitor_ref* mon,
                   bool may_run_inline);
void abandon_process(process_base& p) noexcept;

template <class Fn>
std::decay_t<Fn>& store_closure(process_base& p, Fn&& f) {
  using D = std::decay_t<Fn>;
  if constexpr (sizeof(D) <= config::inline_closure_size && alignof(D) <= alignof(std::max_align_t)) {
    auto* c = ::new (static_cast<void*>(p.closure_buf)) D(std::forward<Fn>(f));
    p.closure = c;
    p.closure_destroy = [](process_base& q) noexcept { static_cast<D*>(q.closure)->~D(); };
    return *c;
  } else {
    auto* c = new D(std::forward<Fn>(f));
    p.closure = c;
    p.closure_destroy = [](process_base& q) noexcept { delete static_cast<D*>(q.closure); };
    return *c;
  }
}

template <class F, class... A>
using body_t = std::invoke_result_t<std::decay_t<F>&, A...>;
template <class F, class... A>
using body_message_t = typename body_t<F, A...>::message_type;

/// spawn_impl, handing the new process a start acknowledgement slot (see
/// start.hpp) before anything can run it.
template <class F, class... A>
auto spawn_with_ack(reply_slot* ack, runtime* rt, process_base* parent, const spawn_options& o, F&& f, A&&... a)
    -> spawned<body_message_t<F, A...>> {
  using P = body_t<F, A...>;
  static_assert(is_process_v<P>, "a process body must return otp::process<M>");
  using M = typename P::message_type;
  process_base* p = new_process(rt, parent, o, tag_of<M>());
  try {
    auto& fn = store_closure(*p, std::forward<F>(f));
    P proc = std::invoke(fn, std::forward<A>(a)...);
    auto h = proc.release();
    h.promise().self = p;
    p->frame = h;
    p->resume_point = h;
  } catch (...) {
    abandon_process(*p);
    throw;
  }
  if (o.name) {
    try {
      register_spawned(*p, o.name);  // before anything can run it
    } catch (...) {
      abandon_process(*p);
      throw;
    }
  }
  spawned<M> r{handle<M>::unchecked(pid_of(*p)), {}};
  if (ack) {
    ack->retain();  // the child's reference, dropped when it acknowledges or ends
    p->ack = ack;
  }
  // A synchronous start wires its wait only after this returns: not a point
  // to run the new child inline.
  start_process(*p, parent, o, &r.monitor, ack == nullptr);
  return r;
}

template <class F, class... A>
auto spawn_impl(runtime* rt, process_base* parent, const spawn_options& o, F&& f, A&&... a) {
  return spawn_with_ack(nullptr, rt, parent, o, std::forward<F>(f), std::forward<A>(a)...);
}

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

/// Inside a process: starts a new process on the caller's shard, with the
/// caller recorded as its parent.
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
