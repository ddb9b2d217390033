// SPDX-License-Identifier: MIT
// Monitors: one-way, one down per monitor, noproc for dead targets, demonitor.
#include <otp/process.hpp>

#include <doctest/doctest.h>
#include <otp/testing.hpp>

using namespace std::chrono_literals;

namespace {
otp::process<> waits_forever() { co_await otp::receive(); }
otp::process<> ends_after(otp::duration d) { co_await otp::sleep_for(d); }
}  // namespace

TEST_SUITE("monitors") {

OTP_TEST_CASE("the watcher receives exactly one down with the ref, pid and reason") {
  auto p = otp::spawn(ends_after, otp::duration(1s));
  auto ref = otp::monitor(p);
  auto m = co_await otp::receive();
  auto& d = std::get<otp::down_message>(m);
  CHECK(d.ref == ref);
  CHECK(d.from == p);
  CHECK(d.reason == otp::exit_reason::normal());
  CHECK_FALSE((co_await otp::receive(5s)).has_value());
}

OTP_TEST_CASE("each monitor call makes a fresh ref, and each gives its own down") {
  auto p = otp::spawn(ends_after, otp::duration(1s));
  auto r1 = otp::monitor(p);
  auto r2 = otp::monitor(p);
  CHECK(r1 != r2);
  auto d1 = std::get<otp::down_message>(co_await otp::receive());
  auto d2 = std::get<otp::down_message>(co_await otp::receive());
  CHECK(((d1.ref == r1 && d2.ref == r2) || (d1.ref == r2 && d2.ref == r1)));
}

OTP_TEST_CASE("monitoring a dead process gives an immediate down with noproc") {
  auto [p, r0] = otp::spawn_monitor([]() -> otp::process<> { co_return; });
  co_await otp::receive();
  auto ref = otp::monitor(p);
  auto m = co_await otp::receive(0ms);  // immediate: no time passes
  REQUIRE(m.has_value());
  auto& d = std::get<otp::down_message>(*m);
  CHECK(d.ref == ref);
  CHECK(d.reason == otp::exit_reason::noproc());
}

OTP_TEST_CASE("a monitor is one-way: the watcher's crash does not touch the target") {
  auto target = otp::spawn(waits_forever);
  auto [w, ref] = otp::spawn_monitor([](otp::pid t) -> otp::process<> {
    otp::monitor(t);
    throw std::runtime_error("watcher crashes");
    co_return;
  }, otp::pid(target));
  co_await otp::receive();
  CHECK(otp::is_alive(target));
  otp::exit(target, otp::exit_reason::kill());
}

OTP_TEST_CASE("demonitor cancels the monitor: no down arrives") {
  auto p = otp::spawn(ends_after, otp::duration(1s));
  auto ref = otp::monitor(p);
  CHECK(otp::demonitor(ref));
  CHECK_FALSE((co_await otp::receive(5s)).has_value());
  CHECK_FALSE(otp::demonitor(ref));  // no longer active
}

OTP_TEST_CASE("demonitor with flush removes a down already in the mailbox") {
  auto p = otp::spawn(ends_after, otp::duration(1s));
  auto ref = otp::monitor(p);
  co_await otp::sleep_for(2s);  // the down is in the mailbox now
  otp::demonitor(ref, otp::demonitor_option::flush);
  CHECK_FALSE((co_await otp::receive(0ms)).has_value());
}

OTP_TEST_CASE("demonitor without flush leaves a down already in the mailbox") {
  auto p = otp::spawn(ends_after, otp::duration(1s));
  auto ref = otp::monitor(p);
  co_await otp::sleep_for(2s);
  CHECK_FALSE(otp::demonitor(ref));  // already fired
  auto m = co_await otp::receive(0ms);
  REQUIRE(m.has_value());
  CHECK(std::get<otp::down_message>(*m).ref == ref);
}

OTP_TEST_CASE_M("a down never overtakes the dead process's last messages", int) {
  auto [p, ref] = otp::spawn_monitor([](otp::handle<int> to) -> otp::process<> {
    for (int i = 0; i < 100; ++i) otp::send(to, i);
    co_return;
  }, otp::self_as<int>());
  for (int i = 0; i < 100; ++i) CHECK(std::get<int>(co_await otp::receive()) == i);
  CHECK(std::holds_alternative<otp::down_message>(co_await otp::receive()));
}

OTP_TEST_CASE("spawn_monitor monitors before the child runs") {
  auto [p, ref] = otp::spawn_monitor([]() -> otp::process<> {
    throw std::runtime_error("instant");
    co_return;
  });
  auto d = std::get<otp::down_message>(co_await otp::receive());
  CHECK(d.ref == ref);
  CHECK(d.reason.payload() == "instant");
}

OTP_TEST_CASE("a process that ends drops the monitors it held on others") {
  auto target = otp::spawn(waits_forever);
  for (int i = 0; i < 50; ++i) {
    auto [w, ref] = otp::spawn_monitor([](otp::pid t) -> otp::process<> {
      otp::monitor(t);
      co_return;
    }, otp::pid(target));
    co_await otp::receive();
  }
  // The target's watcher list is cleaned up; it still ends normally and the
  // one monitor left (ours) fires once.
  auto ref = otp::monitor(target);
  otp::exit(target, otp::exit_reason::shutdown());
  auto d = std::get<otp::down_message>(co_await otp::receive());
  CHECK(d.ref == ref);
  CHECK_FALSE((co_await otp::receive(1s)).has_value());
}

}  // TEST_SUITE
