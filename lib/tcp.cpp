// SPDX-License-Identifier: MIT
// otp::tcp_server and otp::tcp_connection (see include/otp/tcp.hpp).
#include <otp/tcp.hpp>

#include <otp/asio.hpp>

#include <asio/read.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>

#include <array>

namespace otp {

// ---------------------------------------------------------------- tcp_connection

struct tcp_connection::state {
  state(asio::ip::tcp::socket s, const tcp_limits& l) : sock(std::move(s)), limits(l) {}
  ~state() {
    std::error_code ignored;
    sock.close(ignored);
  }
  asio::ip::tcp::socket sock;
  tcp_limits limits;
  bool in_request = false;
  std::chrono::steady_clock::time_point request_deadline{};
};

namespace {

using clock = std::chrono::steady_clock;

// Cancels the socket's operations when `at` passes, unless disarmed first.
// The timer runs on the calling process's shard, as the socket's operations
// do; its handler holds `keep` (the connection's state), so the socket is
// still there if it runs after the waiting frame is gone.
class deadline {
 public:
  deadline(asio::ip::tcp::socket& s, std::shared_ptr<void> keep, clock::time_point at)
      : timer_(executor(), at), expired_(std::make_shared<bool>(false)) {
    timer_.async_wait([&s, keep = std::move(keep), expired = expired_](std::error_code ec) {
      if (ec) return;  // disarmed
      *expired = true;
      std::error_code ignored;
      s.cancel(ignored);
    });
  }
  deadline(const deadline&) = delete;
  deadline& operator=(const deadline&) = delete;
  ~deadline() { timer_.cancel(); }
  bool expired() const noexcept { return *expired_; }

 private:
  asio::steady_timer timer_;
  std::shared_ptr<bool> expired_;
};

clock::time_point after(duration d) {
  const auto now = clock::now();
  return d >= clock::time_point::max() - now ? clock::time_point::max()
                                             : now + std::chrono::duration_cast<clock::duration>(d);
}

}  // namespace

tcp_connection::tcp_connection(asio::ip::tcp::socket s, const tcp_limits& l)
    : s_(std::make_shared<state>(std::move(s), l)) {}

asio::ip::tcp::socket& tcp_connection::socket() noexcept { return s_->sock; }
const tcp_limits& tcp_connection::limits() const noexcept { return s_->limits; }

void tcp_connection::begin_request() {
  if (s_->in_request) return;
  s_->in_request = true;
  s_->request_deadline = after(s_->limits.request_timeout);
}

void tcp_connection::end_request() noexcept { s_->in_request = false; }

task<std::pair<std::error_code, std::size_t>> tcp_connection::read_some(asio::mutable_buffer b) {
  auto st = s_;  // the frame keeps the socket alive while the timer may still refer to it
  const auto at = st->in_request ? st->request_deadline : after(st->limits.idle_timeout);
  deadline d(st->sock, st, at);
  auto [ec, n] = co_await st->sock.async_read_some(b, use_process);
  if (d.expired()) co_return std::pair<std::error_code, std::size_t>(asio::error::timed_out, n);
  co_return std::pair<std::error_code, std::size_t>(ec, n);
}

task<std::error_code> tcp_connection::write(asio::const_buffer b) {
  auto st = s_;
  deadline d(st->sock, st, after(st->limits.write_timeout));
  auto [ec, n] = co_await asio::async_write(st->sock, b, use_process);
  (void)n;
  if (d.expired()) co_return std::error_code(asio::error::timed_out);
  co_return ec;
}

task<void> tcp_connection::close(std::string last_words) {
  auto st = s_;
  std::error_code ignored;
  if (!last_words.empty() && co_await write(asio::buffer(last_words))) {
    st->sock.close(ignored);  // it does not read: no point draining
    co_return;
  }
  st->sock.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  {
    deadline d(st->sock, st, after(st->limits.drain_timeout));
    std::array<char, 4096> sink;
    for (std::size_t drained = 0; drained < (1u << 20);) {  // at most 1 MiB of what it still sends
      auto [ec, n] = co_await st->sock.async_read_some(asio::buffer(sink), use_process);
      if (ec) break;
      drained += n;
    }
  }
  st->sock.close(ignored);
}

// ---------------------------------------------------------------- tcp_server

struct tcp_server::shared {
  std::string address;
  unsigned short port = 0;
  tcp_limits limits;
  std::string refusal;
  std::function<child_start(tcp_connection)> start;
  std::atomic<unsigned short> bound{0};
  std::atomic<std::size_t> refusing{0};
  name connections;  // the connections' supervisor, a local name of its own
  name acceptor;
};

namespace {

std::atomic<std::uint64_t> servers{0};

// A client over the cap: the refusal and a drained close, in a process of
// its own so that a client that never reads cannot stall the acceptor.
process<> refuse(tcp_connection c, std::string refusal, std::shared_ptr<tcp_server::shared> s) {
  struct count_down {
    std::shared_ptr<tcp_server::shared> s;
    ~count_down() { s->refusing.fetch_sub(1, std::memory_order_relaxed); }
  } done{std::move(s)};
  co_await c.close(std::move(refusal));
}

// Closes the listening socket as soon as its acceptor is dead to the world.
// A killed process's links fire before its frame is destroyed (the frame
// waits for its pending accept to be cancelled): without this, the restarted
// acceptor would find its port still taken.
struct release_port final : detail::exit_hook {
  explicit release_port(std::shared_ptr<asio::ip::tcp::acceptor> l) : listener(std::move(l)) { at_death = true; }
  std::shared_ptr<asio::ip::tcp::acceptor> listener;
  void on_exit(detail::process_base&) noexcept override {
    std::error_code ignored;
    listener->close(ignored);  // on the acceptor's shard, where the listener lives
    delete this;
  }
  void discard() noexcept override { delete this; }
};

process<> acceptor(std::shared_ptr<tcp_server::shared> s) {
  using asio::ip::tcp;
  auto owned = std::make_shared<tcp::acceptor>(executor());
  tcp::acceptor& listener = *owned;
  {
    detail::current_or_throw("otp::tcp_server's acceptor")
        .add_exit_hook(new release_port(owned));  // the frame keeps its own reference
  }
  // Port 0 asks for any free port the first time; a restarted acceptor binds
  // the one it got, or its clients would lose the server.
  const unsigned short port = s->port != 0 ? s->port : s->bound.load();
  const tcp::endpoint at(asio::ip::make_address(s->address), port);
  listener.open(at.protocol());
  listener.set_option(tcp::acceptor::reuse_address(true));
  listener.bind(at);  // throws when the port is taken: the start fails
  listener.listen();
  s->bound = listener.local_endpoint().port();
  init_ack();
  auto sup = supervisor_ref::from(s->connections.whereis());
  if (!sup) exit(exit_reason::other("{no_connections_supervisor," + s->connections.to_string() + "}"));
  const dynamic_supervisor_ref connections(sup.value());
  for (;;) {
    auto [ec, sock] = co_await listener.async_accept(use_process);
    if (ec) continue;
    tcp_connection c(std::move(sock), s->limits);
    auto started = co_await start_child(connections, otp::child_spec("connection", s->start(c), restart_type::temporary));
    if (started) continue;
    // Over the cap (or the supervisor is restarting): refuse politely, within bounds.
    if (s->refusing.fetch_add(1, std::memory_order_relaxed) >= s->limits.max_refusals) {
      s->refusing.fetch_sub(1, std::memory_order_relaxed);
      continue;  // `c` goes: closed at once
    }
    spawn_link(refuse, c, s->refusal, s);
  }
}

}  // namespace

tcp_server::tcp_server(std::string address, unsigned short port, tcp_limits limits, std::string refusal,
                       std::function<child_start(tcp_connection)> start)
    : s_(std::make_shared<shared>()) {
  s_->address = std::move(address);
  s_->port = port;
  s_->limits = std::move(limits);
  s_->refusal = std::move(refusal);
  s_->start = std::move(start);
  const auto n = std::to_string(servers.fetch_add(1));
  s_->connections = local("otp_tcp_connections_" + n);
  s_->acceptor = local("otp_tcp_acceptor_" + n);
}

otp::child_spec tcp_server::child_spec(std::string id) const {
  std::vector<otp::child_spec> children;
  dynamic_supervisor_options o(3, std::chrono::seconds(5), s_->limits.max_connections);
  o.place = placement::balanced;  // connections spread over the shards as they are accepted
  children.push_back(dynamic_supervisor_child("connections", std::move(o)).with(s_->connections));
  children.push_back(otp::child_spec("acceptor", start_fn(acceptor, s_)).with(s_->acceptor));
  // rest_for_one: a new connections supervisor needs a new acceptor to find it.
  return supervisor_child(std::move(id), supervisor_flags(restart_strategy::rest_for_one), std::move(children));
}

unsigned short tcp_server::port() const noexcept { return s_->bound.load(); }

const name& tcp_server::acceptor_name() const noexcept { return s_->acceptor; }

}  // namespace otp
