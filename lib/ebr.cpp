// SPDX-License-Identifier: MIT
// Epoch-based reclamation (see include/otp/detail/ebr.hpp).
#include <otp/detail/ebr.hpp>

#include <mutex>

#if defined(__linux__)
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#if defined(__SANITIZE_THREAD__)
#define OTP_EBR_FENCED_READERS 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define OTP_EBR_FENCED_READERS 1
#endif
#endif

namespace otp::detail::ebr {

std::atomic<std::uint64_t> global_epoch{2};  // 0 means "outside any guard"

namespace {
std::atomic<reader_slot*> slots{nullptr};

/// Whether readers may skip their fence: the process is registered for
/// membarrier's private expedited barrier. Decided once, before any slot.
bool asymmetric() noexcept {
  static const bool yes = [] {
#if defined(__linux__) && !defined(OTP_EBR_FENCED_READERS)
    const long cmds = syscall(__NR_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
    if (cmds < 0 || !(cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED)) return false;
    return syscall(__NR_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
#else
    return false;
#endif
  }();
  return yes;
}

/// A full barrier on every thread of the process, or on this one only when
/// readers fence for themselves.
void barrier_everywhere() noexcept {
#if defined(__linux__) && !defined(OTP_EBR_FENCED_READERS)
  if (asymmetric() && syscall(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) == 0) return;
#endif
  std::atomic_thread_fence(std::memory_order_seq_cst);
}

reader_slot* claim_slot() noexcept {
  for (reader_slot* s = slots.load(std::memory_order_acquire); s; s = s->next) {
    bool free = false;
    if (!s->in_use.load(std::memory_order_relaxed) &&
        s->in_use.compare_exchange_strong(free, true, std::memory_order_acquire))
      return s;
  }
  auto* s = new reader_slot;  // never freed: readers of the list may be anywhere in it
  s->fence = !asymmetric();
  s->in_use.store(true, std::memory_order_relaxed);
  reader_slot* head = slots.load(std::memory_order_relaxed);
  do {
    s->next = head;
  } while (!slots.compare_exchange_weak(head, s, std::memory_order_release, std::memory_order_relaxed));
  return s;
}

struct thread_slot {
  reader_slot* s = claim_slot();
  ~thread_slot() {
    s->depth = 0;
    s->epoch.store(0, std::memory_order_release);
    s->in_use.store(false, std::memory_order_release);
  }
};
}  // namespace

reader_slot& this_thread_slot() noexcept {
  thread_local thread_slot t;
  return *t.s;
}

std::atomic<std::size_t> threads_seen{0};  // slots in use at the last scan

std::uint64_t try_advance() noexcept {
  // Pairs with a reader's announcement: either this scan sees the reader
  // inside, or the reader sees every unlink made before it.
  barrier_everywhere();
  std::uint64_t e = global_epoch.load(std::memory_order_acquire);
  std::size_t in_use = 0;
  for (reader_slot* s = slots.load(std::memory_order_acquire); s; s = s->next) {
    in_use += s->in_use.load(std::memory_order_relaxed) ? 1 : 0;
    const std::uint64_t v = s->epoch.load(std::memory_order_acquire);
    if (v != 0 && v != e) return e;  // a reader still on an older epoch
  }
  threads_seen.store(in_use, std::memory_order_relaxed);
  if (global_epoch.compare_exchange_strong(e, e + 1, std::memory_order_acq_rel)) return e + 1;
  return e;  // another writer moved it
}

void retire_list::push(retired* r, void (*free_fn)(retired*) noexcept) noexcept {
  const std::uint64_t e = global_epoch.load(std::memory_order_acquire);
  r->free = free_fn;
  r->retired_next = nullptr;
  (tail_ ? tail_->retired_next : head_) = r;
  tail_ = r;
  if (marks_n_ == 0 || marks_[marks_n_ - 1].epoch != e) {
    if (marks_n_ == max_marks) {
      // Join the two oldest segments under the newer epoch: freed later, never early.
      marks_[0].epoch = marks_[1].epoch;
      for (std::size_t i = 1; i + 1 < marks_n_; ++i) marks_[i] = marks_[i + 1];
      --marks_n_;
    }
    marks_[marks_n_++] = mark{e, r};
  }
  if (++size_ >= next_collect_) collect();
}

void retire_list::collect() noexcept {
  const std::uint64_t was = global_epoch.load(std::memory_order_acquire);
  const std::uint64_t e = try_advance();
  // Whole segments, oldest first, once the epoch has moved twice past theirs.
  while (marks_n_ > 0 && marks_[0].epoch + 2 <= e) {
    retired* stop = marks_n_ > 1 ? marks_[1].first : nullptr;
    while (head_ != stop) {
      retired* next = head_->retired_next;
      head_->free(head_);
      --size_;
      head_ = next;
    }
    for (std::size_t i = 0; i + 1 < marks_n_; ++i) marks_[i] = marks_[i + 1];
    --marks_n_;
  }
  if (!head_) tail_ = nullptr;
  // Batches: moving the epoch costs a barrier on every thread, cheap when
  // this is the only one, an IPI each otherwise. When the epoch moved, what
  // is left is young and goes at the next collects; when a reader holds it
  // back, wait for as many retirements again as are pending, so that a
  // stuck reader does not make every push collect.
  const std::size_t b = threads_seen.load(std::memory_order_relaxed) > 1 ? batch : small_batch;
  next_collect_ = size_ + (e != was || size_ <= b ? b : size_);
}

void retire_list::free_all() noexcept {
  while (head_) {
    retired* next = head_->retired_next;
    head_->free(head_);
    head_ = next;
  }
  tail_ = nullptr;
  marks_n_ = 0;
  size_ = 0;
}

namespace {
std::mutex shared_lock;
retire_list& shared_list() {
  static retire_list* l = new retire_list;  // never destroyed: retirements may come from exiting threads
  return *l;
}
}  // namespace

void retire_shared(retired* r, void (*free_fn)(retired*) noexcept) noexcept {
  std::lock_guard lock(shared_lock);
  shared_list().push(r, free_fn);
  shared_list().collect();
}

}  // namespace otp::detail::ebr
