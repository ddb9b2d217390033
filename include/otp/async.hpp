// SPDX-License-Identifier: MIT
#pragma once
// Tasks: otp::async / otp::await for one-off work in its own process
// (Elixir's Task), and otp::async_nolink under a task supervisor.
//
//   auto t = otp::async([url] { return fetch(url); });     // a new process, linked
//   ...                                                   // meanwhile, other work
//   otp::result<page> p = co_await otp::await(std::move(t));
//
// `fn` runs in a new process; it may be a plain callable returning T, or a
// coroutine returning otp::task<T> (which may co_await calls, otp::offload,
// Asio operations). Its value goes to the process that started it through
// a reply slot of its own, never through a mailbox.
//
// async links the task to the caller, as Task.async does: if the task
// crashes, the caller crashes with it (unless it traps exits: then await
// returns errc::exited with the task's reason, and an exit_message arrives).
// async_nolink starts the task under a task supervisor (a dynamic supervisor
// with temporary children): a crash does not touch the caller, which sees the
// reason from await. Either way the task is watched for the caller without a
// monitor: the task's end answers the slot.
//
// await(t, timeout = 5 s):
//   the task's value
//   errc::exited      the task ended without a value; error::reason is why
//   errc::timeout     no value in time; the task keeps running and a later
//                     value is dropped (Elixir exits the caller here; errors
//                     are values in otp: end the task with otp::exit(t.pid(), R))
//   errc::not_owner   awaited from another process than the one that started it
// Cancellation: a caller ended while awaiting gives up the value; the task is
// unaffected (a linked one gets the caller's exit signal, as in Elixir).
// An async_task dropped without being awaited lets the task run; its value
// is dropped.
//
// Thread safety: async, async_nolink and await act for the calling process
// (outside a process: a broken contract, OTP_ASSERT). An async_task belongs
// to the process that started it: awaited from another, errc::not_owner.
//
// GCC 12: keep async(...) out of a co_await expression, as above. In
// `co_await otp::await(otp::async([url] { ... }))` the lambda is a temporary
// inside co_await, which GCC 12 destroys twice, and await cannot see it
// (otp/detail/temporaries.hpp). async_nolink, which is awaited itself, is
// checked.

#include <otp/dynamic_supervisor.hpp>
#include <otp/request.hpp>
#include <otp/supervisor.hpp>
#include <otp/task.hpp>
#include <otp/detail/task_process.hpp>

#include <memory>
#include <type_traits>
#include <utility>

namespace otp {

/// A running task (see the top of this header). Move-only; await it once,
/// from the process that started it.
template <class T>
class async_task {
 public:
  using value_type = T;
  async_task() noexcept = default;
  async_task(async_task&&) noexcept = default;
  async_task& operator=(async_task o) noexcept {
    std::swap(pid_, o.pid_);
    slot_.swap(o.slot_);
    return *this;  // o, now holding the old task, gives it up
  }
  ~async_task() {
    if (slot_) slot_->abandon();  // a value that comes later is dropped
  }
  /// The task's process.
  const otp::pid& pid() const noexcept { return pid_; }
  /// False once awaited (or moved from).
  explicit operator bool() const noexcept { return bool(slot_); }

 private:
  friend struct detail::task_access;
  async_task(otp::pid p, detail::intrusive_ref<detail::task_slot<T>> slot) noexcept
      : pid_(std::move(p)), slot_(std::move(slot)) {}
  otp::pid pid_;
  detail::intrusive_ref<detail::task_slot<T>> slot_;
};

namespace detail {
template <class T>
async_task<T> task_access::make(pid p, task_slot_ref<T> slot) noexcept {
  return async_task<T>(std::move(p), std::move(slot));
}
template <class T>
task_slot_ref<T> task_access::take(async_task<T>& t) noexcept {
  return std::move(t.slot_);
}
}  // namespace detail

/// Runs `fn()` in a new process linked to the caller and returns its handle
/// at once. Inside a process only (outside one: a broken contract, OTP_ASSERT).
template <class F>
async_task<typename detail::task_value<std::decay_t<F>>::type> async(F&& fn) {
  using T = typename detail::task_value<std::decay_t<F>>::type;
  detail::process_base& me = detail::current_or_throw("otp::async");
  auto slot = detail::new_task_slot<T>(me);
  spawn_options o;
  o.link = true;
  auto child = detail::spawn_with_ack(slot.get(), nullptr, nullptr, &me, o, &detail::task_main<T, std::decay_t<F>>,
                                      std::decay_t<F>(std::forward<F>(fn)));
  return detail::task_access::make(otp::pid(child.pid), std::move(slot));
}

/// Waits for the task's value (see the top of this header).
template <class T>
detail::request_awaiter<T> await(async_task<T> t, duration timeout = config::default_call_timeout) {
  if (!t) return detail::request_awaiter<T>(error(errc::noproc, exit_reason::noproc()));
  auto* me = detail::current();
  auto slot = detail::task_access::take(t);
  // The slot is the starter's: only the process that started the task may await it.
  if (!me || slot->waiter.get() != me->core) return detail::request_awaiter<T>(error(errc::not_owner));
  return detail::request_awaiter<T>(static_cast<detail::reply_value<T>*>(slot.detach()), timeout);
}

// ---------------------------------------------------------------- task supervisors

/// Starts a task supervisor linked to the caller (Elixir's Task.Supervisor):
/// a dynamic supervisor whose children are the tasks of async_nolink.
inline auto start_task_supervisor(dynamic_supervisor_options opts = {}, start_options o = {}) {
  return start_dynamic_supervisor(std::move(opts), std::move(o));
}

/// Starts `fn()` as a temporary child of the task supervisor `sup`, not
/// linked to the caller, and returns its handle once it is started. A crash
/// of the task reaches the caller only through await (errc::exited with the
/// reason). Errors of the start: errc::noproc (no supervisor),
/// errc::max_children. Inside a process only.
template <class F>
detail::guarded<detail::nolink_start<typename detail::task_value<std::decay_t<F>>::type>, F> async_nolink(
    const dynamic_supervisor_ref& sup, F&& fn) {
  using T = typename detail::task_value<std::decay_t<F>>::type;
  auto slot = detail::new_task_slot<T>(detail::current_or_throw("otp::async_nolink"));
  child_start start = detail::child_start_access::make(
      std::make_shared<const detail::task_start<T, std::decay_t<F>>>(slot, std::forward<F>(fn)));
  auto req = start_child(sup, child_spec("task", std::move(start), restart_type::temporary));
  return detail::guarded<detail::nolink_start<T>, F>(detail::nolink_start<T>(std::move(req), std::move(slot)));
}

}  // namespace otp
