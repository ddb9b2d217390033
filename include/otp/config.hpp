// SPDX-License-Identifier: MIT
#pragma once
// Tunables of the runtime and the contract hook, in one place.

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

// ---------------------------------------------------------------- tunables
//
// Each tunable below is a compile-time default. Set one at configure time
// with the CMake cache variable of the same name (cmake
// -DOTP_CONFIG_REDUCTIONS=400): it becomes a public compile definition of the
// otp target, so the library and every program built against it agree (a
// definition given to one translation unit only would break that
// agreement, and is not supported). drain_budget and reductions can also be
// set per runtime (runtime_options), and the shutdown grace period too.

#ifndef OTP_CONFIG_DRAIN_BUDGET
#define OTP_CONFIG_DRAIN_BUDGET 256
#endif
#ifndef OTP_CONFIG_REDUCTIONS
#define OTP_CONFIG_REDUCTIONS 200
#endif
#ifndef OTP_CONFIG_MAX_REDUCTIONS
#define OTP_CONFIG_MAX_REDUCTIONS (1 << 20)
#endif
#ifndef OTP_CONFIG_FRESH_STREAK_MAX
#define OTP_CONFIG_FRESH_STREAK_MAX 64
#endif
#ifndef OTP_CONFIG_SPAWN_BATCH
#define OTP_CONFIG_SPAWN_BATCH 64
#endif
#ifndef OTP_CONFIG_CALL_TIMEOUT_MS
#define OTP_CONFIG_CALL_TIMEOUT_MS 5000
#endif
#ifndef OTP_CONFIG_SHUTDOWN_TIMEOUT_MS
#define OTP_CONFIG_SHUTDOWN_TIMEOUT_MS 5000
#endif
#ifndef OTP_CONFIG_INLINE_CLOSURE_SIZE
#define OTP_CONFIG_INLINE_CLOSURE_SIZE 48
#endif

namespace otp::config {

/// Resumes a shard performs inside one posted Asio handler before it re-posts
/// itself, so other work on the same io_context gets its turn.
inline constexpr int drain_budget = OTP_CONFIG_DRAIN_BUDGET;

/// Reductions a process may spend (sends and receives that complete without
/// suspending) before `co_await send(...)` / `co_await receive()` yields it to
/// the back of its shard's run queue. Keeps a fast producer from burying its
/// consumer and a busy receiver from starving its shard.
inline constexpr int reductions = OTP_CONFIG_REDUCTIONS;

/// Each batch of messages a process takes into its mailbox adds one reduction
/// per message (up to this cap), so a receiver with many senders can drain, in
/// one turn, what arrived since its last: fan-in keeps up instead of piling up.
inline constexpr int max_reductions = OTP_CONFIG_MAX_REDUCTIONS;

/// A process spawned on its spawner's shard runs before the woken processes
/// that wait there (depth-first, like Go's runnext), which keeps trees of
/// short-lived processes from all being alive at once; at most this many in a
/// row, so woken processes are never starved.
inline constexpr int fresh_streak_max = OTP_CONFIG_FRESH_STREAK_MAX;

/// A process that spawns this many processes on its own shard without
/// suspending runs them (each until it first suspends) before its spawn call
/// returns, as a preemptive scheduler would: a spawn loop never piles up
/// more than this many fresh processes, and the memory of those that end at
/// once is reused while hot. Only one level deep.
inline constexpr std::uint32_t spawn_batch = OTP_CONFIG_SPAWN_BATCH;

/// Default timeout of request/reply (`otp::request`) and of synchronous starts.
inline constexpr std::chrono::milliseconds default_call_timeout{OTP_CONFIG_CALL_TIMEOUT_MS};

/// Grace period `runtime::shutdown()` gives each process after `exit(shutdown)`
/// before it is killed.
inline constexpr std::chrono::milliseconds default_shutdown_timeout{OTP_CONFIG_SHUTDOWN_TIMEOUT_MS};

/// Closures captured by `spawn` up to this size are stored inside the process
/// control block; larger ones get one extra allocation.
inline constexpr std::size_t inline_closure_size = OTP_CONFIG_INLINE_CLOSURE_SIZE;

}  // namespace otp::config
