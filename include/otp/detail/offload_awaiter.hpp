// SPDX-License-Identifier: MIT
#pragma once
// The awaiter of otp::offload (otp/offload.hpp): posts the work to the
// runtime's offload pool and resumes the process on its shard with the value
// or the exception.

#include <otp/asio.hpp>

#include <asio/post.hpp>

#include <exception>
#include <functional>
#include <optional>
#include <type_traits>
#include <utility>

namespace otp {

namespace detail {

/// The runtime's offload pool (started on first use).
asio::any_io_executor offload_executor(process_base& p);

template <class F>
class offload_awaiter final : public asio_op<> {
 public:
  using value_type = std::invoke_result_t<F&>;

  explicit offload_awaiter(F f) : f_(std::move(f)) {}
  offload_awaiter(offload_awaiter&& o) noexcept(std::is_nothrow_move_constructible_v<F>)
      : asio_op<>(std::move(o)), f_(std::move(o.f_)) {}

  void bind(process_base& p) noexcept { this->p_ = &p; }
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<>) {
    auto done = this->start();
    asio::post(offload_executor(*this->p_), [this, done = std::move(done)]() mutable {
      try {
        if constexpr (std::is_void_v<value_type>) {
          std::invoke(f_);
          value_.emplace();
        } else {
          value_.emplace(std::invoke(f_));
        }
      } catch (...) {
        error_ = std::current_exception();
      }
      // Back to the process's shard: the frame stays alive until then.
      asio::post(done.ex, std::move(done));
    });
    this->started();
  }
  value_type await_resume() {
    if (error_) std::rethrow_exception(error_);
    if constexpr (!std::is_void_v<value_type>) return std::move(*value_);
  }

 private:
  using stored = std::conditional_t<std::is_void_v<value_type>, std::monostate, value_type>;
  F f_;
  std::optional<stored> value_;
  std::exception_ptr error_;
};

}  // namespace detail

}  // namespace otp
