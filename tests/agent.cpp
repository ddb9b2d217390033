// SPDX-License-Identifier: MIT
// otp::agent: a process that holds a value.
#include <otp/agent.hpp>

#include <doctest/doctest.h>
#include <otp/testing.hpp>

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;

TEST_SUITE("agent") {

OTP_TEST_CASE("agent: get, update and get_and_update run in the agent, in order") {
  auto counter = (co_await otp::start_agent([] { return 0; })).value();
  (void)co_await counter.update([](int& n) { ++n; });
  (void)co_await counter.update([](int& n) { n += 10; });
  CHECK((co_await counter.get([](const int& n) { return n; })).value() == 11);
  CHECK((co_await counter.get_and_update([](int& n) { return n++; })).value() == 11);
  CHECK(counter.cast([](int& n) { n *= 2; }) == otp::send_status::delivered);
  CHECK((co_await counter.get([](const int& n) { return n; })).value() == 24);
  CHECK((co_await counter.stop()).has_value());
  CHECK((co_await counter.get([](const int& n) { return n; })).error() == otp::errc::noproc);
}

OTP_TEST_CASE("agent: concurrent updates from many processes never race") {
  auto totals = (co_await otp::start_agent([] { return std::map<std::string, int>(); })).value();
  auto adder = [](otp::agent<std::map<std::string, int>> a, std::string key) -> otp::process<> {
    for (int i = 0; i < 100; ++i) {
      auto bump = [key](std::map<std::string, int>& m) { ++m[key]; };  // named: GCC 12
      (void)co_await a.update(bump);
    }
  };
  std::vector<otp::monitor_ref> refs;
  for (int i = 0; i < 10; ++i) refs.push_back(otp::spawn_monitor(adder, totals, "k" + std::to_string(i % 3)).monitor);
  for (int i = 0; i < 10; ++i) co_await otp::receive();
  auto sum = [](const std::map<std::string, int>& m) {
    int s = 0;
    for (auto& [k, v] : m) s += v;
    return s;
  };
  CHECK((co_await totals.get(sum)).value() == 1000);
  (void)co_await totals.stop();
}

OTP_TEST_CASE("agent: a function that throws crashes the agent; the caller gets its reason") {
  otp::trap_exit(true);
  auto a = (co_await otp::start_agent([] { return 1; })).value();
  auto r = co_await a.update([](int&) { throw std::logic_error("bad update"); });
  REQUIRE(r.has_error());
  CHECK(r.error() == otp::errc::exited);
  CHECK(r.error().reason.to_string() == R"({error,std::logic_error,"bad update"})");
  auto bad = co_await otp::start_agent([]() -> int { throw std::runtime_error("no value"); });
  CHECK(bad.error() == otp::errc::start_failed);
}

OTP_TEST_CASE("agent: started by a supervisor from its child spec, under a name") {
  std::vector<otp::child_spec> kids;
  kids.push_back(otp::agent<int>::child_spec("counter", [] { return 5; }).with(otp::local("counter")));
  auto sup = (co_await otp::start_supervisor(otp::supervisor_flags(), std::move(kids))).value();
  auto ref = otp::server_ref<otp::agent<int>::server_type>::from(otp::local("counter").whereis()).value();
  otp::agent<int> counter(ref);
  CHECK((co_await counter.get([](const int& n) { return n; })).value() == 5);
  otp::unlink(sup);
  otp::exit(sup, otp::exit_reason::shutdown());
}

}  // TEST_SUITE
