// SPDX-License-Identifier: MIT
// Tasks: otp::async / otp::await, and otp::async_nolink under a task supervisor.
#include <otp/async.hpp>

#include <doctest/doctest.h>
#include <otp/offload.hpp>
#include <otp/testing.hpp>

#include <stdexcept>
#include <string>

using namespace std::chrono_literals;

namespace {
otp::task<int> slow_square(int x) {
  co_await otp::sleep_for(1s);
  co_return x * x;
}
}  // namespace

TEST_SUITE("async") {

OTP_TEST_CASE("async: the task runs in its own process and await returns its value") {
  auto a = otp::async([] { return std::string("plain"); });
  auto b = otp::async([] { return slow_square(7); });  // a coroutine task
  auto c = otp::async([] {});
  CHECK(a.pid() != otp::self());
  auto t0 = otp::now();
  CHECK((co_await otp::await(std::move(b))).value() == 49);
  CHECK(otp::now() - t0 == 1s);
  CHECK((co_await otp::await(std::move(a))).value() == "plain");
  CHECK((co_await otp::await(std::move(c))).has_value());
}

OTP_TEST_CASE("async: a linked task's crash takes down a caller that does not trap exits") {
  auto parent = []() -> otp::process<> {
    auto t = otp::async([]() -> int { throw std::runtime_error("task failed"); });
    (void)co_await otp::await(std::move(t));
    FAIL("the caller must not outlive the crash of its linked task");
  };
  auto [p, ref] = otp::spawn_monitor(parent);
  auto m = co_await otp::receive();
  REQUIRE(std::holds_alternative<otp::down_message>(m));
  CHECK(std::get<otp::down_message>(m).reason.to_string() == R"({error,std::runtime_error,"task failed"})");
}

OTP_TEST_CASE("async: a caller that traps exits sees the task's reason from await") {
  otp::trap_exit(true);
  auto t = otp::async([]() -> int { throw std::runtime_error("task failed"); });
  auto task_pid = t.pid();
  auto r = co_await otp::await(std::move(t));
  REQUIRE(r.has_error());
  CHECK(r.error() == otp::errc::exited);
  CHECK(r.error().reason.to_string() == R"({error,std::runtime_error,"task failed"})");
  auto m = co_await otp::receive();
  REQUIRE(std::holds_alternative<otp::exit_message>(m));
  CHECK(std::get<otp::exit_message>(m).from == task_pid);
}

OTP_TEST_CASE("await: a timeout leaves the task running and drops its later value") {
  auto t = otp::async([] { return slow_square(3); });
  auto task_pid = t.pid();
  auto r = co_await otp::await(std::move(t), 500ms);
  REQUIRE(r.has_error());
  CHECK(r.error() == otp::errc::timeout);
  CHECK(otp::is_alive(task_pid));
  auto ref = otp::monitor(task_pid);
  auto m = co_await otp::receive();  // it finishes normally; nothing else arrives
  REQUIRE(std::holds_alternative<otp::down_message>(m));
  CHECK(std::get<otp::down_message>(m).ref == ref);
  CHECK(std::get<otp::down_message>(m).reason == otp::exit_reason::normal());
  CHECK(!(co_await otp::receive(1s)));
}

OTP_TEST_CASE("await: only the process that started the task may await it") {
  auto t = otp::async([] { return 1; });
  auto other = [](otp::async_task<int> task) -> otp::process<> {
    auto r = co_await otp::await(std::move(task));
    CHECK(r.error() == otp::errc::not_owner);
  };
  auto [p, ref] = otp::spawn_monitor(other, std::move(t));
  auto m = co_await otp::receive();
  CHECK(std::get<otp::down_message>(m).reason == otp::exit_reason::normal());
}

OTP_TEST_CASE("async_nolink: a crashing task does not touch the caller, which sees the reason from await") {
  auto sup = (co_await otp::start_task_supervisor()).value();
  auto bad = (co_await otp::async_nolink(sup, []() -> int { throw std::runtime_error("nolink failed"); })).value();
  auto good = (co_await otp::async_nolink(sup, [] { return slow_square(5); })).value();
  auto r = co_await otp::await(std::move(bad));
  REQUIRE(r.has_error());
  CHECK(r.error() == otp::errc::exited);
  CHECK(r.error().reason.to_string() == R"({error,std::runtime_error,"nolink failed"})");
  CHECK((co_await otp::await(std::move(good))).value() == 25);
  auto counts = (co_await otp::count_children(sup)).value();
  CHECK(counts.active == 0);  // temporary children: nothing restarted, nothing kept
  // Without a supervisor, async_nolink fails with noproc.
  otp::unlink(sup);
  otp::exit(sup, otp::exit_reason::shutdown());
  co_await otp::sleep_for(1ms);
  auto none = co_await otp::async_nolink(sup, [] { return 1; });
  CHECK(none.error() == otp::errc::noproc);
}

OTP_TEST_CASE("async: a task may offload blocking work") {
  auto t = otp::async([]() -> otp::task<int> { co_return co_await otp::offload([] { return 6 * 7; }); });
  CHECK((co_await otp::await(std::move(t))).value() == 42);
}

}  // TEST_SUITE
