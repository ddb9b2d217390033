// SPDX-License-Identifier: MIT
#pragma once
// Epoch-based reclamation: how lock-free readers and the writers that unlink
// what they read agree on when memory may be freed.
//
// A reader brackets its reads with a `guard`. Entering announces the global
// epoch in the thread's own slot; leaving clears it. A writer that unlinks a
// node cannot free it at once, since a reader may still be on it: it
// `retire`s it, stamped with the epoch of the moment. The global epoch moves
// from E to E+1 only when every reader inside a guard has announced E, so once
// the epoch has moved twice past a node's stamp, every reader that could
// have seen the node has left: it is freed then.
//
// Why this and not hazard pointers: a lookup walks a bucket chain and copies
// what it finds; hazard pointers cost a store and a fence per node on the
// way, an epoch one announcement per lookup. Why not libcds (Debian's
// libcds-dev 2.3.3): measured on W6's shape (100k string keys, the same
// pseudo-random lookups, insert+erase churn), its MichaelHashMap with hazard
// pointers did 8.2 M lookups/s on one thread and 17-18 M on two, and 6.3 M
// churn pairs/s on one thread, 5.5 M on two; our registry, with its
// liveness bookkeeping on top, does 13 M and 25 M lookups/s and 9 M and
// 13-15 M pairs/s on the same machine. Its containers also need every
// thread that touches them attached to its garbage collector (an embedding
// application's own threads included), where a guard here needs nothing
// from the thread, and it would become a link dependency of every user.
//
// Costs: the announcement must be visible before the reads that follow it,
// which takes a full fence between the two. On Linux the fence is moved to
// the rare side: readers only store, and the writer that wants to move the
// epoch first has the kernel run a barrier on every thread of the process
// (membarrier's private expedited command, what liburcu's "memb" flavour
// does); writers free in batches, so that cost is shared by many entries.
// Where membarrier is missing (and under TSan, which does not model it),
// readers fence. Leaving is a release store either way. Guards nest. Readers never wait for anyone; a reader that
// stays inside a guard forever only delays the freeing of retired memory.
// Each thread's slot is created on its first guard and reused by a later
// thread once it exits.

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace otp::detail::ebr {

/// Per-thread reader state (lib/ebr.cpp).
struct reader_slot {
  std::atomic<std::uint64_t> epoch{0};  ///< 0: outside any guard
  std::uint32_t depth = 0;              ///< guards nested on this thread
  bool fence = true;                    ///< readers fence (no membarrier)
  std::atomic<bool> in_use{false};
  reader_slot* next = nullptr;  ///< in the global list; slots are never freed
};

/// This thread's slot. Out of line: coroutine code must never read a
/// thread_local directly (docs/toolchain.md section 6).
reader_slot& this_thread_slot() noexcept;

extern std::atomic<std::uint64_t> global_epoch;

/// Readers: everything reached through a retired-later pointer is safe to
/// read while a guard is alive on this thread.
class guard {
 public:
  guard() noexcept : s_(this_thread_slot()) {
    if (s_.depth++ == 0) {
      s_.epoch.store(global_epoch.load(std::memory_order_relaxed), std::memory_order_relaxed);
      // The announcement before any read: pairs with try_advance().
      if (s_.fence)
        std::atomic_thread_fence(std::memory_order_seq_cst);
      else
        std::atomic_signal_fence(std::memory_order_seq_cst);  // the compiler's order; the CPU's comes from membarrier
    }
  }
  ~guard() {
    if (--s_.depth == 0) s_.epoch.store(0, std::memory_order_release);
  }
  guard(const guard&) = delete;
  guard& operator=(const guard&) = delete;

 private:
  reader_slot& s_;
};

/// Something retired: freed by `free` once no reader can reach it.
struct retired {
  retired* retired_next = nullptr;
  void (*free)(retired*) noexcept = nullptr;
};

/// A list of retired objects. Not synchronised: its owner serialises the
/// calls (a registry partition's writer lock, say).
class retire_list {
 public:
  retire_list() = default;
  retire_list(const retire_list&) = delete;
  retire_list& operator=(const retire_list&) = delete;
  /// Frees everything at once: only when no reader can be left (the
  /// structure the list belongs to is itself unreachable, and retired).
  ~retire_list() { free_all(); }

  /// Takes `r`, freed by `free_fn` later. Every so often, frees what is safe.
  void push(retired* r, void (*free_fn)(retired*) noexcept) noexcept;
  /// Frees what is safe now, trying to move the epoch on first.
  void collect() noexcept;
  void free_all() noexcept;
  std::size_t size() const noexcept { return size_; }

 private:
  // Moving the epoch costs a membarrier, which with two busy threads is an
  // IPI of a microsecond or two: 2048 retirements share one (measured on
  // W6's churn: 4 M pairs/s with batches of 64, 15 M with 2048), for about
  // 200 KiB of registry entries held back per partition. With one thread
  // the barrier is a cheap system call, and small batches keep what is
  // freed and reused warm in the cache.
  static constexpr std::size_t batch = 2048;
  static constexpr std::size_t small_batch = 64;
  // Oldest first. The list is cut into segments by the epoch of their
  // retirement: a mark says where each starts, so collecting reads no
  // stamp in the objects themselves (they are cold; only freeing touches them).
  struct mark {
    std::uint64_t epoch;
    retired* first;
  };
  static constexpr std::size_t max_marks = 8;
  retired* head_ = nullptr;
  retired* tail_ = nullptr;
  mark marks_[max_marks]{};
  std::size_t marks_n_ = 0;
  std::size_t size_ = 0;
  std::size_t next_collect_ = small_batch;
};

/// Moves the global epoch on if every reader inside a guard has seen the
/// current one; returns the epoch now in force.
std::uint64_t try_advance() noexcept;

/// Retires `r` on a shared list guarded by a lock: for rare objects (a
/// registry's whole tables, its metadata), not per-entry nodes.
void retire_shared(retired* r, void (*free_fn)(retired*) noexcept) noexcept;

}  // namespace otp::detail::ebr
