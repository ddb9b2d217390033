// SPDX-License-Identifier: MIT
// Errors: every errc value names itself, and a broken contract goes through
// the contract handler.
#include <otp/error.hpp>

#include <doctest/doctest.h>
#include <otp/process.hpp>

#include <stdexcept>
#include <string>

TEST_SUITE("error") {

TEST_CASE("every errc value has its own name as its message") {
  // The tests that see each produced (besides this one):
  //   noproc, timeout, calling_self, exited      tests/request.cpp, tests/server.cpp
  //   bad_message_type                           tests/mailbox.cpp, tests/names.cpp
  //   ignored, start_failed                      tests/start.cpp, tests/server.cpp
  //   already_started                            tests/names.cpp, tests/supervisor.cpp
  //   not_found, already_present, running,
  //   restarting, invalid_spec                   tests/supervisor.cpp
  //   max_children                               tests/dynamic_supervisor.cpp
  //   already_registered, not_owner, wrong_key_kind  tests/registry.cpp
  const char* names[] = {"noproc",          "timeout",      "calling_self",       "exited",    "bad_message_type",
                         "ignored",         "start_failed", "already_started",    "not_found", "already_present",
                         "running",         "restarting",   "max_children",       "invalid_spec",
                         "already_registered", "not_owner", "wrong_key_kind"};
  int code = 1;
  for (const char* n : names) {
    CHECK(otp::make_error_code(static_cast<otp::errc>(code)).message() == n);
    CHECK(otp::error(static_cast<otp::errc>(code)).message() == n);
    ++code;
  }
  CHECK(otp::errc::wrong_key_kind == static_cast<otp::errc>(code - 1));  // the list is complete
  CHECK(otp::make_error_code(static_cast<otp::errc>(code)).message() == "otp error " + std::to_string(code));
}

namespace {
std::string seen;
int seen_line = 0;
void remember(std::string_view what, const std::source_location& where) {
  seen = what;
  seen_line = static_cast<int>(where.line());
}
[[noreturn]] void refuse(std::string_view what, const std::source_location&) {
  throw std::runtime_error("refused: " + std::string(what));
}
}  // namespace

TEST_CASE("a broken contract calls the contract handler, then throws std::logic_error unless the handler threw") {
  CHECK_THROWS_AS(otp::self(), std::logic_error);  // the default handler
  auto before = otp::set_contract_handler(remember);
  CHECK((before == nullptr));
  const int line = __LINE__ + 1;
  CHECK_THROWS_WITH_AS(OTP_ASSERT(1 + 1 == 3, "arithmetic"), "arithmetic", std::logic_error);
  CHECK(seen == "arithmetic");
  CHECK(seen_line == line);
  CHECK_THROWS_AS(otp::self(), std::logic_error);
  CHECK(seen == "otp::self called outside a process");
  otp::set_contract_handler(refuse);
  CHECK_THROWS_WITH_AS(otp::self(), "refused: otp::self called outside a process", std::runtime_error);
  CHECK((otp::set_contract_handler(before) == &refuse));
  OTP_ASSERT(true, "never called");
}

}  // TEST_SUITE
