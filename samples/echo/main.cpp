// SPDX-License-Identifier: MIT
// echo_server [--port N]: the supervised echo and chat server on
// 127.0.0.1:N (default 7000). Try it with `nc 127.0.0.1 7000`.
// Ctrl-C (SIGINT) or SIGTERM closes every connection through the
// supervision tree, in order, and exits.
#include "echo.hpp"

#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {
otp::process<> application(echo::options o) {
  std::vector<otp::child_spec> children;
  children.push_back(echo::child_spec(o));
  auto root = co_await otp::start_supervisor(otp::supervisor_flags(), std::move(children));
  if (!root) {
    std::fprintf(stderr, "echo_server: could not start: %s\n", root.error().message().c_str());
    co_return;
  }
  std::printf("echo_server: listening on 127.0.0.1:%u (nc 127.0.0.1 %u); Ctrl-C stops it\n", echo::bound_port(),
              echo::bound_port());
  std::fflush(stdout);
  co_await otp::receive();  // until runtime::shutdown()
}
}  // namespace

int main(int argc, char** argv) {
  echo::options o;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--port") && i + 1 < argc) {
      o.port = static_cast<unsigned short>(std::atoi(argv[++i]));
    } else {
      std::fprintf(stderr, "usage: echo_server [--port N]\n");
      return 2;
    }
  }
  asio::io_context io;
  otp::runtime rt(io.get_executor());
  auto app = otp::spawn(rt, application, o);
  asio::signal_set stop(io, SIGINT, SIGTERM);
  stop.async_wait([&](std::error_code ec, int) {
    if (ec) return;
    std::printf("\necho_server: stopping: every connection closes through the tree\n");
    std::fflush(stdout);
    rt.shutdown();
  });
  otp::async_wait_exit(app, [&stop](const otp::exit_reason&) { stop.cancel(); });
  io.run();
  std::printf("echo_server: stopped\n");
}
