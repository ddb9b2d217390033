// SPDX-License-Identifier: MIT
// Broken contracts (see include/otp/config.hpp).
#include <otp/config.hpp>

#include <atomic>
#include <stdexcept>
#include <string>

namespace otp {

namespace {
std::atomic<contract_handler> handler{nullptr};
}  // namespace

contract_handler set_contract_handler(contract_handler h) noexcept { return handler.exchange(h); }

namespace detail {

void contract_violated(std::string_view what, const std::source_location& where) {
  if (contract_handler h = handler.load(std::memory_order_acquire)) h(what, where);
  throw std::logic_error(std::string(what));
}

}  // namespace detail
}  // namespace otp
