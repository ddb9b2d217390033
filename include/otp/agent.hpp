// SPDX-License-Identifier: MIT
#pragma once
// otp::agent<V>: a process that holds a value (Elixir's Agent).
//
//   auto counter = (co_await otp::start_agent([] { return 0; })).value();
//   (void)co_await counter.update([](int& n) { ++n; });
//   int n = (co_await counter.get([](const int& v) { return v; })).value();
//
// The value lives in the agent's process; the functions run there, one at a
// time, in the order they arrive, so concurrent updates never race. An agent
// is a server (otp/server.hpp): start it linked, under a name, or as a
// supervisor child; it ends like one.
//
// Each operation is a call with a timeout (5 s by default): errc::noproc for
// a dead agent, errc::exited with its reason when it dies meanwhile (a
// function that throws crashes it: let it crash), errc::timeout. cast runs a
// function without waiting. Cancellation: a caller ended while waiting stops
// waiting; the function still runs in the agent. Thread safety: a handle is a
// value; the operations need a calling process (cast works from anywhere).
//
// GCC 12: a lambda that captures by value something with a destructor (a
// std::string), written as a temporary inside co_await, does not compile
// there (GCC 12 would destroy the capture twice; otp/detail/temporaries.hpp).
// Capture by reference, or name the lambda first.

#include <otp/server.hpp>
#include <otp/detail/agent_server.hpp>

#include <functional>
#include <string>
#include <type_traits>
#include <utility>

namespace otp {

/// A handle to an agent holding a V. A pid too (link, monitor, exit).
template <class V>
class agent {
 public:
  using value_type = V;
  using server_type = detail::agent_server<V>;

  agent() noexcept = default;
  explicit agent(server_ref<server_type> s) noexcept : s_(std::move(s)) {}

  /// fn(const V&) -> R runs in the agent. co_await completes with
  /// result<R>: fn's value; errc::noproc (no agent), errc::exited (it died
  /// meanwhile, fn's exception included), errc::timeout (fn may still run;
  /// its value is dropped). A caller ended while waiting stops waiting; fn
  /// still runs. Awaited inside a process.
  template <class F>
  auto get(F&& fn, duration timeout = config::default_call_timeout) const {
    return op<typename server_type::template get_op<std::decay_t<F>>, F>(std::forward<F>(fn), timeout);
  }
  /// fn(V&) changes the value. co_await completes with result<void> once it
  /// ran; the errors, cancellation and thread safety of get.
  template <class F>
  auto update(F&& fn, duration timeout = config::default_call_timeout) const {
    return op<typename server_type::template update_op<std::decay_t<F>>, F>(std::forward<F>(fn), timeout);
  }
  /// fn(V&) -> R may change the value and returns what the caller gets.
  /// co_await completes with result<R>; the errors, cancellation and thread
  /// safety of get.
  template <class F>
  auto get_and_update(F&& fn, duration timeout = config::default_call_timeout) const {
    return op<typename server_type::template get_and_update_op<std::decay_t<F>>, F>(std::forward<F>(fn), timeout);
  }
  /// fn(V&) runs in the agent later; no waiting. Returns how the send went
  /// (a dead agent drops it: send_status::dropped). From any thread, inside
  /// or outside a process.
  template <class F>
  send_status cast(F&& fn) const {
    return otp::cast(s_, std::in_place_type<typename server_type::template cast_op<std::decay_t<F>>>,
                     std::forward<F>(fn))
        .status();
  }
  /// Stops the agent as otp::stop stops a server: co_await completes with
  /// result<void> once it ended (errc::noproc, errc::exited with another
  /// reason, errc::timeout: it goes on stopping). A caller ended while
  /// waiting stops waiting; the agent still stops. Awaited inside a process.
  auto stop(exit_reason reason = exit_reason::normal(), duration timeout = duration::max()) const {
    return otp::stop(s_, std::move(reason), timeout);
  }

  const server_ref<server_type>& ref() const noexcept { return s_; }
  operator const pid&() const noexcept { return s_; }  // NOLINT: link, monitor, exit take it as a pid
  explicit operator bool() const noexcept { return static_cast<bool>(s_); }

  /// A child spec that starts an agent with `init` (a permanent worker).
  template <class F>
  static child_spec child_spec(std::string id, F init) {
    return otp::child_spec(std::move(id), start_fn(&detail::server_main<server_type, std::in_place_t, F>,
                                                   std::in_place, std::move(init)));
  }

 private:
  // A call whose request wraps `fn`, guarded for GCC 12 by what `fn` was
  // given as (a lambda temporary, or a named one).
  template <class Op, class F>
  detail::guarded<detail::request_awaiter<reply_of<server_type, Op>>, F> op(F&& fn, duration timeout) const {
    return detail::guarded<detail::request_awaiter<reply_of<server_type, Op>>, F>(
        detail::make_call<server_type, Op>(s_, timeout, std::forward<F>(fn)));
  }

  server_ref<server_type> s_;
};

namespace detail {
template <class V>
struct to_agent {
  result<agent<V>> operator()(result<server_ref<agent_server<V>>> r) const {
    if (!r) return r.error();
    return agent<V>(std::move(r).value());
  }
};
}  // namespace detail

/// Starts an agent whose value is `init()`, run inside the new process,
/// linked to the caller (`o`: a name, no link, a start timeout). co_await
/// completes with its handle; errc::start_failed when init throws (with the
/// exception as the reason), errc::already_started when the name is taken,
/// errc::timeout. As start_link: a caller ended while waiting takes the
/// agent down through the link. Awaited inside a process.
template <class F>
auto start_agent(F&& init, const start_options& o = {}) {
  using V = std::decay_t<std::invoke_result_t<std::decay_t<F>&>>;
  auto s = detail::start_unguarded(o, &detail::server_main<detail::agent_server<V>, std::in_place_t, std::decay_t<F>>,
                                   std::in_place, std::forward<F>(init));
  using A = detail::mapped_awaiter<decltype(s), detail::to_agent<V>>;
  return detail::guarded<A, F>(A(std::move(s), {}));  // guarded by what `init` was given as
}

}  // namespace otp
