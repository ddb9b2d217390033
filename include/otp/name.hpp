// SPDX-License-Identifier: MIT
#pragma once
// otp::name: a process found by name instead of by pid, wherever a pid is
// accepted (spawn and start options, supervisor child specs, send, exit,
// link, monitor).
//
//   otp::local("todo_cache")          a runtime-wide singleton name (Erlang's
//                                     register/2, Elixir's name: __MODULE__)
//   otp::via(registry, key)           a registry key (Elixir's {:via, Registry,
//                                     {registry, key}}), in otp/registry.hpp
//
// A process started under a name is registered before its body runs; when
// the name is taken, the body never runs and the start fails with
// errc::already_started (error::process: the holder). A name resolves to
// its live process only: a process that is ending is not found.
//
// Thread safety: a name is a value; whereis reads from any thread without a
// lock. register_local and unregister_local act for the calling process
// (local names' writes take a short spin lock).

#include <otp/detail/name_kind.hpp>
#include <otp/error.hpp>
#include <otp/pid.hpp>

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace otp {

/// A name (see the top of this header). Make one with otp::local or
/// otp::via; the default name is empty: it names nothing, and a spawn given
/// it registers nothing.
class name {
 public:
  name() noexcept = default;

  /// The live process under this name, or the null pid. From outside any
  /// process, a local name needs the runtime: whereis(rt).
  pid whereis() const { return kind_ ? kind_->whereis(nullptr) : pid(); }
  pid whereis(runtime& rt) const { return kind_ ? kind_->whereis(&rt) : pid(); }
  /// "{local,todo_cache}", "{via,registry,list:bob}"; "{no_name}" when empty.
  std::string to_string() const { return kind_ ? kind_->to_string() : "{no_name}"; }
  explicit operator bool() const noexcept { return kind_ != nullptr; }

 private:
  friend struct detail::name_access;
  explicit name(std::shared_ptr<const detail::name_kind> k) noexcept : kind_(std::move(k)) {}
  std::shared_ptr<const detail::name_kind> kind_;
};

/// A runtime-wide name for a singleton process.
name local(std::string n);

/// Registers the calling process under the local name `n` (Erlang's
/// register/2, for the caller). errc::already_started with the holder when
/// a live process has the name; errc::already_registered when the caller
/// has a local name already (one per process, as in Erlang).
result<void> register_local(std::string n);
/// Removes the calling process's local name; false if it had none.
bool unregister_local();
/// The live process under the local name `n` in the caller's runtime, or the
/// null pid.
pid whereis(std::string_view n);
/// The same, from anywhere.
pid whereis(runtime& rt, std::string_view n);

/// Thrown by spawn (not start: start returns the error) when the new
/// process's name could not be registered: taken (errc::already_started,
/// error::process the holder), or a registry that is not running
/// (errc::noproc). The process never ran.
class name_refused : public std::runtime_error {
 public:
  explicit name_refused(error e)
      : std::runtime_error("otp: name refused: " + e.code.message()), why(std::move(e)) {}
  error why;
};

namespace detail {
inline name name_access::make(std::shared_ptr<const name_kind> k) noexcept { return name(std::move(k)); }
inline const name_kind* name_access::kind(const name& n) noexcept { return n.kind_.get(); }

/// Registers a process being spawned under `n`: errc::already_started with
/// the holder, or errc::noproc for a registry that is not running.
result<void> register_spawned(process_base& p, const name& n);
}  // namespace detail

}  // namespace otp
