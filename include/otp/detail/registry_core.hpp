// SPDX-License-Identifier: MIT
#pragma once
// The part of otp::registry that does not depend on the key and value types:
// partitions as processes, the incarnation a registry handle points to, and
// a process's memberships (lib/registry.cpp). See otp/registry.hpp.

#include <otp/detail/ebr.hpp>
#include <otp/detail/process_base.hpp>
#include <otp/messages.hpp>
#include <otp/process.hpp>
#include <otp/task.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

namespace otp {

/// What a registry's keys are: one process per key, or any number.
enum class registry_keys : std::uint8_t { unique, duplicate };

/// How a duplicate-key registry spreads its entries over its partitions.
enum class registry_partitioning : std::uint8_t {
  by_key,  ///< a key's entries in one partition: a lookup reads one (Elixir's {:duplicate, :key})
  by_pid,  ///< a process's entries in one: its writes never meet others' on a
           ///< popular key, a lookup reads every partition (Elixir's {:duplicate, :pid})
};

struct registry_options {
  registry_keys keys = registry_keys::unique;
  /// 0: one per hardware thread (Elixir's default is 1; more partitions let
  /// writers on different threads proceed side by side).
  std::size_t partitions = 0;
  /// Duplicate keys only: unique keys are always spread by key.
  registry_partitioning partition_by = registry_partitioning::by_key;
};

namespace detail {

/// A writer lock held for a few hundred instructions at most: spin, then
/// yield the thread. Readers never take it.
class spin_lock {
 public:
  void lock() noexcept {
    for (int spins = 0; flag_.exchange(true, std::memory_order_acquire);) {
      while (flag_.load(std::memory_order_relaxed)) {
        if (++spins < 64) {
#if defined(__x86_64__) || defined(__i386__)
          __builtin_ia32_pause();
#endif
        } else {
          std::this_thread::yield();
        }
      }
    }
  }
  void unlock() noexcept { flag_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> flag_{false};
};

struct registry_state_base;

/// One partition: a shard of the key space with its own writer lock, served
/// by a process that registrants are linked to.
struct registry_partition_base {
  explicit registry_partition_base(registry_state_base& s) noexcept : state(&s) {}
  registry_partition_base(const registry_partition_base&) = delete;
  registry_partition_base& operator=(const registry_partition_base&) = delete;
  virtual ~registry_partition_base() = default;

  registry_state_base* const state;
  pid process;                          ///< set before the registry is published
  spin_lock lock;                       ///< writers
  bool closed = false;                  ///< under `lock`: the partition's process ended
  std::atomic<std::size_t> entries{0};  ///< for count()
  ebr::retire_list garbage;             ///< under `lock`

  /// `p` ended: drop its entries (takes the lock), telling the listeners.
  virtual void drop_pid(const pid& p) noexcept = 0;
  /// The partition's process ended: refuse new entries, and return every
  /// registrant (a pid may repeat), each to get an exit signal.
  virtual std::vector<pid> close_partition() noexcept = 0;
};

/// One incarnation of a registry: what one start of it created. Reference
/// counted (the published handle, the registry's processes, memberships);
/// freed through the epoch scheme, so a reader that found it through the
/// handle may finish with it.
struct registry_state_base : ebr::retired {
  registry_state_base() = default;
  registry_state_base(const registry_state_base&) = delete;
  registry_state_base& operator=(const registry_state_base&) = delete;
  virtual ~registry_state_base() = default;

  void retain() noexcept { refs.add(); }
  /// Frees it through the epoch scheme after the last reference.
  void release() noexcept;

  virtual std::size_t partition_count() const noexcept = 0;
  virtual registry_partition_base& partition(std::size_t i) noexcept = 0;

  ref_count refs;  ///< detail/intrusive_ref.hpp
  pid process;  ///< the registry's own process; set before it is published
};

/// What every copy of a registry handle shares: its options, and the
/// incarnation running now (null while it is not running).
struct registry_name_base {
  explicit registry_name_base(registry_options o) noexcept : options(o) {}
  registry_name_base(const registry_name_base&) = delete;
  registry_name_base& operator=(const registry_name_base&) = delete;
  virtual ~registry_name_base() = default;

  /// A fresh incarnation with `partitions` partitions, one reference held.
  virtual registry_state_base* make_state(std::size_t partitions) = 0;

  registry_options options;
  std::atomic<registry_state_base*> current{nullptr};
};

/// What registry::stop sends the registry's process.
struct registry_stop {
  explicit registry_stop(exit_reason r) noexcept : reason(std::move(r)) {}
  exit_reason reason;
};

/// The registry's own process: starts the partitions, publishes the
/// incarnation, and ends (taking the partitions with it) when its parent or
/// a partition does, or when asked to stop.
process<registry_stop> registry_main(std::shared_ptr<registry_name_base> name);

/// registry::stop: asks the registry process `p` to stop with `reason` and
/// waits for its end.
task<result<void>> stop_registry(pid p, exit_reason reason, duration timeout);

/// Before `self` adds entries to `part`: makes sure `self` has a membership
/// there (so its entries go when it ends). May throw bad_alloc; nothing is
/// written then.
void prepare_join(process_base& self, registry_partition_base& part);
/// After `self` added `n` entries to `part` (n > 0): the first ones link it
/// to the partition.
void joined(process_base& self, registry_partition_base& part, std::size_t n) noexcept;
/// After `self` removed `n` of its entries from `part`: the last ones unlink it.
void left(process_base& self, registry_partition_base& part, std::size_t n) noexcept;

}  // namespace detail
}  // namespace otp
