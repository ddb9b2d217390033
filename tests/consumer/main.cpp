#include <otp/otp.hpp>
#include <asio/io_context.hpp>
#include <cstdio>

static otp::process<int> echo_once() {
  auto m = co_await otp::receive();
  if (auto* v = std::get_if<int>(&m)) std::printf("consumer got %d\n", *v);
}

int main() {
  asio::io_context io;
  otp::runtime rt(io.get_executor());
  auto pid = otp::spawn(rt, echo_once);
  otp::send(pid, 42);
  io.run();
  // A tunable set at otp's configure time reaches its users' code too.
  std::printf("call timeout %lld ms\n", static_cast<long long>(otp::config::default_call_timeout.count()));
  return 0;
}
