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

namespace detail {

template <class T>
struct unwrap_task {
  using type = T;
  static constexpr bool is_task = false;
};
template <class T, class M>
struct unwrap_task<task<T, M>> {
  using type = T;
  static constexpr bool is_task = true;
};

/// Stands for the reply_to a handler takes, to find its return type.
struct any_reply_to {
  template <class R>
  operator reply_to<R>() const;  // NOLINT: never defined, for decltype only
};

template <class S, class Req>
concept call_with_from = requires(S& s, Req&& r, any_reply_to f) { s.handle_call(std::move(r), f); };
template <class S, class Req>
concept call_without_from = requires(S& s, Req&& r) { s.handle_call(std::move(r)); };

template <class S, class Req>
auto call_return() {
  if constexpr (call_without_from<S, Req>)
    return std::type_identity<decltype(std::declval<S&>().handle_call(std::declval<Req>()))>{};
  else if constexpr (call_with_from<S, Req>)
    return std::type_identity<decltype(std::declval<S&>().handle_call(std::declval<Req>(), any_reply_to{}))>{};
  else
    return std::type_identity<void>{};
}

template <class Req>
concept declares_reply = requires { typename Req::reply; };

template <class S, class Req>
auto reply_type_of() {
  static_assert(call_with_from<S, Req> || call_without_from<S, Req>,
                "the server has no handle_call for this request type");
  if constexpr (declares_reply<Req>) {
    return std::type_identity<typename Req::reply>{};
  } else {
    using ret = typename unwrap_task<typename decltype(call_return<S, Req>())::type>::type;
    static_assert(!std::is_same_v<ret, noreply_t>,
                  "a handle_call that returns otp::noreply needs the request to declare `using reply = R;`");
    return std::type_identity<ret>{};
  }
}

}  // namespace detail

/// The reply type of a call of Req to a server S.
template <class S, class Req>
using reply_of = typename decltype(detail::reply_type_of<S, std::remove_cvref_t<Req>>())::type;

namespace detail {

/// What the loop does once a callback returned: the base class keeps it.
template <class S>
struct continuation {
  virtual ~continuation() = default;
  /// Runs handle_continue; a coroutine handler leaves its task in `later`.
  virtual void run(S& s, std::optional<task<void>>& later) = 0;
};

/// A reply held back until terminate has run (stop from handle_call).
struct held_reply {
  virtual ~held_reply() = default;
  virtual void send() = 0;
};

template <class R>
struct held_reply_of final : held_reply {
  held_reply_of(reply_to<R> f, R v) : from(std::move(f)), value(std::move(v)) {}
  reply_to<R> from;
  R value;
  void send() override { from.send(std::move(value)); }
};
template <>
struct held_reply_of<void> final : held_reply {
  explicit held_reply_of(reply_to<void> f) : from(std::move(f)) {}
  reply_to<void> from;
  void send() override { from.send(); }
};

template <class S, class R>
void answer(S& s, reply_to<R>& from);
template <class S, class R, class V>
void answer(S& s, reply_to<R>& from, V&& v);

/// The answer of a handle_call that is a coroutine, given when it is done.
template <class S, class R>
struct answer_later {
  S* s;
  reply_to<R> from;
  void operator()() { answer(*s, from); }
  template <class V>
  void operator()(V&& v) {
    answer(*s, from, std::forward<V>(v));
  }
};
struct no_answer {
  void operator()(noreply_t) const noexcept {}
};

/// Awaits a callback that is a coroutine, then hands its value to `then`.
// GCC warns when a coroutine frame (which it treats as an external type)
// holds a parameter whose type comes from an anonymous namespace, as a
// server class in a .cpp file often does; the frame never crosses a
// translation unit, so the warning says nothing here.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wsubobject-linkage"
#endif
template <class T, class M, class Then>
task<void> then_await(task<T, M> t, Then then) {
  if constexpr (std::is_void_v<T>) {
    co_await std::move(t);
    then();
  } else {
    then(co_await std::move(t));
  }
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

template <class S, class R>
void answer(S& s, reply_to<R>& from) {
  if (s.stop_requested_)
    s.held_ = std::make_unique<held_reply_of<void>>(std::move(from));
  else
    from.send();
}
template <class S, class R, class V>
void answer(S& s, reply_to<R>& from, V&& v) {
  if (s.stop_requested_)
    s.held_ = std::make_unique<held_reply_of<R>>(std::move(from), R(std::forward<V>(v)));
  else
    from.send(R(std::forward<V>(v)));
}

/// Calls S's handle_call and answers from its return value.
template <class S, class Req, class R>
void run_call(S& s, Req& req, reply_to<R>& from, std::optional<task<void>>& later) {
  auto invoke = [&]() -> decltype(auto) {  // the same preference as call_return
    if constexpr (call_without_from<S, Req>)
      return s.handle_call(std::move(req));
    else
      return s.handle_call(std::move(req), static_cast<const reply_to<R>&>(from));
  };
  using ret = typename decltype(call_return<S, Req>())::type;
  if constexpr (unwrap_task<ret>::is_task) {
    using T = typename unwrap_task<ret>::type;
    if constexpr (std::is_same_v<T, noreply_t>)
      later.emplace(then_await(invoke(), no_answer{}));
    else
      later.emplace(then_await(invoke(), answer_later<S, R>{&s, std::move(from)}));
  } else if constexpr (std::is_same_v<ret, noreply_t>) {
    (void)invoke();
  } else if constexpr (std::is_void_v<ret>) {
    invoke();
    answer(s, from);
  } else {
    answer(s, from, invoke());
  }
}

/// Calls a handler that answers nothing (cast, info, continue): void or task<void>.
template <class Ret, class Invoke>
void run_noreply(Invoke&& invoke, std::optional<task<void>>& later) {
  if constexpr (unwrap_task<Ret>::is_task) {
    static_assert(std::is_void_v<typename unwrap_task<Ret>::type>,
                  "handle_cast, handle_info and handle_continue return void or otp::task<void>");
    later.emplace(invoke());
  } else {
    static_assert(std::is_void_v<Ret>, "handle_cast, handle_info and handle_continue return void or otp::task<void>");
    invoke();
  }
}

template <class S, class C>
struct continuation_of final : continuation<S> {
  explicit continuation_of(C c) : value(std::move(c)) {}
  C value;
  void run(S& s, std::optional<task<void>>& later) override {
    using ret = decltype(s.handle_continue(std::move(value)));
    run_noreply<ret>([&]() -> decltype(auto) { return s.handle_continue(std::move(value)); }, later);
  }
};

/// Everything in a server's mailbox of its own type.
template <class S>
struct letter_node : node {
  letter_node() noexcept : node(node_kind::message) {}
  /// Runs the handler; one that awaits leaves its task in `later` (the node
  /// stays alive until it is done: a handler may take its request by reference).
  virtual void open(S& s, std::optional<task<void>>& later) = 0;
};

template <class S, class Req, class R>
struct call_node final : letter_node<S> {
  /// Adopts two of the slot's references: its own and `from`'s.
  template <class... A>
  call_node(reply_value<R>* slot, std::in_place_t, A&&... a)
      : req(std::forward<A>(a)...), from(adopt_ref, slot), slot_(slot) {
    this->request = true;
  }
  ~call_node() override {
    if (slot_) slot_->release();
  }
  reply_slot* take_slot() noexcept override { return std::exchange(slot_, nullptr); }
  void open(S& s, std::optional<task<void>>& later) override { run_call<S, Req, R>(s, req, from, later); }

  Req req;
  reply_to<R> from;

 private:
  reply_slot* slot_;
};

template <class S, class C>
struct cast_node final : letter_node<S> {
  template <class... A>
  explicit cast_node(std::in_place_t, A&&... a) : msg(std::forward<A>(a)...) {}
  void open(S& s, std::optional<task<void>>& later) override {
    using ret = decltype(s.handle_cast(std::move(msg)));
    run_noreply<ret>([&]() -> decltype(auto) { return s.handle_cast(std::move(msg)); }, later);
  }
  C msg;
};

template <class S, class I>
struct info_node final : letter_node<S> {
  template <class... A>
  explicit info_node(std::in_place_t, A&&... a) : msg(std::forward<A>(a)...) {}
  void open(S& s, std::optional<task<void>>& later) override {
    using ret = decltype(s.handle_info(std::move(msg)));
    run_noreply<ret>([&]() -> decltype(auto) { return s.handle_info(std::move(msg)); }, later);
  }
  I msg;
};

/// otp::stop's request: never answered; the server's end answers it.
template <class S>
struct stop_node final : letter_node<S> {
  /// Adopts one of the slot's references.
  stop_node(reply_value<void>* slot, exit_reason r) : reason(std::move(r)), slot_(slot) { this->request = true; }
  ~stop_node() override {
    if (slot_) slot_->release();
  }
  reply_slot* take_slot() noexcept override { return std::exchange(slot_, nullptr); }
  void open(S& s, std::optional<task<void>>&) override {
    s.stop_requested_ = true;
    s.stop_reason_ = std::move(reason);
  }
  exit_reason reason;

 private:
  reply_slot* slot_;
};

template <class S, class T>
concept has_info = requires(S& s, T&& t) { s.handle_info(std::move(t)); };

/// A receive that hands over the node itself.
struct take_node {
  using type = node*;
  static node* take(process_base& p, node* n) noexcept {
    dequeued(p, n);
    return n;
  }
};

/// The readable name of a type ("todo::cache"), for ids and log lines.
std::string readable_type_name(const char* mangled);
/// Logs a message a server had no handler for (GenServer's "unexpected message").
void log_unexpected(process_base& p, const char* server_type, const std::string& what);
/// The `error` exit reason of an exception that escaped a callback, without a
/// rethrow (callers catch otp::exit_exception first).
exit_reason reason_of(const std::exception& e);
/// Ends the running body with `r` when it returns (unless a signal ended it first).
void end_with(process_base& p, exit_reason r) noexcept;

template <class S>
std::string server_type_name() {
  return readable_type_name(typeid(S).name());
}

/// Unhandled system messages go to the log, as GenServer's default handle_info.
template <class S, class T>
void info_or_log(S& s, process_base& p, T&& msg, std::optional<task<void>>& later, const char* what) {
  if constexpr (has_info<S, T>) {
    using ret = decltype(s.handle_info(std::move(msg)));
    run_noreply<ret>([&]() -> decltype(auto) { return s.handle_info(std::move(msg)); }, later);
  } else {
    log_unexpected(p, typeid(S).name(), what);
  }
}

template <class S>
void run_terminate_sync(S& s, const exit_reason& r) {
  if constexpr (requires { s.terminate(r); }) {
    using ret = decltype(s.terminate(r));
    static_assert(std::is_void_v<ret>, "terminate returns void or otp::task<void>");
    s.terminate(r);
  }
}

template <class S>
constexpr bool terminate_is_task = [] {
  if constexpr (requires(S& s, const exit_reason& r) { s.terminate(r); })
    return unwrap_task<decltype(std::declval<S&>().terminate(std::declval<const exit_reason&>()))>::is_task;
  else
    return false;
}();

template <class S>
constexpr bool init_is_task = [] {
  if constexpr (requires(S& s) { s.init(); })
    return unwrap_task<decltype(std::declval<S&>().init())>::is_task;
  else
    return false;
}();

/// The server's process: init, acknowledge, then one callback at a time.
template <class S, class... A>
process<letter<S>> server_main(A... args) {
  process_base& p = current_or_throw("otp::server");
  std::optional<S> state;
  state.emplace(std::move(args)...);
  S& s = *state;
  if constexpr (init_is_task<S>)
    co_await s.init();
  else if constexpr (requires { s.init(); })
    s.init();
  if (s.stop_requested_) init_fail(std::move(s.stop_reason_));  // GenServer's {:stop, reason} from init
  init_ack();

  exit_reason why;
  bool ending = false;  // a callback failed, or stop was asked for
  for (;;) {
    std::unique_ptr<node> n;
    std::optional<task<void>> later;
    try {
      if (auto c = std::move(s.continue_)) {
        c->run(s, later);
        if (later) co_await std::move(*later);
      } else {
        auto t = std::exchange(s.timeout_, std::nullopt);
        if (t) {
          auto got = co_await timed_receive_awaiter<letter<S>, take_node>(&p, *t);
          if (got) n.reset(*got);
        } else {
          n.reset(co_await receive_awaiter<letter<S>, take_node>(&p));
        }
        if (!n) {
          info_or_log(s, p, server_timeout{}, later, "server_timeout");
        } else if (n->kind == node_kind::message) {
          static_cast<letter_node<S>*>(n.get())->open(s, later);
        } else {
          auto* sn = static_cast<signal_node*>(n.get());
          if (n->kind == node_kind::exit_message) {
            if (sn->from == p.parent) {  // trapping, and the parent asks us to end
              s.stop_requested_ = true;
              s.stop_reason_ = sn->reason;
            } else {
              info_or_log(s, p, exit_message(sn->from, sn->reason), later, "exit_message");
            }
          } else {
            info_or_log(s, p, down_message(sn->ref, sn->from, sn->reason), later, "down_message");
          }
        }
        if (later) co_await std::move(*later);
      }
    } catch (const exit_exception& x) {
      why = x.reason();
      ending = true;
    } catch (const std::exception& e) {
      why = reason_of(e);
      ending = true;
    } catch (...) {
      why = exit_reason::from_current_exception();
      ending = true;
    }
    release_answered(p);  // the caller finds its slot free for its next call
    if (!ending && s.stop_requested_) {
      why = std::move(s.stop_reason_);
      ending = true;
    }
    if (ending) break;
  }

  // terminate, then a reply held back by stop, then the end.
  try {
    if constexpr (terminate_is_task<S>)
      co_await s.terminate(why);
    else
      run_terminate_sync(s, why);
  } catch (const exit_exception& x) {
    why = x.reason();
  } catch (const std::exception& e) {
    why = reason_of(e);
  } catch (...) {
    why = exit_reason::from_current_exception();
  }
  if (auto h = std::move(s.held_)) h->send();
  end_with(p, std::move(why));
}

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

/// A call's request node: the request built in place from `args`.
template <class S, class Req, class... A>
request_awaiter<reply_of<S, Req>> make_call(const server_ref<S>& to, duration timeout, A&&... args) {
  using R = reply_of<S, Req>;
  auto* slot = slot_for_request<R>(3);  // the caller's, the node's, the node's reply_to
  node* n;
  try {
    n = new call_node<S, Req, R>(slot, std::in_place, std::forward<A>(args)...);
  } catch (...) {
    slot->refs.store(1, std::memory_order_relaxed);  // nobody else saw it
    slot->release();
    throw;
  }
  return request_awaiter<R>(to, n, timeout, slot);
}
template <class S, class Req>
request_awaiter<reply_of<S, Req>> no_server(const result<server_ref<S>>& h) {
  return request_awaiter<reply_of<S, Req>>(h.error() == errc::noproc ? error(errc::noproc, exit_reason::noproc())
                                                                     : h.error());
}
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
    slot->refs.store(1, std::memory_order_relaxed);
    slot->release();
    throw;
  }
  return detail::stop_awaiter(detail::request_awaiter<void>(to, n, timeout, slot), detail::stop_outcome{std::move(reason)});
}

}  // namespace otp
