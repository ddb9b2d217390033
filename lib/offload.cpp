// SPDX-License-Identifier: MIT
// otp::offload's thread pool (see otp/offload.hpp).
#include <otp/offload.hpp>

#include "runtime_core.hpp"

#include <algorithm>
#include <thread>

namespace otp::detail {

asio::any_io_executor offload_executor(process_base& p) {
  runtime_core& core = p.home()->core;
  std::call_once(core.offload_once, [&core] {
    std::size_t n = core.options.offload_threads;
    if (n == 0) n = std::max<std::size_t>(2, std::thread::hardware_concurrency());
    core.offload_pool = std::make_unique<asio::thread_pool>(n);
  });
  return core.offload_pool->get_executor();
}

}  // namespace otp::detail
