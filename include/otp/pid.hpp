// SPDX-License-Identifier: MIT
#pragma once
// otp::pid, otp::handle<M>, otp::monitor_ref.
//
// A `pid` names one process for links, monitors, exits and lookups. It is
// never reused: each process gets a fresh 64-bit number, and a pid keeps
// referring to *its* process after that process died (sends to it are then
// dropped, links and monitors answer `noproc`), so a stale pid can never reach
// a newer process. Copying a pid costs one atomic increment; the process's
// control block (not its coroutine frame) lives as long as some pid refers to
// it.
//
// A `handle<M>` is a pid whose process takes messages of type M: the only way
// to send. Handles come from spawn (typed by the body's return type) or from
// the checked conversion `handle<M>::from(pid)`, which fails with
// errc::bad_message_type instead of ever sending the wrong type.
//
// Thread safety: pids and handles are values; copy and compare them from any
// thread.

#include <otp/error.hpp>
#include <otp/detail/pid_value.hpp>

#include <string>
#include <utility>

namespace otp {

/// A pid whose process takes messages of type M.
template <class M>
class handle : public pid {
 public:
  using message_type = M;
  handle() noexcept = default;

  /// Checked conversion: fails with errc::bad_message_type when the process
  /// behind `p` takes another message type, and with errc::noproc for the null
  /// pid. A dead process of the right type converts fine (sends are dropped).
  static result<handle> from(pid p) {
    if (!p) return error(errc::noproc);
    if (p.get()->message_type != detail::tag_of<M>())
      return error(errc::bad_message_type,
                   exit_reason::other(std::string("process takes ") + p.get()->message_type->name()));
    return handle(std::move(p));
  }

  /// Internal: the caller guarantees the type.
  static handle unchecked(pid p) noexcept { return handle(std::move(p)); }

 private:
  explicit handle(pid p) noexcept : pid(std::move(p)) {}
};

/// The reference a monitor returns; every call to monitor gives a fresh one,
/// and the one down_message it produces carries it.

}  // namespace otp

template <class M>
struct std::hash<otp::handle<M>> : std::hash<otp::pid> {};
