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
  virtual void run(shard& s) = 0;
  virtual ~shard_job() = default;
};

struct shard {
  shard(runtime_core& c, std::size_t idx);
  ~shard();

  runtime_core& core;
  const std::size_t index;
  const int drain_budget;  ///< runtime_options::drain_budget
  const int reductions;    ///< runtime_options::reductions
  asio::strand<asio::any_io_executor> strand;
  asio::steady_timer timer;

  // ---- cross-thread ----
  std::atomic<bool> scheduled{false};
  std::atomic<process_base*> remote_procs{nullptr};
  std::atomic<shard_job*> remote_tasks{nullptr};
  std::atomic<std::int64_t> next_deadline{INT64_MAX};  ///< published for the virtual clock

  // ---- owner (inside the strand) ----
  process_base* run_head = nullptr;  ///< woken processes, FIFO
  process_base* run_tail = nullptr;
  process_base* fresh_head = nullptr;  ///< processes spawned here and not yet run, LIFO
  int fresh_streak = 0;
  bool nested = false;  ///< running fresh processes inside a spawner's spawn call
  process_base* all_head = nullptr;  ///< live processes, spawn order
  process_base* all_tail = nullptr;
  /// Live processes here: written by the owner only (no read-modify-write),
  /// read by anyone (runtime::live, deadlock detection).
  std::atomic<std::size_t> live{0};
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
  void post_task(shard_job* t) noexcept;
  void drain() noexcept;
  void run(process_base& p) noexcept;
  void adopt(process_base& p, bool fresh) noexcept;
  process_base* pop_next() noexcept;

  // timers (owner)
  void heap_push(timer_entry& e, time_point deadline) noexcept;
  void heap_erase(timer_entry& e) noexcept;
  void soon_flush() noexcept;
  void fire_due() noexcept;
  void arm() noexcept;
  void on_timer() noexcept;

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
    void run(shard& sh) override { f(sh); }
  };
  s.post_task(new fn_task(std::move(f)));
}

/// A type name as C++ writes it (lib/exit_reason.cpp).
std::string demangle(const char* mangled);

/// Empties p's exit hooks: each runs (`ran`: the process ended) or is
/// discarded (it never ran, or the runtime is torn down with it stranded).
void end_exit_hooks(process_base& p, bool ran) noexcept;

/// The shard this thread is draining (or whose strand it is in), or nullptr.
shard* current_shard() noexcept;

/// Ends the count op_started (asio.hpp) began, for idle/deadlock detection.
void op_finished(process_base& p) noexcept;

}  // namespace otp::detail
