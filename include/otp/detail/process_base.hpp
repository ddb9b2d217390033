// SPDX-License-Identifier: MIT
#pragma once
// The process control block and its mailbox protocol. Nothing outside otp
// includes this.
//
// Mailbox. One lock-free word, `inbox`, is both the shared queue and the
// "is the owner asleep" flag:
//
//   inbox_empty    no pending node, owner awake (running or runnable)
//   inbox_blocked  no pending node, owner suspended: whoever moves the word
//                  away from `blocked` must schedule the process
//   inbox_closed   the process has ended: pushes fail
//   a pointer      a LIFO stack of pending nodes (messages and signals)
//
// Senders push with one CAS (a push onto `blocked` returns `woke`, and the
// sender schedules the process). The owner takes the whole stack with one
// exchange, reverses it into its private FIFO (`first`/`last`) and handles the
// signals on the way, so between one sender and one receiver everything
// (messages, exits, downs) keeps its sending order. Wakers that are not
// pushes (a timer, an Asio completion, a reply) set their condition first and
// then try `blocked -> empty`; the owner blocks with `empty -> blocked` and
// re-checks its condition afterwards, so no wake-up is ever lost.

#include <otp/clock.hpp>
#include <otp/config.hpp>
#include <otp/exit_reason.hpp>
#include <otp/pid.hpp>

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <new>
#include <unordered_map>
#include <utility>
#include <vector>

namespace otp {
enum class overflow : std::uint8_t;
}

namespace otp::detail {

// ---- allocation: pooled per thread, frees from any thread (lib/pool.cpp) ----
void* allocate(std::size_t n);
void deallocate(void* p, std::size_t n) noexcept;

struct pooled {
  static void* operator new(std::size_t n) { return allocate(n); }
  static void operator delete(void* p, std::size_t n) noexcept { deallocate(p, n); }
};

/// The pool as a standard allocator, for node-based containers on hot paths.
template <class T>
struct pool_allocator {
  using value_type = T;
  static_assert(alignof(T) <= 16, "pool blocks are 16-byte aligned");
  pool_allocator() noexcept = default;
  template <class U>
  pool_allocator(const pool_allocator<U>&) noexcept {}  // NOLINT: rebinding converts implicitly
  T* allocate(std::size_t n) { return static_cast<T*>(detail::allocate(n * sizeof(T))); }
  void deallocate(T* p, std::size_t n) noexcept { detail::deallocate(p, n * sizeof(T)); }
  friend bool operator==(const pool_allocator&, const pool_allocator&) noexcept { return true; }
};

// ---- mailbox nodes ----
enum class node_kind : std::uint8_t {
  message,       // the process's own message type: message_node<M>
  exit_message,  // a trapped exit, ready for receive (signal_node)
  down_message,  // a down, ready for receive (signal_node)
  // signals, handled by the runtime when the inbox is merged:
  exit_signal,  // exit(pid, reason) sent by `from`
  link_exit,    // linked process `from` ended with `reason`
  down_signal,  // monitored process `from` ended (monitor `ref`)
  link,         // `from` linked to us
  unlink,       // `from` unlinked from us
  monitor,      // `from` monitors us with `ref`
  demonitor,    // `from` dropped monitor `ref`
};

struct reply_slot;

struct node : pooled {
  node* next = nullptr;
  node_kind kind;
  bool request = false;  ///< a request_node: a message whose sender waits on a reply slot
  explicit node(node_kind k) noexcept : kind(k) {}
  node(const node&) = delete;
  node& operator=(const node&) = delete;
  virtual ~node() = default;
  /// A request_node's slot, handed over with its reference (called once).
  virtual reply_slot* take_slot() noexcept { return nullptr; }
};

template <class M>
struct message_node : node {
  M value;
  template <class... A>
  explicit message_node(std::in_place_t, A&&... a) : node(node_kind::message), value(std::forward<A>(a)...) {}
};

struct signal_node final : node {
  pid from;
  exit_reason reason;
  monitor_ref ref;
  signal_node(node_kind k, pid f, exit_reason r = {}, monitor_ref m = {}) noexcept
      : node(k), from(std::move(f)), reason(std::move(r)), ref(m) {}
};

struct process_base;
struct process_core;
struct shard;
struct timer_entry;

// ---- waits ----
/// What a suspended process waits for. The runtime calls `ready` on the owner
/// shard after merging the inbox; the coroutine is resumed only when it says
/// yes. `cancel` is called when the process must end while waiting: it returns
/// true if an operation outside the runtime (an Asio operation) still refers to
/// the frame, in which case the runtime waits for `ready` before destroying it.
struct waiter {
  virtual bool ready(process_base& p) noexcept = 0;
  virtual bool cancel(process_base&) noexcept { return false; }
  /// False for waits that only the owner shard can satisfy (mailbox, timer):
  /// their condition cannot change while the process is blocked, so the
  /// runtime skips the re-check after blocking.
  bool woken_from_outside = true;
  /// True for a wait whose completion handler was bound to the shard's
  /// strand (an Asio operation, offloaded work): the process must not move
  /// to another shard while it waits, even when a message makes it runnable.
  bool holds_shard = false;
  /// The timer entry this wait keeps in its shard's queue, if any: a process
  /// that moves takes it along, with the same deadline (lib/runtime.cpp).
  virtual timer_entry* own_timer() noexcept { return nullptr; }

 protected:
  ~waiter() = default;
};

/// An entry in a shard's timer queue (a binary heap, owner-only).
struct timer_entry {
  static constexpr std::size_t not_armed = std::numeric_limits<std::size_t>::max();
  static constexpr std::size_t in_soon = std::size_t(1) << 62;  ///< heap_index: soon[index - in_soon]
  time_point deadline{};  ///< in the shard's `soon` list: the delay, from the epoch
  std::uint64_t seq = 0;
  std::size_t heap_index = not_armed;
  bool armed() const noexcept { return heap_index != not_armed; }
  /// Runs on the owner shard when the deadline has passed; the entry is already
  /// out of the queue.
  virtual void fire() noexcept = 0;
  /// The process this entry is for, when it is not its queue's own (a
  /// delayed send): if that process lives on another shard when this queue's
  /// shard has none left, the entry follows it there instead of firing.
  virtual process_core* follows() const noexcept { return nullptr; }

 protected:
  ~timer_entry() = default;
};

// ---- link and monitor bookkeeping (owner-only) ----
/// A set of pids: open addressing with linear probing, hashed on the control
/// block's address (no read of the block), deletion by backward shift, so a
/// null slot is the only empty mark. No allocation per insert.
class pid_table {
 public:
  /// false if already present.
  bool insert(const pid& p);
  bool erase(const pid& p);
  bool contains(const pid& p) const noexcept;
  std::size_t size() const noexcept { return count_; }
  template <class F>
  void for_each(F&& f) const {
    for (auto& p : slots_)
      if (p) f(p);
  }

 private:
  std::size_t home(const pid& p) const noexcept {
    return static_cast<std::size_t>((reinterpret_cast<std::uintptr_t>(p.get()) >> 4) * 0x9E3779B97F4A7C15ull >>
                                    shift_);
  }
  std::size_t find(const pid& p) const noexcept;  ///< its slot, or slots_.size()
  void grow();

  std::vector<pid> slots_;  ///< a power of two long; null: empty
  std::size_t count_ = 0;
  unsigned shift_ = 64;
};

/// The set of linked pids: two inline (a worker is linked to its supervisor,
/// maybe one more), a hash table beyond. No allocation for the usual process.
class link_set {
 public:
  link_set() = default;
  link_set(const link_set&) = delete;
  link_set& operator=(const link_set&) = delete;

  /// false if already present.
  bool add(const pid& p);
  bool remove(const pid& p);
  bool contains(const pid& p) const;
  bool empty() const noexcept { return n_ == 0 && !big_; }
  std::size_t size() const noexcept { return n_ + (big_ ? big_->size() : 0); }
  template <class F>
  void for_each(F&& f) const {
    for (std::uint32_t i = 0; i < n_; ++i) f(inline_[i]);
    if (big_) big_->for_each(f);
  }
  void clear() noexcept {
    for (std::uint32_t i = 0; i < n_; ++i) inline_[i] = pid();
    n_ = 0;
    big_.reset();
  }

 private:
  static constexpr std::uint32_t inline_max = 2;
  pid inline_[inline_max];
  std::uint32_t n_ = 0;             ///< used inline slots (0 once big_ holds them all)
  std::unique_ptr<pid_table> big_;  // only once it grows past inline_max
};

/// Monitors this process holds on others, indexed by the ref's slot: O(1).
/// Slots live in fixed chunks from the pool, so a process holding 100k
/// monitors never copies its table as it grows; free slots form a list
/// threaded through the slots themselves. A slot is active while its `seq`
/// is odd; the ref remembers the seq, so a stale ref never matches.
class monitor_table {
 public:
  monitor_table() = default;
  monitor_table(const monitor_table&) = delete;
  monitor_table& operator=(const monitor_table&) = delete;
  ~monitor_table() {
    if (used_) clear();
  }

  monitor_ref add(std::uint64_t owner, pid target);
  /// Deactivates; false if it was not active. The target goes to *target if given.
  bool remove(const monitor_ref& r, pid* target = nullptr);
  template <class F>
  void for_each(std::uint64_t owner, F&& f) const {
    for (std::uint32_t i = 0; i < used_; ++i) {
      const slot& s = at(i);
      if (s.seq & 1) f(monitor_ref(owner, i, s.seq), s.target);
    }
  }
  bool empty() const noexcept { return active_ == 0; }
  /// Drops every monitor (without telling their targets) and the storage.
  void clear() noexcept;

 private:
  struct slot {
    pid target;
    std::uint32_t seq = 0;        ///< odd: active
    std::uint32_t next_free = 0;  ///< while free: the next free slot, or `none`
  };
  static constexpr std::uint32_t chunk_slots = 64;
  static constexpr std::uint32_t none = std::numeric_limits<std::uint32_t>::max();
  slot& at(std::uint32_t i) const noexcept { return chunks_[i / chunk_slots][i % chunk_slots]; }

  std::vector<slot*> chunks_;
  std::uint32_t used_ = 0;  ///< slots ever handed out
  std::uint32_t free_ = none;
  std::size_t active_ = 0;
};

/// Who monitors this process. The first watcher is stored inline: most
/// processes have at most one (spawn_monitor), and it costs no allocation.
class watcher_list {
 public:
  void add(monitor_ref r, pid w) {
    if (!first_w_) {
      first_r_ = r;
      first_w_ = std::move(w);
    } else {
      rest_.emplace_back(r, std::move(w));
    }
  }
  void remove(const monitor_ref& r) noexcept;
  template <class F>
  void for_each(F&& f) const {
    if (first_w_) f(first_r_, first_w_);
    for (auto& [r, w] : rest_) f(r, w);
  }
  void clear() noexcept {
    first_w_ = pid();
    rest_.clear();
  }

 private:
  monitor_ref first_r_;
  pid first_w_;
  std::vector<std::pair<monitor_ref, pid>> rest_;
};

/// A one-shot slot a reply (or a start acknowledgement) is written into, from
/// any thread, while the process that waits for it may give up at any time.
/// state: 0 waiting, 1 being written, 2 written, 3 abandoned by the waiter,
/// 4 the process asked ended first (`ended_reason` says why).
struct reply_slot : pooled {
  static constexpr int waiting = 0, writing = 1, written_state = 2, abandoned = 3, target_ended = 4;
  ref_count refs;  ///< the waiter, the request in a mailbox, the reply_to (detail/intrusive_ref.hpp)
  std::atomic<int> state{waiting};
  pid waiter;                       ///< woken when the slot is written
  reply_slot* watch_next = nullptr;  ///< in the asked process's list of open requests (its owner only)
  exit_reason ended_reason;          ///< state 4
  void retain() noexcept { refs.add(); }
  void release() noexcept {
    if (refs.drop()) delete this;
  }
  /// Writer: claim the slot; false if the waiter gave up or another writer won.
  bool claim() noexcept {
    int w = waiting;
    return state.compare_exchange_strong(w, writing, std::memory_order_acq_rel);
  }
  /// Writer, after claim() and writing the value: publish it and wake the waiter.
  void publish(int final_state = written_state) noexcept;
  /// The asked process ended with `why` before anyone answered: wake the
  /// waiter with that (nothing if the slot is closed already).
  void end(const exit_reason& why) noexcept {
    if (!claim()) return;
    ended_reason = why;
    publish(target_ended);
  }
  /// Makes a slot that only its waiter holds (refs == 1) new again, with
  /// `n` references.
  void reuse(std::uint32_t n) noexcept {
    if (state.load(std::memory_order_relaxed) == target_ended) ended_reason = exit_reason();
    state.store(waiting, std::memory_order_relaxed);
    refs.reset(n);
    watch_next = nullptr;
  }
  /// Still waiting for an answer.
  bool open() const noexcept { return state.load(std::memory_order_acquire) == waiting; }
  /// Waiter: give up; false if a value is written or being written.
  bool abandon() noexcept {
    int w = waiting;
    return state.compare_exchange_strong(w, abandoned, std::memory_order_acq_rel);
  }
  bool written() const noexcept { return state.load(std::memory_order_acquire) == written_state; }
  /// publish() with no waiting process: a slot waited on from outside any
  /// process (otp/outside.hpp) completes its handler here, on the writer's
  /// thread.
  virtual void woken() noexcept {}
  /// The process that was to write the slot has ended (a synchronous start's
  /// child still holding its acknowledgement slot); called by the runtime on
  /// the child's shard after its links fired.
  virtual void owner_ended(const exit_reason&) noexcept {}
  virtual ~reply_slot() = default;
};

/// Runs when a process ends, in its finish, before its links fire (a
/// registry membership dropping the process's keys, a registry partition
/// telling its registrants). The hook frees itself in either call.
struct exit_hook {
  exit_hook* next_hook = nullptr;
  /// What the hook is about (a registry partition, for a membership), so
  /// that its owner can find it in the list.
  const void* subject = nullptr;
  /// Runs as soon as the process is dead to the world, even while its frame
  /// must wait for an Asio operation or offloaded work to let go of it: the
  /// hooks that make it findable by name (and, on a kill, every hook).
  bool at_death = false;
  /// The process ended with p.reason (on its shard; p is still whole).
  virtual void on_exit(process_base& p) noexcept = 0;
  /// The runtime is torn down with the process stranded: free, do nothing else.
  virtual void discard() noexcept = 0;

 protected:
  ~exit_hook() = default;
};

// ---- the control block ----
// Two parts. `process_core` is what a pid refers to: identity and the mailbox
// word, shared with every thread; it lives as long as some pid does (about
// 100 bytes, so the pid held by a pending down message is cheap).
// `process_base` is the owner state, touched only on the owner shard: it is
// freed the moment the process ends, so its memory is reused while hot.

struct process_core : process_header, pooled {
  static constexpr std::uintptr_t inbox_empty = 0, inbox_blocked = 1, inbox_closed = 2;
  enum class push_result { ok, woke, closed };

  std::atomic<std::uintptr_t> inbox{inbox_empty};
  std::atomic<bool> exiting{false};      ///< dead to the world from this point on
  std::atomic<std::uint32_t> queued{0};  ///< user messages held (bounded mailboxes only)
  /// The shard that owns the body. Written only by that shard, while the
  /// process is runnable and not running, just before it hands the body to
  /// another shard (release); read by anyone (acquire). A waker that won the
  /// wake-up reads it while the process is blocked, when it cannot change.
  std::atomic<shard*> home{nullptr};
  std::uint32_t bound = 0;               ///< 0: unbounded; fixed at spawn
  overflow policy{};
  /// The owner state while the process lives. Read only by the owner shard,
  /// or by a waker that has just won the wake-up (the process is then blocked
  /// and cannot end before it runs again).
  process_base* body = nullptr;

  process_core() = default;
  process_core(const process_core&) = delete;
  process_core& operator=(const process_core&) = delete;

  push_result push(node* n) noexcept {
    auto h = inbox.load(std::memory_order_relaxed);
    for (;;) {
      if (h == inbox_closed) return push_result::closed;
      n->next = h > inbox_closed ? reinterpret_cast<node*>(h) : nullptr;
      if (inbox.compare_exchange_weak(h, reinterpret_cast<std::uintptr_t>(n), std::memory_order_seq_cst,
                                      std::memory_order_relaxed))
        return h == inbox_blocked ? push_result::woke : push_result::ok;
    }
  }
  bool inbox_pending() const noexcept { return inbox.load(std::memory_order_relaxed) > inbox_closed; }
  /// Owner: suspend unless something is pending.
  bool try_block() noexcept {
    auto e = inbox_empty;
    return inbox.compare_exchange_strong(e, inbox_blocked, std::memory_order_seq_cst);
  }
  /// Any waker other than a push: true if this caller must now schedule it.
  bool try_unblock() noexcept {
    auto b = inbox_blocked;
    return inbox.compare_exchange_strong(b, inbox_empty, std::memory_order_seq_cst);
  }
};

struct process_base : pooled {
  explicit process_base(process_core& c) noexcept : core(&c), id(c.id) {}
  process_base(const process_base&) = delete;
  process_base& operator=(const process_base&) = delete;
  ~process_base() {
    if (spare_slot) spare_slot->release();
  }

  process_core* const core;
  const std::uint64_t id;
  std::atomic<process_base*> remote_next{nullptr};  ///< link in a shard's remote queue
  pid parent;
  process_base* run_next = nullptr;
  process_base* all_prev = nullptr;  ///< the shard's list of live processes, spawn order
  process_base* all_next = nullptr;
  node* first = nullptr;  ///< private FIFO of receivable nodes
  node* last = nullptr;
  waiter* wait = nullptr;
  std::coroutine_handle<> frame;         ///< the body's frame: destroyed when the process ends
  std::coroutine_handle<> resume_point;  ///< the innermost coroutine awaiting (the body, or a task it awaits)
  int reductions = config::reductions;
  bool trap_exit = false;
  bool yield_requested = false;
  bool exit_pending = false;  ///< a fatal signal was merged; `reason` holds why
  bool dying = false;         ///< ending, waiting for an Asio completion before the frame goes
  bool kill_pending = false;  ///< a kill came after the fatal signal, before the end began
  bool links_fired = false;
  bool finished = false;
  bool started = false;  ///< adopted by its home shard
  bool in_body = false;  ///< its body is running (not its destructors, not an awaiter)
  /// Never moves to another shard: spawned on an explicit shard or pinned,
  /// or it asked for its shard's executor (whose strand its handlers use).
  bool pinned = false;
  bool emigrant = false;       ///< handed to another shard, not yet adopted there
  bool carries_timer = false;  ///< its wait's timer entry travels with it
  bool shutdown_seen = false;  ///< runtime::shutdown() already considered it
  std::uint32_t kills_seen = 0;  ///< while moving: the last kill_all() its old shard ran
  std::uint32_t spawn_streak = 0;  ///< spawns since it last suspended
  exit_reason reason;
  link_set links;
  monitor_table monitors;
  watcher_list watchers;
  // Requests taken into the mailbox and maybe not answered yet: answered
  // with the exit reason if this process ends first (lib/runtime.cpp, watch).
  reply_slot* watching = nullptr;
  std::uint32_t watch_count = 0;
  std::uint32_t watch_prune_at = 8;
  reply_slot* ack = nullptr;  ///< set while a synchronous start waits for our init_ack
  // The reply slot of this process's last request, kept once nobody else
  // held it, for its next request of the same reply type (request.hpp).
  reply_slot* spare_slot = nullptr;
  type_tag spare_tag = nullptr;
  exit_hook* exit_hooks = nullptr;
  /// Adds a hook to run when this process ends (owner shard only).
  void add_exit_hook(exit_hook* h) noexcept {
    h->next_hook = exit_hooks;
    exit_hooks = h;
  }
  // The spawned callable, kept alive as long as the frame refers to it.
  void* closure = nullptr;
  void (*closure_destroy)(process_base&) noexcept = nullptr;
  alignas(std::max_align_t) unsigned char closure_buf[config::inline_closure_size];

  // The mailbox word lives in the core.
  shard* home() const noexcept { return core->home.load(std::memory_order_acquire); }
  bool inbox_pending() const noexcept { return core->inbox_pending(); }
  bool try_block() noexcept { return core->try_block(); }
  bool try_unblock() noexcept { return core->try_unblock(); }

  // ---- private queue (owner) ----
  void append(node* n) noexcept {
    n->next = nullptr;
    if (last)
      last->next = n;
    else
      first = n;
    last = n;
  }
  node* pop_front() noexcept {
    node* n = first;
    if (n) {
      first = n->next;
      if (!first) last = nullptr;
    }
    return n;
  }
  /// Unlinks every node for which pred(n) holds and hands it to take(n), in one pass.
  template <class Pred, class Take>
  void remove_all(Pred pred, Take take) {
    node* prev = nullptr;
    for (node* n = first; n;) {
      node* next = n->next;
      if (pred(n)) {
        (prev ? prev->next : first) = next;
        if (last == n) last = prev;
        take(n);
      } else {
        prev = n;
      }
      n = next;
    }
  }
  /// Unlinks and returns the first node for which pred(n) holds.
  template <class Pred>
  node* remove_first(Pred pred) noexcept {
    node* prev = nullptr;
    for (node* n = first; n; prev = n, n = n->next) {
      if (!pred(n)) continue;
      (prev ? prev->next : first) = n->next;
      if (last == n) last = prev;
      return n;
    }
    return nullptr;
  }

  /// Frees the frame's closure storage.
  void drop_closure() noexcept {
    if (closure_destroy) closure_destroy(*this);
    closure_destroy = nullptr;
    closure = nullptr;
  }
};

inline process_core* as_core(const pid& p) noexcept { return static_cast<process_core*>(p.get()); }
inline pid pid_of(const process_base& p) noexcept { return pid::share(p.core); }


// ---- runtime entry points used by the inline code (lib/runtime.cpp, lib/process.cpp) ----
/// The process whose body is running on this thread, or nullptr. Non-inline on
/// purpose: coroutine code must never read a thread_local directly
/// (docs/toolchain.md section 6).
process_base* current() noexcept;
/// current(), or a broken contract (OTP_ASSERT) naming `what` outside a process.
process_base& current_or_throw(const char* what);
/// Makes a process that some waker just unblocked runnable again, from any thread.
void schedule(process_core& p) noexcept;
/// Delivers a signal node; if the target is closed, runs the noproc answer.
void send_signal(process_core& to, node* n) noexcept;
inline void schedule(process_base& p) noexcept { schedule(*p.core); }
inline void send_signal(process_base& to, node* n) noexcept { send_signal(*to.core, n); }
/// Timer queue of the caller's shard (owner only): `e` fires `after` from now
/// (measured when the current drain ends: never early, late by at most the
/// rest of the drain, which no timer could interrupt anyway).
void timer_add(process_base& p, timer_entry& e, duration after) noexcept;
void timer_remove(process_base& p, timer_entry& e) noexcept;
time_point now(process_base& p) noexcept;
/// monitor / demonitor / unlink on behalf of `p` (owner shard).
monitor_ref monitor_from(process_base& p, const pid& target);
bool demonitor_from(process_base& p, const monitor_ref& ref, bool flush);
void unlink_from(process_base& p, const pid& target);
/// Lets go of the requests at the front of p's open-request list that were
/// answered (the list does it lazily otherwise, at the next request): a
/// server calls it once it has handled a message, so that the caller finds
/// its slot free for its next request.
void release_answered(process_base& p) noexcept;
/// Removes the first exit_message from `from` in p's mailbox, if any.
void flush_exit_message(process_base& p, const pid& from) noexcept;
/// Removes a user message from the count of a bounded mailbox.
inline void dequeued(process_base& p, node* n) noexcept {
  if (p.core->bound && n->kind == node_kind::message) p.core->queued.fetch_sub(1, std::memory_order_relaxed);
}

}  // namespace otp::detail
