// SPDX-License-Identifier: MIT
#pragma once
// The machinery of otp::process<M> (otp/process.hpp): the promise every
// coroutine running in a process shares, which binds each awaitable to the
// process awaiting it and refuses anything that is not otp's.

#include <otp/detail/process_base.hpp>
#include <otp/detail/temporaries.hpp>

#include <coroutine>
#include <cstddef>
#include <type_traits>
#include <utility>

namespace otp {

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

}  // namespace otp
