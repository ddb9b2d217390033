// SPDX-License-Identifier: MIT
// The supervised echo and chat server (see echo.hpp).
#include "echo.hpp"

#include <otp/tcp.hpp>

#include <asio/buffer.hpp>

#include <array>
#include <memory>
#include <stdexcept>
#include <string_view>

namespace echo {

namespace {

/// What a connection's mailbox takes: lines from its reader, chat from others.
struct conn_msg {
  enum class kind { line, too_long, closed, idle, chat };
  conn_msg(kind k, std::string t = {}) : what(k), text(std::move(t)) {}
  kind what;
  std::string text;
};
using conn = otp::handle<conn_msg>;

/// What a reader takes: the go-ahead for the next line.
struct go_on {};

/// room -> the connections in it.
const otp::registry<std::string, conn> rooms(otp::registry_options{otp::registry_keys::duplicate});

// Reads lines and hands them to the connection one at a time: the next line
// is read only once the connection has answered the last (backpressure: a
// client that sends without reading fills its own socket buffers, not the
// server's memory). Linked to the connection, and watching it: they end
// together however either ends.
otp::process<go_on> reader(otp::tcp_connection c, conn owner) {
  otp::monitor(owner);  // a connection that ends normally (a link ignores that) ends its reader too
  std::string buf;
  std::array<char, 4096> chunk;
  for (;;) {
    const auto nl = buf.find('\n');
    if (nl == std::string::npos) {
      if (buf.size() > max_line) {
        otp::send(owner, conn_msg(conn_msg::kind::too_long));
        co_return;
      }
      auto [ec, n] = co_await c.read_some(asio::buffer(chunk));
      if (ec) {
        otp::send(owner, conn_msg(ec == asio::error::timed_out ? conn_msg::kind::idle : conn_msg::kind::closed));
        co_return;
      }
      buf.append(chunk.data(), n);
      continue;
    }
    if (nl > max_line) {
      otp::send(owner, conn_msg(conn_msg::kind::too_long));
      co_return;
    }
    std::string line = buf.substr(0, nl);
    buf.erase(0, nl + 1);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    otp::send(owner, conn_msg(conn_msg::kind::line, std::move(line)));
    auto next = co_await otp::receive();  // the go-ahead, or the connection's end
    if (!std::holds_alternative<go_on>(next)) co_return;
  }
}

// Closes the socket when the connection's frame goes, however it ends: the
// reader's pending read then fails, and it ends too.
struct socket_closer {
  otp::tcp_connection c;
  ~socket_closer() {
    std::error_code ignored;
    c.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    c.socket().close(ignored);
  }
};

otp::process<conn_msg> connection(otp::tcp_connection c) {
  socket_closer closer{c};
  auto me = otp::self_as<conn_msg>();
  // The reader shares the socket, so it runs on this shard for good; this
  // process stays here too from its first write on (a connection's
  // deadlines live on its shard), and it does not suspend before that.
  otp::spawn_options beside;
  beside.link = true;
  beside.shard = otp::current_shard();
  auto rd = otp::spawn_opt(beside, reader, c, me).pid;
  const std::string name = otp::self().to_string();
  std::string room;
  std::string out = "welcome " + name + "; commands: /join ROOM, /say TEXT, /crash, /quit\n";
  for (;;) {
    if (!out.empty()) {
      if (co_await c.write(asio::buffer(out))) co_return;  // gone, or not reading: dropped
      out.clear();
    }
    auto m = co_await otp::receive();
    auto* msg = std::get_if<conn_msg>(&m);
    if (!msg) continue;  // the reader's normal end
    switch (msg->what) {
      case conn_msg::kind::closed:
        co_return;
      case conn_msg::kind::idle:
        co_await c.close("bye: idle for too long\n");
        co_return;
      case conn_msg::kind::too_long:
        co_await c.close("error: a line may hold " + std::to_string(max_line) + " bytes at most; bye\n");
        co_return;
      case conn_msg::kind::chat:
        out = msg->text + "\n";
        break;
      case conn_msg::kind::line: {
        std::string_view line = msg->text;
        if (line == "/quit") {
          co_await c.close("bye\n");
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
        // Answered once written (the loop's top): then the reader may go on.
        if (co_await c.write(asio::buffer(out))) co_return;
        out.clear();
        otp::send(rd, go_on{});
        break;
      }
    }
  }
}

std::shared_ptr<otp::tcp_server> current;  // the latest server made by child_spec

}  // namespace

otp::child_spec child_spec(options o) {
  otp::tcp_limits l;
  l.max_connections = o.max_connections;
  l.idle_timeout = o.idle_timeout;
  l.write_timeout = o.write_timeout;
  current = std::make_shared<otp::tcp_server>("127.0.0.1", o.port, l, connection,
                                              std::string("error: server full, try again later\n"));
  std::vector<otp::child_spec> children;
  children.push_back(rooms.child_spec("rooms"));
  children.push_back(current->child_spec("tcp"));
  // rest_for_one: new rooms need new connections (theirs went with the old registry).
  return otp::supervisor_child("echo", otp::supervisor_flags(otp::restart_strategy::rest_for_one),
                               std::move(children));
}

unsigned short bound_port() { return current ? current->port() : 0; }

otp::name acceptor_name() { return current ? current->acceptor_name() : otp::local("echo_acceptor"); }

}  // namespace echo
