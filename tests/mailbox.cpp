// SPDX-License-Identifier: MIT
// Mailboxes: typed sends, ordering, receive with timeout, bounds, dead targets.
#include <otp/process.hpp>

#include <doctest/doctest.h>
#include <otp/testing.hpp>
#include <otp/timer.hpp>

#include <asio/io_context.hpp>

#include <string>
#include <thread>

using namespace std::chrono_literals;

namespace {
struct text {
  std::string s;
  explicit text(std::string v) : s(std::move(v)) {}
};

// Collects `n` ints and sends their concatenation back to `out`.
otp::process<int> collect(int n, otp::handle<std::string> out) {
  std::string seen;
  for (int i = 0; i < n; ++i) seen += std::to_string(std::get<int>(co_await otp::receive())) + ",";
  otp::send(out, seen);
}
}  // namespace

TEST_SUITE("mailbox") {

OTP_TEST_CASE_M("messages from one sender arrive in the order sent", std::string) {
  auto c = otp::spawn(collect, 5, otp::self_as<std::string>());
  for (int i = 0; i < 5; ++i) otp::send(c, i);
  CHECK(std::get<std::string>(co_await otp::receive()) == "0,1,2,3,4,");
}

OTP_TEST_CASE("receive without timeout waits for the next message") {
  auto echo = otp::spawn([]() -> otp::process<int> {
    int v = std::get<int>(co_await otp::receive());
    CHECK(v == 7);
  });
  co_await otp::sleep_for(10s);
  otp::send(echo, 7);
  co_await otp::sleep_for(1ms);
  CHECK_FALSE(otp::is_alive(echo));
}

OTP_TEST_CASE_M("receive with timeout returns empty after exactly the timeout", int) {
  auto t0 = otp::now();
  auto m = co_await otp::receive(250ms);
  CHECK_FALSE(m.has_value());
  CHECK(otp::now() - t0 == 250ms);
}

OTP_TEST_CASE_M("receive with timeout returns a message that arrives before the deadline", int) {
  otp::send_after(100ms, otp::self_as<int>(), 42);
  auto m = co_await otp::receive(250ms);
  REQUIRE(m.has_value());
  CHECK(std::get<int>(*m) == 42);
}

OTP_TEST_CASE_M("a message that arrives as the timeout fires is never lost", int) {
  // The message is due at the very instant of the deadline: whichever wins,
  // the message is either returned or still in the mailbox.
  otp::send_after(100ms, otp::self_as<int>(), 1);
  auto m = co_await otp::receive(100ms);
  if (!m) m = co_await otp::receive(0ms);
  REQUIRE(m.has_value());
  CHECK(std::get<int>(*m) == 1);
}

OTP_TEST_CASE_M("receive with a zero timeout polls", int) {
  CHECK_FALSE((co_await otp::receive(0ms)).has_value());
  otp::send(otp::self_as<int>(), 3);
  auto m = co_await otp::receive(0ms);
  REQUIRE(m.has_value());
  CHECK(std::get<int>(*m) == 3);
}

OTP_TEST_CASE("a send to a dead process is dropped silently and says so") {
  auto [p, ref] = otp::spawn_monitor([]() -> otp::process<int> { co_return; });
  co_await otp::receive();
  CHECK(otp::send(p, 1).status() == otp::send_status::dropped);
  CHECK(otp::send(otp::handle<int>(), 1).status() == otp::send_status::dropped);
}

OTP_TEST_CASE("a send to a live process is delivered") {
  auto p = otp::spawn([]() -> otp::process<int> { co_await otp::receive(); });
  CHECK(otp::send(p, 1).status() == otp::send_status::delivered);
  co_await otp::yield();
}

OTP_TEST_CASE("handle::from refuses a pid of another message type") {
  auto p = otp::spawn([]() -> otp::process<int> { co_await otp::receive(); });
  otp::pid untyped = p;
  auto wrong = otp::handle<std::string>::from(untyped);
  REQUIRE(wrong.has_error());
  CHECK(wrong.error() == otp::errc::bad_message_type);
  auto right = otp::handle<int>::from(untyped);
  REQUIRE(right.has_value());
  otp::send(right.value(), 1);
  CHECK(otp::handle<int>::from(otp::pid()).error() == otp::errc::noproc);
  co_await otp::yield();
}

OTP_TEST_CASE("a bounded mailbox with overflow::fail refuses the message beyond the bound") {
  otp::spawn_options o;
  o.mailbox_bound = 2;
  auto s = otp::spawn_opt(o, []() -> otp::process<int> {
    co_await otp::sleep_for(1s);
    for (int i = 0; i < 2; ++i) co_await otp::receive();
  });
  CHECK(otp::send(s.pid, 1).status() == otp::send_status::delivered);
  CHECK(otp::send(s.pid, 2).status() == otp::send_status::delivered);
  CHECK(otp::send(s.pid, 3).status() == otp::send_status::full);
  co_await otp::sleep_for(2s);
}

OTP_TEST_CASE("a bounded mailbox with overflow::drop drops the message beyond the bound") {
  otp::spawn_options o;
  o.mailbox_bound = 1;
  o.on_full = otp::overflow::drop;
  auto s = otp::spawn_opt(o, []() -> otp::process<int> {
    co_await otp::sleep_for(1s);
    co_await otp::receive();
    CHECK_FALSE((co_await otp::receive(0ms)).has_value());
  });
  CHECK(otp::send(s.pid, 1).status() == otp::send_status::delivered);
  CHECK(otp::send(s.pid, 2).status() == otp::send_status::dropped);
  co_await otp::sleep_for(2s);
}

OTP_TEST_CASE("a bounded mailbox with overflow::wait makes co_await send wait for room") {
  otp::spawn_options o;
  o.mailbox_bound = 1;
  o.on_full = otp::overflow::wait;
  auto s = otp::spawn_opt(o, []() -> otp::process<int> {
    co_await otp::sleep_for(1s);
    CHECK(std::get<int>(co_await otp::receive()) == 1);
    CHECK(std::get<int>(co_await otp::receive()) == 2);
  });
  co_await otp::send(s.pid, 1);
  CHECK(otp::send(s.pid, 9).status() == otp::send_status::full);  // a plain send does not wait
  auto st = co_await otp::send(s.pid, 2);                           // waits until the first is taken
  CHECK(st == otp::send_status::delivered);
  co_await otp::sleep_for(2s);
}

OTP_TEST_CASE("exit and down signals bypass a full bounded mailbox") {
  otp::spawn_options o;
  o.mailbox_bound = 1;
  o.trap_exit = true;
  auto s = otp::spawn_opt(o, []() -> otp::process<int> {
    co_await otp::sleep_for(1s);
    CHECK(std::holds_alternative<int>(co_await otp::receive()));
    CHECK(std::holds_alternative<otp::exit_message>(co_await otp::receive()));
  });
  otp::send(s.pid, 1);
  otp::exit(s.pid, otp::exit_reason::other("hello"));
  co_await otp::sleep_for(2s);
  CHECK_FALSE(otp::is_alive(s.pid));
}

TEST_CASE("send is safe from another thread and from non-process code") {
  asio::io_context io;
  otp::runtime rt(io.get_executor());
  constexpr int n = 20000;
  int got = 0;
  auto p = otp::spawn(rt, [&got]() -> otp::process<int> {
    for (int i = 0; i < 2 * n; ++i) {
      co_await otp::receive();
      ++got;
    }
  });
  std::thread a([&] {
    for (int i = 0; i < n; ++i) otp::send(p, i);
  });
  std::thread b([&] {
    for (int i = 0; i < n; ++i) otp::send(p, -i);
  });
  io.run();
  a.join();
  b.join();
  CHECK(got == 2 * n);
}

}  // TEST_SUITE
