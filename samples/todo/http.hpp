// SPDX-License-Identifier: MIT
#pragma once
// The to-do system over HTTP, as the book adds it next:
//
//   POST /add_entry?list=bob&date=2026-11-22&title=Dentist
//   GET  /entries?list=bob&date=2026-11-22
//   POST /update_entry?list=bob&id=1&date=2026-11-23&title=Dentist
//   POST /delete_entry?list=bob&id=1
//   POST /crash?list=bob          crashes bob's server, to watch it come back
//
// An acceptor process under a supervisor hands each connection to a
// temporary child of a dynamic supervisor (at most max_connections; more are
// refused with 503), so a crash while handling one request never touches
// another. Requests are parsed with http_parser (Debian's
// libhttp-parser-dev); anything malformed, oversized or unknown gets a 4xx
// (505 for an HTTP version other than 1.0 and 1.1, 501 for a protocol
// upgrade) with a one-line reason, and the connection is closed after any
// answer of 400 or more. Dates are checked against the calendar.

#include "todo.hpp"

#include <otp/tcp.hpp>

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace todo::http {

inline constexpr std::size_t max_url = 4096;
inline constexpr std::size_t max_body = 16 * 1024;

struct request {
  std::string method;  ///< "GET", "POST", ...
  std::string path;    ///< "/entries"
  std::map<std::string, std::string> query;  ///< decoded
  std::string body;
  bool keep_alive = true;
};

struct response {
  explicit response(int s = 200, std::string b = {}) : status(s), body(std::move(b)) {}
  int status;
  std::string body;  ///< text/plain
};

/// Cuts a byte stream into requests. Feed it what the socket gives; take
/// the requests that are complete. After an error, nothing more is parsed.
class parser {
 public:
  parser();
  ~parser();
  parser(const parser&) = delete;
  parser& operator=(const parser&) = delete;

  /// Parses `n` more bytes; false (see error()) when they are not HTTP, or
  /// when the request is larger than the limits (then error_status() is 413).
  bool feed(const char* data, std::size_t n);
  /// The oldest complete request, if any.
  std::optional<request> next();
  /// True while part of a request has arrived and not all of it.
  bool in_request() const noexcept;
  const std::string& error() const noexcept { return error_; }
  int error_status() const noexcept { return error_status_; }

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
  std::string error_;
  int error_status_ = 400;
};

/// Answers one request through the to-do system (runs in the connection's
/// process: it may call to-do servers).
otp::task<response> handle(request r);

/// The bytes of a response.
std::string format(const response& r, bool keep_alive);

/// The limits of the HTTP server: at most max_connections, a request's
/// headers and body within request_timeout however slowly they come, each
/// answer written within write_timeout, idle_timeout between requests.
otp::tcp_limits default_limits();

/// A supervisor of the acceptor on `port` (0: any free port; the chosen one
/// is logged and given by bound_port()) and of the connections (otp/tcp.hpp).
otp::child_spec child_spec(unsigned short port, otp::tcp_limits limits = default_limits());
/// The port the acceptor is listening on (0 before it is).
unsigned short bound_port();

}  // namespace todo::http
