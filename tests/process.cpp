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

OTP_TEST_CASE("spawn_link, spawn_monitor and spawn_opt need a calling process") {
  asio::io_context io;
  otp::runtime rt(io.get_executor());
  otp::spawn_options o;
  o.link = true;
  CHECK_THROWS_AS(otp::spawn_opt(rt, o, returns_at_once), std::logic_error);
  co_return;
}

TEST_CASE("self() outside a process is a clear error") { CHECK_THROWS_AS(otp::self(), std::logic_error); }

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
