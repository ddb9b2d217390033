// SPDX-License-Identifier: MIT
// Processes: spawn, bodies, ends, exit reasons, parents.
#include <otp/process.hpp>

#include <doctest/doctest.h>
#include <otp/testing.hpp>

#include <asio/io_context.hpp>

#include <memory>
#include <stdexcept>
#include <string>

using namespace std::chrono_literals;

namespace {
otp::process<> returns_at_once() { co_return; }
otp::process<> throws_runtime_error() {
  throw std::runtime_error("boom");
  co_return;
}
otp::process<> exits_with(otp::exit_reason r) {
  otp::exit(r);
  co_return;
}
otp::process<> waits_forever() { co_await otp::receive(); }

otp::exit_reason down_reason(const otp::message<otp::nothing>& m) { return std::get<otp::down_message>(m).reason; }
}  // namespace

TEST_SUITE("process") {

OTP_TEST_CASE("a body that returns ends with reason normal") {
  auto [p, ref] = otp::spawn_monitor(returns_at_once);
  CHECK(down_reason(co_await otp::receive()) == otp::exit_reason::normal());
}

OTP_TEST_CASE("an escaped exception ends the process with error carrying its type and what()") {
  auto [p, ref] = otp::spawn_monitor(throws_runtime_error);
  auto r = down_reason(co_await otp::receive());
  CHECK(r.kind() == otp::exit_kind::error);
  CHECK(r.error_type() == "std::runtime_error");
  CHECK(r.payload() == "boom");
  CHECK(r.to_string() == "{error,std::runtime_error,\"boom\"}");
}

OTP_TEST_CASE("a crash harms nothing else: the spawner keeps running") {
  otp::spawn(throws_runtime_error);
  auto [p, ref] = otp::spawn_monitor(throws_runtime_error);
  co_await otp::receive();
  CHECK(otp::is_alive(otp::self()));
}

OTP_TEST_CASE("exit(reason) from inside ends the process with that reason, not with error") {
  auto [p, ref] = otp::spawn_monitor(exits_with, otp::exit_reason::other("bad_state"));
  CHECK(down_reason(co_await otp::receive()) == otp::exit_reason::other("bad_state"));
}

OTP_TEST_CASE("spawn records the parent; a process spawned from outside has none") {
  auto child = otp::spawn([]() -> otp::process<otp::pid> {
    auto m = co_await otp::receive();
    auto& who = std::get<otp::pid>(m);
    CHECK(otp::parent() == who);
  });
  otp::send(child, otp::self());
  co_await otp::sleep_for(1ms);
  CHECK_FALSE(otp::is_alive(child));
}

TEST_CASE("a process spawned from outside any process has no parent") {
  asio::io_context io;
  otp::runtime rt(io.get_executor());
  bool orphan = false;
  otp::spawn(rt, [&orphan]() -> otp::process<> {
    orphan = !otp::parent();
    co_return;
  });
  io.run();
  CHECK(orphan);
}

TEST_CASE("spawn from outside any process runs the body on the executor; run() returns when all ended") {
  asio::io_context io;
  otp::runtime rt(io.get_executor());
  int ran = 0;
  otp::spawn(rt, [&ran]() -> otp::process<> {
    ++ran;
    co_return;
  });
  CHECK(ran == 0);  // nothing runs before the io_context does
  io.run();
  CHECK(ran == 1);
  CHECK(rt.live() == 0);
}

TEST_CASE("live processes keep io_context::run() from returning") {
  asio::io_context io;
  otp::runtime rt(io.get_executor());
  auto p = otp::spawn(rt, []() -> otp::process<int> { co_await otp::receive(); });
  std::thread t([&] {
    std::this_thread::sleep_for(20ms);  // real time on purpose: run() must still be blocked
    otp::send(p, 1);
  });
  io.run();  // returns only after the send above ended the process
  t.join();
  CHECK(rt.live() == 0);
}

OTP_TEST_CASE("a capturing lambda given to spawn lives as long as the process") {
  auto big = std::make_shared<std::string>(200, 'x');
  auto [p, ref] = otp::spawn_monitor([big, pad = std::string(100, 'y')]() -> otp::process<int> {
    co_await otp::receive();
    CHECK(big->size() == 200);
    CHECK(pad.size() == 100);
  });
  auto h = otp::handle<int>::from(p).value();
  co_await otp::sleep_for(1s);
  otp::send(h, 1);
  CHECK(down_reason(co_await otp::receive()) == otp::exit_reason::normal());
}

OTP_TEST_CASE("the frame of an ended process is destroyed: destructors of its locals run") {
  auto flag = std::make_shared<int>(0);
  struct sets_on_destroy {
    std::shared_ptr<int> f;
    ~sets_on_destroy() { *f = 1; }
  };
  auto [p, ref] = otp::spawn_monitor([](std::shared_ptr<int> f) -> otp::process<> {
    sets_on_destroy s{std::move(f)};
    co_await otp::receive();
  }, flag);
  co_await otp::yield();
  CHECK(*flag == 0);
  otp::exit(p, otp::exit_reason::kill());
  co_await otp::receive();
  CHECK(*flag == 1);
}

OTP_TEST_CASE("a plain lambda returning a coroutine's process is a body; what it throws, spawn throws") {
  auto [p, ref] = otp::spawn_monitor([] { return exits_with(otp::exit_reason::other("from_plain")); });
  CHECK(down_reason(co_await otp::receive()) == otp::exit_reason::other("from_plain"));
  auto refuses = []() -> otp::process<> { throw std::invalid_argument("bad argument"); };
  CHECK_THROWS_AS(otp::spawn(refuses), std::invalid_argument);  // not a coroutine: runs inside spawn
}

OTP_TEST_CASE_M("receive_down takes the down of one monitor and leaves every other message in order", int) {
  auto me = otp::self_as<int>();
  auto [a, ra] = otp::spawn_monitor(returns_at_once);
  auto [b, rb] = otp::spawn_monitor(returns_at_once);
  co_await otp::yield();  // both ended: their downs are in the mailbox, between our messages
  otp::send(me, 1);
  otp::send(me, 2);
  auto d = co_await otp::receive_down(rb);
  CHECK(d.ref == rb);
  CHECK(d.from == b);
  CHECK(d.reason == otp::exit_reason::normal());
  // What is left comes out in arrival order: a's down, then 1, then 2.
  CHECK(std::get<otp::down_message>(co_await otp::receive()).ref == ra);
  CHECK(std::get<int>(co_await otp::receive()) == 1);
  CHECK(std::get<int>(co_await otp::receive()) == 2);
}

OTP_TEST_CASE_M("receive_down waits past unrelated messages for a down that comes later", int) {
  auto me = otp::self_as<int>();
  auto [p, ref] = otp::spawn_monitor([](otp::handle<int> to) -> otp::process<> {
    for (int i = 0; i < 300; ++i) co_await otp::send(to, i);  // wakes the waiter again and again
    co_await otp::sleep_for(1s);
  }, me);
  auto t0 = otp::now();
  auto d = co_await otp::receive_down(ref);
  CHECK(otp::now() - t0 == 1s);
  CHECK(d.from == p);
  for (int i = 0; i < 300; ++i) CHECK(std::get<int>(co_await otp::receive()) == i);
}

OTP_TEST_CASE_M("receive_down with a timeout gives nothing at the deadline and leaves the down for later", int) {
  auto [p, ref] = otp::spawn_monitor([]() -> otp::process<> { co_await otp::sleep_for(2s); });
  otp::send(otp::self_as<int>(), 7);
  auto t0 = otp::now();
  CHECK_FALSE((co_await otp::receive_down(ref, 1s)).has_value());
  CHECK(otp::now() - t0 == 1s);
  CHECK_FALSE((co_await otp::receive_down(ref, 0s)).has_value());  // a zero timeout only looks
  auto d = co_await otp::receive_down(ref, 5s);
  REQUIRE(d.has_value());
  CHECK(otp::now() - t0 == 2s);
  CHECK(std::get<int>(co_await otp::receive()) == 7);  // untouched
}

OTP_TEST_CASE("receive_exit takes the trapped exit of one process and leaves the others in order") {
  otp::trap_exit(true);
  auto a = otp::spawn_link(exits_with, otp::exit_reason::other("a_done"));
  auto b = otp::spawn_link(exits_with, otp::exit_reason::other("b_done"));
  auto e = co_await otp::receive_exit(b);
  CHECK(e.from == b);
  CHECK(e.reason == otp::exit_reason::other("b_done"));
  CHECK_FALSE((co_await otp::receive_exit(b, 1s)).has_value());  // taken: there was one
  auto rest = std::get<otp::exit_message>(co_await otp::receive());
  CHECK(rest.from == a);
  otp::trap_exit(false);
}

OTP_TEST_CASE("a process killed while in receive_down takes nothing and its destructors run") {
  auto gone = std::make_shared<bool>(false);
  auto [w, wref] = otp::spawn_monitor([](std::shared_ptr<bool> gone) -> otp::process<int> {
    struct on_end {
      std::shared_ptr<bool> g;
      ~on_end() { *g = true; }
    } guard{gone};
    auto p = otp::spawn_link([]() -> otp::process<> { co_await otp::sleep_for(1h); });  // goes with us
    (void)co_await otp::receive_down(otp::monitor(p));
  }, gone);
  co_await otp::yield();
  otp::exit(w, otp::exit_reason::kill());
  CHECK(down_reason(co_await otp::receive()) == otp::exit_reason::killed());
  CHECK(*gone);
}

OTP_TEST_CASE("spawn_link, spawn_monitor and spawn_opt need a calling process") {
  asio::io_context io;
  otp::runtime rt(io.get_executor());
  otp::spawn_options o;
  o.link = true;
  CHECK_THROWS_AS(otp::spawn_opt(rt, o, returns_at_once), std::logic_error);
  co_return;
}

TEST_CASE("self() outside a process is a clear error") { CHECK_THROWS_AS(otp::self(), std::logic_error); }

TEST_CASE("current_shard() and shard_count() outside a process are clear errors") {
  CHECK_THROWS_AS(otp::current_shard(), std::logic_error);
  CHECK_THROWS_AS(otp::shard_count(), std::logic_error);
}

OTP_TEST_CASE("spawn_options::shard places a process on that shard; one out of range is refused") {
  CHECK(otp::current_shard() == 0);
  CHECK(otp::shard_count() == 1);
  otp::spawn_options o;
  o.shard = otp::current_shard();
  o.monitor = true;
  auto [p, ref] = otp::spawn_opt(o, returns_at_once);
  (void)co_await otp::receive_down(ref);
  o.shard = otp::shard_count();  // one past the last
  CHECK_THROWS_AS(otp::spawn_opt(o, returns_at_once), std::out_of_range);
}

OTP_TEST_CASE("yield lets the other ready processes run first") {
  otp::testing::event_log log;
  otp::spawn([&log]() -> otp::process<> {
    log("b");
    co_return;
  });
  log("a1");
  co_await otp::yield();
  log("a2");
  CHECK(log.events() == std::vector<std::string>{"a1", "b", "a2"});
}

OTP_TEST_CASE("pids are never reused: each process gets a fresh number") {
  std::vector<std::uint64_t> ids;
  for (int i = 0; i < 100; ++i) {
    auto [p, ref] = otp::spawn_monitor(returns_at_once);
    ids.push_back(p.id());
    co_await otp::receive();
  }
  std::sort(ids.begin(), ids.end());
  CHECK(std::adjacent_find(ids.begin(), ids.end()) == ids.end());
}

OTP_TEST_CASE("a stale pid never reaches a newer process") {
  auto [old_pid, ref] = otp::spawn_monitor(waits_forever);
  otp::exit(old_pid, otp::exit_reason::kill());
  co_await otp::receive();
  auto fresh = otp::spawn(waits_forever);
  CHECK(old_pid != fresh);
  CHECK_FALSE(otp::is_alive(old_pid));
  CHECK(otp::is_alive(fresh));
  otp::exit(fresh, otp::exit_reason::kill());
}

}  // TEST_SUITE


TEST_SUITE("process") {
OTP_TEST_CASE("a spawn loop runs its children in batches, never piling up more than spawn_batch") {
  auto alive = std::make_shared<std::size_t>(0);
  std::size_t alive_max = 0;
  for (int i = 0; i < 10000; ++i) {
    ++*alive;
    alive_max = std::max(alive_max, *alive);
    otp::spawn([](std::shared_ptr<std::size_t> a) -> otp::process<> {
      --*a;
      co_return;
    }, alive);
  }
  CHECK(alive_max <= otp::config::spawn_batch + 1);
  co_await otp::yield();
  CHECK(*alive == 0);
}
}  // TEST_SUITE
