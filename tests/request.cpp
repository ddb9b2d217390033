// SPDX-License-Identifier: MIT
// Request/reply: the primitive under call and the supervisor's admin calls.
#include <otp/request.hpp>

#include <doctest/doctest.h>
#include <otp/testing.hpp>

#include <asio/io_context.hpp>

#include <string>
#include <thread>

using namespace std::chrono_literals;

namespace {
struct get {
  get(std::string k, otp::reply_to<int> r) : key(std::move(k)), reply(std::move(r)) {}
  std::string key;
  otp::reply_to<int> reply;
};
// Answers every request with the key's length, after `delay`; crashes on "crash".
otp::process<get> server(otp::duration delay) {
  for (;;) {
    auto g = std::get<get>(co_await otp::receive());
    if (g.key == "crash") throw std::runtime_error("server crashed");
    if (delay > otp::duration::zero()) co_await otp::sleep_for(delay);
    g.reply.send(static_cast<int>(g.key.size()));
  }
}
struct ask {
  explicit ask(std::string k) : key(std::move(k)) {}
  std::string key;
  get operator()(otp::reply_to<int> r) const { return get(key, std::move(r)); }
};
}  // namespace

TEST_SUITE("request") {

OTP_TEST_CASE("a request returns the target's reply") {
  auto s = otp::spawn(server, otp::duration(0));
  auto r = co_await otp::request<int>(s, ask("hello"));
  REQUIRE(r.has_value());
  CHECK(r.value() == 5);
  otp::exit(s, otp::exit_reason::kill());
}

OTP_TEST_CASE("a request to a dead target fails at once with noproc") {
  auto [s, ref] = otp::spawn_monitor(server, otp::duration(0));
  otp::exit(s, otp::exit_reason::kill());
  co_await otp::receive();
  auto t0 = otp::now();
  auto r = co_await otp::request<int>(otp::handle<get>::from(s).value(), ask("x"));
  REQUIRE(r.has_error());
  CHECK(r.error() == otp::errc::noproc);
  CHECK(otp::now() == t0);
}

OTP_TEST_CASE("a target that dies during the request fails it at once with its exit reason") {
  auto s = otp::spawn(server, otp::duration(0));
  auto t0 = otp::now();
  auto r = co_await otp::request<int>(s, ask("crash"));
  REQUIRE(r.has_error());
  CHECK(r.error() == otp::errc::exited);
  CHECK(r.error().reason.payload() == "server crashed");
  CHECK(otp::now() == t0);
}

OTP_TEST_CASE("a request times out, and the late reply never appears in the mailbox") {
  auto s = otp::spawn(server, otp::duration(10s));
  auto r = co_await otp::request<int>(s, ask("slow"), 1s);
  REQUIRE(r.has_error());
  CHECK(r.error() == otp::errc::timeout);
  co_await otp::sleep_for(20s);  // the server has replied by now
  CHECK_FALSE((co_await otp::receive(0ms)).has_value());
  otp::exit(s, otp::exit_reason::kill());
}

OTP_TEST_CASE("a request to oneself fails at once instead of deadlocking") {
  auto me = otp::handle<otp::nothing>::from(otp::self()).value();
  auto r = co_await otp::request<int>(me, [](otp::reply_to<int>) { return otp::nothing{}; });
  REQUIRE(r.has_error());
  CHECK(r.error() == otp::errc::calling_self);
}

OTP_TEST_CASE("a request leaves no down or exit message behind") {
  auto s = otp::spawn(server, otp::duration(0));
  for (int i = 0; i < 3; ++i) CHECK((co_await otp::request<int>(s, ask("abc"))).value() == 3);
  otp::exit(s, otp::exit_reason::kill());
  CHECK_FALSE((co_await otp::receive(1s)).has_value());
}

OTP_TEST_CASE("a handler may keep the reply handle and answer later from another process") {
  auto helper = otp::spawn([]() -> otp::process<otp::reply_to<int>> {
    auto r = std::get<otp::reply_to<int>>(co_await otp::receive());
    co_await otp::sleep_for(2s);
    CHECK(r.send(42));
    CHECK_FALSE(r.send(43));  // the first reply wins
  });
  auto s = otp::spawn([](otp::handle<otp::reply_to<int>> h) -> otp::process<get> {
    auto g = std::get<get>(co_await otp::receive());
    otp::send(h, g.reply);  // no answer here: the helper answers later
    co_await otp::receive();  // the server stays up (its exit would fail the call)
  }, helper);
  auto t0 = otp::now();
  auto r = co_await otp::request<int>(s, ask("q"), 5s);
  CHECK(r.value() == 42);
  CHECK(otp::now() - t0 == 2s);
  otp::exit(s, otp::exit_reason::kill());
}

OTP_TEST_CASE("a caller ended while waiting abandons the request: the reply is dropped") {
  auto s = otp::spawn(server, otp::duration(5s));
  auto [c, ref] = otp::spawn_monitor([](otp::handle<get> srv) -> otp::process<> {
    (void)co_await otp::request<int>(srv, ask("abc"), 1h);
  }, s);
  co_await otp::sleep_for(1s);
  otp::exit(c, otp::exit_reason::kill());
  CHECK(std::get<otp::down_message>(co_await otp::receive()).reason == otp::exit_reason::killed());
  co_await otp::sleep_for(10s);  // the server's reply finds nobody and is dropped
  otp::exit(s, otp::exit_reason::kill());
}

OTP_TEST_CASE("a request the target never reads fails when the target ends, with its reason") {
  auto s = otp::spawn([]() -> otp::process<get> {
    co_await otp::sleep_for(2s);  // the request waits, unread, in its mailbox
    throw std::runtime_error("never read");
  });
  auto t0 = otp::now();
  auto r = co_await otp::request<int>(s, ask("x"), 5s);
  REQUIRE(r.has_error());
  CHECK(r.error() == otp::errc::exited);
  CHECK(r.error().reason.payload() == "never read");
  CHECK(otp::now() - t0 == 2s);
}

OTP_TEST_CASE("a request fails when the target ends, even with its reply handle given to another process") {
  // As gen:call: the caller watches the server, not whoever holds the handle.
  auto keeper = otp::spawn([]() -> otp::process<otp::reply_to<int>> {
    auto r = std::get<otp::reply_to<int>>(co_await otp::receive());
    co_await otp::sleep_for(3s);
    CHECK_FALSE(r.send(1));  // the caller has given up by now
  });
  auto s = otp::spawn([](otp::handle<otp::reply_to<int>> k) -> otp::process<get> {
    auto g = std::get<get>(co_await otp::receive());
    otp::send(k, g.reply);
    co_await otp::sleep_for(1s);
    otp::exit(otp::exit_reason::other("handed over"));
  }, keeper);
  auto t0 = otp::now();
  auto r = co_await otp::request<int>(s, ask("x"), 5s);
  REQUIRE(r.has_error());
  CHECK(r.error() == otp::errc::exited);
  CHECK(r.error().reason.payload() == "handed over");
  CHECK(otp::now() - t0 == 1s);
  co_await otp::sleep_for(5s);
}

OTP_TEST_CASE("requests to a bounded mailbox count toward the bound and leave it intact") {
  // The server answers three requests, then stops reading.
  otp::spawn_options o;
  o.mailbox_bound = 2;
  o.on_full = otp::overflow::fail;
  auto s = otp::spawn_opt(o, []() -> otp::process<get> {
    for (int i = 0; i < 3; ++i) std::get<get>(co_await otp::receive()).reply.send(i);
    co_await otp::sleep_for(1h);
  }).pid;
  for (int i = 0; i < 3; ++i) CHECK((co_await otp::request<int>(s, ask("x"))).value() == i);
  CHECK(otp::send(s, get("a", {})) == otp::send_status::delivered);
  CHECK(otp::send(s, get("b", {})) == otp::send_status::delivered);
  CHECK(otp::send(s, get("c", {})) == otp::send_status::full);
  otp::exit(s, otp::exit_reason::kill());
}

OTP_TEST_CASE("a server answering many requests keeps none of them: each caller sees only its own answer") {
  auto s = otp::spawn(server, otp::duration(0));
  for (int i = 0; i < 1000; ++i) {
    const std::string key(static_cast<std::size_t>(i % 17), 'k');
    REQUIRE((co_await otp::request<int>(s, ask(key))).value() == i % 17);
  }
  otp::exit(s, otp::exit_reason::kill());
  CHECK_FALSE((co_await otp::receive(1s)).has_value());
}

TEST_CASE("reply_to::send from a thread outside the runtime reaches the caller") {
  asio::io_context io;
  otp::runtime rt(io.get_executor());
  std::thread t;
  int got = 0;
  auto s = otp::spawn(rt, [&t]() -> otp::process<get> {
    auto g = std::get<get>(co_await otp::receive());
    t = std::thread([r = g.reply] {
      std::this_thread::sleep_for(5ms);
      r.send(7);
    });
    co_await otp::receive();  // stays up until the caller is done
  });
  otp::spawn(rt, [&got](otp::handle<get> srv) -> otp::process<> {
    auto v = co_await otp::request<int>(srv, ask("x"), otp::duration::max());
    got = v.value();
    otp::exit(srv, otp::exit_reason::kill());
  }, s);
  io.run();
  t.join();
  CHECK(got == 7);
}

}  // TEST_SUITE
