// SPDX-License-Identifier: MIT
// Links, exit signals and trapping exits: OTP's rules, one test each.
#include <otp/process.hpp>

#include <doctest/doctest.h>
#include <otp/testing.hpp>

#include <algorithm>

using namespace std::chrono_literals;

namespace {
otp::process<> waits_forever() { co_await otp::receive(); }
otp::process<> crashes_after(otp::duration d) {
  co_await otp::sleep_for(d);
  throw std::runtime_error("crash");
}
otp::process<> ends_after(otp::duration d, otp::exit_reason r) {
  co_await otp::sleep_for(d);
  otp::exit(r);
}
// Links to `target`, then waits; reports how it ended through the monitor of the caller.
otp::process<> links_to(otp::pid target) {
  otp::link(target);
  co_await otp::receive();
}
const otp::down_message& as_down(const otp::message<otp::nothing>& m) { return std::get<otp::down_message>(m); }
}  // namespace

TEST_SUITE("links") {

OTP_TEST_CASE("a crash spreads along a link to a process that does not trap exits") {
  auto c = otp::spawn(crashes_after, otp::duration(1s));
  auto [l, ref] = otp::spawn_monitor(links_to, otp::pid(c));
  auto d = as_down(co_await otp::receive());
  CHECK(d.from == l);
  CHECK(d.reason.kind() == otp::exit_kind::error);
}

OTP_TEST_CASE("an exit with reason normal does not take down a linked process") {
  auto c = otp::spawn(ends_after, otp::duration(1s), otp::exit_reason::normal());
  auto [l, ref] = otp::spawn_monitor(links_to, otp::pid(c));
  CHECK_FALSE((co_await otp::receive(5s)).has_value());
  CHECK(otp::is_alive(l));
  otp::exit(l, otp::exit_reason::kill());
  co_await otp::receive();
}

OTP_TEST_CASE("a process that traps exits receives the exit as a message instead of dying") {
  otp::trap_exit(true);
  auto c = otp::spawn_link(crashes_after, otp::duration(1s));
  auto m = co_await otp::receive();
  auto& e = std::get<otp::exit_message>(m);
  CHECK(e.from == c);
  CHECK(e.reason.kind() == otp::exit_kind::error);
  otp::trap_exit(false);
}

OTP_TEST_CASE("a trapped normal exit of a linked process arrives as a message") {
  otp::trap_exit(true);
  auto c = otp::spawn_link(ends_after, otp::duration(1s), otp::exit_reason::normal());
  auto e = std::get<otp::exit_message>(co_await otp::receive());
  CHECK(e.from == c);
  CHECK(e.reason == otp::exit_reason::normal());
  otp::trap_exit(false);
}

OTP_TEST_CASE("link is bidirectional: the linker's crash takes down the linked process") {
  auto target = otp::spawn(waits_forever);
  auto t_ref = otp::monitor(target);
  otp::spawn([](otp::pid t) -> otp::process<> {
    otp::link(t);
    co_await otp::sleep_for(1s);
    throw std::runtime_error("linker crashed");
  }, otp::pid(target));
  auto d = as_down(co_await otp::receive());
  CHECK(d.ref == t_ref);
  CHECK(d.reason.kind() == otp::exit_kind::error);
}

OTP_TEST_CASE("link is idempotent: linking twice gives one exit signal") {
  otp::trap_exit(true);
  auto c = otp::spawn(crashes_after, otp::duration(1s));
  otp::link(c);
  otp::link(c);
  CHECK(std::holds_alternative<otp::exit_message>(co_await otp::receive()));
  CHECK_FALSE((co_await otp::receive(5s)).has_value());
  otp::trap_exit(false);
}

OTP_TEST_CASE("unlink removes the link: no exit signal arrives afterwards") {
  auto c = otp::spawn(crashes_after, otp::duration(1s));
  otp::link(c);
  otp::unlink(c);
  CHECK_FALSE((co_await otp::receive(5s)).has_value());
  CHECK_FALSE(otp::is_alive(c));
}

OTP_TEST_CASE("linking to a dead process delivers an exit signal with reason noproc") {
  auto [dead, ref] = otp::spawn_monitor([]() -> otp::process<> { co_return; });
  co_await otp::receive();
  otp::trap_exit(true);
  otp::link(dead);
  auto e = std::get<otp::exit_message>(co_await otp::receive());
  CHECK(e.from == dead);
  CHECK(e.reason == otp::exit_reason::noproc());
  otp::trap_exit(false);
}

OTP_TEST_CASE("linking to a dead process without trapping exits ends the caller with noproc") {
  auto [dead, r1] = otp::spawn_monitor([]() -> otp::process<> { co_return; });
  co_await otp::receive();
  auto [l, r2] = otp::spawn_monitor(links_to, otp::pid(dead));
  CHECK(as_down(co_await otp::receive()).reason == otp::exit_reason::noproc());
}

OTP_TEST_CASE("exit(pid, kill) cannot be trapped and ends the target with killed") {
  otp::spawn_options o;
  o.trap_exit = true;
  o.monitor = true;
  auto s = otp::spawn_opt(o, waits_forever);
  otp::exit(s.pid, otp::exit_reason::kill());
  CHECK(as_down(co_await otp::receive()).reason == otp::exit_reason::killed());
}

OTP_TEST_CASE("a killed process's links receive killed, which they can trap") {
  otp::trap_exit(true);
  auto c = otp::spawn_link(waits_forever);
  otp::exit(c, otp::exit_reason::kill());
  auto e = std::get<otp::exit_message>(co_await otp::receive());
  CHECK(e.reason == otp::exit_reason::killed());
  otp::trap_exit(false);
}

OTP_TEST_CASE("exit(pid, normal) is ignored by a process that does not trap exits") {
  auto [p, ref] = otp::spawn_monitor(waits_forever);
  otp::exit(p, otp::exit_reason::normal());
  CHECK_FALSE((co_await otp::receive(5s)).has_value());
  CHECK(otp::is_alive(p));
  otp::exit(p, otp::exit_reason::kill());
  co_await otp::receive();
}

OTP_TEST_CASE("exit(self, normal) ends the caller with normal") {
  auto [p, ref] = otp::spawn_monitor([]() -> otp::process<> {
    otp::exit(otp::self(), otp::exit_reason::normal());
    co_await otp::receive();  // the signal takes effect here
    FAIL("still running after exit(self, normal)");
  });
  CHECK(as_down(co_await otp::receive()).reason == otp::exit_reason::normal());
}

OTP_TEST_CASE("exit(pid, reason) with another reason ends a non-trapping target with that reason") {
  auto [p, ref] = otp::spawn_monitor(waits_forever);
  otp::exit(p, otp::exit_reason::shutdown());
  CHECK(as_down(co_await otp::receive()).reason == otp::exit_reason::shutdown());
}

OTP_TEST_CASE("exit(pid, reason) to a trapping target arrives as an exit_message from the sender") {
  otp::spawn_options o;
  o.trap_exit = true;
  auto me = otp::self();
  auto s = otp::spawn_opt(o, [](otp::pid sender) -> otp::process<> {
    auto e = std::get<otp::exit_message>(co_await otp::receive());
    CHECK(e.from == sender);
    CHECK(e.reason == otp::exit_reason::other("please"));
  }, me);
  otp::monitor(s.pid);
  otp::exit(s.pid, otp::exit_reason::other("please"));
  CHECK(as_down(co_await otp::receive()).reason == otp::exit_reason::normal());
}

OTP_TEST_CASE("spawn_link links before the child runs: an instant crash still reaches the caller") {
  otp::trap_exit(true);
  auto c = otp::spawn_link([]() -> otp::process<> {
    throw std::logic_error("instant");
    co_return;
  });
  auto e = std::get<otp::exit_message>(co_await otp::receive());
  CHECK(e.from == c);
  CHECK(e.reason.error_type() == "std::logic_error");
  otp::trap_exit(false);
}

OTP_TEST_CASE("links fire after the dead process's destructors ran") {
  otp::trap_exit(true);
  auto released = std::make_shared<bool>(false);
  struct resource {
    std::shared_ptr<bool> r;
    ~resource() { *r = true; }
  };
  otp::spawn_link([](std::shared_ptr<bool> r) -> otp::process<> {
    resource res{std::move(r)};
    co_await otp::sleep_for(1s);
    throw std::runtime_error("crash while holding a resource");
  }, released);
  co_await otp::receive();
  CHECK(*released);
  otp::trap_exit(false);
}

OTP_TEST_CASE_M("an exit signal is not overtaken by the dying process's last messages", int) {
  otp::trap_exit(true);
  otp::spawn_link([](otp::handle<int> to) -> otp::process<> {
    for (int i = 0; i < 100; ++i) otp::send(to, i);
    throw std::runtime_error("done sending");
    co_return;  // makes the lambda a coroutine
  }, otp::self_as<int>());
  for (int i = 0; i < 100; ++i) CHECK(std::get<int>(co_await otp::receive()) == i);
  CHECK(std::holds_alternative<otp::exit_message>(co_await otp::receive()));
  otp::trap_exit(false);
}

OTP_TEST_CASE("with thousands of links, unlink removes exactly the one named and every other link still fires") {
  // Past 16 links the set is a hash table; unlinking every third, in a
  // scattered order, exercises its deletions.
  otp::trap_exit(true);
  std::vector<otp::pid> peers;
  for (int i = 0; i < 3000; ++i) peers.push_back(otp::spawn(waits_forever));
  for (auto& p : peers) otp::link(p);
  std::vector<bool> unlinked(peers.size());
  for (std::size_t i = 0; i < peers.size(); i += 3) {
    auto k = (i * 7919) % peers.size();
    otp::unlink(peers[k]);
    unlinked[k] = true;
  }
  for (auto& p : peers) otp::exit(p, otp::exit_reason::kill());
  std::size_t exits = 0;
  while (auto m = co_await otp::receive(1s)) exits += std::holds_alternative<otp::exit_message>(*m);
  CHECK(exits == peers.size() - static_cast<std::size_t>(std::count(unlinked.begin(), unlinked.end(), true)));
  otp::trap_exit(false);
}

}  // TEST_SUITE
