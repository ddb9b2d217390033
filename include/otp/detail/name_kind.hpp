// SPDX-License-Identifier: MIT
#pragma once
// What a kind of otp::name does (otp/name.hpp). The library has two kinds:
// local names (lib/name.cpp) and registry keys (otp/registry.hpp).

#include <otp/error.hpp>
#include <otp/pid.hpp>

#include <memory>
#include <string>

namespace otp {
class runtime;
class name;
}  // namespace otp

namespace otp::detail {

struct process_base;

struct name_kind {
  virtual ~name_kind() = default;
  /// The live process under the name, or the null pid. `rt`: the runtime
  /// to look in when the name is runtime-wide and there is no calling
  /// process (nullptr: the calling process's runtime).
  virtual pid whereis(runtime* rt) const = 0;
  /// Registers `p`: the calling process, or a new one not yet started.
  /// errc::already_started with the holder when taken.
  virtual result<void> register_process(process_base& p) const = 0;
  /// "{local,todo_cache}", "{via,<registry>,key}".
  virtual std::string to_string() const = 0;
};

/// Makes a name of a kind, and reads a name's kind: the two things only the
/// library does with otp::name's insides.
struct name_access {
  static name make(std::shared_ptr<const name_kind> k) noexcept;
  static const name_kind* kind(const name& n) noexcept;
};

}  // namespace otp::detail
