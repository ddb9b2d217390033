// SPDX-License-Identifier: MIT
#pragma once
// The lock-free two-way index of a registry partition (otp/registry.hpp):
// key -> entries and pid -> entries over one set of entries, read without
// locks under an epoch guard, written by one thread at a time.

#include <otp/detail/ebr.hpp>
#include <otp/pid.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace otp::detail {

inline std::size_t mix(std::uint64_t x) noexcept {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  return static_cast<std::size_t>(x);
}
inline std::size_t hash_pid(const pid& p) noexcept { return mix(p.id()); }

/// The two indexes of a partition, over one set of entries: each entry is
/// in a key chain and in a pid chain. Readers walk either without locks
/// while one writer at a time (the partition's lock holder) changes them.
/// Entries are immutable once linked, apart from their links; growing
/// copies the entries into new bucket arrays, so a reader on the old ones
/// still sees every entry. An Entry has next_key, key_hash, next_pid and
/// owner (a pid), derives from ebr::retired, and is copy-constructible (the copy
/// unlinked).
template <class Entry>
class entry_index {
  struct arrays : ebr::retired {
    explicit arrays(std::size_t n) : mask(n - 1), by_key(new std::atomic<Entry*>[n]), by_pid(new std::atomic<Entry*>[n]) {
      for (std::size_t i = 0; i < n; ++i) {
        by_key[i].store(nullptr, std::memory_order_relaxed);
        by_pid[i].store(nullptr, std::memory_order_relaxed);
      }
    }
    std::size_t mask;
    std::unique_ptr<std::atomic<Entry*>[]> by_key;
    std::unique_ptr<std::atomic<Entry*>[]> by_pid;
  };

 public:
  entry_index() : arr_(new arrays(16)) {}
  entry_index(const entry_index&) = delete;
  entry_index& operator=(const entry_index&) = delete;
  /// Only once no reader can reach the index.
  ~entry_index() {
    arrays* a = arr_.load(std::memory_order_relaxed);
    for (std::size_t i = 0; i <= a->mask; ++i)
      for (Entry* e = a->by_key[i].load(std::memory_order_relaxed); e;) {
        Entry* next = e->next_key.load(std::memory_order_relaxed);
        delete e;
        e = next;
      }
    delete a;
  }

  // ---- readers (inside an ebr::guard) ----
  Entry* first_by_key(std::size_t h) const noexcept {
    arrays* a = arr_.load(std::memory_order_acquire);
    return a->by_key[h & a->mask].load(std::memory_order_acquire);
  }
  static Entry* next_by_key(const Entry* e) noexcept { return e->next_key.load(std::memory_order_acquire); }
  Entry* first_by_pid(std::size_t h) const noexcept {
    arrays* a = arr_.load(std::memory_order_acquire);
    return a->by_pid[h & a->mask].load(std::memory_order_acquire);
  }
  static Entry* next_by_pid(const Entry* e) noexcept { return e->next_pid.load(std::memory_order_acquire); }
  template <class F>
  void for_each(F&& f) const {
    arrays* a = arr_.load(std::memory_order_acquire);
    for (std::size_t i = 0; i <= a->mask; ++i)
      for (Entry* e = a->by_key[i].load(std::memory_order_acquire); e; e = next_by_key(e)) f(*e);
  }

  // ---- the writer ----
  /// Links `e` into both indexes, the pid index first.
  void insert(Entry* e, ebr::retire_list& garbage) {
    arrays* a = arr_.load(std::memory_order_relaxed);
    if (size_ * 2 > a->mask) a = grow(a, garbage);  // load factor at most 1/2
    push(a->by_pid[hash_pid(e->owner) & a->mask], e, &Entry::next_pid);
    push(a->by_key[e->key_hash & a->mask], e, &Entry::next_key);
    ++size_;
  }
  /// Unlinks `e` from both indexes and retires it.
  void erase(Entry* e, ebr::retire_list& garbage) noexcept {
    arrays* a = arr_.load(std::memory_order_relaxed);
    link_to(a->by_key[e->key_hash & a->mask], e, &Entry::next_key)
        .store(e->next_key.load(std::memory_order_relaxed), std::memory_order_release);
    link_to(a->by_pid[hash_pid(e->owner) & a->mask], e, &Entry::next_pid)
        .store(e->next_pid.load(std::memory_order_relaxed), std::memory_order_release);
    --size_;
    garbage.push(e, &free_entry);
  }
  /// Puts `fresh` (same key and process) where `old` is, and retires `old`.
  void replace(Entry* old, Entry* fresh, ebr::retire_list& garbage) noexcept {
    arrays* a = arr_.load(std::memory_order_relaxed);
    fresh->next_key.store(old->next_key.load(std::memory_order_relaxed), std::memory_order_relaxed);
    fresh->next_pid.store(old->next_pid.load(std::memory_order_relaxed), std::memory_order_relaxed);
    link_to(a->by_pid[hash_pid(old->owner) & a->mask], old, &Entry::next_pid).store(fresh, std::memory_order_release);
    link_to(a->by_key[old->key_hash & a->mask], old, &Entry::next_key).store(fresh, std::memory_order_release);
    garbage.push(old, &free_entry);
  }
  std::size_t size() const noexcept { return size_; }

 private:
  using link = std::atomic<Entry*> Entry::*;
  static void free_entry(ebr::retired* r) noexcept { delete static_cast<Entry*>(r); }
  static void free_arrays(ebr::retired* r) noexcept { delete static_cast<arrays*>(r); }

  static void push(std::atomic<Entry*>& head, Entry* e, link next) noexcept {
    (e->*next).store(head.load(std::memory_order_relaxed), std::memory_order_relaxed);
    head.store(e, std::memory_order_release);
  }
  /// The pointer in the chain from `head` that points at `e`.
  static std::atomic<Entry*>& link_to(std::atomic<Entry*>& head, Entry* e, link next) noexcept {
    std::atomic<Entry*>* at = &head;
    for (Entry* x = at->load(std::memory_order_relaxed); x != e; x = at->load(std::memory_order_relaxed))
      at = &(x->*next);
    return *at;
  }

  arrays* grow(arrays* old, ebr::retire_list& garbage) {
    auto fresh = std::make_unique<arrays>((old->mask + 1) * 2);
    std::vector<Entry*> copies;  // undone if a copy throws
    copies.reserve(size_);
    try {
      for (std::size_t i = 0; i <= old->mask; ++i)
        for (Entry* e = old->by_key[i].load(std::memory_order_relaxed); e;
             e = e->next_key.load(std::memory_order_relaxed)) {
          Entry* c = new Entry(*e);
          copies.push_back(c);
          push(fresh->by_pid[hash_pid(c->owner) & fresh->mask], c, &Entry::next_pid);
          push(fresh->by_key[c->key_hash & fresh->mask], c, &Entry::next_key);
        }
    } catch (...) {
      for (Entry* c : copies) delete c;
      throw;
    }
    arrays* a = fresh.release();
    arr_.store(a, std::memory_order_release);
    for (std::size_t i = 0; i <= old->mask; ++i)
      for (Entry* e = old->by_key[i].load(std::memory_order_relaxed); e;) {
        Entry* next = e->next_key.load(std::memory_order_relaxed);
        garbage.push(e, &free_entry);
        e = next;
      }
    garbage.push(old, &free_arrays);
    return a;
  }

  std::atomic<arrays*> arr_;
  std::size_t size_ = 0;
};

}  // namespace otp::detail
