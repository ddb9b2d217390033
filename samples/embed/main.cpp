// SPDX-License-Identifier: MIT
// otp inside an application that already runs Asio.
//
// The application below is plain Asio: its own io_context, a timer, a UDP
// socket, an asio::awaitable coroutine. It adds a supervision tree to the
// same io_context (a counter server under a supervisor), reaches it from
// plain Asio code with completion tokens (a callback, use_awaitable), lets
// the server crash once to show the supervisor restart it, and finally
// stops the tree in order with runtime::shutdown() before run() returns.
#include <otp/otp.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/udp.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <array>
#include <cstdio>
#include <stdexcept>
#include <string>

using namespace std::chrono_literals;

// ---- the otp part: a supervised server that counts what it is told ----------
struct counter : otp::server<counter> {
  struct add {
    explicit add(std::string w) : what(std::move(w)) {}
    std::string what;
  };
  struct total {
    using reply = int;
  };
  struct crash {};

  counter() {
    otp::trap_exit(true);  // so that its supervisor's shutdown runs terminate
    std::printf("  [otp] counter %s started\n", otp::self().to_string().c_str());
  }
  void handle_cast(add a) { std::printf("  [otp] counted '%s' (%d)\n", a.what.c_str(), ++n); }
  int handle_call(total) const { return n; }
  [[noreturn]] void handle_cast(crash) { throw std::runtime_error("asked to crash"); }
  void terminate(const otp::exit_reason& r) { std::printf("  [otp] counter terminating: %s\n", r.to_string().c_str()); }
  int n = 0;
};

int main() {
  asio::io_context io;  // the application's own
  otp::runtime_options ro;
  ro.log = [](const otp::log_event& e) { std::printf("  [log] %s\n", e.text.c_str()); };
  otp::runtime rt(io.get_executor(), ro);

  // Add a supervision tree to it, from plain code: a root process starts it.
  auto root = otp::spawn(rt, []() -> otp::process<> {
    std::vector<otp::child_spec> children;
    children.push_back(otp::child<counter>().with(otp::local("counter")));
    auto sup = (co_await otp::start_supervisor(otp::supervisor_flags(), std::move(children))).value();
    co_await otp::receive();  // runtime::shutdown() ends this root; the link stops the tree
    (void)sup;
  });
  auto find_counter = [&rt] { return otp::server_ref<counter>::from(otp::local("counter").whereis(rt)); };

  // The application's UDP socket: each datagram it receives is cast to the counter.
  asio::ip::udp::socket sock(io, asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  std::array<char, 256> buf;
  asio::ip::udp::endpoint from;
  std::function<void()> receive_next = [&] {
    sock.async_receive_from(asio::buffer(buf), from, [&](std::error_code ec, std::size_t n) {
      if (ec) return;
      if (auto c = find_counter()) otp::cast(c.value(), counter::add(std::string(buf.data(), n)));
      receive_next();
    });
  };
  receive_next();

  // The application's timer: five ticks. Each sends a datagram and asks the
  // counter for its total with a callback; the third crashes the counter.
  asio::steady_timer tick(io);
  int ticks = 0;
  std::function<void()> on_tick = [&] {
    tick.expires_after(100ms);
    tick.async_wait([&](std::error_code ec) {
      if (ec) return;
      ++ticks;
      std::printf("[app] tick %d\n", ticks);
      const std::string msg = "datagram " + std::to_string(ticks);
      sock.send_to(asio::buffer(msg), sock.local_endpoint());
      auto c = find_counter();
      if (ticks == 3 && c) {
        std::printf("[app] crashing the counter on purpose\n");
        otp::cast(c.value(), counter::crash{});
      } else if (c) {
        otp::async_call(c.value(), counter::total{}, [](otp::result<int> r) {
          if (r)
            std::printf("[app] callback: total %d\n", r.value());
          else
            std::printf("[app] callback: %s\n", r.error().message().c_str());
        });
      }
      if (ticks < 5) return on_tick();
      // An asio::awaitable coroutine asks once more, then the app stops otp
      // in order and closes its own socket: run() returns after both.
      asio::co_spawn(io, [&]() -> asio::awaitable<void> {
        co_await tick.async_wait(asio::use_awaitable);  // let the last datagram land
        if (auto c = find_counter()) {
          auto r = co_await otp::async_call(c.value(), counter::total{}, asio::use_awaitable);
          std::printf("[app] awaitable: total %d since the restart\n", r.value());
        }
        std::printf("[app] shutting otp down in order\n");
        rt.shutdown();
        sock.close();
      }, asio::detached);
    });
  };
  on_tick();

  io.run();
  std::printf("[app] io_context::run() returned; root ended: %s\n", otp::is_alive(root) ? "no" : "yes");
}
