// SPDX-License-Identifier: MIT
// The supervised echo and chat server (see echo.hpp).
#include "echo.hpp"

#include <asio/buffer.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read_until.hpp>
#include <asio/write.hpp>

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string_view>

namespace echo {

namespace {

using asio::ip::tcp;
using socket_ptr = std::shared_ptr<tcp::socket>;

/// What a connection's mailbox takes: lines from its reader, chat from others.
struct conn_msg {
  enum class kind { line, too_long, closed, chat };
  conn_msg(kind k, std::string t = {}) : what(k), text(std::move(t)) {}
  kind what;
  std::string text;
};
using conn = otp::handle<conn_msg>;

/// room -> the connections in it.
const otp::registry<std::string, conn> rooms(otp::registry_options{otp::registry_keys::duplicate});

std::atomic<unsigned short> the_port{0};
const char* const connections_name = "echo_connections";

// Reads lines and hands them to the connection, until the socket closes or a
// line is too long. Linked to the connection: they end together.
otp::process<> reader(socket_ptr sock, conn owner) {
  std::string buf;
  for (;;) {
    auto [ec, n] = co_await asio::async_read_until(*sock, asio::dynamic_buffer(buf, max_line + 1), '\n',
                                                   otp::use_process);
    if (ec == asio::error::not_found) {  // max_line + 1 bytes and no newline
      otp::send(owner, conn_msg(conn_msg::kind::too_long));
      co_return;
    }
    if (ec) {
      otp::send(owner, conn_msg(conn_msg::kind::closed));
      co_return;
    }
    std::string line = buf.substr(0, n - 1);
    buf.erase(0, n);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    otp::send(owner, conn_msg(conn_msg::kind::line, std::move(line)));
  }
}

// Closes the socket when the connection's frame goes, however it ends: the
// reader's pending read then fails, and it ends too.
struct socket_closer {
  socket_ptr sock;
  ~socket_closer() {
    std::error_code ignored;
    sock->shutdown(tcp::socket::shutdown_both, ignored);
    sock->close(ignored);
  }
};

otp::process<conn_msg> connection(socket_ptr sock, otp::duration idle) {
  socket_closer closer{sock};
  auto me = otp::self_as<conn_msg>();
  otp::spawn_link(reader, sock, me);
  const std::string name = otp::self().to_string();
  std::string room;
  std::string out = "welcome " + name + "; commands: /join ROOM, /say TEXT, /crash, /quit\n";
  for (;;) {
    if (!out.empty()) {
      auto [ec, n] = co_await asio::async_write(*sock, asio::buffer(out), otp::use_process);
      if (ec) co_return;
      out.clear();
    }
    auto m = co_await otp::receive(idle);
    if (!m) {
      out = "bye: idle for too long\n";
      (void)co_await asio::async_write(*sock, asio::buffer(out), otp::use_process);
      co_return;
    }
    auto* c = std::get_if<conn_msg>(&*m);
    if (!c) continue;  // the reader's normal end
    switch (c->what) {
      case conn_msg::kind::closed:
        co_return;
      case conn_msg::kind::too_long:
        out = "error: a line may hold " + std::to_string(max_line) + " bytes at most; bye\n";
        (void)co_await asio::async_write(*sock, asio::buffer(out), otp::use_process);
        co_return;
      case conn_msg::kind::chat:
        out = c->text + "\n";
        break;
      case conn_msg::kind::line: {
        std::string_view line = c->text;
        if (line == "/quit") {
          out = "bye\n";
          (void)co_await asio::async_write(*sock, asio::buffer(out), otp::use_process);
          co_return;
        }
        if (line == "/crash") throw std::runtime_error("crash asked by " + name);  // only this handler
        if (line.substr(0, 6) == "/join ") {
          if (!room.empty()) rooms.unregister_self(room);
          room = std::string(line.substr(6));
          (void)rooms.register_self(room, me);  // a duplicate registry: never taken
          out = "joined " + room + "\n";
        } else if (line.substr(0, 5) == "/say ") {
          if (room.empty()) {
            out = "error: /join a room first\n";
          } else {
            const std::string said = "[" + name + "] " + std::string(line.substr(5));
            rooms.dispatch(room, [&](const auto& entries) {
              for (const auto& e : entries) otp::send(e.second, conn_msg(conn_msg::kind::chat, said));
            });
          }
        } else {
          out = std::string(line) + "\n";  // echo
        }
        break;
      }
    }
  }
}

// Binds before it acknowledges: a start on a taken port fails. A restarted
// acceptor binds again: the one before released the port when it ended.
otp::process<> acceptor(unsigned short port, std::size_t /*cap*/, otp::duration idle) {
  tcp::acceptor listener(otp::executor());
  tcp::endpoint at(asio::ip::make_address("127.0.0.1"), port);
  listener.open(at.protocol());
  listener.set_option(tcp::acceptor::reuse_address(true));
  listener.bind(at);
  listener.listen();
  the_port = listener.local_endpoint().port();
  otp::init_ack();
  auto sup = otp::dynamic_supervisor_ref(otp::supervisor_ref::from(otp::local(connections_name).whereis()).value());
  for (;;) {
    auto [ec, s] = co_await listener.async_accept(otp::use_process);
    if (ec) continue;
    auto sock = std::make_shared<tcp::socket>(std::move(s));
    auto spec = otp::child_spec("connection", otp::spawn_fn(connection, sock, idle), otp::restart_type::temporary);
    if (!(co_await otp::start_child(sup, std::move(spec)))) {  // over the cap: refuse politely
      std::error_code ignored;
      asio::write(*sock, asio::buffer(std::string_view("error: server full, try again later\n")), ignored);
      sock->close(ignored);
    }
  }
}

}  // namespace

otp::child_spec child_spec(options o) {
  std::vector<otp::child_spec> children;
  children.push_back(rooms.child_spec("rooms"));
  children.push_back(otp::dynamic_supervisor_child(connections_name, otp::dynamic_supervisor_options(
                                                                         3, std::chrono::seconds(5), o.max_connections))
                         .with(otp::local(connections_name)));
  children.push_back(otp::child_spec("acceptor", otp::start_fn(acceptor, o.port, o.max_connections, o.idle_timeout))
                         .with(acceptor_name()));
  // rest_for_one: new rooms or a new connections supervisor need a new acceptor.
  return otp::supervisor_child("echo", otp::supervisor_flags(otp::restart_strategy::rest_for_one),
                               std::move(children));
}

unsigned short bound_port() { return the_port.load(); }

otp::name acceptor_name() { return otp::local("echo_acceptor"); }

}  // namespace echo
