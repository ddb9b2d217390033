// SPDX-License-Identifier: MIT
#pragma once
// otp::handle<M>: a pid whose process takes messages of type M.
//
// A handle is the only way to send. Handles come from spawn (typed by the
// body's return type) or from the checked conversion `handle<M>::from(pid)`,
// which fails with errc::bad_message_type instead of ever sending the wrong
// type. A handle is a pid (otp/pid.hpp) and converts to one implicitly.
//
// Thread safety: handles are values; copy and compare them from any thread.

#include <otp/error.hpp>
#include <otp/pid.hpp>

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

}  // namespace otp

template <class M>
struct std::hash<otp::handle<M>> : std::hash<otp::pid> {};
