// SPDX-License-Identifier: MIT
// Dynamic supervisors: Elixir's DynamicSupervisor (and OTP's
// simple_one_for_one cases of supervisor_SUITE).
#include "supervision.hpp"

#include <otp/dynamic_supervisor.hpp>

using otp::dynamic_supervisor_options;
using otp::dynamic_supervisor_ref;

namespace {
otp::task<otp::result<dynamic_supervisor_ref>, otp::nothing> start_dyn(dynamic_supervisor_options o = {}) {
  otp::start_options so;
  so.link = false;
  co_return co_await otp::start_dynamic_supervisor(std::move(o), so);
}

otp::process<int> conn(std::string db, int port, std::string peer, log_ptr log) {
  (*log)(db + ":" + std::to_string(port) + ":" + peer);
  otp::init_ack();
  for (;;) co_await otp::receive();
}
}  // namespace

TEST_SUITE("dynamic_supervisor") {

OTP_TEST_CASE("start_child returns the child's pid, and the children are counted") {
  auto log = std::make_shared<otp::testing::event_log>();
  auto sup = (co_await start_dyn()).value();
  std::vector<otp::pid> pids;
  for (int i = 0; i < 10; ++i) {
    auto r = co_await otp::start_child(sup, spec("w" + std::to_string(i), log));
    REQUIRE(r.has_value());
    CHECK(otp::is_alive(r.value()));
    pids.push_back(r.value());
  }
  auto kids = (co_await otp::which_children(sup)).value();
  CHECK(kids.size() == 10);
  auto n = (co_await otp::count_children(sup)).value();
  CHECK(n.specs == 10);
  CHECK(n.active == 10);
  CHECK(n.workers == 10);
  CHECK(co_await stop_sup(sup) == otp::exit_reason::shutdown());
  for (auto& p : pids) CHECK_FALSE(otp::is_alive(p));
}

OTP_TEST_CASE("max_children: a start beyond the limit fails with max_children") {
  auto log = std::make_shared<otp::testing::event_log>();
  auto sup = (co_await start_dyn(dynamic_supervisor_options(3, 5s, 2))).value();
  CHECK((co_await otp::start_child(sup, spec("a", log))).has_value());
  auto b = co_await otp::start_child(sup, spec("b", log));
  CHECK(b.has_value());
  CHECK((co_await otp::start_child(sup, spec("c", log))).error() == otp::errc::max_children);
  CHECK((co_await otp::terminate_child(sup, b.value())).has_value());
  CHECK((co_await otp::start_child(sup, spec("c", log))).has_value());  // room again
  (void)co_await stop_sup(sup);
}

OTP_TEST_CASE("extra arguments are prepended to each child's start arguments") {
  auto log = std::make_shared<otp::testing::event_log>();
  dynamic_supervisor_options o;
  o.extra = otp::extra_arguments(std::string("db1"), 5432);
  auto sup = (co_await start_dyn(std::move(o))).value();
  auto r = co_await otp::start_child(
      sup, child_spec("c", otp::start_fn(otp::with_extra<std::string, int>{}, conn, std::string("peer7"), log)));
  REQUIRE(r.has_value());
  CHECK(log->events() == std::vector<std::string>{"db1:5432:peer7"});
  // A start function that does not take them fails clearly, and nothing is kept.
  auto bad = co_await otp::start_child(sup, spec("w", log));
  REQUIRE(bad.has_error());
  CHECK(bad.error() == otp::errc::start_failed);
  CHECK(bad.error().reason.payload().find("extra arguments") != std::string_view::npos);
  CHECK((co_await otp::count_children(sup)).value().specs == 1);
  (void)co_await stop_sup(sup);
}

OTP_TEST_CASE("terminate_child by pid; a pid that is not a child gives not_found and is left alone") {
  auto log = std::make_shared<otp::testing::event_log>();
  auto sup = (co_await start_dyn()).value();
  auto a = (co_await otp::start_child(sup, spec("a", log))).value();
  CHECK((co_await otp::terminate_child(sup, a)).has_value());
  CHECK_FALSE(otp::is_alive(a));
  CHECK((co_await otp::terminate_child(sup, a)).error() == otp::errc::not_found);
  auto stranger = otp::spawn([]() -> otp::process<int> {
    for (;;) co_await otp::receive();
  });
  CHECK((co_await otp::terminate_child(sup, stranger)).error() == otp::errc::not_found);
  CHECK(otp::is_alive(stranger));
  otp::exit(stranger, otp::exit_reason::kill());
  CHECK((co_await otp::which_children(sup)).value().empty());
  (void)co_await stop_sup(sup);
}

OTP_TEST_CASE("restart types: a permanent child comes back with a new pid, a temporary one is forgotten") {
  auto log = std::make_shared<otp::testing::event_log>();
  auto sup = (co_await start_dyn()).value();
  auto perm = (co_await otp::start_child(sup, spec("p", log))).value();
  auto temp = (co_await otp::start_child(sup, spec("t", log, restart_type::temporary))).value();
  auto trans = (co_await otp::start_child(sup, spec("r", log, restart_type::transient))).value();
  (void)co_await end_child(perm, end_error);
  (void)co_await end_child(temp, end_error);
  (void)co_await end_child(trans, end_normal);
  auto kids = (co_await otp::which_children(sup)).value();
  REQUIRE(kids.size() == 1);
  CHECK(kids[0].process != perm);
  CHECK(otp::is_alive(kids[0].process));
  CHECK(kids[0].restarts == 1);
  (void)co_await stop_sup(sup);
}

OTP_TEST_CASE("a child answering ignore is not kept; start_child returns a null pid") {
  auto sup = (co_await start_dyn()).value();
  auto r = co_await otp::start_child(sup, child_spec("i", otp::start_fn([]() -> otp::process<int> {
                                                       otp::init_ignore();
                                                       co_return;
                                                     })));
  REQUIRE(r.has_value());
  CHECK_FALSE(r.value());
  CHECK((co_await otp::count_children(sup)).value().specs == 0);
  (void)co_await stop_sup(sup);
}

OTP_TEST_CASE("sup_stop_brutal_kill: ten dynamic children are all killed at once") {
  auto sup = (co_await start_dyn()).value();
  std::vector<otp::monitor_ref> mons;
  for (int i = 0; i < 10; ++i) {
    auto p = (co_await otp::start_child(
                  sup, child_spec("s", otp::start_fn(stubborn, false)).with(otp::shutdown_policy::brutal_kill())))
                 .value();
    mons.push_back(otp::monitor(p));
  }
  CHECK(co_await stop_sup(sup) == otp::exit_reason::shutdown());
  for (auto& m : mons) CHECK(co_await wait_down(m) == otp::exit_reason::killed());
}

OTP_TEST_CASE("shutdown: children stop in parallel, so the longest timeout bounds the whole stop") {
  auto log = std::make_shared<otp::testing::event_log>();
  auto sup = (co_await start_dyn()).value();
  std::vector<otp::monitor_ref> deaf;
  for (int i = 0; i < 5; ++i) {
    auto p = (co_await otp::start_child(
                  sup, child_spec("d", otp::start_fn(stubborn, false)).with(otp::shutdown_policy::timeout(2s))))
                 .value();
    deaf.push_back(otp::monitor(p));
  }
  auto slow = (co_await otp::start_child(
                   sup, child_spec("s", otp::start_fn(stubborn, false)).with(otp::shutdown_policy::timeout(3s))))
                  .value();
  auto coop = otp::monitor((co_await otp::start_child(sup, spec("c", log))).value());
  auto slow_mon = otp::monitor(slow);
  auto t0 = otp::now();
  CHECK(co_await stop_sup(sup) == otp::exit_reason::shutdown());
  CHECK(otp::now() - t0 == 3s);  // not 5 x 2 s + 3 s
  for (auto& m : deaf) CHECK(co_await wait_down(m) == otp::exit_reason::killed());
  CHECK(co_await wait_down(slow_mon) == otp::exit_reason::killed());
  CHECK(co_await wait_down(coop) == otp::exit_reason::shutdown());
}

OTP_TEST_CASE("exceeding the intensity stops every child and the dynamic supervisor exits with shutdown") {
  auto log = std::make_shared<otp::testing::event_log>();
  auto sup = (co_await start_dyn(dynamic_supervisor_options(1, 5s))).value();
  auto mon = otp::monitor(sup);
  auto a = (co_await otp::start_child(sup, spec("a", log))).value();
  auto b = (co_await otp::start_child(sup, spec("b", log))).value();
  (void)co_await end_child(a, end_error);
  (void)co_await end_child(b, end_error);
  CHECK(co_await wait_down(mon) == otp::exit_reason::shutdown());
  CHECK(reports("shutdown") >= 1);
}

OTP_TEST_CASE("invalid options are rejected before anything starts") {
  auto r = co_await otp::start_dynamic_supervisor(dynamic_supervisor_options(-1));
  CHECK(r.error() == otp::errc::invalid_spec);
  auto z = co_await otp::start_dynamic_supervisor(dynamic_supervisor_options(3, otp::duration::zero()));
  CHECK(z.error() == otp::errc::invalid_spec);
}

OTP_TEST_CASE("tree: a restarted dynamic sub-supervisor does not recreate its children") {
  auto log = std::make_shared<otp::testing::event_log>();
  std::vector<child_spec> cs;
  cs.push_back(otp::dynamic_supervisor_child("pool", dynamic_supervisor_options()));
  auto top = (co_await start_sup(supervisor_flags(), std::move(cs))).value();
  auto pool = dynamic_supervisor_ref(otp::handle<otp::supervisor_msg>::from(co_await pid_of(top, "pool")).value());
  auto w = (co_await otp::start_child(pool, spec("w", log))).value();
  (void)co_await kill_child(pool);
  CHECK_FALSE(otp::is_alive(w));
  auto pool2 = dynamic_supervisor_ref(otp::handle<otp::supervisor_msg>::from(co_await pid_of(top, "pool")).value());
  CHECK(pool2 != pool);
  CHECK((co_await otp::which_children(pool2)).value().empty());
  (void)co_await stop_sup(top);
}

OTP_TEST_CASE("scale: start and stop 10,000 temporary children") {
  auto sup = (co_await start_dyn()).value();
  auto idle = []() -> otp::process<int> {
    otp::init_ack();
    for (;;) co_await otp::receive();
  };
  for (int i = 0; i < 10000; ++i)
    REQUIRE((co_await otp::start_child(sup, child_spec("t", otp::start_fn(idle), restart_type::temporary))).has_value());
  CHECK((co_await otp::count_children(sup)).value().active == 10000);
  CHECK(co_await stop_sup(sup) == otp::exit_reason::shutdown());
}

OTP_TEST_CASE("terminate_child by its last pid stops a child whose restart keeps failing") {
  auto fail = std::make_shared<bool>(false);
  auto sup = (co_await start_dyn(dynamic_supervisor_options(1000000, 5s))).value();
  auto c = (co_await otp::start_child(sup, child_spec("f", otp::start_fn(flaky, fail)))).value();
  *fail = true;
  (void)co_await kill_child(c);
  auto kids = (co_await otp::which_children(sup)).value();
  REQUIRE(kids.size() == 1);
  CHECK(kids[0].state == otp::child_info::status::restarting);
  CHECK((co_await otp::terminate_child(sup, c)).has_value());
  CHECK((co_await otp::which_children(sup)).value().empty());
  CHECK(co_await stop_sup(sup) == otp::exit_reason::shutdown());
}

OTP_TEST_CASE("shutdown: a child that ended just before the stop keeps its own reason in the report") {
  auto log = std::make_shared<otp::testing::event_log>();
  auto sup = (co_await start_dyn()).value();
  auto t = (co_await otp::start_child(sup, spec("t", log, restart_type::temporary))).value();
  const std::size_t before = reports("shutdown_error");
  auto tmon = otp::monitor(t);
  auto smon = otp::monitor(sup);
  co_await otp::yield();  // both asleep again
  // The stop request reaches the supervisor before the child's exit does, and
  // the child is gone when the supervisor gets to it: its monitor says noproc,
  // and the reason comes from the child's exit message.
  otp::send(otp::handle<int>::from(t).value(), int(end_other));
  otp::exit(sup, otp::exit_reason::shutdown());
  CHECK(co_await wait_down(smon) == otp::exit_reason::shutdown());
  CHECK(co_await wait_down(tmon) == otp::exit_reason::other("bad"));
  CHECK(reports("shutdown_error") - before == 1);  // a temporary child may end normal or shutdown, not bad
  for (auto& e : otp::testing::logged())
    if (e.context == "shutdown_error") CHECK(e.reason == otp::exit_reason::other("bad"));  // never naughty_child
}
}
