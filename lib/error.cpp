// SPDX-License-Identifier: MIT
// otp::errc's category and otp::error (see include/otp/error.hpp).
#include <otp/error.hpp>

#include <string>

namespace otp {

// ---------------------------------------------------------------- errors

namespace {
class otp_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "otp"; }
  std::string message(int c) const override {
    switch (static_cast<errc>(c)) {
      case errc::noproc:
        return "noproc";
      case errc::timeout:
        return "timeout";
      case errc::calling_self:
        return "calling_self";
      case errc::exited:
        return "exited";
      case errc::bad_message_type:
        return "bad_message_type";
      case errc::ignored:
        return "ignored";
      case errc::start_failed:
        return "start_failed";
      case errc::already_started:
        return "already_started";
      case errc::not_found:
        return "not_found";
      case errc::already_present:
        return "already_present";
      case errc::running:
        return "running";
      case errc::restarting:
        return "restarting";
      case errc::max_children:
        return "max_children";
      case errc::invalid_spec:
        return "invalid_spec";
      case errc::already_registered:
        return "already_registered";
      case errc::not_owner:
        return "not_owner";
      case errc::wrong_key_kind:
        return "wrong_key_kind";
    }
    return "otp error " + std::to_string(c);
  }
};
}  // namespace

const std::error_category& category() noexcept {
  static const otp_category c;
  return c;
}

std::string error::message() const {
  std::string m = code.message();
  if (!(reason == exit_reason())) m += ": " + reason.to_string();
  if (process) m += " (" + process.to_string() + ")";
  return m;
}

}  // namespace otp
