// SPDX-License-Identifier: MIT
#pragma once
// Errors as values: otp::result<T> and otp::errc.
//
// Expected failures (a dead target, a timeout, a wrong message type, a taken
// name) come back as `otp::result<T>`: a Boost.Outcome result whose error is an
// `otp::error`, an error code from the "otp" category plus the exit reason
// behind it where there is one (the callee's reason when a call's target
// died). `.value()` on a failed result throws `otp::exit_error`, the C++
// spelling of Elixir's `!` functions. There are no throwing twin overloads.
//
// Not everything is a result: a plain `send` answers with a send_status (a
// full bounded mailbox is send_status::full, otp/process.hpp), and a broken
// contract (an operation that needs a calling process used outside one)
// goes to OTP_ASSERT (otp/config.hpp).

#include <otp/exit_reason.hpp>
#include <otp/pid.hpp>

#include <boost/outcome/result.hpp>

#include <stdexcept>
#include <string>
#include <system_error>

namespace otp {

enum class errc {
  noproc = 1,        ///< the target process does not exist (or died before answering)
  timeout,           ///< the deadline passed first
  calling_self,      ///< a request addressed to the caller itself (would deadlock)
  exited,            ///< the target exited while the request was in flight; see error::reason
  bad_message_type,  ///< a pid's process takes another message type than the handle asked for
  ignored,           ///< a synchronous start whose init answered `ignore` (not a failure in OTP)
  start_failed,      ///< a synchronous start whose init failed; see error::reason
  already_started,   ///< a name or child id is taken by a live process: error::process is that process
  not_found,         ///< no such name or child
  already_present,   ///< a supervisor already has a (stopped) child with that id
  running,           ///< the child is running: stop it first
  restarting,        ///< the child is being restarted (its last restart failed; another is due)
  max_children,      ///< a dynamic supervisor has as many children as it may
  invalid_spec,      ///< a child spec or supervisor flags are not valid; error::reason says why
  already_registered,  ///< a unique registry key is held by a live process: error::process is that process
  not_owner,           ///< the calling process does not hold that registry key
  wrong_key_kind,      ///< an operation for unique registries used on a duplicate one
  // Each value is produced by some operation and has a test that sees it
  // (tests/error.cpp lists where).
};

const std::error_category& category() noexcept;
inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), category()}; }

/// The error half of otp::result: a code, the exit reason behind it, and the
/// process it is about where there is one (already_started: the process that
/// holds the name or child id).
struct error {
  std::error_code code;
  exit_reason reason;
  pid process;

  error() = default;
  error(errc c) : code(make_error_code(c)) {}  // NOLINT: implicit on purpose, `return otp::errc::timeout;`
  error(errc c, exit_reason r) : code(make_error_code(c)), reason(std::move(r)) {}
  error(std::error_code c, exit_reason r = {}) : code(c), reason(std::move(r)) {}
  error(errc c, pid who) : code(make_error_code(c)), process(std::move(who)) {}

  bool operator==(errc c) const noexcept { return code == make_error_code(c); }
  /// "noproc", "exited: {error,std::runtime_error,\"boom\"}".
  std::string message() const;
};

/// What `.value()` throws on a failed otp::result.
class exit_error : public std::system_error {
 public:
  explicit exit_error(const error& e) : std::system_error(e.code, e.message()), reason_(e.reason) {}
  const exit_reason& reason() const noexcept { return reason_; }

 private:
  exit_reason reason_;
};

// Boost.Outcome hooks (found by ADL).
inline std::error_code make_error_code(const error& e) noexcept { return e.code; }
[[noreturn]] inline void outcome_throw_as_system_error_with_payload(const error& e) { throw exit_error(e); }

template <class T>
using result = BOOST_OUTCOME_V2_NAMESPACE::result<T, error>;

/// The value of a successful result<void>: `return otp::ok();`.
inline auto ok() noexcept { return BOOST_OUTCOME_V2_NAMESPACE::success(); }
/// A failed result of any T, also where T itself could be made from an error
/// (result<result<void>>): `return otp::failed(errc::timeout);`.
inline auto failed(error e) { return BOOST_OUTCOME_V2_NAMESPACE::failure(std::move(e)); }

}  // namespace otp

template <>
struct std::is_error_code_enum<otp::errc> : std::true_type {};
