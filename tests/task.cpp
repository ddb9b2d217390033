// SPDX-License-Identifier: MIT
// otp::task: helper coroutines a process awaits.
#include <otp/task.hpp>

#include <doctest/doctest.h>
#include <otp/testing.hpp>

#include <stdexcept>
#include <string>

using namespace std::chrono_literals;

namespace {
otp::task<int> add_later(int a, int b) {
  co_await otp::sleep_for(1s);
  co_return a + b;
}

otp::task<int, int> sum_of_next(int n) {
  int sum = 0;
  for (int i = 0; i < n; ++i) {
    auto m = co_await otp::receive();
    sum += std::get<int>(m);
  }
  co_return sum;
}

otp::task<int> nested(int depth) {
  if (depth == 0) co_return co_await add_later(1, 1);
  co_return 1 + co_await nested(depth - 1);
}

otp::task<> throws_after_wait() {
  co_await otp::yield();
  throw std::runtime_error("task failed");
}

struct guard {
  std::shared_ptr<int> destroyed;
  ~guard() { ++*destroyed; }
};

otp::task<> waits_forever(std::shared_ptr<int> destroyed) {
  guard g{destroyed};
  co_await otp::sleep_for(std::chrono::hours(1000));
}
}  // namespace

TEST_SUITE("task") {

namespace {
// A helper that waits for a down: a task<T> that receives nothing of its own
// process's type, so processes of any message type can await it.
otp::task<otp::exit_reason> end_of(otp::pid p) {
  auto ref = otp::monitor(p);
  co_return (co_await otp::receive_down(ref)).reason;
}
}  // namespace

OTP_TEST_CASE_M("a task that waits for a down with receive_down fits processes of any message type", int) {
  auto quick = []() -> otp::process<> { co_return; };
  CHECK(co_await end_of(otp::spawn(quick)) == otp::exit_reason::normal());
  auto text_body = [](otp::pid target) -> otp::process<std::string> {
    CHECK(co_await end_of(target) == otp::exit_reason::normal());
  };
  auto slow = []() -> otp::process<> { co_await otp::sleep_for(1s); };
  auto [other, ref] = otp::spawn_monitor(text_body, otp::pid(otp::spawn(slow)));
  CHECK((co_await otp::receive_down(ref)).reason == otp::exit_reason::normal());
}

OTP_TEST_CASE("a task runs in the awaiting process and hands back its value") {
  auto t0 = otp::now();
  int r = co_await add_later(2, 3);
  CHECK(r == 5);
  CHECK(otp::now() - t0 == 1s);
}

OTP_TEST_CASE_M("a task receives the messages of the process that awaits it", int) {
  auto me = otp::self_as<int>();
  for (int i = 1; i <= 4; ++i) otp::send(me, i);
  CHECK(co_await sum_of_next(3) == 6);
  CHECK(std::get<int>(co_await otp::receive()) == 4);  // the fourth stays in the mailbox
}

OTP_TEST_CASE("tasks nest, each resuming the one that awaits it") {
  CHECK(co_await nested(50) == 52);
}

OTP_TEST_CASE("an exception escaping a task is rethrown in the awaiting coroutine") {
  bool caught = false;
  try {
    co_await throws_after_wait();
  } catch (const std::runtime_error& e) {
    caught = std::string(e.what()) == "task failed";
  }
  CHECK(caught);
}

OTP_TEST_CASE("a task that is never awaited never runs") {
  bool ran = false;
  {
    auto t = [](bool* r) -> otp::task<> {
      *r = true;
      co_return;
    }(&ran);
  }
  co_await otp::yield();
  CHECK_FALSE(ran);
}

OTP_TEST_CASE("killing a process waiting in a task destroys the task's frame too") {
  auto destroyed = std::make_shared<int>(0);
  auto [child, mon] = otp::spawn_monitor(
      [](std::shared_ptr<int> d) -> otp::process<> { co_await waits_forever(d); }, destroyed);
  co_await otp::sleep_for(1s);
  otp::exit(child, otp::exit_reason::kill());
  auto down = std::get<otp::down_message>(co_await otp::receive());
  CHECK(down.reason == otp::exit_reason::killed());
  CHECK(*destroyed == 1);
}

OTP_TEST_CASE("an exception escaping a task and the body ends the process with an error reason") {
  auto [child, mon] = otp::spawn_monitor([]() -> otp::process<> { co_await throws_after_wait(); });
  auto down = std::get<otp::down_message>(co_await otp::receive());
  CHECK(down.reason.kind() == otp::exit_kind::error);
  CHECK(down.reason.payload() == "task failed");
}
}
