// SPDX-License-Identifier: MIT
// otp from plain Asio code (see otp/outside.hpp): the parts that reach into
// the runtime.
#include <otp/outside.hpp>

#include "runtime_core.hpp"

namespace otp::detail {

asio::any_io_executor completion_executor(const pid& p) {
  if (auto* c = as_core(p)) return c->home.load(std::memory_order_acquire)->core.executor;
  return asio::system_executor();
}

void watch_exit(const pid& p, exit_watch* w) {
  auto* c = as_core(p);
  if (!c) {
    w->complete(exit_reason::noproc());
    return;
  }
  // The process's exit hooks are its shard's to touch: place the watch there
  // (following the process if it moves). A process still ending gets it
  // too, and reports its real reason.
  on_owner(p, [w](shard&, process_base* b) noexcept {
    if (!b || b->finished) {
      w->complete(exit_reason::noproc());
      return;
    }
    b->add_exit_hook(w);
  });
}

}  // namespace otp::detail
