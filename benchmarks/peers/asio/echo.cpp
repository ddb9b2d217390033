// SPDX-License-Identifier: MIT
// asio_echo PORT THREADS: the raw Asio peer of W11 (../README.md), a line
// echo server on 127.0.0.1 on standalone Asio 1.22 and C++20 coroutines.
//
//   build: g++ -O2 -std=c++20 -pthread echo.cpp -o asio_echo
//
// One coroutine accepts; each connection is a coroutine of its own
// (asio::co_spawn), and one io_context is run by THREADS threads, so any
// thread resumes any connection (a connection's coroutine never runs on two
// threads at once: it has one operation pending at a time). As otp's
// echo_server does, it greets each connection with one line; then every
// line is written back whole. A line over 4 KiB or any error closes the
// connection. SIGINT or SIGTERM stops it; otherwise it serves until killed.

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read_until.hpp>
#include <asio/signal_set.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using asio::ip::tcp;
// Awaited operations give their error code instead of throwing it.
constexpr auto checked = asio::experimental::as_tuple(asio::use_awaitable);
constexpr std::string_view greeting = "welcome; every line is echoed back\n";

asio::awaitable<void> connection(tcp::socket s) {
  if (auto [ec, n] = co_await asio::async_write(s, asio::buffer(greeting), checked); ec) co_return;
  std::string buf;
  for (;;) {
    // n: the bytes up to and including the first '\n'; more may follow in buf.
    auto [ec, n] = co_await asio::async_read_until(s, asio::dynamic_buffer(buf, 4096), '\n', checked);
    if (ec) co_return;
    if (auto [wec, wn] = co_await asio::async_write(s, asio::buffer(buf.data(), n), checked); wec) co_return;
    buf.erase(0, n);
  }
}

asio::awaitable<void> acceptor(tcp::acceptor a) {
  for (;;) {
    auto [ec, s] = co_await a.async_accept(checked);
    if (ec == asio::error::operation_aborted) co_return;
    if (!ec) asio::co_spawn(a.get_executor(), connection(std::move(s)), asio::detached);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const int port = argc == 3 ? std::atoi(argv[1]) : 0, threads = argc == 3 ? std::atoi(argv[2]) : 0;
  if (port <= 0 || port > 65535 || threads < 1) {
    std::fprintf(stderr, "usage: asio_echo PORT THREADS\n");
    return 2;
  }
  asio::io_context io(threads);
  tcp::acceptor a(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
  std::printf("asio_echo: listening on 127.0.0.1:%d, %d threads\n", port, threads);
  std::fflush(stdout);
  asio::co_spawn(io, acceptor(std::move(a)), asio::detached);
  asio::signal_set stop(io, SIGINT, SIGTERM);
  stop.async_wait([&io](std::error_code, int) { io.stop(); });
  std::vector<std::thread> extra;
  for (int i = 1; i < threads; ++i) extra.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& t : extra) t.join();
  return 0;
}
