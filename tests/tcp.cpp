// SPDX-License-Identifier: MIT
// otp::tcp_server and otp::tcp_connection over real loopback sockets: the
// idle, request and write deadlines, the refusal over the cap and its
// drained close, a taken port, and an acceptor that binds again.
//
// Deadlines are those of the network, in real time: the virtual clock stands
// still while a socket operation is pending (see otp/testing.hpp). Each
// deadline is short (100-600 ms) and each test checks that the drop came no
// earlier than its deadline, and well before anything else would end it.
#include <otp/tcp.hpp>

#include <doctest/doctest.h>
#include <otp/asio.hpp>
#include <otp/offload.hpp>
#include <otp/testing.hpp>

#include <asio/io_context.hpp>
#include <asio/read_until.hpp>
#include <asio/write.hpp>

#include <array>
#include <string>
#include <thread>
#include <tuple>

using namespace std::chrono_literals;
using asio::ip::tcp;

namespace {

using clock = std::chrono::steady_clock;

/// What a session tells the test.
struct event {
  explicit event(std::string w, std::error_code e = {}) : what(std::move(w)), ec(e) {}
  std::string what;  ///< open, read (its error ended it), write (likewise), closed
  std::error_code ec;
};

// A line protocol: each line is a request (from its first byte to its
// newline) answered by itself; "flood" is answered by 64 MB, "bye" by a
// drained close with last words.
otp::process<> session(otp::tcp_connection c, otp::handle<event> test) {
  otp::send(test, event("open"));
  std::string buf;
  std::array<char, 4096> chunk;
  for (;;) {
    const auto nl = buf.find('\n');
    if (nl == std::string::npos) {
      auto [ec, n] = co_await c.read_some(asio::buffer(chunk));
      if (ec) {
        otp::send(test, event("read", ec));
        co_return;
      }
      c.begin_request();
      buf.append(chunk.data(), n);
      continue;
    }
    const std::string line = buf.substr(0, nl);
    buf.erase(0, nl + 1);
    c.end_request();
    if (line == "bye") {
      co_await c.close("goodbye\n");
      otp::send(test, event("closed"));
      co_return;
    }
    const std::string answer = line == "flood" ? std::string(64u << 20, 'x') : line + '\n';
    if (auto ec = co_await c.write(asio::buffer(answer))) {
      otp::send(test, event("write", ec));
      co_return;
    }
  }
}

otp::tcp_server make_server(unsigned short port, const otp::tcp_limits& l) {
  auto test = otp::self_as<event>();
  return otp::tcp_server("127.0.0.1", port, l, [test](otp::tcp_connection c) { return session(std::move(c), test); },
                         "busy\n");
}

otp::task<otp::result<otp::supervisor_ref>> start(const otp::tcp_server& srv) {
  std::vector<otp::child_spec> children;
  children.push_back(srv.child_spec("server"));
  co_return co_await otp::start_supervisor(otp::supervisor_flags(), std::move(children));
}

// Stops the server and waits until it and its connections are gone.
otp::task<void> stop(const otp::supervisor_ref& sup) {
  otp::unlink(sup);
  auto mon = otp::monitor(sup);
  otp::exit(sup, otp::exit_reason::shutdown());
  (void)co_await otp::receive_down(mon);
}

otp::task<event, event> next_event() { co_return std::get<event>(co_await otp::receive()); }

// The session opened, then ended because its `op` ("read", "write") timed out.
otp::task<void, event> opened_then_timed_out(const char* op) {
  CHECK((co_await next_event()).what == "open");
  auto dropped = co_await next_event();
  CHECK(dropped.what == op);
  CHECK(dropped.ec == asio::error::timed_out);
}

tcp::endpoint local(unsigned short port) { return tcp::endpoint(asio::ip::make_address("127.0.0.1"), port); }

// A blocking client, for offloaded work: connects to `port`, runs `script`
// on the socket (what it sends, how long it waits; it returns what it read
// on the way), then reads until the server closes.
struct ending {
  std::string got;       ///< everything read until the server closed
  std::error_code why;   ///< what ended the reading: eof for an orderly close
  clock::duration took;  ///< from the connection to the end
};
template <class Script>
ending converse(unsigned short port, Script script) {
  asio::io_context io;
  tcp::socket s(io);
  s.connect(local(port));
  const auto t0 = clock::now();
  ending e;
  e.got = script(s);
  std::array<char, 65536> buf;
  for (;;) {
    const std::size_t n = s.read_some(asio::buffer(buf), e.why);
    e.got.append(buf.data(), n);
    if (e.why) break;
  }
  e.took = clock::now() - t0;
  return e;
}
std::string nothing(tcp::socket&) { return {}; }
/// Sends `text` and then `pad` more bytes of `with`, and reads nothing
/// before the server closes.
auto sends(const char* text, std::size_t pad = 0, char with = 'z') {
  return [text, pad, with](tcp::socket& s) {
    std::string all = text;
    all.append(pad, with);
    asio::write(s, asio::buffer(all));
    return std::string();
  };
}

}  // namespace

TEST_SUITE("tcp") {

OTP_TEST_CASE_M("a client that sends nothing is dropped at the idle deadline (real time)", event) {
  otp::tcp_limits l;
  l.idle_timeout = 100ms;
  auto srv = make_server(0, l);
  auto sup = (co_await start(srv)).value();
  const auto port = srv.port();
  auto e = co_await otp::offload([port] { return converse(port, nothing); });
  CHECK(e.got.empty());
  CHECK(e.why == asio::error::eof);
  CHECK(e.took >= 100ms);
  CHECK(e.took < 5s);
  co_await opened_then_timed_out("read");
  co_await stop(sup);
}

OTP_TEST_CASE_M("a request that trickles in is dropped at its deadline, though each byte beats the idle deadline (real time)",
                event) {
  otp::tcp_limits l;
  l.idle_timeout = 300ms;
  l.request_timeout = 600ms;
  auto srv = make_server(0, l);
  auto sup = (co_await start(srv)).value();
  const auto port = srv.port();
  auto trickle = [port] {
    return converse(port, [](tcp::socket& s) {
      const auto t0 = clock::now();
      std::error_code ec;
      while (clock::now() - t0 < 5s) {  // a byte every 50 ms, never a newline
        asio::write(s, asio::buffer("x", 1), ec);
        if (ec) break;  // dropped
        std::this_thread::sleep_for(50ms);
      }
      return std::string();
    });
  };
  auto e = co_await otp::offload(trickle);
  CHECK(e.got.empty());
  CHECK(e.why);
  CHECK(e.took >= 600ms);
  CHECK(e.took < 3s);  // the idle deadline alone would never have dropped it: 5 s of trickle
  co_await opened_then_timed_out("read");
  co_await stop(sup);
}

OTP_TEST_CASE_M("after end_request, a read waits the idle deadline again, not the request's (real time)", event) {
  otp::tcp_limits l;
  l.idle_timeout = 5s;
  l.request_timeout = 200ms;
  auto srv = make_server(0, l);
  auto sup = (co_await start(srv)).value();
  const auto port = srv.port();
  auto pause_between = [port] {
    return converse(port, [](tcp::socket& s) {
      std::string answers;
      asio::write(s, asio::buffer(std::string("one\n")));
      asio::read_until(s, asio::dynamic_buffer(answers), "one\n");
      std::this_thread::sleep_for(500ms);  // well past the first request's deadline
      asio::write(s, asio::buffer(std::string("two\nbye\n")));
      return answers;
    });
  };
  auto e = co_await otp::offload(pause_between);
  CHECK(e.got == "one\ntwo\ngoodbye\n");
  CHECK(e.why == asio::error::eof);
  CHECK((co_await next_event()).what == "open");
  CHECK((co_await next_event()).what == "closed");
  co_await stop(sup);
}

OTP_TEST_CASE_M("each read's idle deadline counts from that read: a client that pauses less than it each time is never dropped (real time)",
                event) {
  otp::tcp_limits l;
  l.idle_timeout = 250ms;
  auto srv = make_server(0, l);
  auto sup = (co_await start(srv)).value();
  const auto port = srv.port();
  auto steady_pauses = [port] {
    return converse(port, [](tcp::socket& s) {
      std::string answers;
      for (int i = 0; i < 10; ++i) {  // 1 s in all: four idle deadlines, none reached
        const std::string line = "line" + std::to_string(i) + "\n";
        asio::write(s, asio::buffer(line));
        asio::read_until(s, asio::dynamic_buffer(answers), line);
        std::this_thread::sleep_for(100ms);
      }
      asio::write(s, asio::buffer(std::string("bye\n")));
      return answers;
    });
  };
  auto e = co_await otp::offload(steady_pauses);
  std::string expected;
  for (int i = 0; i < 10; ++i) expected += "line" + std::to_string(i) + "\n";
  CHECK(e.got == expected + "goodbye\n");
  CHECK(e.why == asio::error::eof);
  CHECK(e.took >= 1s);
  CHECK((co_await next_event()).what == "open");
  CHECK((co_await next_event()).what == "closed");
  co_await stop(sup);
}

OTP_TEST_CASE_M("a client that does not read is dropped at the write deadline, and its answer goes with it (real time)",
                event) {
  otp::tcp_limits l;
  l.write_timeout = 200ms;  // shorter than the idle deadline the connection's timer was set for by the read
  auto srv = make_server(0, l);
  auto sup = (co_await start(srv)).value();
  const auto port = srv.port();
  auto never_reads = [port] {
    return converse(port, [](tcp::socket& s) {
      asio::write(s, asio::buffer(std::string("flood\n")));
      std::this_thread::sleep_for(1s);  // not reading, well past the deadline
      return std::string();
    });
  };
  auto e = co_await otp::offload(never_reads);
  CHECK(e.got.size() < (64u << 20));
  CHECK(e.why);
  co_await opened_then_timed_out("write");
  co_await stop(sup);
}

OTP_TEST_CASE_M("close drains: last words are read in full, not lost to a reset by the client's unread bytes", event) {
  auto srv = make_server(0, otp::tcp_limits());
  auto sup = (co_await start(srv)).value();
  const auto port = srv.port();
  // The server closes on "bye" with 100 KB after it unread: without the
  // drain, closing would answer them with a reset that can destroy the last
  // words before the client reads them.
  auto e = co_await otp::offload([port] { return converse(port, sends("bye\n", 100'000)); });
  CHECK(e.got == "goodbye\n");
  CHECK(e.why == asio::error::eof);
  co_await stop(sup);
}

OTP_TEST_CASE_M("over the cap, a client reads the refusal and an orderly close, whatever it sent", event) {
  otp::tcp_limits l;
  l.max_connections = 1;
  auto srv = make_server(0, l);
  auto sup = (co_await start(srv)).value();
  const auto port = srv.port();
  tcp::socket first(otp::executor());
  auto [ec] = co_await first.async_connect(local(port), otp::use_process);
  REQUIRE_FALSE(ec);
  CHECK((co_await next_event()).what == "open");  // the one slot is taken
  auto e = co_await otp::offload([port] { return converse(port, sends("", 100'000)); });  // never read
  CHECK(e.got == "busy\n");
  CHECK(e.why == asio::error::eof);
  // The first client is still served.
  std::string line;
  (void)co_await asio::async_write(first, asio::buffer(std::string("still here\n")), otp::use_process);
  auto [rec, n] = co_await asio::async_read_until(first, asio::dynamic_buffer(line), '\n', otp::use_process);
  CHECK_FALSE(rec);
  CHECK(line.substr(0, n) == "still here\n");
  co_await stop(sup);
}

OTP_TEST_CASE_M("past max_refusals, a client over the cap is closed at once, with no answer", event) {
  otp::tcp_limits l;
  l.max_connections = 1;
  l.max_refusals = 0;
  auto srv = make_server(0, l);
  auto sup = (co_await start(srv)).value();
  const auto port = srv.port();
  tcp::socket first(otp::executor());
  auto [ec] = co_await first.async_connect(local(port), otp::use_process);
  REQUIRE_FALSE(ec);
  CHECK((co_await next_event()).what == "open");
  auto e = co_await otp::offload([port] { return converse(port, nothing); });
  CHECK(e.got.empty());
  CHECK(e.why);
  co_await stop(sup);
}

OTP_TEST_CASE_M("a port already taken fails the server's start, and nothing is left running", event) {
  asio::io_context io;
  tcp::acceptor taken(io, local(0));
  auto srv = make_server(taken.local_endpoint().port(), otp::tcp_limits());
  otp::trap_exit(true);  // the failed supervisor, linked, ends with the reason
  auto r = co_await start(srv);
  REQUIRE(r.has_error());
  CHECK(r.error() == otp::errc::start_failed);
  CHECK(r.error().reason.to_string().find("acceptor") != std::string::npos);
  CHECK(srv.port() == 0);
  CHECK_FALSE(srv.acceptor_name().whereis());
}

OTP_TEST_CASE_M("a killed acceptor is restarted, binds the same port again, and open connections carry on", event) {
  auto srv = make_server(0, otp::tcp_limits());
  auto sup = (co_await start(srv)).value();
  const auto port = srv.port();
  tcp::socket open(otp::executor());
  auto [ec] = co_await open.async_connect(local(port), otp::use_process);
  REQUIRE_FALSE(ec);
  CHECK((co_await next_event()).what == "open");
  const otp::pid old = srv.acceptor_name().whereis();
  REQUIRE(old);
  otp::exit(old, otp::exit_reason::kill());
  otp::pid now;
  for (int i = 0; i < 100'000 && (!now || now == old); ++i) {
    co_await otp::yield();
    now = srv.acceptor_name().whereis();
  }
  REQUIRE(now);
  CHECK(now != old);
  CHECK(srv.port() == port);
  for (auto& e : otp::testing::logged()) CHECK_MESSAGE(e.text.find("start_error") == std::string::npos, e.text);
  // The open connection carries on.
  std::string line;
  (void)co_await asio::async_write(open, asio::buffer(std::string("on\n")), otp::use_process);
  auto [rec, n] = co_await asio::async_read_until(open, asio::dynamic_buffer(line), '\n', otp::use_process);
  CHECK_FALSE(rec);
  CHECK(line.substr(0, n) == "on\n");
  // A new client is accepted on the same port.
  auto e = co_await otp::offload([port] { return converse(port, sends("new\nbye\n")); });
  CHECK(e.got == "new\ngoodbye\n");
  co_await stop(sup);
}

}  // TEST_SUITE
