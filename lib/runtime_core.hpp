// SPDX-License-Identifier: MIT
#pragma once
// Internal to lib/: the shard and the runtime core. Not installed.

#include <otp/process.hpp>
#include <otp/runtime.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/thread_pool.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace otp::detail {

struct runtime_core;

/// Work handed to a shard from another thread.
struct shard_job {
  shard_job* next = nullptr;
  /// Runs on `s`'s strand. false: the job handed itself on to another shard
  /// (its process moved there), so the caller must not delete it.
  virtual bool run(shard& s) = 0;
  virtual ~shard_job() = default;
};

/// The unit of false sharing on the machines otp runs on.
inline constexpr std::size_t cache_line = 64;

struct shard {
  shard(runtime_core& c, std::size_t idx);
  ~shard();

  runtime_core& core;
  const std::size_t index;
  const int drain_budget;  ///< runtime_options::drain_budget
  const int reductions;    ///< runtime_options::reductions
  asio::strand<asio::any_io_executor> strand;
  asio::steady_timer timer;

  // ---- cross-thread: written by other threads (wakers, spawners, jobs) ----
  // On cache lines of their own, apart from the owner's run lists: a waker's
  // push must not take the line the owner's drain is working on.
  alignas(cache_line) std::atomic<bool> scheduled{false};
  /// Set by the owner when its drain finds nothing to run (and at the start);
  /// a busy shard that takes it back (exchange) hands this one half of its
  /// runnable processes (give_away).
  std::atomic<bool> hungry{false};
  /// Processes spawned here from another thread, not adopted yet: part of
  /// the load balanced placement compares (live + incoming).
  std::atomic<std::size_t> incoming{0};
  std::atomic<process_base*> remote_procs{nullptr};
  std::atomic<shard_job*> remote_tasks{nullptr};
  std::atomic<std::int64_t> next_deadline{INT64_MAX};  ///< published for the virtual clock

  // ---- owner (inside the strand) ----
  alignas(cache_line) process_base* run_head = nullptr;  ///< woken processes, FIFO
  process_base* run_tail = nullptr;
  process_base* fresh_head = nullptr;  ///< processes spawned here and not yet run, LIFO
  int fresh_streak = 0;
  bool nested = false;  ///< running fresh processes inside a spawner's spawn call
  process_base* all_head = nullptr;  ///< live processes, spawn order
  process_base* all_tail = nullptr;
  /// Live processes here: written by the owner only (no read-modify-write),
  /// read by anyone (runtime::live, deadlock detection).
  std::atomic<std::size_t> live{0};
  // Counters for inspect_shards(): written by the owner only, read by anyone.
  std::atomic<std::uint64_t> spawned{0};     ///< processes adopted at their spawn
  std::atomic<std::uint64_t> immigrated{0};  ///< processes taken from other shards
  std::atomic<std::uint64_t> emigrated{0};   ///< processes given to other shards
  std::atomic<std::uint64_t> steals{0};      ///< hand-overs to a hungry shard
  bool kill_timer_set = false;  ///< shutdown's kill timer is in the heap
  unsigned fruitless = 0;   ///< hand-overs in a row that found nothing to move
  unsigned steal_skip = 0;  ///< looks for a hungry shard to skip (give_away)
  /// The last kill_all() generation whose job ran here: a process handed
  /// over carries it (process_base::kills_seen), and the shard that adopts
  /// it kills it if it has run a later one.
  std::uint32_t kills_done = 0;
  std::uint64_t id_next = 0;  ///< this shard's block of pid numbers
  std::uint64_t id_end = 0;
  asio::any_io_executor work;  ///< holds the io_context while processes live
  std::vector<timer_entry*> heap;
  /// Timers set during this drain, still relative (timer_add): put on the
  /// heap when the drain ends, with one clock reading for all of them. Most
  /// are gone by then (a request answered in the same drain), so they cost
  /// neither a clock reading nor a heap operation.
  std::vector<timer_entry*> soon;
  std::uint64_t timer_seq = 0;
  bool timer_armed = false;
  time_point armed_at = time_point::max();

  // scheduling
  void schedule_drain() noexcept;
  void push_local(process_base& p) noexcept {
    p.run_next = nullptr;
    if (run_tail)
      run_tail->run_next = &p;
    else
      run_head = &p;
    run_tail = &p;
  }
  void push_remote(process_base& p) noexcept;
  /// A chain of processes linked by remote_next, in one exchange.
  void push_remote_chain(process_base& first, process_base& last) noexcept;
  void post_task(shard_job* t) noexcept;
  void drain() noexcept;
  void run(process_base& p) noexcept;
  void adopt(process_base& p, bool fresh) noexcept;
  /// Into the live list (the count, and work held on the executor while any
  /// process lives here); leave_live takes it out of the list only.
  void enter_live(process_base& p) noexcept;
  void leave_live(process_base& p) noexcept;
  process_base* pop_next() noexcept;

  // moving processes between shards (docs/scheduling.md)
  /// Whether the owner may hand p (runnable, not running) to another shard.
  static bool movable(const process_base& p) noexcept;
  /// Budget spent with work left: if another shard is hungry, give it half.
  void give_away() noexcept;
  /// Hands the second half of the run list's movable processes to `to`.
  std::size_t hand_over(shard& to) noexcept;
  /// A process handed over by another shard arrives here.
  void adopt_immigrant(process_base& p) noexcept;
  /// runtime::shutdown()'s work for a process here: exit(shutdown) if it is
  /// a root, and the shard's kill timer. Once per process.
  void shutdown_root(process_base& p) noexcept;

  // timers (owner)
  void heap_push(timer_entry& e, time_point deadline) noexcept;
  void heap_erase(timer_entry& e) noexcept;
  void soon_flush() noexcept;
  void fire_due() noexcept;
  void arm() noexcept;
  void on_timer() noexcept;
  /// An entry left here when the last process here ended (or sent here by
  /// a shard that emptied): it follows its process to that process's shard,
  /// stays if the process is on its way here, or fires if it ended.
  void follow_or_fire(timer_entry& e) noexcept;

  // process ends
  /// true while the process waits for an Asio completion; false once ended (p may be freed).
  bool begin_exit(process_base& p) noexcept;
  void destroy_frame(process_base& p) noexcept;
  void finish(process_base& p) noexcept;
  void fire_links_and_monitors(process_base& p) noexcept;
  void merge(process_base& p) noexcept;

 private:
  void sift_up(std::size_t i) noexcept;
  void sift_down(std::size_t i) noexcept;
};

/// The shard this thread is draining (or whose strand it is in), or nullptr.
shard* current_shard() noexcept;

struct local_names;  // lib/name.cpp
local_names* make_local_names();
struct local_names_deleter {
  void operator()(local_names* t) const noexcept;
};

struct runtime_core {
  runtime_core(asio::any_io_executor ex, runtime_options o);
  asio::any_io_executor executor;
  runtime_options options;
  std::shared_ptr<otp::clock> clk;
  bool virtual_clock = false;
  std::vector<std::unique_ptr<shard>> shards;
  std::atomic<std::size_t> round_robin{0};
  /// Processes handed to another shard and not adopted there yet (counted
  /// in live_count()).
  std::atomic<std::size_t> in_transit{0};
  /// Numbers kill_all()'s rounds (shard::kills_done).
  std::atomic<std::uint32_t> kill_generation{0};
  /// shutdown()'s kill deadline (clock ticks); set before `stopping`.
  std::atomic<std::int64_t> kill_at{INT64_MAX};
  /// Migration on (runtime_options::migration, more than one shard).
  bool migration = false;
  /// placement::balanced: the less loaded of two shards picked at random;
  /// on a tie, `near` (the spawner's) if it is one of them.
  shard& balanced_shard(shard* near) noexcept;
  std::atomic<std::int64_t> busy{0};  ///< scheduled shards + Asio operations in flight
  std::size_t live_count() const noexcept;
  std::atomic<bool> stopping{false};
  std::unique_ptr<local_names, local_names_deleter> names;  ///< local names (otp/name.hpp)
  std::once_flag offload_once;
  std::unique_ptr<asio::thread_pool> offload_pool;  ///< otp::offload's threads (lib/offload.cpp)

  void on_idle() noexcept;
  void log(const log_event& e) const noexcept;
  template <class F>
  void post_to(shard& s, F f);
  template <class F>
  void post_all(F f) {
    for (auto& s : shards) post_to(*s, f);
  }
};

template <class F>
void runtime_core::post_to(shard& s, F f) {
  struct fn_task final : shard_job {
    explicit fn_task(F g) : f(std::move(g)) {}
    F f;
    bool run(shard& sh) override {
      f(sh);
      return true;
    }
  };
  s.post_task(new fn_task(std::move(f)));
}

/// Runs f(shard&, process_base* body) on the shard that owns the body of
/// `target`'s process, following it if it moves on the way; body is null
/// once the process has ended. Runs at once if that is the calling thread's
/// shard. `keep` holds the process's block while the job travels.
template <class F>
void on_owner(pid keep, F f) {
  struct owner_job final : shard_job {
    owner_job(pid k, F g) : keep(std::move(k)), f(std::move(g)) {}
    pid keep;
    F f;
    bool run(shard& sh) override {
      process_core& c = *as_core(keep);
      shard* h = c.home.load(std::memory_order_acquire);
      if (h != &sh) {  // it moved on (or is moving): after it
        h->post_task(this);
        return false;
      }
      f(sh, c.body);
      return true;
    }
  };
  process_core& c = *as_core(keep);
  shard* h = c.home.load(std::memory_order_acquire);
  if (current_shard() == h) {
    f(*h, c.body);
    return;
  }
  h->post_task(new owner_job(std::move(keep), std::move(f)));
}

/// A type name as C++ writes it (lib/exit_reason.cpp).
std::string demangle(const char* mangled);

/// Empties p's exit hooks: each runs (`ran`: the process ended) or is
/// discarded (it never ran, or the runtime is torn down with it stranded).
void end_exit_hooks(process_base& p, bool ran) noexcept;


/// Ends the count op_started (asio.hpp) began, for idle/deadlock detection.
void op_finished(process_base& p) noexcept;

}  // namespace otp::detail
