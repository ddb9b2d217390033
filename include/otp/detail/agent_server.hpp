// SPDX-License-Identifier: MIT
#pragma once
// The server an otp::agent runs (otp/agent.hpp): it holds the value and runs
// each operation's function on it, in arrival order.

#include <otp/server.hpp>

#include <functional>
#include <type_traits>
#include <utility>

namespace otp {

namespace detail {

template <class V>
struct agent_server : server<agent_server<V>> {
  template <class F>
  explicit agent_server(std::in_place_t, F init) : value(std::invoke(init)) {}

  template <class F>
  struct get_op {
    F fn;
  };
  template <class F>
  struct update_op {
    F fn;
  };
  template <class F>
  struct get_and_update_op {
    F fn;
  };
  template <class F>
  struct cast_op {
    F fn;
  };

  template <class F>
  auto handle_call(get_op<F> op) {
    return std::invoke(op.fn, std::as_const(value));
  }
  template <class F>
  void handle_call(update_op<F> op) {
    std::invoke(op.fn, value);
  }
  template <class F>
  auto handle_call(get_and_update_op<F> op) {
    return std::invoke(op.fn, value);
  }
  template <class F>
  void handle_cast(cast_op<F> op) {
    std::invoke(op.fn, value);
  }

  V value;
};

}  // namespace detail

}  // namespace otp
