// SPDX-License-Identifier: MIT
#pragma once
// The system messages a process can receive beside its own message type, and
// otp::message<M>, the variant `receive` returns.

#include <otp/exit_reason.hpp>
#include <otp/pid.hpp>

#include <variant>

namespace otp {

/// An exit signal turned into a message: delivered only to a process that
/// traps exits (spawn_options::trap_exit or otp::trap_exit(true)).
struct exit_message {
  pid from;
  exit_reason reason;
  exit_message(pid f, exit_reason r) : from(std::move(f)), reason(std::move(r)) {}
};

/// Sent exactly once per monitor when the monitored process ends (reason
/// noproc when it did not exist when the monitor was set).
struct down_message {
  monitor_ref ref;
  pid from;
  exit_reason reason;
  down_message(monitor_ref m, pid f, exit_reason r) : ref(m), from(std::move(f)), reason(std::move(r)) {}
};

/// The message type of a process that takes no messages of its own.
struct nothing {};

/// What receive() returns: the process's own message, or a system message.
template <class M>
using message = std::variant<M, exit_message, down_message>;

}  // namespace otp
