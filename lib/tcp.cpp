// SPDX-License-Identifier: MIT
// otp::tcp_server and otp::tcp_connection (see include/otp/tcp.hpp).
#include <otp/tcp.hpp>

#include "runtime_core.hpp"

#include <otp/asio.hpp>

#include <asio/read.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>

#include <algorithm>
#include <array>
#include <optional>

namespace otp {

// ---------------------------------------------------------------- tcp_connection

namespace {

using steady = std::chrono::steady_clock;
constexpr auto never = steady::time_point::max();

steady::time_point after(duration d) {
  const auto now = steady::now();
  return d >= never - now ? never : now + std::chrono::duration_cast<steady::duration>(d);
}

}  // namespace

// Deadlines. An operation records when it must be over (`due`, one slot for
// reads and one for writes: a connection may read in one process while it
// writes in another); one timer per connection cancels the socket once a
// recorded time has passed. The timer is re-armed lazily: an operation whose
// deadline is later than the time the timer is set for changes nothing, and
// the timer, when it fires, sets itself for the earliest deadline still
// recorded. So a connection's reads and writes cost a clock read each, and
// its timer fires about once per timeout instead of being set and cancelled
// per operation (which cost a timer-queue insertion, a removal and a
// cancelled handler's run each time).
//
// The timer is created by the first operation, on the calling process's
// shard, and the processes that use the connection are pinned there: the
// timer's handler and their bodies touch this state on that one strand.
struct tcp_connection::state : std::enable_shared_from_this<state> {
  enum slot : std::size_t { reading, writing };

  state(asio::ip::tcp::socket s, const tcp_limits& l) : sock(std::move(s)), limits(l) {}
  ~state() {
    std::error_code ignored;
    sock.close(ignored);
  }

  /// An operation in `k` starts and must be over by `at`.
  void begin(slot k, steady::time_point at) {
    detail::process_base& p = detail::current_or_throw("otp::tcp_connection");
    p.pinned = true;  // the timer's handler runs on this shard's strand
    if (!timer) {
      timer.emplace(detail::shard_executor(p));
      shard = otp::current_shard();
    }
    OTP_ASSERT(otp::current_shard() == shard,
               "otp::tcp_connection used from a process on another shard than its first user's");
    due[k] = at;
    expired[k] = false;
    if (at < armed) arm(at);
  }
  /// The operation in `k` is over: did its deadline pass?
  bool end(slot k) noexcept {
    due[k] = never;
    return expired[k];
  }

  void arm(steady::time_point at) {
    armed = at;
    timer->expires_at(at);  // a wait still pending completes with operation_aborted
    timer->async_wait([w = weak_from_this(), g = ++generation](std::error_code ec) {
      if (ec) return;
      auto s = w.lock();  // gone: the connection's last handle went meanwhile
      if (s && s->generation == g) s->fired();
    });
  }

  void fired() {
    armed = never;
    const auto now = steady::now();
    bool cancel = false;
    for (std::size_t k = 0; k < 2; ++k)
      if (due[k] <= now) {
        expired[k] = true;
        due[k] = never;
        cancel = true;
      }
    if (cancel) {
      std::error_code ignored;
      sock.cancel(ignored);  // every pending operation completes with operation_aborted
    }
    const auto next = std::min(due[reading], due[writing]);
    if (next != never) arm(next);
  }

  asio::ip::tcp::socket sock;
  tcp_limits limits;
  bool in_request = false;
  steady::time_point request_deadline{};

  std::optional<asio::steady_timer> timer;
  std::size_t shard = 0;       ///< where the timer runs
  steady::time_point armed = never;  ///< when the timer fires; never: it waits for nothing
  std::uint64_t generation = 0;     ///< of the latest wait: older handlers are ignored
  std::array<steady::time_point, 2> due{never, never};
  std::array<bool, 2> expired{};
};

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
  // The caller's handle keeps the state alive while it awaits this (a shared_ptr
  // copy here would cost a contended atomic increment per operation on
  // several threads).
  state* st = s_.get();
  st->begin(state::reading, st->in_request ? st->request_deadline : after(st->limits.idle_timeout));
  auto [ec, n] = co_await st->sock.async_read_some(b, use_process);
  if (st->end(state::reading)) co_return std::pair<std::error_code, std::size_t>(asio::error::timed_out, n);
  co_return std::pair<std::error_code, std::size_t>(ec, n);
}

task<std::error_code> tcp_connection::write(asio::const_buffer b) {
  state* st = s_.get();
  st->begin(state::writing, after(st->limits.write_timeout));
  auto [ec, n] = co_await asio::async_write(st->sock, b, use_process);
  (void)n;
  if (st->end(state::writing)) co_return std::error_code(asio::error::timed_out);
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
  st->begin(state::reading, after(st->limits.drain_timeout));
  std::array<char, 4096> sink;
  for (std::size_t drained = 0; drained < (1u << 20);) {  // at most 1 MiB of what it still sends
    auto [ec, n] = co_await st->sock.async_read_some(asio::buffer(sink), use_process);
    if (ec || st->expired[state::reading]) break;
    drained += n;
  }
  st->end(state::reading);
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
  // Accepted sockets get the runtime's own executor, not this shard's strand:
  // their connections run on other shards, and every operation completes on
  // the strand of the process that started it (use_process) anyway. A strand
  // as a socket's executor only costs: Asio keeps a work-tracking copy of it
  // per operation.
  const asio::any_io_executor io = detail::current_or_throw("otp::tcp_server").home()->core.executor;
  for (;;) {
    auto [ec, sock] = co_await listener.async_accept(io, use_process);
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
