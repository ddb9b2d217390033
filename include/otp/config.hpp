// SPDX-License-Identifier: MIT
#pragma once
// Tunables of the runtime, in one place. Each is a compile-time default; the
// ones that matter at run time can also be set per runtime (runtime_options).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <source_location>
#include <string_view>

/// The GCC 12 guard (otp/detail/temporaries.hpp): 1 refuses to compile a
/// co_await that holds a temporary GCC before 13 destroys twice (a braced
/// aggregate with a destructor, a lambda capturing one by value). On by
/// default where that bug is, off elsewhere; define it to 1 on another
/// compiler to keep code portable to GCC 12, or to 0 at your own risk.
#ifndef OTP_GUARD_AWAITED_TEMPORARIES
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
#define OTP_GUARD_AWAITED_TEMPORARIES 1
#else
#define OTP_GUARD_AWAITED_TEMPORARIES 0
#endif
#endif

// ---------------------------------------------------------------- broken contracts
//
// A broken contract is a bug in the caller, not a failure to handle: an
// operation that needs a calling process (self(), receive, a call, a link
// from spawn_opt) used outside one. Each check goes through OTP_ASSERT, which
// calls the contract handler with what was broken and where. The default
// handler throws std::logic_error(what); install another to abort with a core
// dump, log to your own sink, or break into a debugger. A handler that
// returns gets std::logic_error thrown anyway: the operation cannot go on.
// Failures a correct program meets (a dead target, a timeout) are never
// contracts: they come back as otp::result (otp/error.hpp).

namespace otp {

/// Called for a broken contract: `what` says what, `where` is the caller's
/// call into otp. It may throw (the exception reaches the caller), abort, or
/// return (then std::logic_error(what) is thrown).
using contract_handler = void (*)(std::string_view what, const std::source_location& where);

/// Installs `h` (nullptr: the default) for every thread; returns the previous
/// one. Thread safety: any thread, any time; a violation on another thread
/// calls the old or the new handler.
contract_handler set_contract_handler(contract_handler h) noexcept;

namespace detail {
[[noreturn]] void contract_violated(std::string_view what,
                                    const std::source_location& where = std::source_location::current());
}  // namespace detail

}  // namespace otp

/// Checks a contract: when `cond` is false, calls the contract handler with
/// `what` (a string_view) and never returns.
#define OTP_ASSERT(cond, what) (static_cast<bool>(cond) ? void(0) : ::otp::detail::contract_violated(what))

namespace otp::config {

/// Resumes a shard performs inside one posted Asio handler before it re-posts
/// itself, so other work on the same io_context gets its turn.
inline constexpr int drain_budget = 256;

/// Reductions a process may spend (sends and receives that complete without
/// suspending) before `co_await send(...)` / `co_await receive()` yields it to
/// the back of its shard's run queue. Keeps a fast producer from burying its
/// consumer and a busy receiver from starving its shard.
inline constexpr int reductions = 200;

/// Each batch of messages a process takes into its mailbox adds one reduction
/// per message (up to this cap), so a receiver with many senders can drain, in
/// one turn, what arrived since its last: fan-in keeps up instead of piling up.
inline constexpr int max_reductions = 1 << 20;

/// A process spawned on its spawner's shard runs before the woken processes
/// that wait there (depth-first, like Go's runnext), which keeps trees of
/// short-lived processes from all being alive at once; at most this many in a
/// row, so woken processes are never starved.
inline constexpr int fresh_streak_max = 64;

/// A process that spawns this many processes on its own shard without
/// suspending runs them (each until it first suspends) before its spawn call
/// returns, as a preemptive scheduler would: a spawn loop never piles up
/// more than this many fresh processes, and the memory of those that end at
/// once is reused while hot. Only one level deep.
inline constexpr std::uint32_t spawn_batch = 64;

/// Default timeout of request/reply (`otp::request`) and of synchronous starts.
inline constexpr std::chrono::milliseconds default_call_timeout{5000};

/// Grace period `runtime::shutdown()` gives each process after `exit(shutdown)`
/// before it is killed.
inline constexpr std::chrono::milliseconds default_shutdown_timeout{5000};

/// Closures captured by `spawn` up to this size are stored inside the process
/// control block; larger ones get one extra allocation.
inline constexpr std::size_t inline_closure_size = 48;

}  // namespace otp::config
