// SPDX-License-Identifier: MIT
// Names: local names and registry via names, wherever a pid is accepted.
#include <otp/name.hpp>
#include <otp/registry.hpp>

#include <doctest/doctest.h>
#include <otp/task.hpp>
#include <otp/testing.hpp>

#include <asio/io_context.hpp>

#include <string>

using namespace std::chrono_literals;

namespace {

using reg_t = otp::registry<std::string, int>;

/// Reports whether it found itself under `n` when its body began, then waits.
otp::process<int> named(otp::name n, otp::handle<bool> back) {
  otp::send(back, n.whereis() == otp::self());
  otp::init_ack();
  const int m = std::get<int>(co_await otp::receive());
  if (m < 0) throw std::runtime_error("named crashed");
}

otp::task<otp::exit_reason, bool> down_of(otp::monitor_ref mon) {
  for (;;) {
    auto m = co_await otp::receive();
    if (auto* d = std::get_if<otp::down_message>(&m); d && d->ref == mon) co_return d->reason;
  }
}

otp::start_options named_start(otp::name n) {
  otp::start_options o;
  o.link = false;
  o.spawn.name = std::move(n);
  return o;
}

}  // namespace

TEST_SUITE("names") {

OTP_TEST_CASE_M("a process started under a local name is registered before its body runs", bool) {
  const auto n = otp::local("cache");
  CHECK_FALSE(n.whereis());
  auto o = named_start(n);
  auto p = (co_await otp::start_opt(o, named, n, otp::self_as<bool>())).value();
  CHECK(std::get<bool>(co_await otp::receive()));
  CHECK(n.whereis() == p);
  CHECK(otp::whereis("cache") == p);
  CHECK(n.to_string() == "{local,cache}");
  otp::send(p, 0);
}

OTP_TEST_CASE_M("a start under a taken name fails with already_started and the holder, and its body never runs",
                bool) {
  const auto n = otp::local("singleton");
  auto o = named_start(n);
  auto first = (co_await otp::start_opt(o, named, n, otp::self_as<bool>())).value();
  CHECK(std::get<bool>(co_await otp::receive()));
  auto second = co_await otp::start_opt(o, named, n, otp::self_as<bool>());
  REQUIRE(second.has_error());
  CHECK(second.error() == otp::errc::already_started);
  CHECK(second.error().process == first);
  CHECK_FALSE((co_await otp::receive(1s)).has_value());  // the second body never ran
  otp::spawn_options so;
  so.name = n;
  CHECK_THROWS_AS(otp::spawn_opt(so, named, n, otp::self_as<bool>()), otp::name_refused);
  CHECK_FALSE((co_await otp::receive(1s)).has_value());
  CHECK(n.whereis() == first);
  otp::send(first, 0);
}

OTP_TEST_CASE_M("a local name goes when its process ends, however it ends", bool) {
  const auto n = otp::local("worker");
  int how = 0;
  SUBCASE("normal") { how = 0; }
  SUBCASE("exception") { how = -1; }
  SUBCASE("killed") { how = 1; }
  auto o = named_start(n);
  auto p = (co_await otp::start_opt(o, named, n, otp::self_as<bool>())).value();
  (void)co_await otp::receive();
  auto mon = otp::monitor(p);
  if (how == 1)
    otp::exit(p, otp::exit_reason::kill());
  else
    otp::send(p, how);
  (void)co_await down_of(mon);
  CHECK_FALSE(n.whereis());
  // and it can be taken again
  auto again = co_await otp::start_opt(o, named, n, otp::self_as<bool>());
  REQUIRE(again.has_value());
  CHECK(std::get<bool>(co_await otp::receive()));
  otp::send(again.value(), 0);
}

OTP_TEST_CASE("a process has one local name at most; unregister_local frees it") {
  REQUIRE(otp::register_local("first").has_value());
  CHECK(otp::whereis("first") == otp::self());
  auto second = otp::register_local("second");
  REQUIRE(second.has_error());
  CHECK(second.error() == otp::errc::already_registered);
  CHECK_FALSE(otp::whereis("second"));
  CHECK(otp::unregister_local());
  CHECK_FALSE(otp::whereis("first"));
  CHECK_FALSE(otp::unregister_local());
  REQUIRE(otp::register_local("second").has_value());
  CHECK(otp::whereis("second") == otp::self());
  co_return;
}

OTP_TEST_CASE("send through a name checks the message type at run time") {
  auto p = otp::spawn([]() -> otp::process<std::string> {
    REQUIRE(otp::register_local("echo").has_value());
    auto m = co_await otp::receive();
    CHECK(std::get<std::string>(m) == "hello");
    co_await otp::receive();
  });
  co_await otp::yield();
  const auto n = otp::local("echo");
  auto wrong = otp::send(n, 42);
  REQUIRE(wrong.has_error());
  CHECK(wrong.error() == otp::errc::bad_message_type);
  auto right = otp::send<std::string>(n, "hello");
  REQUIRE(right.has_value());
  CHECK(right.value() == otp::send_status::delivered);
  auto nobody = otp::send(otp::local("nobody"), 1);
  REQUIRE(nobody.has_error());
  CHECK(nobody.error() == otp::errc::noproc);
  otp::exit(p, otp::exit_reason::kill());
}

OTP_TEST_CASE("exit, link and monitor accept names") {
  auto mon0 = otp::monitor(otp::local("nobody"));
  auto d0 = std::get<otp::down_message>(co_await otp::receive());
  CHECK(d0.ref == mon0);
  CHECK(d0.reason == otp::exit_reason::noproc());
  CHECK(otp::exit(otp::local("nobody"), otp::exit_reason::kill()).error() == otp::errc::noproc);

  auto p = otp::spawn([]() -> otp::process<int> {
    REQUIRE(otp::register_local("target").has_value());
    co_await otp::receive();
  });
  co_await otp::yield();
  const auto n = otp::local("target");
  auto mon = otp::monitor(n);
  otp::trap_exit(true);
  otp::link(n);
  REQUIRE(otp::exit(n, otp::exit_reason::other("by name")).has_value());
  bool down = false, exited = false;
  while (!down || !exited) {
    auto m = co_await otp::receive();
    if (auto* d = std::get_if<otp::down_message>(&m)) {
      CHECK(d->ref == mon);
      CHECK(d->reason.payload() == "by name");
      down = true;
    } else if (auto* e = std::get_if<otp::exit_message>(&m)) {
      CHECK(e->from == p);
      exited = true;
    }
  }
}

OTP_TEST_CASE_M("a via name registers in the registry before the body runs, with its value", bool) {
  otp::registry_options ro;
  SUBCASE("1 partition") { ro.partitions = 1; }
  SUBCASE("8 partitions") { ro.partitions = 8; }
  const reg_t reg(ro);
  otp::start_options ru;
  ru.link = false;
  auto r = (co_await reg.start(ru)).value();
  const auto n = otp::via(reg, "list:bob", 7);
  auto o = named_start(n);
  auto p = (co_await otp::start_opt(o, named, n, otp::self_as<bool>())).value();
  CHECK(std::get<bool>(co_await otp::receive()));
  CHECK(reg.whereis("list:bob") == p);
  CHECK(reg.lookup("list:bob").at(0).second == 7);
  CHECK(n.to_string() == "{via,registry,list:bob}");
  auto taken = co_await otp::start_opt(o, named, n, otp::self_as<bool>());
  REQUIRE(taken.has_error());
  CHECK(taken.error() == otp::errc::already_started);
  CHECK(taken.error().process == p);
  CHECK(reg.count() == 1);
  // A registry that is not running refuses the name: the start fails, nothing runs.
  const reg_t stopped;
  auto none = co_await otp::start_opt(named_start(otp::via(stopped, "x")), named, n, otp::self_as<bool>());
  REQUIRE(none.has_error());
  CHECK(none.error() == otp::errc::noproc);
  otp::send(p, 0);
  otp::exit(r, otp::exit_reason::shutdown());
}

OTP_TEST_CASE_M("a supervisor child under a via name is found by that name after each restart", bool) {
  const reg_t reg;
  const auto n = otp::via(reg, "db", 0);
  std::vector<otp::child_spec> children;
  children.push_back(reg.child_spec("names"));
  children.push_back(otp::child_spec("db", otp::start_fn(named, n, otp::self_as<bool>())).with(n));
  otp::start_options o;
  o.link = false;
  auto sup = (co_await otp::start_supervisor(otp::supervisor_flags(), std::move(children), o)).value();
  CHECK(std::get<bool>(co_await otp::receive()));
  auto first = n.whereis();
  REQUIRE(first);
  otp::send(otp::handle<int>::from(first).value(), -1);  // crash it
  CHECK(std::get<bool>(co_await otp::receive()));         // the restarted one found itself by name
  auto second = n.whereis();
  REQUIRE(second);
  CHECK(second != first);
  REQUIRE(otp::send(n, 0).has_value());  // ends normally: permanent, so restarted again
  CHECK(std::get<bool>(co_await otp::receive()));
  CHECK(n.whereis() != second);
  auto mon = otp::monitor(sup);
  otp::exit(sup, otp::exit_reason::shutdown());
  (void)co_await down_of(mon);
  CHECK_FALSE(n.whereis());
}

TEST_CASE("whereis with the runtime works from outside any process") {
  asio::io_context io;
  otp::runtime rt(io.get_executor());
  auto p = otp::spawn(rt, []() -> otp::process<int> {
    REQUIRE(otp::register_local("outside").has_value());
    co_await otp::receive();
  });
  io.poll();
  CHECK(otp::whereis(rt, "outside") == p);
  CHECK(otp::local("outside").whereis(rt) == p);
  CHECK_FALSE(otp::local("outside").whereis());  // no calling process: no runtime to look in
  otp::exit(p, otp::exit_reason::kill());
  io.run();
  CHECK_FALSE(otp::whereis(rt, "outside"));
}

}  // TEST_SUITE
