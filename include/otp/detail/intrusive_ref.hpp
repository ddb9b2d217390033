// SPDX-License-Identifier: MIT
#pragma once
// Reference counts kept inside the object they count, and the smart pointer
// that holds one of them.
//
// Five kinds of object in otp are shared between threads and freed by whoever
// lets go last: a process's control block (held by pids), an exit reason's
// text, a reply slot (the caller, the request in a mailbox, the reply_to), a
// registry incarnation, and a delayed send (the timer queue and the
// timer_ref). Each holds a `ref_count`; each holder is an `intrusive_ref`.
// Unlike std::shared_ptr, the count lives in the object (one allocation, one
// pointer per holder) and the object says how it is freed (a control block
// goes back to its pool, a registry incarnation through the epoch scheme).
//
// A type T opts in with two functions found by argument-dependent lookup:
//
//   void intrusive_retain(T* p) noexcept;   // one more holder
//   void intrusive_release(T* p) noexcept;  // one fewer: frees p after the last
//
// A type with retain() and release() members gets them from here. Both may be
// declared where T is incomplete and defined in a .cpp (exit_reason does).
//
// Thread safety: the count is atomic; one intrusive_ref is a value, to be
// used by one thread at a time, like a pid.

#include <atomic>
#include <cstdint>
#include <utility>

namespace otp::detail {

/// An atomic count of holders, starting at `initial` (usually the creator's
/// own reference). Adding is relaxed; dropping is acquire-release, so the one
/// that frees the object sees every write the other holders made.
class ref_count {
 public:
  explicit ref_count(std::uint32_t initial = 1) noexcept : n_(initial) {}
  ref_count(const ref_count&) = delete;
  ref_count& operator=(const ref_count&) = delete;

  void add() const noexcept { n_.fetch_add(1, std::memory_order_relaxed); }
  /// Drops one reference; true when it was the last (the caller frees).
  [[nodiscard]] bool drop() const noexcept { return n_.fetch_sub(1, std::memory_order_acq_rel) == 1; }
  /// Sets the count of an object no other thread can see yet (or any more):
  /// a new slot handed to n holders at once, without n increments.
  void reset(std::uint32_t n) noexcept { n_.store(n, std::memory_order_relaxed); }
  /// True when the caller holds the only reference (and nobody can add one).
  bool only() const noexcept { return n_.load(std::memory_order_acquire) == 1; }

 private:
  mutable std::atomic<std::uint32_t> n_;
};

template <class T>
  requires requires(T* p) { p->retain(); }
void intrusive_retain(T* p) noexcept {
  p->retain();
}
template <class T>
  requires requires(T* p) { p->release(); }
void intrusive_release(T* p) noexcept {
  p->release();
}

/// Holds one reference to a T (see the top of this header): copying adds a
/// reference, destroying drops it, moving hands it over. Null by default.
template <class T>
class intrusive_ref {
 public:
  constexpr intrusive_ref() noexcept = default;
  intrusive_ref(const intrusive_ref& o) noexcept : p_(o.p_) {
    if (p_) intrusive_retain(p_);
  }
  intrusive_ref(intrusive_ref&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  intrusive_ref& operator=(intrusive_ref o) noexcept {
    std::swap(p_, o.p_);
    return *this;
  }
  ~intrusive_ref() {
    if (p_) intrusive_release(p_);
  }

  /// Takes over a reference the caller already counted (a new object's own).
  static intrusive_ref adopt(T* p) noexcept {
    intrusive_ref r;
    r.p_ = p;
    return r;
  }
  /// Adds a reference to `p` (which may be null).
  static intrusive_ref share(T* p) noexcept {
    if (p) intrusive_retain(p);
    return adopt(p);
  }

  T* get() const noexcept { return p_; }
  T* operator->() const noexcept { return p_; }
  T& operator*() const noexcept { return *p_; }
  explicit operator bool() const noexcept { return p_ != nullptr; }
  /// Gives up the reference without dropping it: the caller now owns it.
  [[nodiscard]] T* detach() noexcept { return std::exchange(p_, nullptr); }
  void swap(intrusive_ref& o) noexcept { std::swap(p_, o.p_); }

  friend bool operator==(const intrusive_ref& a, const intrusive_ref& b) noexcept { return a.p_ == b.p_; }

 private:
  T* p_ = nullptr;
};

}  // namespace otp::detail
