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

#include <exception>
#include <optional>
#include <tuple>
#include <utility>

namespace otp {

namespace detail {

/// The executor (strand) of p's shard.
asio::any_io_executor shard_executor(process_base& p);
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
    asio::any_io_executor ex;
    using executor_type = asio::any_io_executor;
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
    return handler{this, shard_executor(*p_)};
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
