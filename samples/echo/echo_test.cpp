// SPDX-License-Identifier: MIT
// The echo server over real loopback sockets: many clients at once, one
// crashing its handler, the chat room, limits, and a crashed acceptor that
// must bind its port again.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "echo.hpp"

#include <otp/testing.hpp>

#include <asio/connect.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read_until.hpp>
#include <asio/write.hpp>

#include <array>
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using asio::ip::tcp;

namespace {

// A client inside a process: Asio operations through otp::use_process.
struct client {
  std::shared_ptr<tcp::socket> sock;
  std::string buf;
};

otp::task<client> connect(unsigned short port) {
  client c{std::make_shared<tcp::socket>(otp::executor()), {}};
  tcp::endpoint at(asio::ip::make_address("127.0.0.1"), port);
  auto [ec] = co_await c.sock->async_connect(at, otp::use_process);
  if (ec) throw std::system_error(ec);
  co_return c;
}
otp::task<std::string> read_line(client& c) {
  auto [ec, n] = co_await asio::async_read_until(*c.sock, asio::dynamic_buffer(c.buf), '\n', otp::use_process);
  if (ec) co_return "<closed>";
  std::string line = c.buf.substr(0, n - 1);
  c.buf.erase(0, n);
  co_return line;
}
otp::task<void> write_line(client& c, std::string line) {
  line += '\n';
  auto [ec, n] = co_await asio::async_write(*c.sock, asio::buffer(line), otp::use_process);
  if (ec) throw std::system_error(ec);
}

// Starts the server under a supervisor linked to the caller.
otp::task<otp::supervisor_ref> start_echo(echo::options o) {
  std::vector<otp::child_spec> children;
  children.push_back(echo::child_spec(o));
  co_return (co_await otp::start_supervisor(otp::supervisor_flags(), std::move(children))).value();
}
void stop(const otp::supervisor_ref& sup) {
  otp::unlink(sup);
  otp::exit(sup, otp::exit_reason::shutdown());
}

// Stops it and waits until its processes are gone (the readers of dropped
// connections end a few turns after their connection).
otp::task<void> stop_and_wait(const otp::supervisor_ref& sup) {
  otp::unlink(sup);
  auto mon = otp::monitor(sup);
  otp::exit(sup, otp::exit_reason::shutdown());
  (void)co_await otp::receive_down(mon);
  for (int i = 0; i < 1000; ++i) co_await otp::yield();
}

// A port nobody listens on right now.
unsigned short free_port() {
  asio::io_context io;
  tcp::acceptor a(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return a.local_endpoint().port();
}

}  // namespace

TEST_SUITE("echo") {

OTP_TEST_CASE("many clients at once: each gets its own echoes; the one that crashes its handler loses only itself") {
  echo::options o;
  o.port = 0;
  auto sup = co_await start_echo(o);
  const unsigned short port = echo::bound_port();
  auto talker = [](unsigned short p, int id, bool crash) -> otp::process<> {
    auto c = co_await connect(p);
    if ((co_await read_line(c)).rfind("welcome", 0) != 0) throw std::runtime_error("no welcome");
    for (int k = 0; k < 50; ++k) {
      if (crash && k == 10) {
        co_await write_line(c, "/crash");
        if (co_await read_line(c) != "<closed>") throw std::runtime_error("the crashed handler's socket stayed open");
        co_return;
      }
      const std::string line = std::to_string(id) + ":" + std::to_string(k);
      co_await write_line(c, line);
      if (co_await read_line(c) != line) throw std::runtime_error("a line came back wrong or not at all");
    }
  };
  constexpr int clients = 20;
  for (int i = 0; i < clients; ++i) otp::spawn_monitor(talker, port, i, i == 7);
  for (int i = 0; i < clients; ++i) {
    auto m = co_await otp::receive();
    auto& d = std::get<otp::down_message>(m);
    CHECK_MESSAGE(d.reason == otp::exit_reason::normal(), d.reason.to_string());
  }
  bool reported = false;
  for (auto& e : otp::testing::logged())
    if (e.what == otp::log_event::kind::crash_report && e.text.find("crash asked by") != std::string::npos)
      reported = true;
  CHECK(reported);
  stop(sup);
}

OTP_TEST_CASE("chat: /say reaches everyone in the room and nobody outside it") {
  echo::options o;
  o.port = 0;
  auto sup = co_await start_echo(o);
  const unsigned short port = echo::bound_port();
  auto a = co_await connect(port);
  auto b = co_await connect(port);
  auto c = co_await connect(port);
  for (auto* x : {&a, &b, &c}) (void)co_await read_line(*x);  // welcome
  co_await write_line(a, "/join lobby");
  CHECK(co_await read_line(a) == "joined lobby");
  co_await write_line(b, "/join lobby");
  CHECK(co_await read_line(b) == "joined lobby");
  co_await write_line(c, "/join elsewhere");
  CHECK(co_await read_line(c) == "joined elsewhere");
  co_await write_line(a, "/say hello room");
  auto got_a = co_await read_line(a);
  auto got_b = co_await read_line(b);
  CHECK(got_a == got_b);
  CHECK(got_a.find("] hello room") != std::string::npos);
  co_await write_line(c, "ping");  // c's next line is its echo: no chat came first
  CHECK(co_await read_line(c) == "ping");
  co_await write_line(a, "/quit");
  CHECK(co_await read_line(a) == "bye");
  stop(sup);
}

OTP_TEST_CASE("limits: a line too long ends its connection with a message; over the cap a client is told the server is full") {
  echo::options o;
  o.port = 0;
  o.max_connections = 2;
  auto sup = co_await start_echo(o);
  const unsigned short port = echo::bound_port();
  auto a = co_await connect(port);
  (void)co_await read_line(a);
  auto b = co_await connect(port);
  (void)co_await read_line(b);
  auto full = co_await connect(port);
  CHECK((co_await read_line(full)).rfind("error: server full", 0) == 0);
  CHECK(co_await read_line(full) == "<closed>");
  co_await write_line(a, std::string(5000, 'x'));
  CHECK((co_await read_line(a)).rfind("error: a line may hold 1024 bytes", 0) == 0);
  CHECK(co_await read_line(a) == "<closed>");
  co_await write_line(b, "still here");  // the other connection did not notice
  CHECK(co_await read_line(b) == "still here");
  stop(sup);
}

OTP_TEST_CASE("a crashed acceptor is restarted and binds the same port again; open connections carry on") {
  echo::options o;
  o.port = free_port();
  auto sup = co_await start_echo(o);
  auto before = co_await connect(o.port);
  (void)co_await read_line(before);
  otp::pid acceptor = echo::acceptor_name().whereis();
  REQUIRE(acceptor);
  otp::exit(acceptor, otp::exit_reason::other("boom"));
  otp::pid again;
  // Virtual time stands still while sockets wait (the runtime is busy), so
  // wait by yielding: the restart needs only messages.
  for (int i = 0; i < 100000; ++i) {  // the old one's name goes when it has ended
    again = echo::acceptor_name().whereis();
    if (again && again != acceptor) break;
    co_await otp::yield();
  }
  CHECK(again);
  CHECK(again != acceptor);
  CHECK(otp::is_alive(sup));  // no address-in-use escalation
  auto after = co_await connect(o.port);
  CHECK((co_await read_line(after)).rfind("welcome", 0) == 0);
  co_await write_line(before, "old connection");
  CHECK(co_await read_line(before) == "old connection");
  stop(sup);
}

// A blocking client (run through otp::offload) that sends up to `total`
// bytes of lines as fast as the server takes them, without reading, until
// its writes stall; waits `then_wait`; then reads what came back.
struct flood_result {
  std::size_t sent = 0, received = 0;
  std::error_code end;
};
flood_result flood_without_reading(unsigned short port, std::size_t total, std::chrono::milliseconds stall,
                                   std::chrono::milliseconds then_wait) {
  asio::io_context io;
  tcp::socket s(io);
  s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  std::string line(99, 'x');
  line += '\n';
  std::string data;
  while (data.size() < total) data += line;
  flood_result r;
  s.non_blocking(true);
  std::error_code ec;
  // Sends until everything is sent, or the writes have been blocked for
  // `stall` in a row (both sides' buffers full: the server stopped
  // reading), whatever the speed of the build; 20 s at most.
  const auto t0 = std::chrono::steady_clock::now();
  auto blocked_since = t0;
  while (r.sent < data.size() && std::chrono::steady_clock::now() - t0 < 20s) {
    r.sent += s.write_some(asio::buffer(data.data() + r.sent, data.size() - r.sent), ec);
    if (ec && ec != asio::error::would_block) break;
    const auto now = std::chrono::steady_clock::now();
    if (!ec) {
      blocked_since = now;
      continue;
    }
    if (now - blocked_since >= stall) break;
    std::this_thread::sleep_for(1ms);
  }
  std::this_thread::sleep_for(then_wait);
  s.non_blocking(false);
  std::array<char, 65536> buf;
  for (;;) {
    std::size_t n = s.read_some(asio::buffer(buf), r.end);
    r.received += n;
    if (r.end) break;
  }
  return r;
}

OTP_TEST_CASE("backpressure: a client that sends without reading fills its own buffers, not the server (real time)") {
  echo::options o;
  o.port = 0;
  o.write_timeout = 500ms;
  o.idle_timeout = 5s;
  auto sup = co_await start_echo(o);
  const unsigned short port = echo::bound_port();
  auto flood = [port] { return flood_without_reading(port, 64u << 20, 500ms, 0ms); };
  auto r = co_await otp::offload(flood);
  // The reader waits for each line's answer to be written, and the answers
  // are not read: the server stops reading, so the client cannot send 64 MB.
  CHECK(r.sent < (16u << 20));
  CHECK(r.end);  // and it was dropped at the write deadline
  CHECK(otp::is_alive(sup));
  co_await stop_and_wait(sup);
}

OTP_TEST_CASE("a client that does not read its answers is dropped at the write deadline (real time)") {
  echo::options o;
  o.port = 0;
  o.write_timeout = 200ms;
  o.idle_timeout = 5s;
  auto sup = co_await start_echo(o);
  const unsigned short port = echo::bound_port();
  auto flood = [port] { return flood_without_reading(port, 64u << 20, 500ms, 1000ms); };
  auto r = co_await otp::offload(flood);
  CHECK(r.received < r.sent);  // not everything was echoed: it gave up on the client
  CHECK(r.end);                // and closed the connection
  // Others are served meanwhile.
  auto c = co_await connect(port);
  (void)co_await read_line(c);
  co_await write_line(c, "fine");
  CHECK(co_await read_line(c) == "fine");
  co_await stop_and_wait(sup);
}

}  // TEST_SUITE

TEST_CASE("idle connections are closed with a message (real time: 100 ms)") {
  asio::io_context io;
  otp::runtime rt(io.get_executor());
  echo::options o;
  o.port = 0;
  o.idle_timeout = 100ms;
  std::atomic<unsigned short> port{0};
  auto app = otp::spawn(rt, [o, &port]() -> otp::process<> {
    std::vector<otp::child_spec> children;
    children.push_back(echo::child_spec(o));
    auto sup = (co_await otp::start_supervisor(otp::supervisor_flags(), std::move(children))).value();
    (void)sup;
    port = echo::bound_port();
    co_await otp::receive();
  });
  std::thread runner([&io] { io.run(); });
  struct joiner {
    otp::runtime& rt;
    std::thread& t;
    ~joiner() {
      rt.shutdown();
      t.join();
    }
  } stop_at_end{rt, runner};
  while (port == 0) std::this_thread::sleep_for(1ms);
  asio::io_context cio;
  tcp::socket s(cio);
  s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  std::string buf;
  asio::read_until(s, asio::dynamic_buffer(buf), '\n');
  buf.erase(0, buf.find('\n') + 1);
  std::error_code ec;
  asio::read_until(s, asio::dynamic_buffer(buf), '\n', ec);
  CHECK(buf.rfind("bye: idle for too long", 0) == 0);
  (void)app;
}
