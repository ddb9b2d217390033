// SPDX-License-Identifier: MIT
#pragma once
// The reply type of a call to a server (otp/server.hpp's reply_of): found
// from the request's own `using reply = R;`, or from what S's handle_call
// for it returns (unwrapping a task<R>).

#include <otp/request.hpp>
#include <otp/task.hpp>

#include <type_traits>
#include <utility>

namespace otp {

struct noreply_t;

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

}  // namespace otp
