// SPDX-License-Identifier: MIT
#pragma once
// otp::pid and otp::monitor_ref, the values (see otp/pid.hpp, which also has
// otp::handle<M>). Separate so that otp::error can carry a pid.

#include <atomic>
#include <compare>
#include <cstdint>
#include <functional>
#include <string>
#include <typeinfo>
#include <utility>

namespace otp {
namespace detail {

/// Identifies a message type at run time: one address per type, which also
/// knows the type's (mangled) name for error messages.
struct type_desc {
  const char* (*name)() noexcept;
};
using type_tag = const type_desc*;
template <class T>
const char* type_name_of() noexcept {
  return typeid(T).name();
}
template <class T>
inline constexpr type_desc type_desc_of{&type_name_of<T>};
template <class T>
constexpr type_tag tag_of() noexcept {
  return &type_desc_of<T>;
}

/// The part of a process control block a pid needs; the rest is in
/// detail/process_base.hpp.
struct process_header {
  std::atomic<std::uint32_t> refs{1};
  std::uint64_t id = 0;
  type_tag message_type = nullptr;
};

void destroy_process(process_header* p) noexcept;

inline void retain(process_header* p) noexcept {
  if (p) p->refs.fetch_add(1, std::memory_order_relaxed);
}
inline void release(process_header* p) noexcept {
  if (p && p->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) destroy_process(p);
}

}  // namespace detail

class pid {
 public:
  /// The null pid: names no process; sends to it are dropped.
  pid() noexcept = default;
  pid(const pid& o) noexcept : p_(o.p_) { detail::retain(p_); }
  pid(pid&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  pid& operator=(pid o) noexcept {
    std::swap(p_, o.p_);
    return *this;
  }
  ~pid() { detail::release(p_); }

  /// Adopts one reference (internal).
  static pid adopt(detail::process_header* p) noexcept {
    pid r;
    r.p_ = p;
    return r;
  }
  /// Takes a new reference (internal).
  static pid share(detail::process_header* p) noexcept {
    detail::retain(p);
    return adopt(p);
  }

  /// The process's number, unique for the life of the program (0 for the null pid).
  std::uint64_t id() const noexcept { return p_ ? p_->id : 0; }
  explicit operator bool() const noexcept { return p_ != nullptr; }
  /// "<0.42.0>", as Erlang prints a local pid.
  std::string to_string() const;

  // One control block per process, so comparing the pointers compares the
  // numbers without reading either block.
  friend bool operator==(const pid& a, const pid& b) noexcept { return a.p_ == b.p_; }
  friend std::strong_ordering operator<=>(const pid& a, const pid& b) noexcept { return a.id() <=> b.id(); }

  detail::process_header* get() const noexcept { return p_; }

 private:
  detail::process_header* p_ = nullptr;
};

class monitor_ref {
 public:
  monitor_ref() noexcept = default;
  monitor_ref(std::uint64_t owner, std::uint32_t slot, std::uint32_t seq) noexcept
      : owner_(owner), slot_(slot), seq_(seq) {}
  explicit operator bool() const noexcept { return owner_ != 0; }
  std::uint64_t owner() const noexcept { return owner_; }
  std::uint32_t slot() const noexcept { return slot_; }
  std::uint32_t seq() const noexcept { return seq_; }
  friend bool operator==(const monitor_ref&, const monitor_ref&) noexcept = default;
  /// "#Ref<0.42.7.3>".
  std::string to_string() const;

 private:
  std::uint64_t owner_ = 0;
  std::uint32_t slot_ = 0;
  std::uint32_t seq_ = 0;
};

}  // namespace otp

template <>
struct std::hash<otp::pid> {
  std::size_t operator()(const otp::pid& p) const noexcept { return std::hash<std::uint64_t>{}(p.id()); }
};
