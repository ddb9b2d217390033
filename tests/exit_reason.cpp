// SPDX-License-Identifier: MIT
// Exit reasons as Erlang terms: the atoms Erlang gives a meaning are those
// reasons, however they are spelled.
#include <otp/exit_reason.hpp>

#include "supervision.hpp"

#include <otp/process.hpp>

TEST_SUITE("exit_reason") {

TEST_CASE("other(term): the atoms that are reasons in Erlang are those reasons") {
  using otp::exit_reason;
  CHECK(exit_reason::other("normal") == exit_reason::normal());
  CHECK(exit_reason::other("normal").clean());
  CHECK(exit_reason::other("shutdown") == exit_reason::shutdown());
  CHECK(exit_reason::other("shutdown").clean());
  CHECK(exit_reason::other("kill").is(otp::exit_kind::kill));
  CHECK(exit_reason::other("killed") == exit_reason::killed());
  CHECK(exit_reason::other("noproc") == exit_reason::noproc());
  CHECK(exit_reason::other("timeout") == exit_reason::timeout());
  CHECK(exit_reason::other("{shutdown,db_down}") == exit_reason::shutdown("db_down"));
  CHECK(exit_reason::other("{shutdown,db_down}").clean());
  // Anything else stays a user reason, printed as given.
  CHECK(exit_reason::other("normal_enough").is(otp::exit_kind::other));
  CHECK_FALSE(exit_reason::other("Normal").clean());
  CHECK(exit_reason::other("{shutdown,x").is(otp::exit_kind::other));
  CHECK(exit_reason::other("bad_state").to_string() == "bad_state");
}

TEST_CASE("shutdown with an empty payload is plain shutdown, and no reason prints an empty term") {
  using otp::exit_reason;
  CHECK(exit_reason::shutdown("") == exit_reason::shutdown());
  CHECK(exit_reason::shutdown("").to_string() == "shutdown");
  CHECK(exit_reason::shutdown("x").to_string() == "{shutdown,x}");
  CHECK(exit_reason::other("").to_string() == "''");
  CHECK(exit_reason::other("{shutdown,}") == exit_reason::shutdown());
}

OTP_TEST_CASE("exit(other(\"normal\")) is a normal exit: a linked process that does not trap exits lives on") {
  auto ends_normal = []() -> otp::process<> {
    co_await otp::yield();
    otp::exit(otp::exit_reason::other("normal"));
  };
  auto linked = [](otp::pid target) -> otp::process<> {
    otp::link(target);
    co_await otp::receive();
  };
  auto [p, pm] = otp::spawn_monitor(ends_normal);
  auto [l, lm] = otp::spawn_monitor(linked, otp::pid(p));
  auto m = co_await otp::receive();
  REQUIRE(std::holds_alternative<otp::down_message>(m));
  CHECK(std::get<otp::down_message>(m).from == p);
  CHECK(std::get<otp::down_message>(m).reason == otp::exit_reason::normal());
  CHECK(otp::is_alive(l));
  otp::exit(l, otp::exit_reason::kill());
  (void)co_await otp::receive();
}

OTP_TEST_CASE("exit(pid, other(\"kill\")) kills: the target ends with killed even when trapping exits") {
  auto trapper = []() -> otp::process<> {
    otp::trap_exit(true);
    for (;;) co_await otp::receive();
  };
  auto [p, ref] = otp::spawn_monitor(trapper);
  co_await otp::yield();
  otp::exit(p, otp::exit_reason::other("kill"));
  auto m = co_await otp::receive();
  CHECK(std::get<otp::down_message>(m).reason == otp::exit_reason::killed());
}

OTP_TEST_CASE("a transient child that ends with other(\"normal\") or other(\"shutdown\") is not restarted") {
  for (const char* term : {"normal", "shutdown", "{shutdown,done}"}) {
    CAPTURE(term);
    auto ends_with = [](std::string t) -> otp::process<int> {
      otp::init_ack();
      (void)co_await otp::receive();
      otp::exit(otp::exit_reason::other(std::move(t)));
    };
    std::vector<child_spec> cs;
    cs.emplace_back("t", otp::start_fn(ends_with, std::string(term)), restart_type::transient);
    auto sup = (co_await start_sup(supervisor_flags(), std::move(cs))).value();
    auto child = co_await pid_of(sup, "t");
    auto mon = otp::monitor(child);
    otp::send(otp::handle<int>::from(child).value(), 0);
    CHECK((co_await wait_down(mon)).clean());
    auto kids = (co_await otp::which_children(sup)).value();
    REQUIRE(kids.size() == 1);
    CHECK_FALSE(kids[0].process);  // not restarted
    CHECK(reports("child_terminated") == 0);  // a clean end is no crash
    (void)co_await stop_sup(sup);
  }
}

}  // TEST_SUITE
