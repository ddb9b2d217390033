// SPDX-License-Identifier: MIT
#pragma once
// A supervised TCP server with a line protocol:
//
//   any line       echoed back
//   /join ROOM     join a chat room (leaving the one before)
//   /say TEXT      TEXT goes to everyone in the room, as "[name] TEXT"
//   /crash         crashes this connection's handler, and nothing else
//   /quit          closes the connection
//
//   echo::server (rest_for_one)
//   ├── rooms         a duplicate-key registry: room -> the connections in it
//   └── tcp           an otp::tcp_server (otp/tcp.hpp):
//       ├── connections   a dynamic supervisor, max_connections temporary children
//       └── acceptor      binds the port, hands each socket to a new connection
//
// Each connection is a process owning its socket, with a linked reader
// process that turns the socket's lines into messages (as an Erlang
// {active, once} socket does: the next line is read only once the last one
// is answered, so a client that sends without reading fills its own
// buffers, not the server's memory), so the connection takes lines and chat
// messages from one mailbox. A line longer than max_line, or no line for
// idle_timeout, ends the connection with a message to the client; a client
// that does not read what it is sent for write_timeout is dropped. Over
// max_connections, a new client is told "server full" and closed.

#include <otp/otp.hpp>

#include <chrono>
#include <cstddef>
#include <string>

namespace echo {

inline constexpr std::size_t max_line = 1024;
inline constexpr std::size_t max_connections = 1000;
inline constexpr auto idle_timeout = std::chrono::seconds(60);
inline constexpr auto write_timeout = std::chrono::seconds(10);

struct options {
  unsigned short port = 7000;  ///< 0: any free port (see bound_port)
  std::size_t max_connections = echo::max_connections;
  otp::duration idle_timeout = echo::idle_timeout;   ///< no line from the client for this long: bye
  otp::duration write_timeout = echo::write_timeout;  ///< a client that does not read its answers: dropped
};

/// The whole server as a supervisor child.
otp::child_spec child_spec(options o);
/// The port the acceptor listens on (0 before it does).
unsigned short bound_port();
/// The acceptor's local name, for those who want to crash it.
otp::name acceptor_name();

}  // namespace echo
