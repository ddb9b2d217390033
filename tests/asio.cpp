// SPDX-License-Identifier: MIT
// Asio operations inside processes: use_process, cancellation before the
// frame dies, and the asio::awaitable bridge. These use real (short) Asio
// timers and loopback sockets; otp's own deadlines stay virtual.
#include <otp/asio.hpp>

#include <doctest/doctest.h>
#include <otp/testing.hpp>

#include <asio/bind_executor.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <memory>

using namespace std::chrono_literals;

namespace {
struct flag_on_destroy {
  std::shared_ptr<bool> f;
  ~flag_on_destroy() { *f = true; }
};

asio::awaitable<int> add_later(int a, int b) {
  asio::steady_timer t(co_await asio::this_coro::executor, 1ms);
  co_await t.async_wait(asio::use_awaitable);
  co_return a + b;
}
asio::awaitable<int> throws_later() {
  asio::steady_timer t(co_await asio::this_coro::executor, 1ms);
  co_await t.async_wait(asio::use_awaitable);
  throw std::runtime_error("from an awaitable");
}
}  // namespace

TEST_SUITE("asio") {

OTP_TEST_CASE("an Asio timer awaited with use_process completes with its error code") {
  asio::steady_timer t(otp::executor(), 2ms);
  auto [ec] = co_await t.async_wait(otp::use_process);
  CHECK_FALSE(ec);
}

OTP_TEST_CASE("messages that arrive during an Asio wait stay in the mailbox") {
  auto p = otp::spawn([]() -> otp::process<int> {
    asio::steady_timer t(otp::executor(), 5ms);
    co_await t.async_wait(otp::use_process);
    CHECK(std::get<int>(co_await otp::receive()) == 1);
    CHECK(std::get<int>(co_await otp::receive()) == 2);
  });
  otp::monitor(p);
  otp::send(p, 1);
  otp::send(p, 2);
  CHECK(std::get<otp::down_message>(co_await otp::receive()).reason == otp::exit_reason::normal());
}

OTP_TEST_CASE("ending a process cancels its Asio operation, and its frame dies only after the handler ran") {
  auto destroyed = std::make_shared<bool>(false);
  auto [p, ref] = otp::spawn_monitor([](std::shared_ptr<bool> d) -> otp::process<> {
    flag_on_destroy f{std::move(d)};
    asio::steady_timer t(otp::executor(), 1h);
    co_await t.async_wait(otp::use_process);
    FAIL("resumed after being ended");
  }, destroyed);
  co_await otp::yield();
  otp::exit(p, otp::exit_reason::shutdown());
  auto d = std::get<otp::down_message>(co_await otp::receive());  // at once, not in an hour
  CHECK(d.reason == otp::exit_reason::shutdown());
  CHECK(*destroyed);
}

OTP_TEST_CASE("kill ends a process blocked in an Asio operation") {
  auto [p, ref] = otp::spawn_monitor([]() -> otp::process<> {
    asio::steady_timer t(otp::executor(), 1h);
    co_await t.async_wait(otp::use_process);
  });
  co_await otp::yield();
  otp::exit(p, otp::exit_reason::kill());
  CHECK(std::get<otp::down_message>(co_await otp::receive()).reason == otp::exit_reason::killed());
}

OTP_TEST_CASE("a socket read on loopback completes, and a pending one is cancelled by an exit") {
  using asio::ip::tcp;
  tcp::acceptor acc(otp::executor(), tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  const auto port = acc.local_endpoint().port();
  auto reader = otp::spawn([](unsigned short port) -> otp::process<> {
    tcp::socket s(otp::executor());
    auto [ec] = co_await s.async_connect(tcp::endpoint(asio::ip::address_v4::loopback(), port), otp::use_process);
    REQUIRE_FALSE(ec);
    char buf[5];
    auto [ec2, n] = co_await asio::async_read(s, asio::buffer(buf), otp::use_process);
    CHECK_FALSE(ec2);
    CHECK(std::string(buf, n) == "hello");
    co_await asio::async_read(s, asio::buffer(buf), otp::use_process);  // nothing more comes
    FAIL("resumed after being ended");
  }, port);
  otp::monitor(reader);
  tcp::socket peer(otp::executor());
  auto [ec] = co_await acc.async_accept(peer, otp::use_process);
  REQUIRE_FALSE(ec);
  auto [ec2, n] = co_await asio::async_write(peer, asio::buffer("hello", 5), otp::use_process);
  CHECK(n == 5);
  asio::steady_timer settle(otp::executor(), 5ms);
  co_await settle.async_wait(otp::use_process);
  otp::exit(reader, otp::exit_reason::other("enough"));
  CHECK(std::get<otp::down_message>(co_await otp::receive()).reason == otp::exit_reason::other("enough"));
}

OTP_TEST_CASE("otp::await runs an asio::awaitable and returns its result") {
  int v = co_await otp::await(add_later(2, 3));
  CHECK(v == 5);
}

OTP_TEST_CASE("an exception escaping an awaited asio::awaitable is rethrown in the process") {
  bool caught = false;
  try {
    co_await otp::await(throws_later());
  } catch (const std::runtime_error& e) {
    caught = std::string(e.what()) == "from an awaitable";
  }
  CHECK(caught);
}

OTP_TEST_CASE("a process waiting on an Asio operation is not mistaken for a deadlock") {
  asio::steady_timer t(otp::executor(), 20ms);
  auto [ec] = co_await t.async_wait(otp::use_process);
  CHECK_FALSE(ec);
}

}  // TEST_SUITE

namespace {
// An Asio operation that ignores cancellation: it completes after `d` of real
// time whatever happens, on the process's strand.
auto deaf_wait(std::chrono::milliseconds d) {
  return asio::async_initiate<const otp::use_process_t&, void(std::error_code)>(
      [d](auto handler) {
        auto ex = handler.get_executor();
        auto t = std::make_shared<asio::steady_timer>(ex, d);
        t->async_wait(asio::bind_executor(ex, [t, h = std::move(handler)](std::error_code ec) mutable { h(ec); }));
      },
      otp::use_process);
}

otp::process<> deaf_waiter(std::shared_ptr<bool> destroyed) {
  flag_on_destroy f{std::move(destroyed)};
  co_await deaf_wait(std::chrono::milliseconds(200));
}
}  // namespace

TEST_SUITE("asio") {

OTP_TEST_CASE("kill fires links and monitors without waiting for a slow cancellation; the frame waits") {
  auto destroyed = std::make_shared<bool>(false);
  auto [p, ref] = otp::spawn_monitor(deaf_waiter, destroyed);
  co_await otp::yield();
  auto t0 = std::chrono::steady_clock::now();
  otp::exit(p, otp::exit_reason::kill());
  auto d = std::get<otp::down_message>(co_await otp::receive());
  CHECK(d.reason == otp::exit_reason::killed());
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(150));
  CHECK_FALSE(*destroyed);  // the operation still refers to the frame
  asio::steady_timer t(otp::executor(), std::chrono::milliseconds(300));
  co_await t.async_wait(otp::use_process);
  CHECK(*destroyed);
}

OTP_TEST_CASE("other exit reasons wait for the cancelled operation before links and monitors fire") {
  auto destroyed = std::make_shared<bool>(false);
  auto [p, ref] = otp::spawn_monitor(deaf_waiter, destroyed);
  co_await otp::yield();
  auto t0 = std::chrono::steady_clock::now();
  otp::exit(p, otp::exit_reason::shutdown());
  auto d = std::get<otp::down_message>(co_await otp::receive());
  CHECK(d.reason == otp::exit_reason::shutdown());
  CHECK(std::chrono::steady_clock::now() - t0 >= std::chrono::milliseconds(150));
  CHECK(*destroyed);
}

}  // TEST_SUITE
