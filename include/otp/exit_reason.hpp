// SPDX-License-Identifier: MIT
#pragma once
// otp::exit_reason: why a process ended.
//
// A small value type (16 bytes), cheap to copy: the common reasons carry no
// payload; the ones that do share one immutable, reference-counted payload. The kinds follow Erlang exactly:
//
//   normal            the body returned, or exit(normal).
//   shutdown          a supervisor (or runtime::shutdown) asked it to stop;
//                     optionally with a payload: {shutdown, Payload}.
//   kill              only ever a *signal*: exit(pid, kill) cannot be trapped;
//                     the victim ends with `killed`, never with `kill`.
//   killed            the process was killed.
//   noproc            the other side did not exist (link, monitor or call to a
//                     dead pid).
//   timeout           a call or a synchronous start timed out.
//   error             an exception escaped the body: carries the exception's
//                     type name and its what().
//   other             any user reason, as a string term: exit_reason::other("bad_state").
//                     A term that names one of the kinds above is that kind:
//                     other("normal") == normal(), as the atom is in Erlang.
//
// `normal`, `shutdown` and `{shutdown, _}` are the *clean* reasons: a transient
// child is not restarted after them, and a linked process that does not trap
// exits is not taken down by `normal`.

#include <otp/detail/intrusive_ref.hpp>

#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace otp {

enum class exit_kind : std::uint8_t { normal, shutdown, kill, killed, noproc, timeout, error, other };

class exit_reason {
 public:
  /// Default: normal.
  exit_reason() noexcept = default;

  static exit_reason normal() noexcept { return exit_reason(exit_kind::normal); }
  static exit_reason shutdown() noexcept { return exit_reason(exit_kind::shutdown); }
  /// {shutdown, payload}: still a clean reason. An empty payload is plain
  /// shutdown (equal to shutdown(), printed `shutdown`).
  static exit_reason shutdown(std::string payload);
  static exit_reason kill() noexcept { return exit_reason(exit_kind::kill); }
  static exit_reason killed() noexcept { return exit_reason(exit_kind::killed); }
  static exit_reason noproc() noexcept { return exit_reason(exit_kind::noproc); }
  static exit_reason timeout() noexcept { return exit_reason(exit_kind::timeout); }
  /// An escaped exception: its type name (demangled) and what().
  static exit_reason error(std::string type, std::string what);
  /// Builds an `error` reason from an exception in flight or stored.
  static exit_reason from_exception(std::exception_ptr e);
  /// The same for the exception being handled; call it only inside a catch
  /// block. It rethrows once (to see the exception's type and what()), where
  /// from_exception(std::current_exception()) would rethrow twice.
  static exit_reason from_current_exception();
  /// A user-defined reason, written as an Erlang term would be: "bad_state".
  /// The atoms that are reasons in Erlang are those reasons here too:
  /// other("normal") is normal() (clean, ignored by a linked process,
  /// no restart of a transient child), and likewise "shutdown", "kill",
  /// "killed", "noproc" and "timeout"; "{shutdown,P}" is shutdown("P").
  /// An empty term prints as Erlang's empty atom, ''.
  static exit_reason other(std::string term);

  exit_kind kind() const noexcept { return kind_; }
  bool is(exit_kind k) const noexcept { return kind_ == k; }
  /// normal, shutdown or {shutdown, _}.
  bool clean() const noexcept { return kind_ == exit_kind::normal || kind_ == exit_kind::shutdown; }
  /// The payload of {shutdown, P}, the what() of an error, or the user term; empty otherwise.
  std::string_view payload() const noexcept;
  /// The exception type of an `error` reason; empty otherwise.
  std::string_view error_type() const noexcept;

  /// Erlang-style rendering: normal, {shutdown,db_down}, killed,
  /// {error,std::runtime_error,"boom"}, bad_state.
  std::string to_string() const;

  friend bool operator==(const exit_reason& a, const exit_reason& b) noexcept;

 private:
  struct data;  // reference count, exception type, text (lib/exit_reason.cpp)
  explicit exit_reason(exit_kind k) noexcept : kind_(k) {}
  exit_reason(exit_kind k, std::string type, std::string text);
  friend void intrusive_retain(const data* d) noexcept;
  friend void intrusive_release(const data* d) noexcept;

  exit_kind kind_ = exit_kind::normal;
  detail::intrusive_ref<const data> data_;  // null for the kinds without text
};

/// Thrown by otp::exit(reason) to end the calling process with `reason`; the
/// process boundary turns it into that exit reason (not into an `error`).
/// Catching it (catch (...)) stops the exit, as `catch exit(R)` does in Erlang.
class exit_exception : public std::exception {
 public:
  explicit exit_exception(exit_reason r) : reason_(std::move(r)) {}
  const exit_reason& reason() const noexcept { return reason_; }
  const char* what() const noexcept override { return "otp::exit"; }

 private:
  exit_reason reason_;
};

}  // namespace otp
