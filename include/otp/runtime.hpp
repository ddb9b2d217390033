// SPDX-License-Identifier: MIT
#pragma once
// otp::runtime: where processes live.
//
// A runtime binds otp to one Asio executor (the application's io_context, or
// any executor) and owns its shards: each shard is a run queue of ready
// processes drained inside one posted Asio handler (re-posted every
// config::drain_budget resumes so other work on the io_context keeps its
// turn), a timer queue, and a strand that serialises everything the shard
// does. A shard runs on one thread at a time but may move between the threads
// that run the io_context; give a runtime as many shards as threads.
// Processes are placed on shards at spawn (spawn_options::place) and, unless
// runtime_options::migration is off, move from a busy shard to an idle one
// between two resumptions (docs/scheduling.md); inspect_shards() counts both.
//
// Lifetime. While any process lives, the runtime holds work on the executor,
// so io_context::run() does not return. `shutdown()` asks every root process
// to exit (exit(pid, shutdown), newest first; a supervision tree is stopped
// by its root supervisor, in order), kills the ones still alive after
// runtime_options::shutdown_timeout, and run() returns when the last has
// ended. io_context::stop() unwinds nothing; destroying a runtime whose
// processes are still alive (because the io_context was stopped) destroys
// their frames without firing links or monitors: call shutdown() first.
//
// The runtime must outlive the io_context's last run() that executes its
// handlers, and be destroyed while no thread runs that io_context.

#include <otp/clock.hpp>
#include <otp/config.hpp>
#include <otp/exit_reason.hpp>
#include <otp/pid.hpp>

#include <asio/any_io_executor.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

namespace otp {

class runtime;
namespace detail {
struct runtime_core;
/// The runtime's internals, for the library's own code (lib/runtime.cpp).
runtime_core& core_of(runtime& rt) noexcept;
}  // namespace detail

/// What the logging hook receives.
struct log_event {
  enum class kind { crash_report, supervisor_report, info };
  kind what = kind::info;
  pid process;          ///< the process the event is about (the supervisor, for supervisor reports)
  exit_reason reason;   ///< its exit reason (crash report), or the child's (supervisor report)
  std::string text;     ///< one readable line, already formatted
  // Supervisor reports only:
  std::string context;   ///< start_error, child_terminated, shutdown_error or shutdown
  std::string child_id;  ///< the child's id in its supervisor
  pid child;             ///< the child's pid (null if it never ran)
};
using logger = std::function<void(const log_event&)>;

/// The default logger: one line per event on stderr.
void log_to_stderr(const log_event& e);

struct runtime_options {
  /// Number of shards (run queues). 1 for an io_context run by one thread;
  /// as many as threads otherwise. 0 means std::thread::hardware_concurrency().
  std::size_t shards = 1;
  /// The clock every deadline is read from; default: steady_clock_source.
  std::shared_ptr<otp::clock> clock;
  /// Where crash reports go; default log_to_stderr. An empty function silences them.
  logger log = log_to_stderr;
  /// Called once each time the runtime finds nothing runnable, nothing pending
  /// (no timer, no Asio operation awaited by a process) and processes alive:
  /// they can only be woken from outside the runtime, or never (a deadlock).
  /// Runs on a shard's strand; it may call runtime::kill_all().
  std::function<void()> on_deadlock;
  /// Grace period of shutdown() before kill.
  duration shutdown_timeout = config::default_shutdown_timeout;
  /// Processes a shard resumes in one posted Asio handler before it posts
  /// itself again (config::drain_budget): lower gives other handlers on the
  /// io_context a turn sooner, higher batches more. At least 1.
  int drain_budget = config::drain_budget;
  /// Reductions a process spends before it yields to its shard's run queue
  /// (config::reductions): lower is fairer between busy processes, higher
  /// lets a producer or a receiver batch more. At least 1.
  int reductions = config::reductions;
  /// Threads of the pool otp::offload runs blocking work on (started at the
  /// first offload). 0: std::thread::hardware_concurrency(), at least 2.
  std::size_t offload_threads = 0;
  /// Whether an idle shard takes runnable processes from a busy one
  /// (docs/scheduling.md). false: a process stays on the shard it was
  /// spawned on, for programs that place their processes by hand.
  bool migration = true;
};

class runtime {
 public:
  explicit runtime(asio::any_io_executor ex, runtime_options options = {});
  ~runtime();
  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;

  /// Starts an orderly stop of every process: exit(pid, shutdown) to each
  /// root, newest first on each shard, then kill for any still alive after
  /// the grace period. A root is a process not linked to a live parent; the
  /// others stop with their parent: a supervisor stops its tree in reverse
  /// start order, per each child's shutdown spec, before it ends.
  /// Returns at once; io_context::run() returns when the last process ended.
  /// Thread-safe; idempotent.
  void shutdown();
  /// exit(pid, kill) to every live process. Thread-safe.
  void kill_all();

  /// Processes alive now (approximate while others run).
  std::size_t live() const noexcept;

  enum class activity { busy, idle_waiting, deadlocked, stopped };
  /// busy: something is runnable or an Asio operation is in flight;
  /// idle_waiting: only timers are pending; deadlocked: processes live, nothing
  /// can wake them from inside; stopped: no process lives.
  activity state() const noexcept;

  otp::clock& clock() const noexcept;
  const asio::any_io_executor& executor() const noexcept;
  std::size_t shard_count() const noexcept;

  /// Sends an event to the logging hook (thread-safe).
  void log(const log_event& e) const;


 private:
  friend detail::runtime_core& detail::core_of(runtime& rt) noexcept;
  std::unique_ptr<detail::runtime_core> core_;
};

}  // namespace otp
