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

#include <otp/request.hpp>
#include <otp/dynamic_supervisor.hpp>
#include <otp/supervisor.hpp>
#include <otp/task.hpp>

#include <memory>
#include <type_traits>
#include <utility>

namespace otp {

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

/// The slot of a new task: held by the caller (the waiter) and by the task.
template <class T>
task_slot<T>* new_task_slot(process_base& caller) {
  auto* s = new task_slot<T>;
  s->waiter = pid_of(caller);
  return s;
}

/// A child start that hands its task the reply slot (async_nolink).
template <class T, class F>
class task_start final : public child_starter {
 public:
  task_start(task_slot<T>* slot, F fn) : slot_(slot), fn_(std::move(fn)) {
    slot_->retain();
    this->acks = false;
  }
  ~task_start() override { slot_->release(); }
  result<pid> spawn(reply_slot*, process_base& sup, const spawn_options& o, const extra_args&) const override {
    error refused;
    pid child(spawn_with_ack(slot_, &refused, nullptr, &sup, o, &task_main<T, F>, F(fn_)).pid);
    if (!child) return refused;
    return child;
  }

 private:
  task_slot<T>* slot_;
  F fn_;
};

}  // namespace detail

/// A running task (see the top of this header). Move-only; await it once,
/// from the process that started it.
template <class T>
class async_task {
 public:
  using value_type = T;
  async_task() noexcept = default;
  async_task(otp::pid p, detail::task_slot<T>* slot) noexcept : pid_(std::move(p)), slot_(slot) {}
  async_task(async_task&& o) noexcept : pid_(std::move(o.pid_)), slot_(std::exchange(o.slot_, nullptr)) {}
  async_task& operator=(async_task o) noexcept {
    std::swap(pid_, o.pid_);
    std::swap(slot_, o.slot_);
    return *this;
  }
  ~async_task() {
    if (slot_) {
      slot_->abandon();  // a value that comes later is dropped
      slot_->release();
    }
  }
  /// The task's process.
  const otp::pid& pid() const noexcept { return pid_; }
  explicit operator bool() const noexcept { return slot_ != nullptr; }

  /// Internal: hands the slot (and the reference) to an awaiter.
  detail::task_slot<T>* release() noexcept { return std::exchange(slot_, nullptr); }

 private:
  otp::pid pid_;
  detail::task_slot<T>* slot_ = nullptr;
};

/// Runs `fn()` in a new process linked to the caller and returns its handle
/// at once. Inside a process only (outside one: a broken contract, OTP_ASSERT).
template <class F>
async_task<typename detail::task_value<std::decay_t<F>>::type> async(F&& fn) {
  using T = typename detail::task_value<std::decay_t<F>>::type;
  detail::process_base& me = detail::current_or_throw("otp::async");
  auto* slot = detail::new_task_slot<T>(me);
  spawn_options o;
  o.link = true;
  try {
    auto child = detail::spawn_with_ack(slot, nullptr, nullptr, &me, o, &detail::task_main<T, std::decay_t<F>>,
                                        std::decay_t<F>(std::forward<F>(fn)));
    return async_task<T>(otp::pid(child.pid), slot);
  } catch (...) {
    slot->release();
    throw;
  }
}

/// Waits for the task's value (see the top of this header).
template <class T>
detail::request_awaiter<T> await(async_task<T> t, duration timeout = config::default_call_timeout) {
  if (!t) return detail::request_awaiter<T>(error(errc::noproc, exit_reason::noproc()));
  auto* me = detail::current();
  auto* slot = t.release();
  // The slot is the starter's: only the process that started the task may await it.
  if (!me || slot->waiter.get() != me->core) {
    slot->release();
    return detail::request_awaiter<T>(error(errc::not_owner));
  }
  return detail::request_awaiter<T>(static_cast<detail::reply_value<T>*>(slot), timeout);
}

// ---------------------------------------------------------------- task supervisors

/// Starts a task supervisor linked to the caller (Elixir's Task.Supervisor):
/// a dynamic supervisor whose children are the tasks of async_nolink.
inline auto start_task_supervisor(dynamic_supervisor_options opts = {}, start_options o = {}) {
  return start_dynamic_supervisor(std::move(opts), std::move(o));
}

namespace detail {
template <class T>
class nolink_start {
 public:
  nolink_start(flat_request<pid> inner, task_slot<T>* slot) noexcept : inner_(std::move(inner)), slot_(slot) {}
  nolink_start(nolink_start&& o) noexcept : inner_(std::move(o.inner_)), slot_(std::exchange(o.slot_, nullptr)) {}
  ~nolink_start() {
    if (slot_) slot_->release();
  }
  void bind(process_base& p) noexcept { inner_.bind(p); }
  bool await_ready() { return inner_.await_ready(); }
  void await_suspend(std::coroutine_handle<> h) { inner_.await_suspend(h); }
  result<async_task<T>> await_resume() {
    auto r = inner_.await_resume();
    if (!r) return r.error();
    return async_task<T>(std::move(r).value(), std::exchange(slot_, nullptr));
  }

 private:
  flat_request<pid> inner_;
  task_slot<T>* slot_;
};
}  // namespace detail

/// Starts `fn()` as a temporary child of the task supervisor `sup`, not
/// linked to the caller, and returns its handle once it is started. A crash
/// of the task reaches the caller only through await (errc::exited with the
/// reason). Errors of the start: errc::noproc (no supervisor),
/// errc::max_children. Inside a process only.
template <class F>
detail::guarded<detail::nolink_start<typename detail::task_value<std::decay_t<F>>::type>, F> async_nolink(
    const dynamic_supervisor_ref& sup, F&& fn) {
  using T = typename detail::task_value<std::decay_t<F>>::type;
  auto* slot = detail::new_task_slot<T>(detail::current_or_throw("otp::async_nolink"));
  child_start start = detail::child_start_access::make(
      std::make_shared<const detail::task_start<T, std::decay_t<F>>>(slot, std::forward<F>(fn)));
  auto req = start_child(sup, child_spec("task", std::move(start), restart_type::temporary));
  return detail::guarded<detail::nolink_start<T>, F>(detail::nolink_start<T>(std::move(req), slot));
}

}  // namespace otp
