// SPDX-License-Identifier: MIT
// Synchronous starts: proc_lib's start_link and init_ack.
#include <otp/start.hpp>

#include <doctest/doctest.h>
#include <otp/testing.hpp>

using namespace std::chrono_literals;

namespace {
otp::process<int> acks_after(otp::duration setup, std::shared_ptr<otp::testing::event_log> log) {
  co_await otp::sleep_for(setup);
  log->operator()("child:init");
  otp::init_ack();
  log->operator()("child:continue");  // a continue step: after the ack, before the first message
  co_await otp::receive();
}
}  // namespace

TEST_SUITE("start") {

OTP_TEST_CASE("start_link returns only after the child acknowledged its init") {
  auto log = std::make_shared<otp::testing::event_log>();
  auto t0 = otp::now();
  auto r = co_await otp::start_link(acks_after, otp::duration(2s), log);
  (*log)("parent:started");
  REQUIRE(r.has_value());
  CHECK(otp::now() - t0 == 2s);
  CHECK(otp::is_alive(r.value()));
  CHECK(log->events().front() == "child:init");
  otp::unlink(r.value());
  otp::exit(r.value(), otp::exit_reason::kill());
}

OTP_TEST_CASE("the continue step after init_ack runs before the child's first message") {
  auto log = std::make_shared<otp::testing::event_log>();
  auto child = (co_await otp::start_link(acks_after, otp::duration(0), log)).value();
  otp::send(child, 1);
  (*log)("parent:sent");
  co_await otp::sleep_for(1s);
  CHECK(log->events() == std::vector<std::string>{"child:init", "child:continue", "parent:sent"});
}

OTP_TEST_CASE("start_link links the child and records the caller as its parent") {
  otp::trap_exit(true);
  auto me = otp::self();
  auto child = (co_await otp::start_link([](otp::pid expected) -> otp::process<> {
                 CHECK(otp::parent() == expected);
                 otp::init_ack();
                 throw std::runtime_error("after start");
                 co_return;
               }, me))
                   .value();
  auto e = std::get<otp::exit_message>(co_await otp::receive());
  CHECK(e.from == child);
  otp::trap_exit(false);
}

OTP_TEST_CASE("init_ignore makes the start return ignored, and nothing lingers") {
  auto r = co_await otp::start_link([]() -> otp::process<> {
    otp::init_ignore();
    co_return;
  });
  REQUIRE(r.has_error());
  CHECK(r.error() == otp::errc::ignored);
  co_await otp::yield();
}

OTP_TEST_CASE("init_fail makes the start fail with the reason; a trapping starter gets no exit message") {
  otp::trap_exit(true);
  auto r = co_await otp::start_link([]() -> otp::process<> {
    otp::init_fail(otp::exit_reason::other("no_database"));
    co_return;
  });
  REQUIRE(r.has_error());
  CHECK(r.error() == otp::errc::start_failed);
  CHECK(r.error().reason == otp::exit_reason::other("no_database"));
  CHECK_FALSE((co_await otp::receive(1s)).has_value());
  otp::trap_exit(false);
}

OTP_TEST_CASE("a child that crashes before init_ack fails the start with its exit reason") {
  otp::trap_exit(true);
  auto r = co_await otp::start_link([]() -> otp::process<> {
    co_await otp::sleep_for(1s);
    throw std::runtime_error("init crashed");
  });
  REQUIRE(r.has_error());
  CHECK(r.error() == otp::errc::start_failed);
  CHECK(r.error().reason.payload() == "init crashed");
  CHECK_FALSE((co_await otp::receive(1s)).has_value());  // the exit message was flushed
  otp::trap_exit(false);
}

OTP_TEST_CASE("a starter that does not trap exits is taken down by a child crashing in init") {
  auto [starter, ref] = otp::spawn_monitor([]() -> otp::process<> {
    (void)co_await otp::start_link([]() -> otp::process<> {
      throw std::runtime_error("init crashed");
      co_return;
    });
    FAIL("the starter should have been taken down by the link");
  });
  auto d = std::get<otp::down_message>(co_await otp::receive());
  CHECK(d.reason.payload() == "init crashed");
}

OTP_TEST_CASE("a start that times out kills the child and returns timeout") {
  otp::start_options o;
  o.timeout = 3s;
  auto t0 = otp::now();
  auto released = std::make_shared<bool>(false);
  struct flag {
    std::shared_ptr<bool> f;
    ~flag() { *f = true; }
  };
  auto r = co_await otp::start_opt(o, [](std::shared_ptr<bool> f) -> otp::process<> {
    flag fl{std::move(f)};
    co_await otp::sleep_for(1h);  // never acks in time
  }, released);
  REQUIRE(r.has_error());
  CHECK(r.error() == otp::errc::timeout);
  CHECK(otp::now() - t0 == 3s);
  co_await otp::yield();
  CHECK(*released);
}

OTP_TEST_CASE("start without link leaves the caller unlinked") {
  otp::start_options o;
  o.link = false;
  auto child = (co_await otp::start_opt(o, []() -> otp::process<> {
                 otp::init_ack();
                 co_await otp::sleep_for(1s);
                 throw std::runtime_error("crash after start");
               }))
                   .value();
  auto ref = otp::monitor(child);
  auto d = std::get<otp::down_message>(co_await otp::receive());  // we are still alive to see it
  CHECK(d.ref == ref);
}

OTP_TEST_CASE("init_ack outside a synchronous start does nothing") {
  CHECK_FALSE(otp::init_ack());
  co_return;
}

}  // TEST_SUITE

TEST_SUITE("start") {
OTP_TEST_CASE("many synchronous starts in a row each get their acknowledgement") {
  std::vector<otp::pid> children;
  for (int i = 0; i < 200; ++i) {
    auto r = co_await otp::start_link([]() -> otp::process<> {
      otp::init_ack();
      co_await otp::receive();
    });
    REQUIRE(r.has_value());
    children.push_back(r.value());
  }
  for (auto& c : children) {
    otp::unlink(c);
    otp::exit(c, otp::exit_reason::kill());
  }
}
}  // TEST_SUITE
