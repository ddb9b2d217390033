// SPDX-License-Identifier: MIT
#pragma once
// The awaiters behind otp::use_process and otp::await (otp/asio.hpp): an
// Asio operation started by a process, its completion handler run on the
// process's shard, the cancellation slot a process's end pulls, and the
// bridge that runs an asio::awaitable on the process's strand; and the
// async_result specialisation through which Asio finds them. Included at the
// end of otp/asio.hpp.

#include <otp/asio.hpp>
#include <otp/process.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/awaitable.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/strand.hpp>

#include <exception>
#include <optional>
#include <tuple>
#include <utility>

namespace otp {

namespace detail {

/// The executor (strand) of p's shard.
asio::any_io_executor shard_executor(process_base& p);
/// The same strand, as its own type.
const asio::strand<asio::any_io_executor>& shard_strand(process_base& p) noexcept;

/// The executor a process's completion handlers are bound to: its shard's
/// strand, by reference. Asio copies a handler's executor several times per
/// operation, asking each copy to track outstanding work; a copy of this one
/// is a pointer, and it tracks nothing (the operation in flight already
/// keeps the io_context running, and the runtime holds work while processes
/// live). Executing is the strand's: inline when allowed and the strand is
/// free on this thread, queued otherwise; blocking.never (asio::post) always
/// queues. Valid while the runtime lives, as the process it completes for.
class shard_dispatch {
 public:
  using strand_type = asio::strand<asio::any_io_executor>;

  explicit shard_dispatch(const strand_type& s, bool never = false) noexcept : s_(&s), never_(never) {}

  template <class F>
  void execute(F&& f) const {
    if (never_)
      asio::require(*s_, asio::execution::blocking.never).execute(std::forward<F>(f));
    else
      s_->execute(std::forward<F>(f));
  }
  shard_dispatch require(asio::execution::blocking_t::never_t) const noexcept { return shard_dispatch(*s_, true); }
  shard_dispatch require(asio::execution::blocking_t::possibly_t) const noexcept { return shard_dispatch(*s_, false); }
  asio::execution::blocking_t query(asio::execution::blocking_t) const noexcept {
    return never_ ? asio::execution::blocking_t(asio::execution::blocking.never)
                  : asio::execution::blocking_t(asio::execution::blocking.possibly);
  }
  asio::execution_context& query(asio::execution::context_t) const noexcept {
    return asio::query(*s_, asio::execution::context);
  }
  friend bool operator==(const shard_dispatch& a, const shard_dispatch& b) noexcept {
    return a.s_ == b.s_ && a.never_ == b.never_;
  }
  friend bool operator!=(const shard_dispatch& a, const shard_dispatch& b) noexcept { return !(a == b); }

 private:
  const strand_type* s_;
  bool never_;
};
/// Bookkeeping of in-flight operations (idle and deadlock detection).
void op_started(process_base& p) noexcept;
/// In the completion handler: wakes p on its shard.
void op_completed(process_base& p) noexcept;

template <class... Args>
class asio_op : public waiter {
 public:
  using results = std::tuple<std::decay_t<Args>...>;

  asio_op() noexcept { holds_shard = true; }
  asio_op(asio_op&& o) noexcept : p_(o.p_) { holds_shard = true; }  // moved only before it starts

  bool ready(process_base&) noexcept override { return done_; }
  bool cancel(process_base&) noexcept override {
    if (done_) return false;
    signal_->emit(asio::cancellation_type::terminal);
    return true;
  }

  struct handler {
    asio_op* op;
    shard_dispatch ex;
    using executor_type = shard_dispatch;
    executor_type get_executor() const noexcept { return ex; }
    using cancellation_slot_type = asio::cancellation_slot;
    cancellation_slot_type get_cancellation_slot() const noexcept { return op->signal_->slot(); }
    template <class... T>
    void operator()(T&&... t) {
      op->results_.emplace(std::forward<T>(t)...);
      op->done_ = true;
      op_completed(*op->p_);
    }
  };

 protected:
  handler start() {
    signal_.emplace();
    return handler{this, shard_dispatch(shard_strand(*p_))};
  }
  void started() noexcept {
    op_started(*p_);
    p_->wait = this;
  }

  process_base* p_ = nullptr;
  std::optional<results> results_;
  std::optional<asio::cancellation_signal> signal_;
  bool done_ = false;  // written by the handler and read by the runtime, both on the shard's strand
};

template <class Init, class InitArgs, class... Args>
class asio_awaiter final : public asio_op<Args...> {
 public:
  asio_awaiter(Init i, InitArgs a) : init_(std::move(i)), args_(std::move(a)) {}
  asio_awaiter(asio_awaiter&&) noexcept = default;

  void bind(process_base& p) noexcept { this->p_ = &p; }
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<>) {
    auto h = this->start();
    std::apply([&](auto&&... a) { std::move(init_)(std::move(h), std::move(a)...); }, std::move(args_));
    this->started();
  }
  typename asio_op<Args...>::results await_resume() { return std::move(*this->results_); }

 private:
  Init init_;
  InitArgs args_;
};

}  // namespace detail

}  // namespace otp

template <class R, class... Args>
class asio::async_result<otp::use_process_t, R(Args...)> {
 public:
  template <class Init, class Token, class... InitArgs>
  static auto initiate(Init&& init, Token&&, InitArgs&&... args) {
    using tuple_t = std::tuple<std::decay_t<InitArgs>...>;
    return otp::detail::asio_awaiter<std::decay_t<Init>, tuple_t, Args...>(
        std::forward<Init>(init), tuple_t(std::forward<InitArgs>(args)...));
  }
};

namespace otp::detail {

template <class T>
class awaitable_bridge {
  using inner_t = decltype(asio::co_spawn(std::declval<asio::any_io_executor>(), std::declval<asio::awaitable<T>>(),
                                          use_process));

 public:
  explicit awaitable_bridge(asio::awaitable<T> a) noexcept : a_(std::move(a)) {}
  awaitable_bridge(awaitable_bridge&&) noexcept = default;

  void bind(process_base& p) {
    inner_.emplace(asio::co_spawn(shard_executor(p), std::move(a_), use_process));
    inner_->bind(p);
  }
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) { inner_->await_suspend(h); }
  T await_resume() {
    auto r = inner_->await_resume();
    if (std::get<0>(r)) std::rethrow_exception(std::get<0>(r));
    if constexpr (!std::is_void_v<T>) return std::move(std::get<1>(r));
  }

 private:
  asio::awaitable<T> a_;
  std::optional<inner_t> inner_;
};

}  // namespace otp::detail
