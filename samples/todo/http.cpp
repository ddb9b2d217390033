// SPDX-License-Identifier: MIT
// The to-do system over HTTP (see http.hpp).
#include "http.hpp"

#include <otp/asio.hpp>

#include <asio/buffer.hpp>
#include <asio/ip/tcp.hpp>

#include <http_parser.h>

#include <array>
#include <atomic>
#include <charconv>
#include <climits>
#include <deque>

namespace todo::http {

// ---------------------------------------------------------------- parsing

struct parser::impl {
  http_parser p{};
  http_parser_settings settings{};
  request current;
  std::string field;  // the header being read
  bool in_value = false;
  bool in_message = false;
  std::deque<request> done;
  parser* owner = nullptr;

  static impl& of(http_parser* p) { return *static_cast<impl*>(p->data); }
};

namespace {

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decoding of a query part; '+' is a space. nullopt when malformed.
std::optional<std::string> decode(std::string_view s) {
  std::string r;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      r += ' ';
    } else if (s[i] == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      int a = hex(s[i + 1]), b = hex(s[i + 2]);
      if (a < 0 || b < 0) return std::nullopt;
      r += static_cast<char>(a * 16 + b);
      i += 2;
    } else {
      r += s[i];
    }
  }
  return r;
}

// Splits the URL into path and decoded query; false when malformed.
bool split_url(const std::string& url, request& out) {
  http_parser_url u;
  http_parser_url_init(&u);
  if (http_parser_parse_url(url.data(), url.size(), 0, &u) != 0) return false;
  if (!(u.field_set & (1 << UF_PATH))) return false;
  out.path = url.substr(u.field_data[UF_PATH].off, u.field_data[UF_PATH].len);
  if (!(u.field_set & (1 << UF_QUERY))) return true;
  std::string_view q(url.data() + u.field_data[UF_QUERY].off, u.field_data[UF_QUERY].len);
  while (!q.empty()) {
    auto amp = q.find('&');
    std::string_view pair = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    auto key = decode(pair.substr(0, eq));
    auto value = decode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
    if (!key || !value) return false;
    out.query[*key] = *value;
  }
  return true;
}

}  // namespace

parser::parser() : impl_(std::make_unique<impl>()) {
  http_parser_init(&impl_->p, HTTP_REQUEST);
  impl_->p.data = impl_.get();
  impl_->owner = this;
  http_parser_settings_init(&impl_->settings);
  auto& s = impl_->settings;
  s.on_message_begin = [](http_parser* p) {
    impl::of(p).current = request();
    impl::of(p).in_message = true;
    return 0;
  };
  s.on_url = [](http_parser* p, const char* at, std::size_t n) {
    auto& i = impl::of(p);
    if (i.current.path.size() + n > max_url) {
      i.owner->error_ = "URL too long";
      i.owner->error_status_ = 414;
      return 1;
    }
    i.current.path.append(at, n);  // the raw URL until the headers are done
    return 0;
  };
  s.on_body = [](http_parser* p, const char* at, std::size_t n) {
    auto& i = impl::of(p);
    if (i.current.body.size() + n > max_body) {
      i.owner->error_ = "body too large";
      i.owner->error_status_ = 413;
      return 1;
    }
    i.current.body.append(at, n);
    return 0;
  };
  s.on_headers_complete = [](http_parser* p) {
    auto& i = impl::of(p);
    if (p->http_major != 1 || p->http_minor > 1) {
      i.owner->error_ = "HTTP/" + std::to_string(p->http_major) + "." + std::to_string(p->http_minor) +
                        " is not supported: use HTTP/1.1 or HTTP/1.0";
      i.owner->error_status_ = 505;
      return -1;
    }
    if (p->upgrade) {  // Upgrade: websocket, h2c...: http_parser would stop here
      i.owner->error_ = "protocol upgrade is not supported";
      i.owner->error_status_ = 501;
      return -1;
    }
    if (p->content_length != ULLONG_MAX && p->content_length > max_body) {
      i.owner->error_ = "body too large";
      i.owner->error_status_ = 413;
      return -1;  // http_parser: an error
    }
    std::string url = std::move(i.current.path);
    i.current.path.clear();
    if (!split_url(url, i.current)) {
      i.owner->error_ = "malformed URL";
      return -1;
    }
    i.current.method = http_method_str(static_cast<http_method>(p->method));
    return 0;
  };
  s.on_message_complete = [](http_parser* p) {
    auto& i = impl::of(p);
    i.current.keep_alive = http_should_keep_alive(p) != 0;
    i.done.push_back(std::move(i.current));
    i.current = request();
    i.in_message = false;
    return 0;
  };
}

parser::~parser() = default;

bool parser::feed(const char* data, std::size_t n) {
  if (!error_.empty()) return false;
  std::size_t used = http_parser_execute(&impl_->p, &impl_->settings, data, n);
  if (HTTP_PARSER_ERRNO(&impl_->p) != HPE_OK || used != n) {
    if (error_.empty()) error_ = http_errno_description(HTTP_PARSER_ERRNO(&impl_->p));
    if (error_.empty()) error_ = "malformed request";
    return false;
  }
  return true;
}

bool parser::in_request() const noexcept { return impl_->in_message; }

std::optional<request> parser::next() {
  if (impl_->done.empty()) return std::nullopt;
  request r = std::move(impl_->done.front());
  impl_->done.pop_front();
  return r;
}

// ---------------------------------------------------------------- routing

namespace {

response bad(int status, std::string why) { return response(status, std::move(why) + "\n"); }

// YYYY-MM-DD, a day that exists in the Gregorian calendar.
bool valid_date(const std::string& d) {
  if (d.size() != 10 || d[4] != '-' || d[7] != '-') return false;
  for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (d[i] < '0' || d[i] > '9') return false;
  auto num = [&](std::size_t at, std::size_t n) {
    int v = 0;
    for (std::size_t i = at; i < at + n; ++i) v = v * 10 + (d[i] - '0');
    return v;
  };
  const int year = num(0, 4), month = num(5, 2), day = num(8, 2);
  if (month < 1 || month > 12 || day < 1) return false;
  static constexpr int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return day <= days[month - 1] + (month == 2 && leap ? 1 : 0);
}

// The parameters a route needs: each present and well formed, or why not.
struct params {
  const request& r;
  std::string missing;
  const std::string* get(const char* name, std::size_t max_len) {
    auto it = r.query.find(name);
    if (it == r.query.end() || it->second.empty()) {
      if (missing.empty()) missing = std::string("missing parameter '") + name + "'";
      return nullptr;
    }
    if (it->second.size() > max_len) {
      if (missing.empty()) missing = std::string("parameter '") + name + "' is too long";
      return nullptr;
    }
    return &it->second;
  }
};

std::optional<std::uint64_t> to_id(const std::string& s) {
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string describe(const otp::error& e) {
  if (e == otp::errc::max_children) return "too many lists open; try again later";
  return "service unavailable: " + e.message();
}

}  // namespace

otp::task<response> handle(request r) {
  const bool is_get = r.method == "GET", is_post = r.method == "POST";
  params p{r, {}};
  if (r.path == "/entries") {
    if (!is_get) co_return bad(405, "use GET for /entries");
    auto* list = p.get("list", 100);
    auto* date = p.get("date", 10);
    if (!list || !date) co_return bad(400, p.missing);
    if (!valid_date(*date)) co_return bad(400, "date must be YYYY-MM-DD");
    auto srv = co_await cache::server_process(*list);
    if (!srv) co_return bad(503, describe(srv.error()));
    server::entries q(*date);
    auto got = co_await otp::call(srv.value(), q);
    if (!got) co_return bad(503, describe(got.error()));
    response out;
    for (auto& e : got.value()) out.body += std::to_string(e.id) + " " + e.date + " " + e.title + "\n";
    co_return out;
  }
  if (r.path == "/crash") {
    if (!is_post) co_return bad(405, "use POST for /crash");
    auto* list = p.get("list", 100);
    if (!list) co_return bad(400, p.missing);
    auto srv = co_await cache::server_process(*list);
    if (!srv) co_return bad(503, describe(srv.error()));
    otp::cast(srv.value(), server::crash{});
    co_return response(200, "crashing the server of " + *list + " (" + srv.value().to_string() + ")\n");
  }
  const bool add = r.path == "/add_entry", update = r.path == "/update_entry", remove = r.path == "/delete_entry";
  if (!add && !update && !remove) co_return bad(404, "no such path: " + r.path);
  if (!is_post) co_return bad(405, "use POST for " + r.path);
  auto* list = p.get("list", 100);
  const std::string* date = nullptr;
  const std::string* title = nullptr;
  const std::string* id = nullptr;
  if (add || update) {
    date = p.get("date", 10);
    title = p.get("title", 500);
  }
  if (update || remove) id = p.get("id", 20);
  if (!p.missing.empty()) co_return bad(400, p.missing);
  if (date && !valid_date(*date)) co_return bad(400, "date must be YYYY-MM-DD");
  std::optional<std::uint64_t> n;
  if (id && !(n = to_id(*id))) co_return bad(400, "id must be a number");
  auto srv = co_await cache::server_process(*list);
  if (!srv) co_return bad(503, describe(srv.error()));
  // Each change is answered once the list's server has stored it: OK means
  // on disk (written, not synced: see the README).
  otp::result<outcome> done = outcome();
  if (add)
    done = co_await otp::call(srv.value(), server::add_entry(*date, *title));
  else if (update)
    done = co_await otp::call(srv.value(), server::update_entry(*n, *date, *title));
  else
    done = co_await otp::call(srv.value(), server::delete_entry(*n));
  if (!done) co_return bad(503, describe(done.error()));
  switch (done.value().what) {
    case outcome::status::stored:
      co_return response(200, "OK\n");
    case outcome::status::no_entry:
      co_return bad(404, "no entry " + *id + " in list " + *list);
    case outcome::status::not_stored:
      break;
  }
  co_return bad(503, "not stored: " + done.value().why);
}

std::string format(const response& r, bool keep_alive) {
  const char* reason = "OK";
  switch (r.status) {
    case 400: reason = "Bad Request"; break;
    case 404: reason = "Not Found"; break;
    case 405: reason = "Method Not Allowed"; break;
    case 408: reason = "Request Timeout"; break;
    case 413: reason = "Payload Too Large"; break;
    case 414: reason = "URI Too Long"; break;
    case 501: reason = "Not Implemented"; break;
    case 503: reason = "Service Unavailable"; break;
    case 505: reason = "HTTP Version Not Supported"; break;
    default: break;
  }
  return "HTTP/1.1 " + std::to_string(r.status) + " " + reason +
         "\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(r.body.size()) +
         (keep_alive ? "\r\n\r\n" : "\r\nConnection: close\r\n\r\n") + r.body;
}

// ---------------------------------------------------------------- processes

namespace {

// One connection: read, answer each complete request, until the peer closes,
// a request says Connection: close, an answer is an error, the input is bad,
// or a deadline passes (otp/tcp.hpp): idle between requests, a whole
// request however slowly it trickles in, each answer's write.
otp::process<> connection(otp::tcp_connection c) {
  parser in;
  std::array<char, 4096> buf;
  for (;;) {
    auto [ec, n] = co_await c.read_some(asio::buffer(buf));
    if (ec == asio::error::timed_out) {
      const bool slow = in.in_request();
      co_await c.close(format(bad(408, slow ? "request too slow" : "idle for too long"), false));
      co_return;
    }
    if (ec) co_return;  // closed by the peer
    c.begin_request();  // bytes of a request: its deadline runs from here
    if (!in.feed(buf.data(), n)) {
      co_await c.close(format(bad(in.error_status(), in.error()), false));
      co_return;
    }
    bool answered = false;
    while (auto r = in.next()) {
      answered = true;
      const bool asked_keep = r->keep_alive;
      auto answer = co_await handle(std::move(*r));
      const bool keep = asked_keep && answer.status < 400;  // an error closes, as http.hpp says
      auto bytes = format(answer, keep);
      if (co_await c.write(asio::buffer(bytes))) co_return;  // gone, or not reading: dropped
      if (!keep) {
        co_await c.close();
        co_return;
      }
    }
    if (answered) {
      c.end_request();
      if (in.in_request()) c.begin_request();  // the next one has begun: its own deadline
    }
  }
}

std::shared_ptr<otp::tcp_server> current;  // the latest server made by child_spec

}  // namespace

otp::tcp_limits default_limits() {
  otp::tcp_limits l;
  l.max_connections = 1000;
  l.idle_timeout = std::chrono::seconds(30);
  l.request_timeout = std::chrono::seconds(10);
  l.write_timeout = std::chrono::seconds(10);
  return l;
}

otp::child_spec child_spec(unsigned short port, otp::tcp_limits limits) {
  current = std::make_shared<otp::tcp_server>("127.0.0.1", port, std::move(limits), connection,
                                              format(bad(503, "too many connections"), false));
  return current->child_spec("http");
}

unsigned short bound_port() { return current ? current->port() : 0; }

}  // namespace todo::http
