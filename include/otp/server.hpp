// SPDX-License-Identifier: MIT
#pragma once
// otp::server<S>: GenServer's contract, typed.
//
// A server is a class that derives from otp::server<itself> and handles
// requests with overloaded member functions. Its state is its members.
//
//   struct stack : otp::server<stack> {
//     struct push { int value; };                     // a cast
//     struct pop { using reply = std::optional<int>; };  // a call, and its reply
//
//     explicit stack(std::vector<int> initial) : items(std::move(initial)) {}
//     std::optional<int> handle_call(pop) {
//       if (items.empty()) return std::nullopt;
//       int v = items.back();
//       items.pop_back();
//       return v;
//     }
//     void handle_cast(push p) { items.push_back(p.value); }
//
//     std::vector<int> items;
//   };
//
//   std::vector<int> initial{1, 2};  // GCC 12: no braced list inside co_await
//   auto s = (co_await otp::start_server<stack>(initial)).value();
//   otp::cast(s, stack::push{3});
//   std::optional<int> top = (co_await otp::call(s, stack::pop{})).value();  // 3
//
// Message types. A request or message whose members have destructors (a
// std::string, a vector) should have a constructor:
//
//   struct rename {
//     explicit rename(std::string n) : name(std::move(n)) {}
//     std::string name;
//   };
//   co_await otp::call(s, rename("bob"));
//
// As a plain aggregate, `co_await otp::call(s, rename{"bob"})` would be
// destroyed twice by GCC 12 (Debian 12's compiler), so otp refuses to
// compile it there (otp/detail/temporaries.hpp), and says what to write:
// the constructor, `otp::call(s, std::in_place_type<rename>, "bob")`, or the
// awaitable named first. Aggregates whose members need no destructor
// (stack::push, stack::pop) are fine as they are.
//
// Callbacks (every one optional but those a client uses; a client that sends
// what the server has no handler for does not compile):
//
//   S(args...)                 init: runs in the new process before the start
//   void/task<> init()         returns. Throwing fails the start with the
//                              exception as reason. Inside either:
//                              continue_with(c) (ready with continue),
//                              stop(reason) (the start fails with errc::
//                              start_failed and that reason, terminate does
//                              not run), otp::init_ignore() (errc::ignored).
//   R handle_call(Req)         answers a call with its return value. With a
//   R handle_call(Req, from)   second parameter, otp::reply_to<R> (by value or
//   noreply handle_call(...)   const&), it may return otp::noreply instead,
//                              keep `from` and answer later with
//                              from.send(value), from any thread (a deferred
//                              reply). The reply type is Req::reply when Req
//                              declares it, else the handler's return type.
//   void handle_cast(C)
//   void handle_info(I)        anything else: messages sent with otp::send
//                              or otp::send_after, down_message,
//                              exit_message (when trapping exits) from any
//                              process but the parent, server_timeout. What
//                              has no handler is logged and dropped.
//   void handle_continue(C)    after continue_with(c): runs before the next
//                              message is taken.
//   void terminate(const exit_reason&)
//                              when the server stops: stop(reason) from a
//                              callback or otp::stop from a client, an
//                              exception escaping a callback (the reason is
//                              that error), or an exit signal from its parent
//                              while trapping exits. Not on kill, and not on
//                              an exit signal when not trapping: the process
//                              just ends. (S's destructor runs in every case:
//                              the frame unwinds.)
//
// Any callback may be a coroutine returning otp::task<T> (T as above) and
// co_await inside (a call to another server, otp::offload, an Asio
// operation); the server takes its next message only when it has finished.
//
// Actions a callback may take through the base class, applied when it returns:
//   stop(reason)        terminate runs, then the process ends with `reason`;
//                       from handle_call, the reply goes after terminate, as
//                       GenServer's {:stop, reason, reply, state}.
//   continue_with(c)    handle_continue(c) runs next.
//   idle_timeout(d)     if no message arrives within d, handle_info(
//                       otp::server_timeout{}) runs. Applies to the next
//                       wait only, as GenServer's timeout in a return tuple.
//
// Exits: a server is a process; it is linked to its parent when started by
// start_server (or a supervisor). Exceptions: an exception escaping a
// callback runs terminate with the error and ends the server with it (a
// crash report follows); pending callers get errc::exited with that reason.

#include <otp/request.hpp>
#include <otp/detail/server_reply.hpp>
#include <otp/start.hpp>
#include <otp/supervisor.hpp>
#include <otp/task.hpp>
#include <otp/timer.hpp>

#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

namespace otp {

template <class S>
class server;

/// What a handle_call returns when it will answer later through its reply_to.
struct noreply_t {
  explicit constexpr noreply_t() = default;
};
inline constexpr noreply_t noreply{};

/// The info message of an idle timeout (server::idle_timeout).
struct server_timeout {};

namespace detail {

/// A server's mailbox type: only a tag, never a value. A server_ref is a
/// handle to it, so the runtime's type check tells servers of different S
/// apart, and nothing but the calls below can reach the mailbox.
template <class S>
class letter {
  letter() = default;
};

}  // namespace detail

/// A handle to a server of type S: a pid (link, monitor, exit take it as
/// one) through which call, cast and send reach S's handlers.
template <class S>
using server_ref = handle<detail::letter<S>>;


/// The reply type of a call of Req to a server S.
template <class S, class Req>
using reply_of = typename decltype(detail::reply_type_of<S, std::remove_cvref_t<Req>>())::type;

namespace detail {
// The server's loop and its parts, defined in detail/server_loop.hpp.
template <class S, class... A>
process<letter<S>> server_main(A... args);
template <class S>
std::string server_type_name();
template <class S>
struct continuation;
template <class S, class C>
struct continuation_of;
struct held_reply;
template <class S>
struct stop_node;
template <class S, class C>
struct cast_node;
template <class S, class I>
struct info_node;
template <class S, class T>
concept has_info = requires(S& s, T&& t) { s.handle_info(std::move(t)); };
template <class S, class R>
void answer(S& s, reply_to<R>& from);
template <class S, class R, class V>
void answer(S& s, reply_to<R>& from, V&& v);
}  // namespace detail

/// The base of a server class S (see the top of this header). It holds the
/// actions a callback asks for and gives S a default child spec.
template <class S>
class server {
 public:
  /// The child spec a supervisor starts S with (what `use GenServer` gives
  /// an Elixir module): id = S's type name, start_server with `args`,
  /// permanent worker. otp::child<S>(args...) returns it, unless S declares
  /// its own `static otp::child_spec child_spec(...)`, which may start from
  /// this one: `return default_child_spec(n).with(restart_type::transient);`.
  /// (It is not named child_spec, so that inside S the name child_spec
  /// still means the type otp::child_spec.)
  template <class... A>
  static otp::child_spec default_child_spec(A... args) {
    return otp::child_spec(detail::server_type_name<S>(), start_fn(&detail::server_main<S, A...>, std::move(args)...));
  }

 protected:
  server() = default;

  /// After this callback: run terminate(reason), then end with `reason`
  /// (from init: the start fails with it and terminate does not run).
  void stop(exit_reason reason = exit_reason::normal()) {
    stop_requested_ = true;
    stop_reason_ = std::move(reason);
  }
  /// After this callback: run handle_continue(c) before taking a message.
  template <class C>
  void continue_with(C c) {
    continue_ = std::make_unique<detail::continuation_of<S, C>>(std::move(c));
  }
  /// After this callback: if no message arrives within `d`, run
  /// handle_info(otp::server_timeout{}). Only the next wait.
  void idle_timeout(duration d) noexcept { timeout_ = d; }
  template <class Rep, class Period>
  void idle_timeout(std::chrono::duration<Rep, Period> d) noexcept {
    timeout_ = std::chrono::duration_cast<duration>(d);
  }
  /// This server's own handle (inside its callbacks).
  server_ref<S> ref() const { return server_ref<S>::unchecked(otp::self()); }

 private:
  template <class S2, class... A>
  friend process<detail::letter<S2>> detail::server_main(A...);
  template <class S2, class R>
  friend void detail::answer(S2&, reply_to<R>&);
  template <class S2, class R, class V>
  friend void detail::answer(S2&, reply_to<R>&, V&&);
  friend struct detail::stop_node<S>;

  bool stop_requested_ = false;
  exit_reason stop_reason_;
  std::unique_ptr<detail::continuation<S>> continue_;
  std::optional<duration> timeout_;
  std::unique_ptr<detail::held_reply> held_;
};

// ---------------------------------------------------------------- starting

/// Starts a server S, linked to the caller, constructed from `args` inside
/// its own process, and waits until its init is done. Returns its handle, or
/// errc::start_failed with the reason (init threw, or called stop), or
/// errc::ignored (init_ignore). Inside a process only. Cancellation: as
/// start_link (the link takes the new server down with the caller).
template <class S, class... A>
auto start_server(A&&... args) {
  return start_link(&detail::server_main<S, std::decay_t<A>...>, std::forward<A>(args)...);
}
/// start_server with options: a name (o.spawn.name: otp::local or otp::via;
/// a taken name fails with errc::already_started and the holder), no link
/// (o.link = false), a start timeout, trap_exit, a mailbox bound.
template <class S, class... A>
auto start_server_opt(const start_options& o, A&&... args) {
  return start_opt(o, &detail::server_main<S, std::decay_t<A>...>, std::forward<A>(args)...);
}
/// Spawns a server from anywhere (main, an Asio handler) without waiting for
/// its init: a failed init ends it with its reason, as a crash.
template <class S, class... A>
server_ref<S> spawn_server(runtime& rt, A&&... args) {
  return spawn(rt, &detail::server_main<S, std::decay_t<A>...>, std::forward<A>(args)...);
}

// ---------------------------------------------------------------- call

namespace detail {
template <class T>
inline constexpr bool is_in_place_type = false;
template <class T>
inline constexpr bool is_in_place_type<std::in_place_type_t<T>> = true;

// Defined in detail/server_loop.hpp.
template <class S, class Req, class... A>
request_awaiter<reply_of<S, Req>> make_call(const server_ref<S>& to, duration timeout, A&&... args);
template <class S, class Req>
request_awaiter<reply_of<S, Req>> no_server(const result<server_ref<S>>& h);
}  // namespace detail

/// Calls `to` with `req` and waits for the reply of its handle_call, at
/// most `timeout` (duration::max(): forever). Returns result<reply_of<S,
/// Req>>:
///   errc::noproc        `to` is dead (or the null handle), at once
///   errc::exited        it ended before answering; error::reason is its reason
///   errc::timeout       no answer in time; a later answer is dropped
///   errc::calling_self  `to` is the caller itself, at once
/// Cancellation: if the caller ends while waiting, the call is abandoned and
/// a later answer is dropped; the server still handles the request.
/// Inside a process; from outside, see otp/outside.hpp.
///
/// GCC 12: `co_await call(s, Req{"x"})`, with a braced aggregate whose
/// members have destructors, does not compile there, because GCC 12 would
/// destroy it twice (otp/detail/temporaries.hpp): give Req a constructor,
/// or use the std::in_place_type form below.
template <class S, class Req>
  requires(!detail::is_in_place_type<std::remove_cvref_t<Req>>)
detail::guarded<detail::request_awaiter<reply_of<S, std::decay_t<Req>>>, Req> call(
    const server_ref<S>& to, Req&& req, duration timeout = config::default_call_timeout) {
  using Q = std::decay_t<Req>;  // a string literal is a const char*, as when taken by value
  return detail::guarded<detail::request_awaiter<reply_of<S, Q>>, Req>(
      detail::make_call<S, Q>(to, timeout, std::forward<Req>(req)));
}
/// call with the request built in place from `args` (parenthesised
/// initialisation, so aggregates work too): `call(s, std::in_place_type<get>, "key")`.
/// It waits config::default_call_timeout; for another timeout, build the
/// request first (a named request is copied, never refused).
template <class S, class Req, class... A>
detail::guarded<detail::request_awaiter<reply_of<S, Req>>, A...> call(const server_ref<S>& to,
                                                                     std::in_place_type_t<Req>, A&&... args) {
  return detail::guarded<detail::request_awaiter<reply_of<S, Req>>, A...>(
      detail::make_call<S, Req>(to, config::default_call_timeout, std::forward<A>(args)...));
}
/// call by name: errc::noproc when nobody holds `to`, errc::bad_message_type
/// when its process is not a server of type S.
template <class S, class Req>
  requires(!detail::is_in_place_type<std::remove_cvref_t<Req>>)
detail::guarded<detail::request_awaiter<reply_of<S, std::decay_t<Req>>>, Req> call(
    const name& to, Req&& req, duration timeout = config::default_call_timeout) {
  using Q = std::decay_t<Req>;  // a string literal is a const char*, as when taken by value
  using G = detail::guarded<detail::request_awaiter<reply_of<S, Q>>, Req>;
  auto h = server_ref<S>::from(to.whereis());
  if (!h) return G(detail::no_server<S, Q>(h));
  return G(detail::make_call<S, Q>(h.value(), timeout, std::forward<Req>(req)));
}

// ---------------------------------------------------------------- cast, send

/// Sends `msg` to S's handle_cast, fire-and-forget: never fails, a dead
/// server drops it. co_await it to let others run when this process has
/// spent its reductions (see otp::send). Safe from any thread. GCC 12: see
/// call about braced aggregates inside co_await.
template <class S, class C>
  requires(!detail::is_in_place_type<std::remove_cvref_t<C>>)
detail::guarded<sent, C> cast(const server_ref<S>& to, C&& msg) {
  using Q = std::decay_t<C>;
  static_assert(requires(S& s, Q&& c) { s.handle_cast(std::move(c)); }, "the server has no handle_cast for this type");
  return detail::guarded<sent, C>(
      detail::send_with(to, [&] { return new detail::cast_node<S, Q>(std::in_place, std::forward<C>(msg)); }));
}
/// cast with the message built in place from `args`.
template <class S, class C, class... A>
detail::guarded<sent, A...> cast(const server_ref<S>& to, std::in_place_type_t<C>, A&&... args) {
  static_assert(requires(S& s, C&& c) { s.handle_cast(std::move(c)); }, "the server has no handle_cast for this type");
  return detail::guarded<sent, A...>(detail::send_with(
      to, [&] { return new detail::cast_node<S, C>(std::in_place, std::forward<A>(args)...); }));
}
/// cast by name: errc::noproc when nobody holds `to`, errc::bad_message_type
/// when it is not a server of type S.
template <class S, class C>
result<send_status> cast(const name& to, C&& msg) {
  auto h = server_ref<S>::from(to.whereis());
  if (!h) return h.error();
  return cast(h.value(), std::forward<C>(msg)).status();
}

/// Sends `msg` to S's handle_info (a plain message, as Kernel.send to a
/// GenServer). As otp::send otherwise: never fails, safe from any thread.
template <class S, class I>
  requires(!std::is_same_v<std::remove_cvref_t<I>, std::in_place_t>)
detail::guarded<sent, I> send(const server_ref<S>& to, I&& msg) {
  using Q = std::decay_t<I>;
  static_assert(detail::has_info<S, Q>, "the server has no handle_info for this type");
  return detail::guarded<sent, I>(
      detail::send_with(to, [&] { return new detail::info_node<S, Q>(std::in_place, std::forward<I>(msg)); }));
}

/// Sends `msg` to S's handle_info after `delay` (Process.send_after to a
/// GenServer); see otp/timer.hpp.
template <class S, class I, class Rep, class Period>
timer_ref send_after(std::chrono::duration<Rep, Period> delay, const server_ref<S>& to, I msg) {
  static_assert(detail::has_info<S, I>, "the server has no handle_info for this type");
  return detail::schedule_message(std::chrono::duration_cast<duration>(delay), to, std::move(msg));
}

// ---------------------------------------------------------------- stop

namespace detail {
/// otp::stop's outcome: the server's end answers the request.
struct stop_outcome {
  exit_reason asked;
  result<void> operator()(result<void> r) const {
    if (r) return ok();  // cannot happen: nobody answers a stop
    if (r.error() == errc::exited && r.error().reason == asked) return ok();
    return r.error();
  }
};
using stop_awaiter = mapped_awaiter<request_awaiter<void>, stop_outcome>;
}  // namespace detail

/// Asks `to` to stop with `reason` (GenServer.stop): the request waits its
/// turn in the mailbox, then terminate runs and the server ends. Returns
/// once it has ended: ok if it ended with `reason`; errc::exited with its
/// reason if it ended with another (terminate threw, or it crashed first);
/// errc::noproc if it was dead; errc::timeout after `timeout` (the server
/// goes on stopping); errc::calling_self for the caller itself.
/// Cancellation: a caller ended while waiting stops waiting; the stop
/// request stays in the server's mailbox and is carried out. Inside a
/// process only.
template <class S>
detail::stop_awaiter stop(const server_ref<S>& to, exit_reason reason = exit_reason::normal(),
                          duration timeout = duration::max()) {
  auto* slot = detail::slot_for_request<void>(2);  // the caller's, the node's
  detail::node* n;
  try {
    n = new detail::stop_node<S>(slot, reason);
  } catch (...) {
    slot->refs.reset(1);  // nobody else saw it
    slot->release();
    throw;
  }
  return detail::stop_awaiter(detail::request_awaiter<void>(to, n, timeout, slot), detail::stop_outcome{std::move(reason)});
}

}  // namespace otp

// The server loop and the call machinery, declared above.
#include <otp/detail/server_loop.hpp>
