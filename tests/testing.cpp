// SPDX-License-Identifier: MIT
// The test harness itself: it must fail the tests it promises to fail.
#include <otp/testing.hpp>

#include <doctest/doctest.h>

using namespace std::chrono_literals;

TEST_SUITE("testing") {

TEST_CASE("run passes a body that ends normally") {
  auto r = otp::testing::run([]() -> otp::process<> { co_await otp::sleep_for(1s); });
  CHECK(r.ok());
}

TEST_CASE("run fails a body that throws, with the exception in the failure") {
  auto r = otp::testing::run([]() -> otp::process<> {
    throw std::runtime_error("escaped");
    co_return;
  });
  REQUIRE(r.failures.size() == 1);
  CHECK(r.failures[0].find("escaped") != std::string::npos);
}

TEST_CASE("run fails when processes are left alive, and kills them") {
  auto r = otp::testing::run([]() -> otp::process<> {
    otp::spawn([]() -> otp::process<> { co_await otp::receive(); });
    co_return;
  });
  REQUIRE(r.failures.size() == 1);
  CHECK(r.failures[0].find("left alive") != std::string::npos);
}

TEST_CASE("run detects a deadlock: nothing runnable, nothing pending") {
  auto r = otp::testing::run([]() -> otp::process<> { co_await otp::receive(); });
  REQUIRE_FALSE(r.ok());
  CHECK(r.failures[0].find("deadlock") != std::string::npos);
}

TEST_CASE("run stops a body that outlives its virtual time limit") {
  otp::testing::options o;
  o.time_limit = 1h;
  auto r = otp::testing::run([]() -> otp::process<> {
    for (;;) co_await otp::sleep_for(1min);
  }, o);
  REQUIRE_FALSE(r.ok());
  CHECK(r.failures[0].find("time limit") != std::string::npos);
}

TEST_CASE("crash reports of other processes go to the report's log, not its failures") {
  auto r = otp::testing::run([]() -> otp::process<> {
    auto [p, ref] = otp::spawn_monitor([]() -> otp::process<> {
      throw std::runtime_error("on purpose");
      co_return;
    });
    co_await otp::receive();
  });
  CHECK(r.ok());
  REQUIRE(r.log.size() == 1);
  CHECK(r.log[0].find("on purpose") != std::string::npos);
}

TEST_CASE("virtual time: half an hour of timeouts takes no real time") {
  auto start = std::chrono::steady_clock::now();
  auto r = otp::testing::run([]() -> otp::process<> {
    for (int i = 0; i < 30; ++i) co_await otp::receive(1min);
  });
  CHECK(r.ok());
  CHECK(std::chrono::steady_clock::now() - start < 5s);
}

}  // TEST_SUITE
