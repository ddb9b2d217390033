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
//
// Thread safety: both are awaited inside a process (executor() outside one is
// a broken contract, OTP_ASSERT). The operation's own thread-safety rules
// are Asio's: its I/O object belongs to the process's strand (executor()),
// which no other thread should use concurrently.

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
template <class T>
class awaitable_bridge;  // detail/asio_op.hpp
}  // namespace detail

/// The executor of the calling process's shard (its strand): create the
/// sockets and timers a process awaits on it. The process is pinned to that
/// shard from then on (it never moves to another: handlers bound to this
/// strand stay serialised with its body). Outside a process: a broken
/// contract (OTP_ASSERT, otp/config.hpp).
asio::any_io_executor executor();

/// Runs an asio::awaitable on the process's strand and waits for its result.
template <class T>
detail::awaitable_bridge<T> await(asio::awaitable<T> a) {
  return detail::awaitable_bridge<T>(std::move(a));
}

}  // namespace otp

// The awaiters behind use_process and await, and the async_result that
// makes use_process a completion token, declared above.
#include <otp/detail/asio_op.hpp>
