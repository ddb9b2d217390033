// SPDX-License-Identifier: MIT
// echo_server [--port N] [--threads N]: the supervised echo and chat
// server on 127.0.0.1:N (default 7000). Try it with `nc 127.0.0.1 7000`.
// It runs on --threads threads (default: one per core), one shard each;
// connections are spread over the shards as they are accepted.
// Ctrl-C (SIGINT) or SIGTERM closes every connection through the
// supervision tree, in order, and exits.
#include "echo.hpp"

#include <otp/node.hpp>

#include <asio/signal_set.hpp>

#include <cerrno>
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
  std::printf("echo_server: listening on 127.0.0.1:%u (nc 127.0.0.1 %u) with %zu threads; Ctrl-C stops it\n",
              echo::bound_port(), echo::bound_port(), otp::shard_count());
  std::fflush(stdout);
  co_await otp::receive();  // until runtime::shutdown()
}

int usage(const char* why) {
  if (why) std::fprintf(stderr, "echo_server: %s\n", why);
  std::fprintf(stderr, "usage: echo_server [--port N] [--threads N]\n");
  return 2;
}

bool number(const char* s, long lo, long hi, long& out) {
  char* end = nullptr;
  errno = 0;
  out = std::strtol(s, &end, 10);
  return errno == 0 && end != s && *end == '\0' && out >= lo && out <= hi;
}
}  // namespace

int main(int argc, char** argv) {
  echo::options o;
  std::size_t threads = 0;  // one per core
  for (int i = 1; i < argc; ++i) {
    const bool has_value = i + 1 < argc;
    long v = 0;
    if (!std::strcmp(argv[i], "--port") && has_value) {
      if (!number(argv[++i], 0, 65535, v)) return usage("--port takes 0 to 65535");
      o.port = static_cast<unsigned short>(v);
    } else if (!std::strcmp(argv[i], "--threads") && has_value) {
      if (!number(argv[++i], 1, 255, v)) return usage("--threads takes 1 to 255");
      threads = static_cast<std::size_t>(v);
    } else {
      return usage(nullptr);
    }
  }
  otp::node n(threads);
  auto& rt = n.runtime();
  auto app = otp::spawn(rt, application, o);
  asio::signal_set stop(n.context(), SIGINT, SIGTERM);
  stop.async_wait([&](std::error_code ec, int) {
    if (ec) return;
    std::printf("\necho_server: stopping: every connection closes through the tree\n");
    std::fflush(stdout);
    rt.shutdown();
  });
  otp::async_wait_exit(app, [&stop](const otp::exit_reason&) { stop.cancel(); });
  n.run();
  std::printf("echo_server: stopped\n");
}
