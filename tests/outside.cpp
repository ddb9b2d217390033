// SPDX-License-Identifier: MIT
// otp from plain Asio code: async_call, async_request, async_cast and
// async_wait_exit with each kind of completion token.
#include <otp/outside.hpp>

#include <doctest/doctest.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/experimental/deferred.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>

#include <future>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

using namespace std::chrono_literals;

namespace {

struct adder : otp::server<adder> {
  struct add {
    int x;
  };
  struct crash {
    using reply = int;
  };
  struct slow {
    using reply = int;
  };
  struct bump {};
  int handle_call(add a) const { return a.x + total; }
  int handle_call(crash) { throw std::runtime_error("adder crashed"); }
  otp::task<int> handle_call(slow) {
    co_await otp::sleep_for(200ms);
    co_return 0;
  }
  void handle_cast(bump) { ++total; }
  int total = 0;
};

// The runtime on its own thread, as an application embedding otp would run it.
// The work guard keeps run() going while no process lives yet.
struct app {
  asio::io_context io;
  otp::runtime rt{io.get_executor()};
  asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(io);
  std::thread runner;
  void start() {
    runner = std::thread([this] { io.run(); });
  }
  ~app() {
    rt.shutdown();
    work.reset();
    if (runner.joinable()) runner.join();
  }
};

}  // namespace

TEST_SUITE("outside") {

TEST_CASE("async_call from plain Asio code: a callback, a future, an awaitable and a deferred operation") {
  app a;
  auto s = otp::spawn_server<adder>(a.rt);
  std::promise<otp::result<int>> by_callback;
  otp::async_call(s, adder::add{1}, [&by_callback](otp::result<int> r) { by_callback.set_value(std::move(r)); });

  std::promise<otp::result<int>> by_awaitable;
  asio::co_spawn(
      a.io,
      [&]() -> asio::awaitable<void> {
        auto r = co_await otp::async_call(s, adder::add{2}, asio::use_awaitable);
        by_awaitable.set_value(std::move(r));
      },
      asio::detached);

  std::promise<otp::result<int>> by_deferred;
  auto op = otp::async_call(s, adder::add{3}, asio::experimental::deferred);
  std::move(op)([&by_deferred](otp::result<int> r) { by_deferred.set_value(std::move(r)); });

  a.start();
  auto fut = otp::async_call(s, adder::add{4}, asio::use_future);
  CHECK(fut.get().value() == 4);
  CHECK(by_callback.get_future().get().value() == 1);
  CHECK(by_awaitable.get_future().get().value() == 2);
  CHECK(by_deferred.get_future().get().value() == 3);
}

TEST_CASE("async_call from outside fails with noproc, exited and timeout as call does") {
  app a;
  a.start();
  auto s = otp::spawn_server<adder>(a.rt);
  auto crashed = otp::async_call(s, adder::crash{}, asio::use_future).get();
  REQUIRE(crashed.has_error());
  CHECK(crashed.error() == otp::errc::exited);
  CHECK(crashed.error().reason.to_string() == R"({error,std::runtime_error,"adder crashed"})");
  auto dead = otp::async_call(s, adder::add{1}, asio::use_future).get();
  REQUIRE(dead.has_error());
  CHECK(dead.error() == otp::errc::noproc);
  auto none = otp::async_call(otp::server_ref<adder>(), adder::add{1}, asio::use_future).get();
  CHECK(none.error() == otp::errc::noproc);

  auto t = otp::spawn_server<adder>(a.rt);
  auto late = otp::async_call(t, adder::slow{}, 20ms, asio::use_future).get();
  REQUIRE(late.has_error());
  CHECK(late.error() == otp::errc::timeout);
  // The late reply is dropped; the next call is answered once the slow one is done.
  CHECK(otp::async_call(t, adder::add{5}, asio::use_future).get().value() == 5);
}

TEST_CASE("async_cast from outside is handled in order before a later call") {
  app a;
  a.start();
  auto s = otp::spawn_server<adder>(a.rt);
  CHECK(otp::async_cast(s, adder::bump{}, asio::use_future).get() == otp::send_status::delivered);
  otp::cast(s, adder::bump{});  // the plain cast works from any thread too
  CHECK(otp::async_call(s, adder::add{0}, asio::use_future).get().value() == 2);
}

TEST_CASE("async_request from outside reaches a plain process through its reply_to") {
  struct ask {
    ask(int v, otp::reply_to<int> r) : value(v), reply(std::move(r)) {}
    int value;
    otp::reply_to<int> reply;
  };
  app a;
  auto doubler = otp::spawn(a.rt, []() -> otp::process<ask> {
    for (;;) {
      auto m = co_await otp::receive();
      if (auto* q = std::get_if<ask>(&m)) q->reply.send(q->value * 2);
    }
  });
  a.start();
  auto r = otp::async_request<int>(doubler, [](otp::reply_to<int> to) { return ask(21, std::move(to)); },
                                   otp::duration::max(), asio::use_future)
               .get();
  CHECK(r.value() == 42);
}

TEST_CASE("async_wait_exit completes with the exit reason, or noproc for a process already gone") {
  app a;
  auto p = otp::spawn(a.rt, []() -> otp::process<int> {
    auto m = co_await otp::receive();
    otp::exit(otp::exit_reason::other("done:" + std::to_string(std::get<int>(m))));
  });
  auto reason = otp::async_wait_exit(p, asio::use_future);
  a.start();
  otp::send(p, 7);
  CHECK(reason.get().to_string() == "done:7");
  CHECK(otp::async_wait_exit(p, asio::use_future).get() == otp::exit_reason::noproc());
  CHECK(otp::async_wait_exit(otp::pid(), asio::use_future).get() == otp::exit_reason::noproc());
}

}  // TEST_SUITE
