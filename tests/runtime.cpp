// SPDX-License-Identifier: MIT
// The runtime: shutdown, kill_all, activity states, logging hook, fairness.
#include <otp/runtime.hpp>

#include <doctest/doctest.h>
#include <otp/process.hpp>
#include <otp/testing.hpp>

#include <asio/io_context.hpp>
#include <asio/post.hpp>

#include <algorithm>
#include <atomic>
#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {
otp::runtime_options virtual_time() {
  otp::runtime_options o;
  o.clock = std::make_shared<otp::manual_clock>();
  o.log = {};
  return o;
}
}  // namespace

TEST_SUITE("runtime") {

TEST_CASE("shutdown ends every process and lets run() return") {
  asio::io_context io;
  otp::runtime rt(io.get_executor(), virtual_time());
  for (int i = 0; i < 10; ++i) otp::spawn(rt, []() -> otp::process<> { co_await otp::receive(); });
  asio::post(io, [&] { rt.shutdown(); });
  io.run();
  CHECK(rt.live() == 0);
}

TEST_CASE("shutdown kills a process that traps exits and ignores the request, after the grace period") {
  asio::io_context io;
  auto o = virtual_time();
  o.shutdown_timeout = 3s;
  auto clk = std::static_pointer_cast<otp::manual_clock>(o.clock);
  otp::runtime rt(io.get_executor(), o);
  otp::duration ended_at{};
  struct stamp {
    otp::clock& c;
    otp::duration& at;
    ~stamp() { at = c.now().time_since_epoch(); }
  };
  otp::spawn(rt, [&]() -> otp::process<> {
    stamp s{*clk, ended_at};
    otp::trap_exit(true);
    for (;;) co_await otp::receive();  // stubborn: ignores exit(shutdown)
  });
  asio::post(io, [&] { rt.shutdown(); });
  io.run();
  CHECK(rt.live() == 0);
  CHECK(ended_at == 3s);
}

TEST_CASE("kill_all ends every process at once") {
  asio::io_context io;
  otp::runtime rt(io.get_executor(), virtual_time());
  for (int i = 0; i < 5; ++i) {
    otp::spawn(rt, []() -> otp::process<> {
      otp::trap_exit(true);
      for (;;) co_await otp::receive();
    });
  }
  asio::post(io, [&] { rt.kill_all(); });
  io.run();
  CHECK(rt.live() == 0);
}

TEST_CASE("the runtime tells a deadlock from an idle wait on time") {
  asio::io_context io;
  otp::runtime_options o;
  o.log = {};
  std::vector<otp::runtime::activity> seen;
  otp::runtime* rtp = nullptr;
  o.on_deadlock = [&] {
    seen.push_back(rtp->state());
    rtp->kill_all();
  };
  otp::runtime rt(io.get_executor(), o);
  rtp = &rt;
  otp::spawn(rt, []() -> otp::process<> {
    co_await otp::sleep_for(5ms);  // real clock: idle_waiting meanwhile, not a deadlock
    co_await otp::receive();       // nothing can wake it: deadlock
  });
  asio::post(io, [&] { seen.push_back(rt.state()); });
  io.run();
  REQUIRE(seen.size() == 2);
  CHECK(seen[0] == otp::runtime::activity::idle_waiting);
  CHECK(seen[1] == otp::runtime::activity::deadlocked);
  CHECK(rt.state() == otp::runtime::activity::stopped);
}

TEST_CASE("the logging hook receives one crash report per crash, and can be replaced") {
  asio::io_context io;
  otp::runtime_options o = virtual_time();
  std::vector<otp::log_event> events;
  o.log = [&](const otp::log_event& e) { events.push_back(e); };
  otp::runtime rt(io.get_executor(), o);
  auto p = otp::spawn(rt, []() -> otp::process<> {
    throw std::invalid_argument("bad input");
    co_return;
  });
  otp::spawn(rt, []() -> otp::process<> { otp::exit(otp::exit_reason::shutdown()); co_return; });
  io.run();
  REQUIRE(events.size() == 1);  // a clean exit is not a crash
  CHECK(events[0].what == otp::log_event::kind::crash_report);
  CHECK(events[0].process == p);
  CHECK(events[0].text.find("std::invalid_argument") != std::string::npos);
  CHECK(events[0].text.find("bad input") != std::string::npos);
}

TEST_CASE("exit with a reason of one's own is a crash; being killed by a signal is not") {
  asio::io_context io;
  otp::runtime_options o = virtual_time();
  std::vector<otp::log_event> events;
  o.log = [&](const otp::log_event& e) { events.push_back(e); };
  otp::runtime rt(io.get_executor(), o);
  auto own = otp::spawn(rt, []() -> otp::process<> {
    otp::exit(otp::exit_reason::other("bad_state"));
    co_return;
  });
  auto victim = otp::spawn(rt, []() -> otp::process<> { co_await otp::receive(); });
  otp::spawn(rt, [](otp::pid v) -> otp::process<> {
    otp::exit(v, otp::exit_reason::other("go_away"));
    co_return;
  }, victim);
  io.run();
  REQUIRE(events.size() == 1);
  CHECK(events[0].process == own);
  CHECK(events[0].reason == otp::exit_reason::other("bad_state"));
}

TEST_CASE("a busy shard leaves room for other handlers on the same io_context") {
  asio::io_context io;
  otp::runtime rt(io.get_executor(), virtual_time());
  std::atomic<bool> stop{false};
  std::atomic<long> spins{0};
  otp::spawn(rt, [&]() -> otp::process<> {
    while (!stop) {
      ++spins;
      co_await otp::yield();
    }
  });
  asio::post(io, [&] { stop = true; });
  io.run();
  CHECK(spins > 0);
  CHECK(spins < 100000);  // the posted handler ran long before that
}

TEST_CASE("runtime_options::drain_budget: another handler on the io_context runs after that many resumes") {
  for (int budget : {4, 64}) {
    asio::io_context io;
    auto o = virtual_time();
    o.drain_budget = budget;
    otp::runtime rt(io.get_executor(), o);
    int turns = 0, seen = -1;
    otp::spawn(rt, [&]() -> otp::process<> {
      asio::post(io, [&] { seen = turns; });  // queued behind the shard's running handler
      for (int i = 0; i < 1000; ++i) {
        ++turns;
        co_await otp::yield();
      }
    });
    io.run();
    CAPTURE(budget);
    CHECK(seen >= budget - 1);
    CHECK(seen <= budget + 1);
  }
}

TEST_CASE("runtime_options::reductions: a process that sends without blocking yields after that many sends") {
  for (int reductions : {5, 100}) {
    asio::io_context io;
    auto o = virtual_time();
    o.reductions = reductions;
    otp::runtime rt(io.get_executor(), o);
    int ticks = 0, streak = 0, longest = 0;
    bool done = false;
    auto sink = otp::spawn(rt, []() -> otp::process<int> {
      while (std::get<int>(co_await otp::receive()) != 999) {
      }
    });
    otp::spawn(rt, [&]() -> otp::process<> {  // runs once per turn it gets
      while (!done) {
        ++ticks;
        co_await otp::yield();
      }
    });
    otp::spawn(rt, [&, sink]() -> otp::process<> {
      int last_tick = ticks;
      for (int i = 0; i < 1000; ++i) {
        co_await otp::send(sink, i);
        streak = ticks == last_tick ? streak + 1 : 1;
        last_tick = ticks;
        longest = std::max(longest, streak);
      }
      done = true;
    });
    io.run();
    CAPTURE(reductions);
    CHECK(longest <= reductions);
    CHECK(longest >= reductions - 1);
  }
}

TEST_CASE("runtime_options: a drain budget or reductions below 1 is refused") {
  asio::io_context io;
  auto o = virtual_time();
  o.reductions = 0;
  CHECK_THROWS_AS(otp::runtime(io.get_executor(), o), std::invalid_argument);
  o.reductions = 1;
  o.drain_budget = 0;
  CHECK_THROWS_AS(otp::runtime(io.get_executor(), o), std::invalid_argument);
}

TEST_CASE("two runtimes can share one io_context") {
  asio::io_context io;
  otp::runtime a(io.get_executor(), virtual_time());
  otp::runtime b(io.get_executor(), virtual_time());
  int ran = 0;
  auto body = [&ran]() -> otp::process<> {
    ++ran;
    co_return;
  };
  otp::spawn(a, body);
  otp::spawn(b, body);
  io.run();
  CHECK(ran == 2);
}

TEST_CASE("destroying a runtime whose io_context was stopped destroys the stranded frames") {
  auto flag = std::make_shared<int>(0);
  {
    asio::io_context io;
    otp::runtime rt(io.get_executor(), virtual_time());
    struct sets {
      std::shared_ptr<int> f;
      ~sets() { ++*f; }
    };
    for (int i = 0; i < 3; ++i)
      otp::spawn(rt, [](std::shared_ptr<int> f) -> otp::process<> {
        sets s{std::move(f)};
        co_await otp::receive();
      }, flag);
    asio::post(io, [&] { io.stop(); });
    io.run_for(100ms);
    // the processes may or may not have started; either way they are destroyed below
  }
  CHECK(flag.use_count() == 1);
}

}  // TEST_SUITE

#include <otp/node.hpp>

TEST_CASE("a node runs processes on N threads and run() returns when they ended") {
  otp::runtime_options o;
  o.log = {};
  otp::node n(2, o);
  CHECK(n.threads() == 2);
  CHECK(n.runtime().shard_count() == 2);
  std::atomic<int> done{0};
  for (int i = 0; i < 8; ++i) {
    otp::spawn(n.runtime(), [&done]() -> otp::process<> {
      for (int k = 0; k < 100; ++k) co_await otp::yield();
      ++done;
    });
  }
  n.run();
  CHECK(done == 8);
  CHECK(n.runtime().live() == 0);
}
