// SPDX-License-Identifier: MIT
// The GCC 12 guard (otp/detail/temporaries.hpp): GCC before 13 destroys a
// braced aggregate temporary, or a lambda temporary capturing by value,
// twice when it sits inside a co_await. Those spellings do not compile there
// (tests/compile_fail proves it); these are the spellings that stay open,
// written as users write them, and the ASan job runs them with g++ 12.
#include <otp/detail/temporaries.hpp>

#include <doctest/doctest.h>
#include <otp/agent.hpp>
#include <otp/offload.hpp>
#include <otp/server.hpp>
#include <otp/testing.hpp>

#include <optional>
#include <string>
#include <vector>

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
struct plain {  // an aggregate whose members have no destructor: harmless
  int n;
};

struct echo_srv : otp::server<echo_srv> {
  struct echo {  // the safe spelling of a request with a string
    explicit echo(std::string t) : text(std::move(t)) {}
    std::string text;
  };
  struct shout {  // an aggregate request: built in place, or named first
    std::string text;
  };
  struct count {};  // an empty request: an aggregate with nothing to destroy
  std::string handle_call(echo e) { return e.text; }
  std::string handle_call(shout s) { return s.text + "!"; }
  int handle_call(count) { return seen; }
  void handle_cast(shout s) { seen += static_cast<int>(s.text.size()); }
  int seen = 0;
};
}  // namespace

TEST_SUITE("toolchain") {

TEST_CASE("the guard's rule: aggregates and capturing closures with destructors, given as rvalues") {
  using otp::detail::destroyed_twice;
  using otp::detail::holds_refused_temporary;
  constexpr bool on = OTP_GUARD_AWAITED_TEMPORARIES;
  std::string s;
  auto by_value = [s] { return s; };
  auto by_reference = [&s] { return s; };
  static_assert(destroyed_twice<agg> == on);
  static_assert(destroyed_twice<decltype(by_value)> == on);
  static_assert(!destroyed_twice<decltype(by_reference)>);
  static_assert(!destroyed_twice<with_ctor>);
  static_assert(!destroyed_twice<plain>);
  static_assert(!destroyed_twice<std::string>);
  static_assert(!destroyed_twice<int>);
  auto makes_local = [] {
    struct local_msg {  // declared inside a lambda, with a constructor: not a closure
      explicit local_msg(std::string t) : text(std::move(t)) {}
      std::string text;
    };
    return local_msg("x");
  };
  static_assert(!destroyed_twice<decltype(makes_local())>);
  static_assert(!destroyed_twice<std::optional<decltype(by_value)>>);  // not itself a closure
  auto with_args = [s](const std::vector<std::string>& v, int) { return v.size() + s.size(); };
  static_assert(destroyed_twice<decltype(with_args)> == on);
  CHECK(with_args({}, 0) == 0);
  static_assert(holds_refused_temporary<agg> == on);
  static_assert(holds_refused_temporary<int, agg&&> == on);
  static_assert(!holds_refused_temporary<agg&>);  // a named one is copied: no temporary
  static_assert(!holds_refused_temporary<const agg&>);
  CHECK(by_value() == by_reference());
}

#if !OTP_GUARD_AWAITED_TEMPORARIES
// Where the guard is off (clang, GCC 13 and later) the plain spelling compiles
// and must work.
OTP_TEST_CASE_M("co_await send(h, Aggregate{...}) keeps the message intact where the compiler is sound", agg) {
  co_await otp::send(otp::self_as<agg>(), agg{1, std::string(64, 'a')});
  auto a = std::get<agg>(co_await otp::receive());
  CHECK(a.n == 1);
  CHECK(a.s == std::string(64, 'a'));
}
#endif

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

OTP_TEST_CASE_M("a named aggregate is copied in: co_await send(h, named) keeps the message intact", agg) {
  auto me = otp::self_as<agg>();
  const agg m{7, std::string(64, 'b')};
  co_await otp::send(me, m);
  auto a = std::get<agg>(co_await otp::receive());
  CHECK(a.n == 7);
  CHECK(a.s == std::string(64, 'b'));
}

OTP_TEST_CASE_M("the awaitable named first: auto op = send(h, Aggregate{...}); co_await op", agg) {
  auto me = otp::self_as<agg>();
  auto op = otp::send(me, agg{8, std::string(64, 'c')});  // the temporary dies in this statement
  CHECK(co_await op == otp::send_status::delivered);
  (void)otp::send(me, agg{9, std::string(64, 'd')});  // not awaited: never refused
  auto a = std::get<agg>(co_await otp::receive());
  auto b = std::get<agg>(co_await otp::receive());
  CHECK(a.s == std::string(64, 'c'));
  CHECK(b.n == 9);
}

OTP_TEST_CASE_M("co_await send(h, Type(args)) with a constructor keeps the message intact", with_ctor) {
  auto me = otp::self_as<with_ctor>();
  co_await otp::send(me, with_ctor(3, std::string(100, 'z')));
  co_await otp::send(me, {4, std::string(100, 'y')});  // a braced list, through the constructor
  auto m = std::get<with_ctor>(co_await otp::receive());
  auto n = std::get<with_ctor>(co_await otp::receive());
  CHECK(m.s.size() == 100);
  CHECK(n.n == 4);
}

OTP_TEST_CASE_M("co_await send(h, plain{...}): an aggregate with nothing to destroy is fine", plain) {
  co_await otp::send(otp::self_as<plain>(), plain{5});
  CHECK(std::get<plain>(co_await otp::receive()).n == 5);
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

OTP_TEST_CASE("call and cast: a request with a constructor, one built in place, one named first") {
  auto s = (co_await otp::start_server<echo_srv>()).value();
  const std::string long_text(64, 'x');
  auto r1 = co_await otp::call(s, echo_srv::echo(long_text));
  CHECK(r1.value() == long_text);
  auto r2 = co_await otp::call(s, std::in_place_type<echo_srv::shout>, long_text);
  CHECK(r2.value() == long_text + "!");
  auto op = otp::call(s, echo_srv::shout{long_text});
  auto r3 = co_await op;
  CHECK(r3.value() == long_text + "!");
  const echo_srv::shout named{long_text};
  auto r4 = co_await otp::call(s, named);
  CHECK(r4.value() == long_text + "!");
  co_await otp::cast(s, std::in_place_type<echo_srv::shout>, long_text);
  co_await otp::cast(s, named);
  CHECK((co_await otp::call(s, echo_srv::count{})).value() == 128);
  CHECK((co_await otp::stop(s)).has_value());
}

OTP_TEST_CASE("offload and agents: lambdas capturing by reference, or named, are fine") {
  const std::string text(64, 'w');
  auto n = co_await otp::offload([&text] { return text.size(); });
  CHECK(n == 64);
  auto by_value = [text] { return text.size(); };
  CHECK(co_await otp::offload(by_value) == 64);
  auto a = (co_await otp::start_agent([] { return std::string(); })).value();
  auto append = [text](std::string& v) { v += text; };
  CHECK((co_await a.update(append)).has_value());
  CHECK((co_await a.get([](const std::string& v) { return v.size(); })).value() == 64);
  CHECK((co_await a.stop()).has_value());
}

}  // TEST_SUITE
