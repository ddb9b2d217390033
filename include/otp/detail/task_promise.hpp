// SPDX-License-Identifier: MIT
#pragma once
// The promise of otp::task (otp/task.hpp): receives for the awaiting
// process, hands control back to the awaiting frame at the end, and keeps
// the value or the exception until the awaiter takes it.

#include <otp/process.hpp>

#include <coroutine>
#include <exception>
#include <optional>
#include <utility>

namespace otp {

namespace detail {

template <class M>
struct task_promise_receive : promise_core {
  using promise_core::await_transform;
  receive_awaiter<M> await_transform(receive_op) noexcept { return receive_awaiter<M>(this->self); }
  timed_receive_awaiter<M> await_transform(timed_receive_op op) noexcept {
    return timed_receive_awaiter<M>(this->self, op.timeout);
  }
};
template <>
struct task_promise_receive<void> : promise_core {
  using promise_core::await_transform;
};

template <class M>
struct task_promise_base : task_promise_receive<M> {
  std::coroutine_handle<> parent;
  std::exception_ptr failure;

  struct to_parent {
    bool await_ready() const noexcept { return false; }
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) noexcept {
      auto& pr = h.promise();
      pr.self->resume_point = pr.parent;
      return pr.parent;
    }
    void await_resume() const noexcept {}
  };
  to_parent final_suspend() noexcept { return {}; }
  void unhandled_exception() noexcept { failure = std::current_exception(); }

  using task_promise_receive<M>::await_transform;
  template <class T, class TM>
  decltype(auto) await_transform(task<T, TM>&& t) noexcept {
    static_assert(task_fits<TM, M>, "this task receives another message type than the task awaiting it");
    return promise_core::await_transform(std::move(t));
  }
  template <class T, class TM>
  decltype(auto) await_transform(task<T, TM>& t) noexcept {
    static_assert(task_fits<TM, M>, "this task receives another message type than the task awaiting it");
    return promise_core::await_transform(t);
  }
};

template <class T, class M>
struct task_promise : task_promise_base<M> {
  std::optional<T> value;
  template <class U = T>
  void return_value(U&& v) {
    value.emplace(std::forward<U>(v));
  }
  T take() {
    if (this->failure) std::rethrow_exception(this->failure);
    return std::move(*value);
  }
};
template <class M>
struct task_promise<void, M> : task_promise_base<M> {
  void return_void() noexcept {}
  void take() {
    if (this->failure) std::rethrow_exception(this->failure);
  }
};

}  // namespace detail

}  // namespace otp
