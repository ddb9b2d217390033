// SPDX-License-Identifier: MIT
// send_after and its cancellation, on the virtual clock.
#include <otp/timer.hpp>

#include <doctest/doctest.h>
#include <otp/testing.hpp>

using namespace std::chrono_literals;

TEST_SUITE("timer") {

OTP_TEST_CASE_M("send_after delivers the message after exactly the delay", int) {
  auto t0 = otp::now();
  auto t = otp::send_after(3s, otp::self_as<int>(), 5);
  CHECK(t.pending());
  auto m = co_await otp::receive();
  CHECK(std::get<int>(m) == 5);
  CHECK(otp::now() - t0 == 3s);
  CHECK_FALSE(t.pending());
}

OTP_TEST_CASE_M("a cancelled send_after never delivers", int) {
  auto t = otp::send_after(3s, otp::self_as<int>(), 5);
  CHECK(t.cancel());
  CHECK_FALSE((co_await otp::receive(10s)).has_value());
}

OTP_TEST_CASE_M("cancel after the message was sent returns false", int) {
  auto t = otp::send_after(1s, otp::self_as<int>(), 5);
  co_await otp::receive();
  CHECK_FALSE(t.cancel());
}

OTP_TEST_CASE_M("timers fire in deadline order", int) {
  auto me = otp::self_as<int>();
  auto a = otp::send_after(3s, me, 3);
  auto b = otp::send_after(1s, me, 1);
  auto c = otp::send_after(2s, me, 2);
  for (int i = 1; i <= 3; ++i) CHECK(std::get<int>(co_await otp::receive()) == i);
}

OTP_TEST_CASE("send_after to a dead process sends nothing and holds nothing alive") {
  auto [p, ref] = otp::spawn_monitor([]() -> otp::process<int> { co_return; });
  co_await otp::receive();
  auto t = otp::send_after(1s, p, 1);
  CHECK_FALSE(t.pending());
}

OTP_TEST_CASE("a send_after whose target ends before it fires is dropped") {
  auto p = otp::spawn([]() -> otp::process<int> { co_await otp::sleep_for(1s); });
  auto t = otp::send_after(5s, p, 1);
  co_await otp::sleep_for(10s);
  CHECK_FALSE(otp::is_alive(p));
  CHECK_FALSE(t.cancel());  // it fired into the void
}

OTP_TEST_CASE("sleep_for suspends for exactly the duration on the runtime clock") {
  auto t0 = otp::now();
  co_await otp::sleep_for(50min);
  CHECK(otp::now() - t0 == 50min);
}

}  // TEST_SUITE
