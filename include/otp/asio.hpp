// SPDX-License-Identifier: MIT
#pragma once
// Asio operations inside processes: otp::use_process, otp::await.
//
//   asio::steady_timer t(io, 100ms);
//   auto [ec] = co_await t.async_wait(otp::use_process);
//   auto [ec2, n] = co_await sock.async_read_some(asio::buffer(buf), otp::use_process);
//   int v = co_await otp::await(some_asio_awaitable());     // an asio::awaitable<int>
//
// `use_process` is a completion token: the operation's completion arguments
// come back as a std::tuple, errors included (no exception). The completion
// handler runs on the process's shard (its strand), which makes the process
// runnable again; messages that arrive meanwhile wait in the mailbox, and exit
// signals are handled at once.
//
// Cancellation: when the process must end while an operation is in flight (an
// exit signal, kill, runtime shutdown), the operation is cancelled through
// its cancellation slot (terminal), its handler is awaited, and only then is
// the frame destroyed: a frame never dies with an operation pending. Its
// links and monitors fire after that, except for `kill`, which does not wait.
// An operation that ignores cancellation delays the end of the process until
// it completes.
//
// `otp::await(asio::awaitable<T>)` runs existing awaitable code with co_spawn
// on the process's strand and resumes the process with its result (about 300
// ns more than a direct operation); an exception escaping it is rethrown in
// the process. T must be default-constructible (Asio's co_spawn requires it).

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

/// The completion token that makes an Asio operation awaitable in a process.
struct use_process_t {
  constexpr use_process_t() noexcept = default;
};
inline constexpr use_process_t use_process{};

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

  asio_op() noexcept = default;
  asio_op(asio_op&& o) noexcept : p_(o.p_) {}  // moved only before it starts

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

}  // namespace detail

/// The executor of the calling process's shard (its strand): create the
/// sockets and timers a process awaits on it. Outside a process: a broken
/// contract (OTP_ASSERT, otp/config.hpp).
asio::any_io_executor executor();

/// Runs an asio::awaitable on the process's strand and waits for its result.
template <class T>
detail::awaitable_bridge<T> await(asio::awaitable<T> a) {
  return detail::awaitable_bridge<T>(std::move(a));
}

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
