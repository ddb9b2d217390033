// SPDX-License-Identifier: MIT
#pragma once
// The machinery of synchronous starts (otp/start.hpp): the slot a child
// acknowledges into, and the awaiter that spawns the child and waits for the
// acknowledgement, the child's end or the timeout. Included at the end of
// otp/start.hpp; the bodies of start_base are in lib/start.cpp.

#include <otp/start.hpp>

#include <atomic>
#include <optional>
#include <tuple>
#include <utility>

namespace otp {

namespace detail {

/// The acknowledgement slot of a synchronous start. The child writes its
/// outcome; if it ends without acknowledging ready (a crash, or after ignore
/// and fail), the runtime records its exit reason in `ended` and wakes the
/// starter: no monitor is needed to learn that the child died.
struct start_ack final : reply_slot {
  enum class outcome { ready, ignore, fail } what = outcome::ready;
  exit_reason reason;
  std::atomic<bool> ended{false};
  exit_reason end_reason;  ///< valid once `ended`
  void owner_ended(const exit_reason& r) noexcept override;
};

class start_base : waiter, timer_entry {
 public:
  start_base(start_base&& o) noexcept;
  ~start_base();
  void bind(process_base& p) noexcept { p_ = &p; }
  bool await_ready() const noexcept { return false; }

 protected:
  explicit start_base(const start_options& o) noexcept : opts_(o) {}
  /// Before the child is created: the slot it acknowledges into.
  reply_slot* make_ack();
  /// After: wait for the ack, or for the child's end.
  void begin(pid child);
  /// Instead: the child was never started; resume at once with `e`.
  void refuse(error e);
  bool ready(process_base& p) noexcept override;
  void fire() noexcept override;
  timer_entry* own_timer() noexcept override { return this; }
  result<pid> outcome();

  process_base* p_ = nullptr;
  start_options opts_;

 private:
  void finish() noexcept;
  pid child_;
  start_ack* ack_ = nullptr;
  bool active_ = false;
  bool timed_out_ = false;
  bool acked_ = false;
  std::optional<result<pid>> out_;
};

template <class F, class... A>
class start_awaiter final : public start_base {
 public:
  using M = body_message_t<F, A...>;
  start_awaiter(const start_options& o, F f, A... a) : start_base(o), f_(std::move(f)), args_(std::move(a)...) {}
  start_awaiter(start_awaiter&&) noexcept = default;

  void await_suspend(std::coroutine_handle<>) {
    spawn_options so = opts_.spawn;
    so.link = opts_.link;  // linked atomically with the spawn, as proc_lib does
    auto* ack = make_ack();
    error refused;
    auto child = std::apply(
        [&](auto&&... a) { return spawn_with_ack(ack, &refused, nullptr, p_, so, std::move(f_), std::move(a)...); },
        std::move(args_));
    if (child.pid)
      begin(std::move(child.pid));
    else
      refuse(std::move(refused));  // its name is taken: it never ran
  }
  result<handle<M>> await_resume() {
    auto r = outcome();
    if (!r) return r.error();
    return handle<M>::unchecked(std::move(r).value());
  }

 private:
  F f_;
  std::tuple<A...> args_;
};

/// start_opt for the library's own values, moved from names: no GCC 12 guard.
template <class F, class... A>
start_awaiter<std::decay_t<F>, std::decay_t<A>...> start_unguarded(const start_options& o, F&& f, A&&... a) {
  return start_awaiter<std::decay_t<F>, std::decay_t<A>...>(o, std::forward<F>(f), std::forward<A>(a)...);
}

}  // namespace detail

}  // namespace otp
