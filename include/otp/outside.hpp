// SPDX-License-Identifier: MIT
#pragma once
// otp from plain Asio code: async_call, async_request, async_cast,
// async_wait_exit.
//
// Code that is not a process (main, an Asio handler, an asio::awaitable
// coroutine, another thread) cannot co_await otp's awaitables. These are
// Asio asynchronous operations instead: they take a completion token, so
//
//   otp::async_call(srv, get("k"), [](otp::result<int> r) { ... });          // a callback
//   std::future<otp::result<int>> f = otp::async_call(srv, get("k"), asio::use_future);
//   otp::result<int> r = co_await otp::async_call(srv, get("k"), asio::use_awaitable);
//   auto op = otp::async_call(srv, get("k"), asio::experimental::deferred);  // run later: op(token)
//
// (`get` has a constructor: GCC 12 destroys a braced aggregate temporary
// inside co_await twice, so where that compiler is used, a request that is
// such an aggregate is refused with an awaitable token: otp/detail/temporaries.hpp.)
//
// (Asio 1.22's deferred operation cannot be co_awaited directly inside an
// asio::awaitable; call it with a token: `co_await std::move(op)(asio::use_awaitable)`.)
//
// The outcomes are those of otp::call (otp/server.hpp): the reply, or
// errc::noproc, errc::exited (the server's reason), errc::timeout (a later
// reply is dropped). calling_self cannot happen: the caller is no process.
//
// Completion: the handler runs as if by asio::post on its associated
// executor; a handler without one runs on the executor of the runtime the
// target lives on (for a null target, on asio::system_executor). Never
// inside the call, never on a shard's drain. Outstanding work is counted on
// that executor until the handler has run, so its io_context::run() does not
// return before.
//
// Cancellation: these operations do not support per-operation cancellation
// (a bound cancellation slot is ignored); give async_call a timeout instead.
// Thread safety: call them from any thread.

#include <otp/server.hpp>
#include <otp/detail/outside_ops.hpp>

#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/execution/outstanding_work.hpp>
#include <asio/post.hpp>
#include <asio/prefer.hpp>
#include <asio/system_executor.hpp>

#include <optional>
#include <type_traits>
#include <utility>

namespace otp {

/// otp::call from outside any process (see the top of this header): calls the
/// server `to` with `req`, waiting at most `timeout`. Completion signature:
/// void(otp::result<reply_of<S, Req>>).
template <class S, class Req, class Token>
auto async_call(const server_ref<S>& to, Req&& req, duration timeout, Token&& token) {
  using Q = std::decay_t<Req>;
  using R = reply_of<S, Q>;
  auto make = [req = Q(std::forward<Req>(req))](detail::reply_value<R>* slot) mutable -> detail::node* {
    return new detail::call_node<S, Q, R>(slot, std::in_place, std::move(req));
  };
  detail::check_awaited_temporaries<decltype(asio::async_initiate<Token, void(result<R>)>(
                                        detail::initiate_request<R>{}, token, pid(to), std::move(make), timeout)),
                                    Req>();
  return asio::async_initiate<Token, void(result<R>)>(detail::initiate_request<R>{}, token, pid(to), std::move(make),
                                                     timeout);
}
/// async_call with the default timeout (5 s, GenServer.call's).
template <class S, class Req, class Token>
auto async_call(const server_ref<S>& to, Req&& req, Token&& token) {
  return async_call(to, std::forward<Req>(req), duration(config::default_call_timeout), std::forward<Token>(token));
}

/// otp::request from outside any process: sends `build(reply_to<R>)` to `to`
/// and waits at most `timeout` for the answer. Completion signature:
/// void(otp::result<R>).
template <class R, class M, class Build, class Token>
auto async_request(const handle<M>& to, Build&& build, duration timeout, Token&& token) {
  auto make = [build = std::decay_t<Build>(std::forward<Build>(build))](detail::reply_value<R>* slot) mutable
      -> detail::node* {
    reply_to<R> r(detail::adopt_ref, slot);
    return new detail::request_node<M>(detail::adopt_ref, slot, std::in_place, std::invoke(build, std::move(r)));
  };
  detail::check_awaited_temporaries<decltype(asio::async_initiate<Token, void(result<R>)>(
                                        detail::initiate_request<R>{}, token, pid(to), std::move(make), timeout)),
                                    Build>();
  return asio::async_initiate<Token, void(result<R>)>(detail::initiate_request<R>{}, token, pid(to), std::move(make),
                                                     timeout);
}

/// otp::cast from outside any process, as an Asio operation: the cast
/// happens at once; the handler gets its send_status. Completion signature:
/// void(otp::send_status). (A plain otp::cast works from anywhere too.)
template <class S, class C, class Token>
auto async_cast(const server_ref<S>& to, C&& msg, Token&& token) {
  auto send = [to, msg = std::decay_t<C>(std::forward<C>(msg))]() mutable {
    return otp::cast(to, std::move(msg)).status();
  };
  detail::check_awaited_temporaries<decltype(asio::async_initiate<Token, void(send_status)>(
                                        detail::initiate_cast{}, token, pid(to), std::move(send))),
                                    C>();
  return asio::async_initiate<Token, void(send_status)>(detail::initiate_cast{}, token, pid(to), std::move(send));
}

/// Waits for the process `p` to end. Completion signature:
/// void(otp::exit_reason): its exit reason, or noproc when it had ended
/// already (or `p` is null). Like a monitor, it costs the process nothing
/// until it ends.
template <class Token>
auto async_wait_exit(const pid& p, Token&& token) {
  return asio::async_initiate<Token, void(exit_reason)>(detail::initiate_wait_exit{}, token, p);
}

}  // namespace otp
