// SPDX-License-Identifier: MIT
// The compiled part of otp::server (see otp/server.hpp).
#include <otp/server.hpp>

#include "runtime_core.hpp"

#include <typeinfo>

namespace otp::detail {

std::string readable_type_name(const char* mangled) { return demangle(mangled); }

void log_unexpected(process_base& p, const char* server_type, const std::string& what) {
  auto& core = p.home()->core;
  if (!core.options.log) return;
  log_event e;
  e.what = log_event::kind::info;
  e.process = pid_of(p);
  e.text = "server " + demangle(server_type) + " " + e.process.to_string() +
           " received an unexpected message in handle_info: " + what;
  core.log(e);
}

exit_reason reason_of(const std::exception& e) { return exit_reason::error(demangle(typeid(e).name()), e.what()); }

void end_with(process_base& p, exit_reason r) noexcept {
  if (!p.exit_pending) p.reason = std::move(r);
}

}  // namespace otp::detail
