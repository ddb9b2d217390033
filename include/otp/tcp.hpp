// SPDX-License-Identifier: MIT
#pragma once
// otp::tcp_server: a supervised TCP server, one process per connection, with
// the limits every such server needs against slow and hostile clients.
//
//   otp::process<> session(otp::tcp_connection c) {   // one per client
//     std::array<char, 4096> buf;
//     for (;;) {
//       auto [ec, n] = co_await c.read_some(asio::buffer(buf));  // idle and request deadlines
//       if (ec) co_return;                                     // closed, or too slow: gone
//       c.begin_request();  ...  c.end_request();              // a request's own deadline
//       if (co_await c.write(asio::buffer(answer))) co_return; // a deadline per write
//     }
//   }
//   const otp::tcp_server web("127.0.0.1", 8080, otp::tcp_limits(), session, "503 busy\n");
//   children.push_back(web.child_spec("web"));
//
// The server is a supervisor (rest_for_one) of a dynamic supervisor of
// connections (temporary children, tcp_limits::max_connections at most) and
// of an acceptor, which binds before it acknowledges its start (so a taken
// port fails the start) and binds the same port again when restarted (its
// listening socket is closed the moment it dies, even by a kill, which does
// not wait for its frame). A client over the
// cap gets the refusal text and a drained close (below) from a short-lived
// process of its own, at most tcp_limits::max_refusals at once; past that,
// it is closed at once. Connection processes are placed with
// placement::balanced, so that they spread over the runtime's shards as
// they are accepted. A process that operates on a tcp_connection is pinned
// to its shard from its first operation on (the deadline timer lives on
// that shard's strand).
//
// Deadlines. A read waits at most idle_timeout while no request is under
// way; between begin_request() and end_request() it waits at most until the
// request's deadline (request_timeout after begin_request), however the
// bytes trickle in: a client sending one byte every few seconds is dropped
// when the deadline passes. A write gets write_timeout to finish: a client
// that never reads is dropped, and what was queued for it goes with it.
// Each expired deadline completes the operation with asio::error::timed_out
// (the socket's pending operation is cancelled).
//
// Closing. close(last_words) writes the last words (within write_timeout),
// shuts the sending side down, then reads and discards what the client
// still sends for up to drain_timeout, and closes: the client reads the
// answer instead of a connection reset. The socket is closed anyway when
// the last handle to the connection goes.
//
// Thread safety: a tcp_connection belongs to its process; call its members
// from that process only, or from processes that run on the same shard for
// good (spawned with spawn_options::shard = otp::current_shard()): its
// socket is not safe to use from two threads at once. A tcp_server object is a name, like a registry:
// copies share the port it listens on.

#include <otp/dynamic_supervisor.hpp>
#include <otp/supervisor.hpp>
#include <otp/task.hpp>

#include <asio/buffer.hpp>
#include <asio/ip/tcp.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <system_error>
#include <utility>

namespace otp {

struct tcp_limits {
  std::size_t max_connections = 1000;
  duration idle_timeout = std::chrono::seconds(30);     ///< a read while no request is under way
  duration request_timeout = std::chrono::seconds(10);  ///< from begin_request() to end_request()
  duration write_timeout = std::chrono::seconds(10);    ///< each write
  duration drain_timeout = std::chrono::seconds(1);     ///< reading what a closed-on client still sends
  std::size_t max_refusals = 64;  ///< clients over the cap being answered at once; past it: closed at once
};

/// A connection's socket with its deadlines (see the top of this header).
/// A handle: copies share the socket, which is closed when the last goes.
class tcp_connection {
 public:
  tcp_connection(asio::ip::tcp::socket s, const tcp_limits& l);

  /// Reads some bytes: (error, bytes read). asio::error::timed_out when the
  /// idle or request deadline passed first; eof when the client closed.
  /// Cancellation: a process ended while reading cancels the read.
  task<std::pair<std::error_code, std::size_t>> read_some(asio::mutable_buffer b);
  /// Writes all of `b`: no error, or asio::error::timed_out after
  /// write_timeout, or the socket's error.
  task<std::error_code> write(asio::const_buffer b);
  /// The request deadline starts now (if no request is under way already).
  void begin_request();
  /// The request is complete: reads wait idle_timeout again.
  void end_request() noexcept;
  /// Writes `last_words`, drains the client's input for up to drain_timeout
  /// and closes (see the top of this header).
  task<void> close(std::string last_words = {});

  asio::ip::tcp::socket& socket() noexcept;
  const tcp_limits& limits() const noexcept;

 private:
  struct state;
  std::shared_ptr<state> s_;  // the deadline timer's handler holds a weak reference
};

/// A supervised TCP server whose connections run `handler(tcp_connection)`,
/// a process body (see the top of this header).
class tcp_server {
 public:
  template <class F>
  tcp_server(std::string address, unsigned short port, tcp_limits limits, F handler, std::string refusal)
      : tcp_server(std::move(address), port, std::move(limits), std::move(refusal),
                   std::function<child_start(tcp_connection)>([h = std::move(handler)](tcp_connection c) {
                     return spawn_fn(h, std::move(c));
                   })) {}

  /// The whole server as a supervisor child (type supervisor).
  otp::child_spec child_spec(std::string id) const;
  /// The port it listens on (0 before it does): useful with port 0, which
  /// asks for any free port on the first start; a restarted acceptor binds
  /// that same port again.
  unsigned short port() const noexcept;
  /// The local name its acceptor runs under (one per tcp_server object).
  const name& acceptor_name() const noexcept;

  struct shared;  // lib/tcp.cpp

 private:
  tcp_server(std::string address, unsigned short port, tcp_limits limits, std::string refusal,
             std::function<child_start(tcp_connection)> start);
  std::shared_ptr<shared> s_;
};

}  // namespace otp
