// SPDX-License-Identifier: MIT
#pragma once
// otp::pid and otp::monitor_ref: values that name a process and a monitor.
//
// A `pid` names one process for links, monitors, exits and lookups. It is
// never reused: each process gets a fresh 64-bit number, and a pid keeps
// referring to *its* process after that process died (sends to it are then
// dropped, links and monitors answer `noproc`), so a stale pid can never reach
// a newer process. Copying a pid costs one atomic increment; the process's
// control block (not its coroutine frame) lives as long as some pid refers to
// it. To send, a pid becomes a typed handle (otp/handle.hpp).
//
// A `monitor_ref` is what monitor() returns: every call gives a fresh one,
// and the one down_message the monitor produces carries it.
//
// This header needs nothing but the standard library.
//
// Thread safety: pids and monitor refs are values; copy and compare them from
// any thread.

#include <otp/detail/process_header.hpp>

#include <compare>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>

namespace otp {

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
