// SPDX-License-Identifier: MIT
#pragma once
// otp::task<T, M>: a helper coroutine that a process body (or another task)
// co_awaits, so a long body can be split into functions that wait.
//
//   otp::task<int, job> next_batch(int n) {        // may receive `job`s
//     int sum = 0;
//     for (int i = 0; i < n; ++i) {
//       auto m = co_await otp::receive();
//       if (auto* j = std::get_if<job>(&m)) sum += j->size;
//     }
//     co_return sum;
//   }
//   otp::process<job> worker() { int s = co_await next_batch(10); ... }
//
// A task runs inside the process that awaits it: otp::self(), receive, send,
// timers and Asio operations all act for that process. It starts when
// awaited (not before) and hands back its value, or rethrows what escaped it.
// M is the message type it may receive: a task<T, M> can be awaited only from
// a process<M> (or a task<_, M>); the default, void, means the task does not
// receive and fits any process.
//
// Cancellation: when the process ends while a task waits, the whole chain of
// frames is destroyed from the body down, so every destructor runs, as for
// the body itself. A task object that is never awaited is destroyed without
// running.
//
// Take parameters by value (the frame keeps them); a task is awaited once.

#include <otp/process.hpp>
#include <otp/detail/task_promise.hpp>

#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

namespace otp {

template <class T = void, class M = void>
class [[nodiscard]] task {
 public:
  using value_type = T;
  using message_type = M;

  struct promise_type : detail::task_promise<T, M> {
    task get_return_object() noexcept { return task(std::coroutine_handle<promise_type>::from_promise(*this)); }
  };

  task(task&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  task(const task&) = delete;
  task& operator=(const task&) = delete;
  ~task() {
    if (h_) h_.destroy();
  }

  // The awaitable protocol (bound to the awaiting process by its promise).
  void bind(detail::process_base& p) noexcept { h_.promise().self = &p; }
  bool await_ready() const noexcept { return false; }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> parent) noexcept {
    auto& pr = h_.promise();
    pr.parent = parent;
    pr.self->resume_point = h_;
    return h_;
  }
  T await_resume() { return h_.promise().take(); }

 private:
  explicit task(std::coroutine_handle<promise_type> h) noexcept : h_(h) {}
  std::coroutine_handle<promise_type> h_;
};

}  // namespace otp
