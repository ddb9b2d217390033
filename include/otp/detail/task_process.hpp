// SPDX-License-Identifier: MIT
#pragma once
// The machinery of otp::async (otp/async.hpp): the process a task runs in,
// the reply slot it answers through, and the child start and awaiter of
// async_nolink.

#include <otp/process.hpp>
#include <otp/request.hpp>
#include <otp/supervisor.hpp>
#include <otp/task.hpp>

#include <memory>
#include <type_traits>
#include <utility>

namespace otp {

template <class T>
class async_task;

namespace detail {

template <class F>
struct task_value {
  using ret = std::invoke_result_t<F&>;
  template <class T>
  struct unwrap {
    using type = T;
  };
  template <class T, class M>
  struct unwrap<task<T, M>> {
    using type = T;
  };
  using type = typename unwrap<ret>::type;
};

/// A task's reply slot: the task holds it as its acknowledgement slot, so its
/// end (before it answered) answers it with its exit reason.
template <class T>
struct task_slot final : reply_value<T> {
  void owner_ended(const exit_reason& r) noexcept override { this->end(r); }
};

/// Writes the task's value into its slot (held as the process's ack).
template <class T, class... V>
void deliver_task_value(V&&... v) {
  process_base& p = current_or_throw("otp::async");
  auto* slot = static_cast<task_slot<T>*>(std::exchange(p.ack, nullptr));
  if (slot->claim()) {
    slot->value.emplace(std::forward<V>(v)...);
    slot->publish();
  }
  slot->release();
}

/// The task's process.
// GCC warns when a coroutine frame holds a parameter of a type with no
// linkage (a lambda); the frame never crosses a translation unit.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wsubobject-linkage"
#endif
template <class T, class F>
process<> task_main(F fn) {
  using ret = std::invoke_result_t<F&>;
  if constexpr (std::is_void_v<T>) {
    if constexpr (std::is_void_v<ret>)
      std::invoke(fn);
    else
      co_await std::invoke(fn);
    deliver_task_value<void>();
  } else if constexpr (std::is_same_v<ret, T>) {
    deliver_task_value<T>(std::invoke(fn));
  } else {
    deliver_task_value<T>(co_await std::invoke(fn));
  }
  co_return;
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

template <class T>
using task_slot_ref = intrusive_ref<task_slot<T>>;

/// The slot of a new task, waited on by `caller`; the task takes its own
/// reference when it is spawned.
template <class T>
task_slot_ref<T> new_task_slot(process_base& caller) {
  auto s = task_slot_ref<T>::adopt(new task_slot<T>);
  s->waiter = pid_of(caller);
  return s;
}

/// A child start that hands its task the reply slot (async_nolink).
template <class T, class F>
class task_start final : public child_starter {
 public:
  task_start(task_slot_ref<T> slot, F fn) : slot_(std::move(slot)), fn_(std::move(fn)) { this->acks = false; }
  result<pid> spawn(reply_slot*, process_base& sup, const spawn_options& o, const extra_args&) const override {
    error refused;
    pid child(spawn_with_ack(slot_.get(), &refused, nullptr, &sup, o, &task_main<T, F>, F(fn_)).pid);
    if (!child) return refused;
    return child;
  }

 private:
  task_slot_ref<T> slot_;
  F fn_;
};

/// Makes an async_task from its slot, and takes the slot back to await it.
struct task_access {
  template <class T>
  static async_task<T> make(pid p, task_slot_ref<T> slot) noexcept;
  template <class T>
  static task_slot_ref<T> take(async_task<T>& t) noexcept;
};

template <class T>
class nolink_start {
 public:
  nolink_start(flat_request<pid> inner, task_slot_ref<T> slot) noexcept
      : inner_(std::move(inner)), slot_(std::move(slot)) {}
  void bind(process_base& p) noexcept { inner_.bind(p); }
  bool await_ready() { return inner_.await_ready(); }
  void await_suspend(std::coroutine_handle<> h) { inner_.await_suspend(h); }
  result<async_task<T>> await_resume() {
    auto r = inner_.await_resume();
    if (!r) return r.error();
    return task_access::make(std::move(r).value(), std::move(slot_));
  }

 private:
  flat_request<pid> inner_;
  task_slot_ref<T> slot_;
};
}  // namespace detail

}  // namespace otp
