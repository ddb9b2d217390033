// SPDX-License-Identifier: MIT
#pragma once
// Tunables of the runtime, in one place. Each is a compile-time default; the
// ones that matter at run time can also be set per runtime (runtime_options).

#include <chrono>
#include <cstddef>
#include <cstdint>

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
