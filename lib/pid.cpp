// SPDX-License-Identifier: MIT
// otp::pid and otp::monitor_ref as text (see include/otp/pid.hpp).
#include <otp/pid.hpp>

#include <string>

namespace otp {

// ---------------------------------------------------------------- pid, refs

std::string pid::to_string() const {
  if (!p_) return "<undefined>";
  return "<0." + std::to_string(p_->id) + ".0>";
}

std::string monitor_ref::to_string() const {
  return "#Ref<0." + std::to_string(owner_) + "." + std::to_string(slot_) + "." + std::to_string(seq_) + ">";
}

}  // namespace otp
