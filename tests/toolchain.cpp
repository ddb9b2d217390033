// SPDX-License-Identifier: MIT
// The spellings TOOLCHAIN 6A warns about (GCC 12 temporaries inside co_await),
// written exactly as users write them; the ASan job runs them with g++.
#include <otp/process.hpp>

#include <doctest/doctest.h>
#include <otp/testing.hpp>

#include <string>

using namespace std::chrono_literals;

namespace {
struct agg {  // an aggregate with a non-trivial member: the dangerous kind
  int n;
  std::string s;
};
struct with_ctor {
  with_ctor(int v, std::string t) : n(v), s(std::move(t)) {}
  int n;
  std::string s;
};
}  // namespace

TEST_SUITE("toolchain") {

#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ == 12
constexpr bool gcc12 = true;
#else
constexpr bool gcc12 = false;
#endif

// GCC 12 destroys a braced aggregate temporary in a co_await expression twice,
// whatever function it is passed to (reproduced without otp: TOOLCHAIN 6A).
// No signature can prevent it; the spellings below avoid it.
TEST_CASE("TODO: co_await send(h, Aggregate{...}) keeps the message intact (GCC 12 miscompiles it)" *
          doctest::skip(gcc12)) {
  auto r = otp::testing::run([]() -> otp::process<agg> {
    auto me = otp::self_as<agg>();
    co_await otp::send(me, agg{1, std::string(64, 'a')});
    auto a = std::get<agg>(co_await otp::receive());
    CHECK(a.n == 1);
    CHECK(a.s == std::string(64, 'a'));
  });
  CHECK(r.ok());
}

OTP_TEST_CASE_M("co_await send(h, std::in_place, args...) builds an aggregate message safely", agg) {
  auto me = otp::self_as<agg>();
  co_await otp::send(me, std::in_place, 1, std::string(64, 'a'));
  co_await otp::send(me, std::in_place, 2, "short");
  auto a = std::get<agg>(co_await otp::receive());
  auto b = std::get<agg>(co_await otp::receive());
  CHECK(a.n == 1);
  CHECK(a.s == std::string(64, 'a'));
  CHECK(b.s == "short");
}

OTP_TEST_CASE_M("co_await send(h, std::move(named_aggregate)) keeps the message intact", agg) {
  auto me = otp::self_as<agg>();
  agg m{7, std::string(64, 'b')};
  co_await otp::send(me, std::move(m));
  auto a = std::get<agg>(co_await otp::receive());
  CHECK(a.n == 7);
  CHECK(a.s == std::string(64, 'b'));
}

OTP_TEST_CASE_M("co_await send(h, Type(args)) with a constructor keeps the message intact", with_ctor) {
  auto me = otp::self_as<with_ctor>();
  co_await otp::send(me, with_ctor(3, std::string(100, 'z')));
  auto m = std::get<with_ctor>(co_await otp::receive());
  CHECK(m.s.size() == 100);
}

OTP_TEST_CASE_M("co_await receive(std::chrono literal) and sleep_for(literal) are safe", std::string) {
  co_await otp::sleep_for(std::chrono::milliseconds(5));
  CHECK_FALSE((co_await otp::receive(std::chrono::seconds(1))).has_value());
  co_await otp::send(otp::self_as<std::string>(), std::string(80, 'q'));
  auto m = co_await otp::receive(std::chrono::seconds(1));
  REQUIRE(m.has_value());
  CHECK(std::get<std::string>(*m).size() == 80);
}

OTP_TEST_CASE("a named awaitable can be awaited: sent s = send(...); co_await s") {
  auto p = otp::spawn([]() -> otp::process<int> { co_await otp::receive(); });
  otp::sent s = otp::send(p, 1);
  auto st = co_await s;
  CHECK(st == otp::send_status::delivered);
  co_await otp::yield();
}

}  // TEST_SUITE
