// SPDX-License-Identifier: MIT
// Supervisors: OTP's supervisor_SUITE as a checklist; a test named "sup_start: ..." checks that case.
#include "supervision.hpp"

#include <asio/io_context.hpp>
#include <asio/post.hpp>

TEST_SUITE("supervisor") {

// ---------------------------------------------------------------- start

OTP_TEST_CASE("sup_start: children start in spec order, each after the previous one acknowledged") {
  auto log = std::make_shared<otp::testing::event_log>();
  const std::vector<std::string> ids{"a", "b", "c"};
  auto sup = co_await start_workers(supervisor_flags(), log, ids);
  CHECK(log->events() == std::vector<std::string>{"a:start", "b:start", "c:start"});
  auto kids = (co_await otp::which_children(sup)).value();
  REQUIRE(kids.size() == 3);
  for (auto& k : kids) {
    CHECK(k.state == otp::child_info::status::running);
    CHECK(otp::is_alive(k.process));
  }
  CHECK(co_await stop_sup(sup) == otp::exit_reason::shutdown());
  CHECK(log->events() == std::vector<std::string>{"a:start", "b:start", "c:start", "c:stop", "b:stop", "a:stop"});
}

OTP_TEST_CASE("sup_start: a child's continue step runs after its ack, while the next child starts") {
  auto log = std::make_shared<otp::testing::event_log>();
  auto slow_setup = [](log_ptr l) -> otp::process<int> {
    (*l)("a:init");
    otp::init_ack();
    co_await otp::sleep_for(1s);  // the slow part of the set-up: after the ack
    (*l)("a:continue done");
    for (;;) co_await otp::receive();
  };
  std::vector<child_spec> cs;
  cs.emplace_back("a", otp::start_fn(slow_setup, log));
  cs.push_back(spec("b", log));
  auto t0 = otp::now();
  auto sup = (co_await start_sup(supervisor_flags(), std::move(cs))).value();
  CHECK(otp::now() == t0);  // the supervisor did not wait for a's continue step
  CHECK(log->events() == std::vector<std::string>{"a:init", "b:start"});
  co_await otp::sleep_for(2s);
  CHECK(log->events().back() == "a:continue done");
  (void)co_await stop_sup(sup);
}

OTP_TEST_CASE("sup_start_fail: a child failing to start fails the start after stopping the started ones") {
  auto log = std::make_shared<otp::testing::event_log>();
  auto fail = std::make_shared<bool>(true);
  std::vector<child_spec> cs;
  cs.push_back(spec("a", log));
  cs.push_back(spec("b", log));
  cs.emplace_back("c", otp::start_fn(flaky, fail));
  cs.push_back(spec("d", log));
  auto r = co_await start_sup(supervisor_flags(), std::move(cs));
  REQUIRE(r.has_error());
  CHECK(r.error() == otp::errc::start_failed);
  CHECK(r.error().reason == otp::exit_reason::shutdown("{failed_to_start_child,c,cannot_start}"));
  CHECK(log->events() == std::vector<std::string>{"a:start", "b:start", "b:stop", "a:stop"});
  CHECK(reports("start_error") == 1);
}

OTP_TEST_CASE("sup_start_fail: a temporary child failing to start is reported by its id") {
  auto log = std::make_shared<otp::testing::event_log>();
  auto fail = std::make_shared<bool>(true);
  std::vector<child_spec> cs;
  cs.push_back(spec("a", log));
  cs.emplace_back("temp_fails", otp::start_fn(flaky, fail), restart_type::temporary);
  auto r = co_await start_sup(supervisor_flags(), std::move(cs));
  REQUIRE(r.has_error());
  CHECK(r.error().reason == otp::exit_reason::shutdown("{failed_to_start_child,temp_fails,cannot_start}"));
  CHECK(log->events() == std::vector<std::string>{"a:start", "a:stop"});
}

OTP_TEST_CASE("sup_start_ignore: a child answering ignore is kept undefined; a temporary one is dropped") {
  auto ignore = [](int) -> otp::process<int> {
    otp::init_ignore();
    co_return;
  };
  std::vector<child_spec> cs;
  cs.emplace_back("perm", otp::start_fn(ignore, 1));
  cs.emplace_back("temp", otp::start_fn(ignore, 2), restart_type::temporary);
  auto sup = (co_await start_sup(supervisor_flags(), std::move(cs))).value();
  auto kids = (co_await otp::which_children(sup)).value();
  REQUIRE(kids.size() == 1);
  CHECK(kids[0].id == "perm");
  CHECK(kids[0].state == otp::child_info::status::undefined);
  CHECK_FALSE(kids[0].process);
  auto n = (co_await otp::count_children(sup)).value();
  CHECK(n.specs == 1);
  CHECK(n.active == 0);
  CHECK(n.workers == 1);
  (void)co_await stop_sup(sup);
}

OTP_TEST_CASE("sup_start: a supervisor init that throws fails the start with the exception") {
  otp::trap_exit(true);  // linked: a caller that does not trap exits goes down with it, as in OTP
  auto r = co_await otp::start_supervisor_with([]() -> std::pair<supervisor_flags, std::vector<child_spec>> {
    throw std::runtime_error("no config");
  });
  REQUIRE(r.has_error());
  CHECK(r.error() == otp::errc::start_failed);
  CHECK(r.error().reason.payload() == "no config");
  CHECK_FALSE((co_await otp::receive(1s)).has_value());  // its exit message was flushed
  otp::trap_exit(false);
}

OTP_TEST_CASE("sup_start: callback style, init returns the flags and the children") {
  auto log = std::make_shared<otp::testing::event_log>();
  auto init = [](log_ptr l) {
    std::vector<child_spec> cs;
    cs.push_back(spec("cache", l));
    return std::make_pair(supervisor_flags(restart_strategy::one_for_all, 5, 10s), std::move(cs));
  };
  otp::trap_exit(true);
  auto sup = (co_await otp::start_supervisor_with(init, log)).value();
  CHECK(log->events() == std::vector<std::string>{"cache:start"});
  CHECK(co_await stop_sup(sup) == otp::exit_reason::shutdown());
  otp::trap_exit(false);
}

OTP_TEST_CASE("child_specs: invalid specs and flags are rejected before anything starts") {
  auto log = std::make_shared<otp::testing::event_log>();
  std::vector<child_spec> cs;
  supervisor_flags f;
  std::string expect;
  SUBCASE("empty id") {
    cs.push_back(spec("", log));
    expect = "child spec without an id";
  }
  SUBCASE("no start function") {
    cs.emplace_back("a", otp::child_start());
    expect = "no start function";
  }
  SUBCASE("duplicate ids") {
    cs.push_back(spec("a", log));
    cs.push_back(spec("a", log));
    expect = "duplicate child id";
  }
  SUBCASE("negative shutdown timeout") {
    cs.push_back(spec("a", log).with(otp::shutdown_policy::timeout(-10ms)));
    expect = "negative shutdown timeout";
  }
  SUBCASE("bad restart type") {
    cs.push_back(spec("a", log).with(static_cast<restart_type>(7)));
    expect = "bad restart type";
  }
  SUBCASE("significant and permanent") {
    f.auto_shutdown = otp::auto_shutdown::any_significant;
    cs.push_back(spec("a", log).make_significant());
    expect = "cannot be significant";
  }
  SUBCASE("significant with auto_shutdown never") {
    cs.push_back(spec("a", log, restart_type::transient).make_significant());
    expect = "auto_shutdown never";
  }
  SUBCASE("negative intensity") {
    f.intensity = -1;
    expect = "negative intensity";
  }
  SUBCASE("zero period") {
    f.period = otp::duration::zero();
    expect = "period must be positive";
  }
  SUBCASE("bad strategy") {
    f.strategy = static_cast<restart_strategy>(9);
    expect = "bad restart strategy";
  }
  auto r = co_await otp::start_supervisor(f, std::move(cs));
  REQUIRE(r.has_error());
  CHECK(r.error() == otp::errc::invalid_spec);
  CHECK(r.error().reason.payload().find(expect) != std::string_view::npos);
  CHECK(log->events().empty());
}

OTP_TEST_CASE("child_specs: a callback init or a nested supervisor with invalid specs fails to start, starting nothing") {
  auto log = std::make_shared<otp::testing::event_log>();
  otp::trap_exit(true);
  auto bad_init = [](log_ptr l) {
    std::vector<child_spec> cs;
    cs.push_back(spec("a", l));
    cs.push_back(spec("a", l));
    return std::make_pair(supervisor_flags(), std::move(cs));
  };
  auto r = co_await otp::start_supervisor_with(bad_init, log);
  REQUIRE(r.has_error());
  CHECK(r.error() == otp::errc::start_failed);
  CHECK(r.error().reason.payload().find("duplicate child id") != std::string_view::npos);

  std::vector<child_spec> sub;
  sub.push_back(spec("", log));
  std::vector<child_spec> cs;
  cs.push_back(otp::supervisor_child("sub", supervisor_flags(), std::move(sub)));
  auto t = co_await start_sup(supervisor_flags(), std::move(cs));
  REQUIRE(t.has_error());
  CHECK(t.error().reason.payload().find("failed_to_start_child,sub") != std::string_view::npos);
  CHECK(log->events().empty());
  otp::trap_exit(false);
}

// ---------------------------------------------------------------- restart types

OTP_TEST_CASE("restart types x strategies x exit reasons: who is restarted, and who goes with it") {
  // The child under test sits between two permanent siblings: one_for_one
  // restarts it alone, one_for_all restarts all three, rest_for_one it and the
  // one after it. A child that is not restarted takes no sibling with it.
  restart_strategy strategy = restart_strategy::one_for_one;
  SUBCASE("one_for_one") { strategy = restart_strategy::one_for_one; }
  SUBCASE("one_for_all") { strategy = restart_strategy::one_for_all; }
  SUBCASE("rest_for_one") { strategy = restart_strategy::rest_for_one; }
  struct row {
    restart_type type;
    int how;
    bool restarted;
  };
  const row rows[] = {
      {restart_type::permanent, end_normal, true},    {restart_type::permanent, end_shutdown, true},
      {restart_type::permanent, end_error, true},     {restart_type::permanent, end_other, true},
      {restart_type::transient, end_normal, false},   {restart_type::transient, end_shutdown, false},
      {restart_type::transient, end_shutdown_payload, false}, {restart_type::transient, end_error, true},
      {restart_type::transient, end_other, true},     {restart_type::temporary, end_normal, false},
      {restart_type::temporary, end_error, false},    {restart_type::temporary, end_other, false},
  };
  auto log = std::make_shared<otp::testing::event_log>();
  for (const row& r : rows) {
    CAPTURE(otp::to_string(r.type));
    CAPTURE(reason_of(r.how).to_string());
    std::vector<child_spec> cs;
    cs.push_back(spec("before", log));
    cs.push_back(spec("w", log, r.type));
    cs.push_back(spec("after", log));
    auto sup = (co_await start_sup(supervisor_flags(strategy), std::move(cs))).value();
    auto old = co_await pids_of(sup);
    CHECK(co_await end_child(old[1], r.how) == reason_of(r.how));
    auto kids = (co_await otp::which_children(sup)).value();
    auto find = [&](const char* id) -> const otp::child_info* {
      for (auto& k : kids)
        if (k.id == id) return &k;
      return nullptr;
    };
    if (r.restarted) {
      REQUIRE(find("w"));
      CHECK(find("w")->process != old[1]);
      CHECK(otp::is_alive(find("w")->process));
      CHECK(find("w")->restarts == 1);
    } else if (r.type == restart_type::temporary) {
      CHECK_FALSE(find("w"));  // a temporary child's spec goes with it
    } else {
      REQUIRE(find("w"));
      CHECK(find("w")->state == otp::child_info::status::undefined);
    }
    const bool group = r.restarted && strategy != restart_strategy::one_for_one;
    CHECK((find("before")->process != old[0]) == (group && strategy == restart_strategy::one_for_all));
    CHECK((find("after")->process != old[2]) == group);
    (void)co_await stop_sup(sup);
  }
}

OTP_TEST_CASE("restart types: a killed child counts as an abnormal exit") {
  auto log = std::make_shared<otp::testing::event_log>();
  std::vector<child_spec> cs;
  cs.push_back(spec("w", log, restart_type::transient));
  auto sup = (co_await start_sup(supervisor_flags(), std::move(cs))).value();
  auto before = co_await pid_of(sup, "w");
  CHECK(co_await kill_child(before) == otp::exit_reason::killed());
  auto after = co_await pid_of(sup, "w");
  CHECK(after);
  CHECK(after != before);
  CHECK(reports("child_terminated") == 1);
  (void)co_await stop_sup(sup);
}

// ---------------------------------------------------------------- strategies

OTP_TEST_CASE("restart_one_for_one: only the failed child gets a new pid") {
  auto log = std::make_shared<otp::testing::event_log>();
  const std::vector<std::string> ids{"a", "b", "c"};
  auto sup = co_await start_workers(supervisor_flags(restart_strategy::one_for_one), log, ids);
  auto before = co_await pids_of(sup);
  (void)co_await end_child(before[1], end_error);
  auto after = co_await pids_of(sup);
  CHECK(after[0] == before[0]);
  CHECK(after[1] != before[1]);
  CHECK(after[2] == before[2]);
  (void)co_await stop_sup(sup);
}

OTP_TEST_CASE("restart_one_for_all: all children stop in reverse order and start again in order") {
  auto log = std::make_shared<otp::testing::event_log>();
  const std::vector<std::string> ids{"a", "b", "c"};
  auto sup = co_await start_workers(supervisor_flags(restart_strategy::one_for_all), log, ids);
  auto before = co_await pids_of(sup);
  (void)co_await end_child(before[1], end_error);
  auto after = co_await pids_of(sup);
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(after[i] != before[i]);
    CHECK_FALSE(otp::is_alive(before[i]));
    CHECK(otp::is_alive(after[i]));
  }
  CHECK(log->events() == std::vector<std::string>{"a:start", "b:start", "c:start", "b:stop", "c:stop", "a:stop",
                                                  "a:start", "b:start", "c:start"});
  (void)co_await stop_sup(sup);
}

OTP_TEST_CASE("restart_rest_for_one: only the failed child and those started after it restart") {
  auto log = std::make_shared<otp::testing::event_log>();
  const std::vector<std::string> ids{"a", "b", "c", "d"};
  auto sup = co_await start_workers(supervisor_flags(restart_strategy::rest_for_one), log, ids);
  auto before = co_await pids_of(sup);
  (void)co_await end_child(before[1], end_error);
  auto after = co_await pids_of(sup);
  CHECK(after[0] == before[0]);
  for (std::size_t i = 1; i < 4; ++i) CHECK(after[i] != before[i]);
  CHECK(log->events() == std::vector<std::string>{"a:start", "b:start", "c:start", "d:start", "b:stop", "d:stop",
                                                  "c:stop", "b:start", "c:start", "d:start"});
  (void)co_await stop_sup(sup);
}

OTP_TEST_CASE("temporary_bystander: a temporary child stopped as collateral is not restarted") {
  auto log = std::make_shared<otp::testing::event_log>();
  std::vector<child_spec> cs;
  cs.push_back(spec("perm", log));
  cs.push_back(spec("temp", log, restart_type::temporary));
  auto sup = (co_await start_sup(supervisor_flags(restart_strategy::one_for_all, 1, 10s), std::move(cs))).value();
  auto temp = co_await pid_of(sup, "temp");
  (void)co_await end_child(co_await pid_of(sup, "perm"), end_error);
  auto kids = (co_await otp::which_children(sup)).value();
  REQUIRE(kids.size() == 1);
  CHECK(kids[0].id == "perm");
  CHECK_FALSE(otp::is_alive(temp));
  CHECK(otp::is_alive(sup));  // one restart within the intensity
  (void)co_await stop_sup(sup);
}

// ---------------------------------------------------------------- intensity

OTP_TEST_CASE("one_for_one: exceeding the intensity shuts the children down and exits with shutdown") {
  auto log = std::make_shared<otp::testing::event_log>();
  std::vector<child_spec> cs;
  cs.push_back(spec("a", log));
  cs.push_back(spec("b", log));
  auto sup = (co_await start_sup(supervisor_flags(restart_strategy::one_for_one, 2, 5s), std::move(cs))).value();
  auto mon = otp::monitor(sup);
  for (int i = 0; i < 2; ++i) (void)co_await end_child(co_await pid_of(sup, "b"), end_error);
  CHECK(otp::is_alive(sup));  // two restarts: within the limit
  auto a = co_await pid_of(sup, "a");
  auto b = co_await pid_of(sup, "b");
  otp::send(otp::handle<int>::from(b).value(), int(end_error));
  CHECK(co_await wait_down(mon) == otp::exit_reason::shutdown());
  CHECK_FALSE(otp::is_alive(a));
  CHECK(reports("shutdown") == 1);
  for (auto& e : otp::testing::logged())
    if (e.context == "shutdown") CHECK(e.reason == otp::exit_reason::other("reached_max_restart_intensity"));
}

OTP_TEST_CASE("intensity 0: the first exit that needs a restart ends the supervisor") {
  auto log = std::make_shared<otp::testing::event_log>();
  std::vector<child_spec> cs;
  cs.push_back(spec("a", log));
  auto sup = (co_await start_sup(supervisor_flags(restart_strategy::one_for_one, 0, 1s), std::move(cs))).value();
  auto mon = otp::monitor(sup);
  (void)co_await end_child(co_await pid_of(sup, "a"), end_error);
  CHECK(co_await wait_down(mon) == otp::exit_reason::shutdown());
}

OTP_TEST_CASE("multiple_restarts: the window slides, restarts spaced wider than the period never add up") {
  auto log = std::make_shared<otp::testing::event_log>();
  std::vector<child_spec> cs;
  cs.push_back(spec("a", log));
  auto sup = (co_await start_sup(supervisor_flags(restart_strategy::one_for_one, 1, 1s), std::move(cs))).value();
  for (int i = 0; i < 5; ++i) {
    (void)co_await end_child(co_await pid_of(sup, "a"), end_error);
    co_await otp::sleep_for(2100ms);
  }
  CHECK(otp::is_alive(sup));
  // Two within the period do.
  auto mon = otp::monitor(sup);
  (void)co_await end_child(co_await pid_of(sup, "a"), end_error);
  co_await otp::sleep_for(500ms);
  (void)co_await end_child(co_await pid_of(sup, "a"), end_error);
  CHECK(co_await wait_down(mon) == otp::exit_reason::shutdown());
}

OTP_TEST_CASE("intensity window: a restart made exactly max_seconds ago still counts, one just older does not") {
  for (const bool exact : {true, false}) {
    CAPTURE(exact);
    auto log = std::make_shared<otp::testing::event_log>();
    std::vector<child_spec> cs;
    cs.push_back(spec("a", log));
    auto sup = (co_await start_sup(supervisor_flags(restart_strategy::one_for_one, 1, 5s), std::move(cs))).value();
    auto mon = otp::monitor(sup);
    (void)co_await end_child(co_await pid_of(sup, "a"), end_error);  // restart 1, at t0
    co_await otp::sleep_for(exact ? otp::duration(5s) : otp::duration(5s) + otp::duration(1));
    (void)co_await end_child(co_await pid_of(sup, "a"), end_error);  // at t0 + 5 s: two within the window
    if (exact) {
      CHECK(co_await wait_down(mon) == otp::exit_reason::shutdown());
    } else {
      CHECK(otp::is_alive(sup));
      otp::demonitor(mon, otp::demonitor_option::flush);
      (void)co_await stop_sup(sup);
    }
  }
}

OTP_TEST_CASE("escalation: a failing restart is retried through the supervisor's own mailbox until the intensity") {
  const restart_strategy all[] = {restart_strategy::one_for_one, restart_strategy::one_for_all,
                                  restart_strategy::rest_for_one};
  for (auto s : all) {
    CAPTURE(int(s));
    auto log = std::make_shared<otp::testing::event_log>();
    auto fail = std::make_shared<bool>(false);
    std::vector<child_spec> cs;
    cs.push_back(spec("a", log));
    cs.emplace_back("f", otp::start_fn(flaky, fail));
    cs.push_back(spec("c", log));
    const std::size_t before = reports("start_error");
    auto sup = (co_await start_sup(supervisor_flags(s, 3, 5s), std::move(cs))).value();
    auto mon = otp::monitor(sup);
    *fail = true;
    (void)co_await kill_child(co_await pid_of(sup, "f"));
    CHECK(co_await wait_down(mon) == otp::exit_reason::shutdown());
    // 1 crash restart + 2 retries fail (3 in the window), the 4th try is one too many.
    CHECK(reports("start_error") - before == 3);
  }
}

OTP_TEST_CASE("hanging_restart_loop: while a restart keeps failing the supervisor answers, and shows restarting") {
  auto fail = std::make_shared<bool>(false);
  std::vector<child_spec> cs;
  cs.emplace_back("f", otp::start_fn(flaky, fail));
  auto sup = (co_await start_sup(supervisor_flags(restart_strategy::one_for_one, 1000000, 5s), std::move(cs))).value();
  *fail = true;
  (void)co_await kill_child(co_await pid_of(sup, "f"));
  auto kids = (co_await otp::which_children(sup)).value();
  REQUIRE(kids.size() == 1);
  CHECK(kids[0].state == otp::child_info::status::restarting);
  auto r = co_await otp::restart_child(sup, "f");
  CHECK(r.error() == otp::errc::restarting);
  auto d = co_await otp::delete_child(sup, "f");
  CHECK(d.error() == otp::errc::restarting);
  CHECK((co_await otp::terminate_child(sup, "f")).has_value());  // ends the loop
  kids = (co_await otp::which_children(sup)).value();
  CHECK(kids[0].state == otp::child_info::status::undefined);
  *fail = false;
  CHECK((co_await otp::restart_child(sup, "f")).has_value());
  CHECK(co_await stop_sup(sup) == otp::exit_reason::shutdown());
}

OTP_TEST_CASE("hanging_restart_loop: the supervisor still shuts down while a restart keeps failing") {
  auto log = std::make_shared<otp::testing::event_log>();
  auto fail = std::make_shared<bool>(false);
  std::vector<child_spec> cs;
  cs.push_back(spec("a", log));
  cs.emplace_back("f", otp::start_fn(flaky, fail));
  auto sup = (co_await start_sup(supervisor_flags(restart_strategy::one_for_one, 1000000, 5s), std::move(cs))).value();
  *fail = true;
  (void)co_await kill_child(co_await pid_of(sup, "f"));
  auto a = co_await pid_of(sup, "a");
  CHECK(co_await stop_sup(sup) == otp::exit_reason::shutdown());
  CHECK_FALSE(otp::is_alive(a));
}

OTP_TEST_CASE("other_child_fails_restart: a group restart stops at the failing child, which retries the group") {
  auto log = std::make_shared<otp::testing::event_log>();
  auto fail = std::make_shared<bool>(false);
  std::vector<child_spec> cs;
  cs.push_back(spec("a", log));
  cs.emplace_back("f", otp::start_fn(flaky, fail));
  cs.push_back(spec("c", log));
  auto sup = (co_await start_sup(supervisor_flags(restart_strategy::one_for_all, 100, 5s), std::move(cs))).value();
  *fail = true;
  (void)co_await end_child(co_await pid_of(sup, "c"), end_error);
  auto kids = (co_await otp::which_children(sup)).value();
  CHECK(kids[0].state == otp::child_info::status::running);  // restarted before the failure
  CHECK(kids[1].state == otp::child_info::status::restarting);
  CHECK(kids[2].state == otp::child_info::status::undefined);  // not started after it
  *fail = false;
  co_await otp::sleep_for(1ms);  // let the retry run
  kids = (co_await otp::which_children(sup)).value();
  for (auto& k : kids) CHECK(k.state == otp::child_info::status::running);
  (void)co_await stop_sup(sup);
}

// ---------------------------------------------------------------- shutdown

OTP_TEST_CASE("sup_stop_brutal_kill: the child ends killed") {
  std::vector<child_spec> cs;
  cs.emplace_back(child_spec("s", otp::start_fn(stubborn, false)).with(otp::shutdown_policy::brutal_kill()));
  auto sup = (co_await start_sup(supervisor_flags(), std::move(cs))).value();
  auto child = co_await pid_of(sup, "s");
  auto cmon = otp::monitor(child);
  auto t0 = otp::now();
  CHECK(co_await stop_sup(sup) == otp::exit_reason::shutdown());
  CHECK(co_await wait_down(cmon) == otp::exit_reason::killed());
  CHECK(otp::now() == t0);
  CHECK(reports("shutdown_error") == 0);
}

OTP_TEST_CASE("sup_stop_timeout: a cooperative child ends with shutdown, a deaf one is killed after the timeout") {
  auto log = std::make_shared<otp::testing::event_log>();
  std::vector<child_spec> cs;
  cs.push_back(spec("coop", log).with(otp::shutdown_policy::timeout(2s)));
  cs.emplace_back(child_spec("deaf", otp::start_fn(stubborn, false)).with(otp::shutdown_policy::timeout(3s)));
  auto sup = (co_await start_sup(supervisor_flags(), std::move(cs))).value();
  auto coop = otp::monitor(co_await pid_of(sup, "coop"));
  auto deaf = otp::monitor(co_await pid_of(sup, "deaf"));
  auto t0 = otp::now();
  CHECK(co_await stop_sup(sup) == otp::exit_reason::shutdown());
  CHECK(otp::now() - t0 == 3s);
  CHECK(co_await wait_down(deaf) == otp::exit_reason::killed());
  CHECK(co_await wait_down(coop) == otp::exit_reason::shutdown());
  CHECK(reports("shutdown_error") == 1);  // killed after the timeout, as OTP reports it
}

OTP_TEST_CASE("sup_stop_infinity: the supervisor waits as long as the child takes") {
  auto slow = []() -> otp::process<int> {
    otp::trap_exit(true);
    otp::init_ack();
    (void)co_await otp::receive();  // the shutdown
    co_await otp::sleep_for(std::chrono::minutes(30));
    otp::exit(otp::exit_reason::shutdown());
  };
  std::vector<child_spec> cs;
  cs.emplace_back(child_spec("slow", otp::start_fn(slow)).with(otp::shutdown_policy::infinity()));
  auto sup = (co_await start_sup(supervisor_flags(), std::move(cs))).value();
  auto t0 = otp::now();
  CHECK(co_await stop_sup(sup) == otp::exit_reason::shutdown());
  CHECK(otp::now() - t0 == std::chrono::minutes(30));
}

OTP_TEST_CASE("sup_stop_race: children ending on their own during shutdown keep their own reasons") {
  const int hows[] = {end_normal, end_shutdown, end_shutdown_payload, end_other};
  const restart_type types[] = {restart_type::temporary, restart_type::transient, restart_type::permanent};
  for (auto t : types) {
    for (int h : hows) {
      CAPTURE(otp::to_string(t));
      CAPTURE(reason_of(h).to_string());
      const std::size_t errors_before = reports("shutdown_error");
      std::vector<child_spec> cs;
      cs.emplace_back("c", otp::start_fn(ends_own_way, reason_of(h)), t);
      auto sup = (co_await start_sup(supervisor_flags(), std::move(cs))).value();
      auto cmon = otp::monitor(co_await pid_of(sup, "c"));
      CHECK(co_await stop_sup(sup) == otp::exit_reason::shutdown());
      CHECK(co_await wait_down(cmon) == reason_of(h));
      // OTP accepts shutdown always, and normal or {shutdown,_} from a non-permanent child.
      const bool fine = h == end_shutdown || (t != restart_type::permanent && h != end_other);
      CHECK(reports("shutdown_error") - errors_before == (fine ? 0u : 1u));
    }
  }
}

OTP_TEST_CASE("child_unlink: a child that unlinked itself and ignores shutdown cannot hang the supervisor") {
  std::vector<child_spec> cs;
  cs.emplace_back(child_spec("u", otp::start_fn(stubborn, true)).with(otp::shutdown_policy::timeout(1s)));
  auto sup = (co_await start_sup(supervisor_flags(), std::move(cs))).value();
  auto cmon = otp::monitor(co_await pid_of(sup, "u"));
  auto t0 = otp::now();
  CHECK(co_await stop_sup(sup) == otp::exit_reason::shutdown());
  CHECK(otp::now() - t0 == 1s);
  CHECK(co_await wait_down(cmon) == otp::exit_reason::killed());
}

OTP_TEST_CASE("sup_stop: a child that already ended keeps its reason, and nothing waits for it") {
  auto log = std::make_shared<otp::testing::event_log>();
  std::vector<child_spec> cs;
  cs.push_back(spec("a", log, restart_type::temporary));
  cs.push_back(spec("b", log));
  auto sup = (co_await start_sup(supervisor_flags(), std::move(cs))).value();
  auto a = co_await pid_of(sup, "a");
  auto amon = otp::monitor(a);
  otp::send(otp::handle<int>::from(a).value(), int(end_other));  // ends while the supervisor is told to stop
  CHECK(co_await stop_sup(sup) == otp::exit_reason::shutdown());
  CHECK(co_await wait_down(amon) == otp::exit_reason::other("bad"));
}

// ---------------------------------------------------------------- admin API

OTP_TEST_CASE("child_adm: start, terminate, restart and delete children with OTP's answers") {
  auto log = std::make_shared<otp::testing::event_log>();
  auto sup = (co_await start_sup(supervisor_flags(), {})).value();
  auto started = co_await otp::start_child(sup, spec("a", log));
  REQUIRE(started.has_value());
  CHECK(otp::is_alive(started.value()));

  auto again = co_await otp::start_child(sup, spec("a", log));
  CHECK(again.error() == otp::errc::already_started);
  CHECK(again.error().process == started.value());

  CHECK((co_await otp::restart_child(sup, "a")).error() == otp::errc::running);
  CHECK((co_await otp::delete_child(sup, "a")).error() == otp::errc::running);

  CHECK((co_await otp::terminate_child(sup, "a")).has_value());
  CHECK_FALSE(otp::is_alive(started.value()));
  CHECK((co_await otp::terminate_child(sup, "a")).has_value());  // idempotent
  CHECK((co_await otp::start_child(sup, spec("a", log))).error() == otp::errc::already_present);

  auto restarted = co_await otp::restart_child(sup, "a");
  REQUIRE(restarted.has_value());
  CHECK(restarted.value() != started.value());
  CHECK((co_await otp::terminate_child(sup, "a")).has_value());
  CHECK((co_await otp::delete_child(sup, "a")).has_value());

  CHECK((co_await otp::terminate_child(sup, "a")).error() == otp::errc::not_found);
  CHECK((co_await otp::restart_child(sup, "a")).error() == otp::errc::not_found);
  CHECK((co_await otp::delete_child(sup, "a")).error() == otp::errc::not_found);
  CHECK((co_await otp::which_children(sup)).value().empty());
  (void)co_await stop_sup(sup);
}

OTP_TEST_CASE("child_adm: start_child with a failing or invalid child keeps nothing") {
  auto fail = std::make_shared<bool>(true);
  auto sup = (co_await start_sup(supervisor_flags(), {})).value();
  auto r = co_await otp::start_child(sup, child_spec("f", otp::start_fn(flaky, fail)));
  CHECK(r.error() == otp::errc::start_failed);
  CHECK(r.error().reason == otp::exit_reason::other("cannot_start"));
  auto bad = co_await otp::start_child(sup, child_spec("", otp::start_fn(flaky, fail)));
  CHECK(bad.error() == otp::errc::invalid_spec);
  CHECK((co_await otp::count_children(sup)).value().specs == 0);
  (void)co_await stop_sup(sup);
}

OTP_TEST_CASE("child_adm: a temporary child that terminates is forgotten") {
  auto log = std::make_shared<otp::testing::event_log>();
  auto sup = (co_await start_sup(supervisor_flags(), {})).value();
  (void)co_await otp::start_child(sup, spec("t", log, restart_type::temporary));
  CHECK((co_await otp::terminate_child(sup, "t")).has_value());
  CHECK((co_await otp::which_children(sup)).value().empty());
  (void)co_await stop_sup(sup);
}

OTP_TEST_CASE("calling a supervisor that does not exist gives noproc") {
  auto sup = (co_await start_sup(supervisor_flags(), {})).value();
  (void)co_await stop_sup(sup);
  CHECK((co_await otp::which_children(sup)).error() == otp::errc::noproc);
  CHECK((co_await otp::terminate_child(sup, "x")).error() == otp::errc::noproc);
}

OTP_TEST_CASE("count_children: which_children and count_children agree with 1,000 children") {
  auto log = std::make_shared<otp::testing::event_log>();
  auto sup = (co_await start_sup(supervisor_flags(), {})).value();
  for (int i = 0; i < 1000; ++i) {
    auto id = "w" + std::to_string(i);
    auto s = i % 10 == 0 ? otp::supervisor_child(id, supervisor_flags(), {}) : spec(id, log);
    REQUIRE((co_await otp::start_child(sup, std::move(s))).has_value());
  }
  auto kids = (co_await otp::which_children(sup)).value();
  auto n = (co_await otp::count_children(sup)).value();
  CHECK(kids.size() == 1000);
  CHECK(n.specs == 1000);
  CHECK(n.active == 1000);
  CHECK(n.supervisors == 100);
  CHECK(n.workers == 900);
  CHECK(kids[0].type == otp::child_type::supervisor);
  CHECK(kids[999].id == "w999");
  (void)co_await stop_sup(sup);
}

// ---------------------------------------------------------------- trees, significant children

OTP_TEST_CASE("tree: a restarted sub-supervisor gets its spec's children back, not those added later") {
  auto log = std::make_shared<otp::testing::event_log>();
  std::vector<child_spec> sub;
  sub.push_back(spec("static", log));
  std::vector<child_spec> cs;
  cs.push_back(otp::supervisor_child("sub", supervisor_flags(), std::move(sub)));
  auto top = (co_await start_sup(supervisor_flags(), std::move(cs))).value();
  auto sub_pid = co_await pid_of(top, "sub");
  auto sub_ref = otp::handle<otp::supervisor_msg>::from(sub_pid).value();
  REQUIRE((co_await otp::start_child(sub_ref, spec("added", log))).has_value());
  (void)co_await kill_child(sub_pid);
  auto new_sub = otp::handle<otp::supervisor_msg>::from(co_await pid_of(top, "sub")).value();
  CHECK(new_sub != sub_pid);
  auto kids = (co_await otp::which_children(new_sub)).value();
  REQUIRE(kids.size() == 1);
  CHECK(kids[0].id == "static");
  CHECK(co_await stop_sup(top) == otp::exit_reason::shutdown());
  CHECK_FALSE(otp::is_alive(new_sub));
}

OTP_TEST_CASE("significant: any_significant ends the supervisor when a significant child ends by itself") {
  auto log = std::make_shared<otp::testing::event_log>();
  std::vector<child_spec> cs;
  cs.push_back(spec("other", log));
  cs.push_back(spec("sig", log, restart_type::transient).make_significant());
  supervisor_flags f;
  f.auto_shutdown = otp::auto_shutdown::any_significant;
  auto sup = (co_await start_sup(f, std::move(cs))).value();
  auto mon = otp::monitor(sup);
  auto other = co_await pid_of(sup, "other");
  (void)co_await end_child(co_await pid_of(sup, "sig"), end_normal);
  CHECK(co_await wait_down(mon) == otp::exit_reason::shutdown());
  CHECK_FALSE(otp::is_alive(other));
}

OTP_TEST_CASE("significant: all_significant ends the supervisor when the last significant child ends") {
  auto log = std::make_shared<otp::testing::event_log>();
  std::vector<child_spec> cs;
  cs.push_back(spec("s1", log, restart_type::temporary).make_significant());
  cs.push_back(spec("s2", log, restart_type::transient).make_significant());
  supervisor_flags f;
  f.auto_shutdown = otp::auto_shutdown::all_significant;
  auto sup = (co_await start_sup(f, std::move(cs))).value();
  auto mon = otp::monitor(sup);
  (void)co_await end_child(co_await pid_of(sup, "s1"), end_normal);
  CHECK(otp::is_alive(sup));
  (void)co_await end_child(co_await pid_of(sup, "s2"), end_shutdown);
  CHECK(co_await wait_down(mon) == otp::exit_reason::shutdown());
}

OTP_TEST_CASE("significant: children stopped through the API or killed and restarted do not shut it down") {
  auto log = std::make_shared<otp::testing::event_log>();
  std::vector<child_spec> cs;
  cs.push_back(spec("sig", log, restart_type::transient).make_significant());
  supervisor_flags f;
  f.auto_shutdown = otp::auto_shutdown::any_significant;
  auto sup = (co_await start_sup(f, std::move(cs))).value();
  auto before = co_await pid_of(sup, "sig");
  (void)co_await kill_child(before);  // abnormal: a transient child is restarted
  auto after = co_await pid_of(sup, "sig");
  CHECK(after);
  CHECK(after != before);
  CHECK((co_await otp::terminate_child(sup, "sig")).has_value());
  CHECK(otp::is_alive(sup));
  CHECK(co_await stop_sup(sup) == otp::exit_reason::shutdown());
}

// ---------------------------------------------------------------- reports, children types

OTP_TEST_CASE("format_log: a supervisor report names the supervisor, the context, the child and the reason") {
  auto log = std::make_shared<otp::testing::event_log>();
  std::vector<child_spec> cs;
  cs.push_back(spec("db", log));
  auto sup = (co_await start_sup(supervisor_flags(), std::move(cs))).value();
  auto db = co_await pid_of(sup, "db");
  (void)co_await end_child(db, end_error);
  (void)co_await pid_of(sup, "db");
  bool seen = false;
  for (auto& e : otp::testing::logged()) {
    if (e.what != otp::log_event::kind::supervisor_report) continue;
    seen = true;
    CHECK(e.process == sup);
    CHECK(e.context == "child_terminated");
    CHECK(e.child_id == "db");
    CHECK(e.child == db);
    CHECK(e.reason.kind() == otp::exit_kind::error);
    CHECK(e.text.find("child_terminated") != std::string::npos);
    CHECK(e.text.find("db") != std::string::npos);
  }
  CHECK(seen);
  (void)co_await stop_sup(sup);
}

struct cache_server {
  static otp::process<int> run(int size) {
    (void)size;
    otp::init_ack();
    for (;;) co_await otp::receive();
  }
  static otp::child_spec child_spec(int size) {
    return otp::child_spec("cache", otp::start_fn(&cache_server::run, size), restart_type::transient);
  }
};

OTP_TEST_CASE("a type that provides its own default child spec can be given as a child") {
  std::vector<child_spec> cs;
  cs.push_back(otp::child<cache_server>(100));
  auto sup = (co_await start_sup(supervisor_flags(), std::move(cs))).value();
  auto kids = (co_await otp::which_children(sup)).value();
  REQUIRE(kids.size() == 1);
  CHECK(kids[0].id == "cache");
  (void)co_await stop_sup(sup);
}

OTP_TEST_CASE("spawn_fn children count as started once spawned, without an acknowledgement") {
  auto plain = []() -> otp::process<int> {
    for (;;) co_await otp::receive();
  };
  std::vector<child_spec> cs;
  cs.emplace_back("plain", otp::spawn_fn(plain));
  auto sup = (co_await start_sup(supervisor_flags(), std::move(cs))).value();
  auto p = co_await pid_of(sup, "plain");
  CHECK(otp::is_alive(p));
  (void)co_await kill_child(p);
  auto q = co_await pid_of(sup, "plain");
  CHECK(q);
  CHECK(q != p);
  (void)co_await stop_sup(sup);
}

OTP_TEST_CASE("a supervisor started linked goes down with its parent, stopping its children first") {
  auto log = std::make_shared<otp::testing::event_log>();
  auto parent = [](log_ptr l) -> otp::process<> {
    std::vector<child_spec> cs;
    cs.push_back(spec("a", l));
    auto sup = (co_await otp::start_supervisor(supervisor_flags(), std::move(cs))).value();
    (void)sup;
    throw std::runtime_error("parent crashes");
  };
  auto [p, mon] = otp::spawn_monitor(parent, log);
  (void)co_await wait_down(mon);
  co_await otp::sleep_for(1ms);
  CHECK(log->events() == std::vector<std::string>{"a:start", "a:stop"});
}

// ---------------------------------------------------------------- state across restarts

namespace {
// Elixir in Action, ch. 9: a restart gets a fresh process with fresh state;
// state that must survive lives in a longer-lived process that hands it back.
struct stash_msg {
  std::variant<int, otp::reply_to<int>> what;  // put a value / get it
  explicit stash_msg(int v) : what(v) {}
  explicit stash_msg(otp::reply_to<int> r) : what(std::move(r)) {}
};

otp::process<stash_msg> stash() {
  int kept = 0;
  otp::init_ack();
  for (;;) {
    auto m = co_await otp::receive();
    auto* s = std::get_if<stash_msg>(&m);
    if (!s) continue;
    if (auto* v = std::get_if<int>(&s->what))
      kept = *v;
    else
      std::get<otp::reply_to<int>>(s->what).send(kept);
  }
}

struct counter_msg {
  enum kind { incr, crash } what;
  otp::reply_to<int> reply;  // set: report the count instead
  explicit counter_msg(kind k) : what(k) {}
  explicit counter_msg(otp::reply_to<int> r) : what(incr), reply(std::move(r)) {}
};

otp::process<counter_msg> counter(otp::handle<stash_msg> keeper) {
  // Init: take back what the previous incarnation left. (The lambda is named:
  // no closure temporary inside co_await: otp/detail/temporaries.hpp.)
  auto get = [](otp::reply_to<int> r) { return stash_msg(std::move(r)); };
  int count = (co_await otp::request<int>(keeper, get)).value();
  otp::init_ack();
  for (;;) {
    auto m = co_await otp::receive();
    auto* c = std::get_if<counter_msg>(&m);
    if (!c) continue;
    if (c->reply) {
      c->reply.send(count);
    } else if (c->what == counter_msg::crash) {
      throw std::runtime_error("lost everything");
    } else {
      ++count;
      otp::send(keeper, stash_msg(count));  // every change goes to the keeper
    }
  }
}
}  // namespace

OTP_TEST_CASE("state survives a restart when a longer-lived process keeps it and hands it back") {
  auto sup = (co_await start_sup(supervisor_flags(restart_strategy::rest_for_one), {})).value();
  // The keeper starts first: rest_for_one restarts the counter if the keeper dies, never the reverse.
  auto keeper = otp::handle<stash_msg>::from((co_await otp::start_child(sup, child_spec("stash", otp::start_fn(stash))))
                                                 .value())
                    .value();
  (void)co_await otp::start_child(sup, child_spec("counter", otp::start_fn(counter, keeper)));
  auto c = otp::handle<counter_msg>::from(co_await pid_of(sup, "counter")).value();
  for (int i = 0; i < 3; ++i) otp::send(c, counter_msg(counter_msg::incr));
  auto mon = otp::monitor(c);
  otp::send(c, counter_msg(counter_msg::crash));
  (void)co_await wait_down(mon);
  auto c2 = otp::handle<counter_msg>::from(co_await pid_of(sup, "counter")).value();
  CHECK(c2 != c);
  otp::send(c2, counter_msg(counter_msg::incr));
  auto ask = [](otp::reply_to<int> r) { return counter_msg(std::move(r)); };
  auto n = co_await otp::request<int>(c2, ask);
  CHECK(n.value() == 4);  // 3 before the crash, 1 after
  (void)co_await stop_sup(sup);
}

// ---------------------------------------------------------------- structured scope

TEST_CASE("runtime shutdown stops a tree through its root: children in reverse start order, before run() returns") {
  asio::io_context io;
  otp::runtime_options o;
  o.clock = std::make_shared<otp::manual_clock>();
  o.log = {};
  otp::runtime rt(io.get_executor(), o);
  auto log = std::make_shared<otp::testing::event_log>();
  otp::spawn(rt, [](log_ptr l) -> otp::process<> {
    std::vector<child_spec> sub;
    sub.push_back(spec("s1", l));
    std::vector<child_spec> cs;
    cs.push_back(spec("a", l));
    cs.push_back(otp::supervisor_child("sub", supervisor_flags(), std::move(sub)));
    cs.push_back(spec("c", l));
    auto sup = (co_await otp::start_supervisor(supervisor_flags(), std::move(cs))).value();
    // Restart "a": its process is now the newest, but it is still first in start order.
    auto kids = (co_await otp::which_children(sup)).value();
    otp::monitor(kids[0].process);
    otp::exit(kids[0].process, otp::exit_reason::kill());
    (void)co_await otp::receive();  // its down
    (void)co_await otp::which_children(sup);
    (*l)("ready");
    for (;;) co_await otp::receive();  // the application's root process, linked to the supervisor
  }, log);
  asio::post(io, [&] {
    struct poll {
      otp::runtime& rt;
      std::shared_ptr<otp::testing::event_log> log;
      asio::io_context& io;
      void operator()() const {
        auto ev = log->events();
        if (!ev.empty() && ev.back() == "ready")
          rt.shutdown();
        else
          asio::post(io, *this);
      }
    };
    asio::post(io, poll{rt, log, io});
  });
  io.run();
  CHECK(rt.live() == 0);
  CHECK(log->events() == std::vector<std::string>{"a:start", "s1:start", "c:start", "a:stop", "a:start", "ready",
                                                  "c:stop", "s1:stop", "a:stop"});
}
}
