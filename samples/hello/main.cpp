#include <otp/otp.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read_until.hpp>
#include <asio/signal_set.hpp>
#include <asio/write.hpp>
using asio::ip::tcp;

otp::process<> session(std::shared_ptr<tcp::socket> s) {     // one process per client
  for (std::string buf;; buf.erase(0, buf.find('\n') + 1)) {
    auto [ec, n] = co_await asio::async_read_until(*s, asio::dynamic_buffer(buf), '\n', otp::use_process);
    if (ec) co_return;                                         // the client left
    if (buf.starts_with("crash")) throw std::runtime_error("asked to");  // ends this session only
    (void)co_await asio::async_write(*s, asio::buffer(buf, n), otp::use_process);
  }
}

otp::process<> acceptor() {                                  // a child of the root supervisor
  tcp::acceptor a(otp::executor(), tcp::endpoint(tcp::v4(), 7000));
  otp::dynamic_supervisor_options spread;
  spread.place = otp::placement::balanced;                   // each session on the least busy core
  auto sessions = (co_await otp::start_dynamic_supervisor(spread)).value();
  otp::init_ack();                                           // listening: the supervisor goes on
  for (;;) {
    auto [ec, s] = co_await a.async_accept(otp::use_process);
    auto start = otp::spawn_fn(session, std::make_shared<tcp::socket>(std::move(s)));
    if (!ec) (void)co_await otp::start_child(sessions, otp::child_spec("session", start, otp::restart_type::temporary));
  }
}

int main() {
  otp::node node;                                            // one thread and one shard per core
  otp::spawn(node.runtime(), []() -> otp::process<> {
    std::vector<otp::child_spec> children{otp::child_spec("acceptor", otp::start_fn(acceptor))};
    auto root = (co_await otp::start_supervisor(otp::supervisor_flags(), std::move(children))).value();
    co_await otp::receive();                                 // until Ctrl-C: then the tree stops in order
  });
  asio::signal_set stop(node.context(), SIGINT, SIGTERM);
  stop.async_wait([&](std::error_code, int) { node.shutdown(); });
  node.run();
}
