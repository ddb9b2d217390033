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

#include <otp/error.hpp>
#include <otp/pid.hpp>

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace otp {

class runtime;
namespace detail {
struct process_base;
}

class name {
 public:
  /// What a kind of name does.
  struct impl {
    virtual ~impl() = default;
    /// The live process under the name, or the null pid. `rt`: the runtime
    /// to look in when the name is runtime-wide and there is no calling
    /// process (nullptr: the calling process's runtime).
    virtual pid whereis(runtime* rt) const = 0;
    /// Registers `p`: the calling process, or a new one not yet started.
    /// errc::already_started with the holder when taken.
    virtual result<void> register_process(detail::process_base& p) const = 0;
    /// "{local,todo_cache}", "{via,<registry>,key}".
    virtual std::string to_string() const = 0;
  };

  name() noexcept = default;
  explicit name(std::shared_ptr<const impl> i) noexcept : impl_(std::move(i)) {}

  /// The live process under this name, or the null pid. From outside any
  /// process, a local name needs the runtime: whereis(rt).
  pid whereis() const { return impl_ ? impl_->whereis(nullptr) : pid(); }
  pid whereis(runtime& rt) const { return impl_ ? impl_->whereis(&rt) : pid(); }
  std::string to_string() const { return impl_ ? impl_->to_string() : "{no_name}"; }
  explicit operator bool() const noexcept { return impl_ != nullptr; }
  const impl* get() const noexcept { return impl_.get(); }

 private:
  std::shared_ptr<const impl> impl_;
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
/// Registers a process being spawned under `n`: errc::already_started with
/// the holder, or errc::noproc for a registry that is not running.
result<void> register_spawned(process_base& p, const name& n);
}  // namespace detail

}  // namespace otp
