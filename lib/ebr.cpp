// SPDX-License-Identifier: MIT
// Epoch-based reclamation (see include/otp/detail/ebr.hpp).
#include <otp/detail/ebr.hpp>

#include <mutex>

namespace otp::detail::ebr {

std::atomic<std::uint64_t> global_epoch{2};  // 0 means "outside any guard"

namespace {
std::atomic<reader_slot*> slots{nullptr};

reader_slot* claim_slot() noexcept {
  for (reader_slot* s = slots.load(std::memory_order_acquire); s; s = s->next) {
    bool free = false;
    if (!s->in_use.load(std::memory_order_relaxed) &&
        s->in_use.compare_exchange_strong(free, true, std::memory_order_acquire))
      return s;
  }
  auto* s = new reader_slot;  // never freed: readers of the list may be anywhere in it
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

std::uint64_t try_advance() noexcept {
  // Pairs with the fence of a reader's announcement: either this scan sees
  // the reader inside, or the reader sees every unlink made before it.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  std::uint64_t e = global_epoch.load(std::memory_order_acquire);
  for (reader_slot* s = slots.load(std::memory_order_acquire); s; s = s->next) {
    const std::uint64_t v = s->epoch.load(std::memory_order_acquire);
    if (v != 0 && v != e) return e;  // a reader still on an older epoch
  }
  if (global_epoch.compare_exchange_strong(e, e + 1, std::memory_order_acq_rel)) return e + 1;
  return e;  // another writer moved it
}

void retire_list::push(retired* r, void (*free_fn)(retired*) noexcept) noexcept {
  r->retired_epoch = global_epoch.load(std::memory_order_acquire);
  r->free = free_fn;
  r->retired_next = head_;
  head_ = r;
  if (++size_ >= next_collect_) collect();
}

void retire_list::collect() noexcept {
  const std::uint64_t e = try_advance();
  // Newest first, so the stamps never grow along the list: cut at the first
  // one old enough, and free it and everything after it.
  retired** at = &head_;
  while (*at && (*at)->retired_epoch + 2 > e) at = &(*at)->retired_next;
  retired* old = *at;
  *at = nullptr;
  while (old) {
    retired* next = old->retired_next;
    old->free(old);
    --size_;
    old = next;
  }
  // Readers holding the epoch back must not make every push scan the list.
  next_collect_ = size_ + (size_ > 64 ? size_ : 64);
}

void retire_list::free_all() noexcept {
  while (head_) {
    retired* next = head_->retired_next;
    head_->free(head_);
    head_ = next;
  }
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
