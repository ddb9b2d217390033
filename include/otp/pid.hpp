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

  /// Adopts one reference (internal).
  static pid adopt(detail::process_header* p) noexcept { return pid(ref::adopt(p)); }
  /// Takes a new reference (internal).
  static pid share(detail::process_header* p) noexcept { return pid(ref::share(p)); }

  /// The process's number, unique for the life of the program (0 for the null pid).
  std::uint64_t id() const noexcept { return p_ ? p_->id : 0; }
  explicit operator bool() const noexcept { return bool(p_); }
  /// "<0.42.0>", as Erlang prints a local pid.
  std::string to_string() const;

  // One control block per process, so comparing the pointers compares the
  // numbers without reading either block.
  friend bool operator==(const pid& a, const pid& b) noexcept = default;
  friend std::strong_ordering operator<=>(const pid& a, const pid& b) noexcept { return a.id() <=> b.id(); }

  detail::process_header* get() const noexcept { return p_.get(); }

 private:
  using ref = detail::intrusive_ref<detail::process_header>;
  explicit pid(ref r) noexcept : p_(std::move(r)) {}
  ref p_;
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
