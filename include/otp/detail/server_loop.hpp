// SPDX-License-Identifier: MIT
#pragma once
// How a server<S> runs (otp/server.hpp): its process (init, acknowledge,
// then one callback at a time), the nodes calls, casts, infos and stops
// arrive as, handlers that answer later or are coroutines, and the call's
// request node. Included at the end of otp/server.hpp, whose declarations
// it completes.

#include <otp/server.hpp>

namespace otp {

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
      : req(std::forward<A>(a)...), from(adopt_ref, slot), slot_(intrusive_ref<reply_slot>::adopt(slot)) {
    this->request = true;
  }
  reply_slot* take_slot() noexcept override { return slot_.detach(); }
  void open(S& s, std::optional<task<void>>& later) override { run_call<S, Req, R>(s, req, from, later); }

  Req req;
  reply_to<R> from;

 private:
  intrusive_ref<reply_slot> slot_;
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
  stop_node(reply_value<void>* slot, exit_reason r)
      : reason(std::move(r)), slot_(intrusive_ref<reply_slot>::adopt(slot)) {
    this->request = true;
  }
  reply_slot* take_slot() noexcept override { return slot_.detach(); }
  void open(S& s, std::optional<task<void>>&) override {
    s.stop_requested_ = true;
    s.stop_reason_ = std::move(reason);
  }
  exit_reason reason;

 private:
  intrusive_ref<reply_slot> slot_;
};


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

namespace detail {
/// A call's request node: the request built in place from `args`.
template <class S, class Req, class... A>
request_awaiter<reply_of<S, Req>> make_call(const server_ref<S>& to, duration timeout, A&&... args) {
  using R = reply_of<S, Req>;
  auto* slot = slot_for_request<R>(3);  // the caller's, the node's, the node's reply_to
  node* n;
  try {
    n = new call_node<S, Req, R>(slot, std::in_place, std::forward<A>(args)...);
  } catch (...) {
    slot->refs.reset(1);  // nobody else saw it
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

}  // namespace otp
