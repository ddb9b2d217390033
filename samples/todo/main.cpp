// SPDX-License-Identifier: MIT
// todo_app: the to-do system over HTTP.
//
//   todo_app [--port N] [--data DIR] [--idle-timeout SECONDS] [--max-lists N] [--threads N]
//
// Serves the routes of http.hpp on 127.0.0.1:N (default 8080; 0 picks a
// free port) and keeps one log file per list in DIR (default ./todo_data).
// Runs on --threads threads (default: one per core), one shard each.
// A list's server stops after --idle-timeout seconds without a request
// (default 300) and at most --max-lists run at once (default 10000).
// Ctrl-C (SIGINT) or SIGTERM stops the whole tree in order and exits 0. If
// the tree gives up by itself (a supervisor past its restart intensity), it
// says so and exits 1.
#include "http.hpp"
#include "todo.hpp"

#include <otp/node.hpp>

#include <asio/signal_set.hpp>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

// The application: the to-do system and its HTTP interface under one root.
// Linked to the root: when the root gives up, this ends with its reason.
otp::process<> application(std::filesystem::path data, unsigned short port) {
  auto children = todo::system::children(data);
  children.push_back(todo::http::child_spec(port));
  auto root = co_await otp::start_supervisor(otp::supervisor_flags(), std::move(children));
  if (!root) {
    std::fprintf(stderr, "todo_app: could not start: %s\n", root.error().message().c_str());
    otp::exit(root.error().reason);
  }
  std::printf("todo_app: listening on http://127.0.0.1:%u with %zu threads, lists stored in %s\n",
              todo::http::bound_port(), otp::shard_count(), std::filesystem::absolute(data).string().c_str());
  std::printf("todo_app: Ctrl-C stops it in order\n");
  std::fflush(stdout);
  co_await otp::receive();  // runtime::shutdown() ends the root, which stops the tree
}

bool number(const char* s, long long lo, long long hi, long long& out) {
  char* end = nullptr;
  errno = 0;
  out = std::strtoll(s, &end, 10);
  return errno == 0 && end != s && *end == '\0' && out >= lo && out <= hi;
}

int usage(const char* why) {
  if (why) std::fprintf(stderr, "todo_app: %s\n", why);
  std::fprintf(stderr,
               "usage: todo_app [--port N] [--data DIR] [--idle-timeout SECONDS] [--max-lists N] [--threads N]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  unsigned short port = 8080;
  std::filesystem::path data = "todo_data";
  todo::settings settings;
  std::size_t threads = 0;  // one per core
  for (int i = 1; i < argc; ++i) {
    const bool has_value = i + 1 < argc;
    long long v = 0;
    if (!std::strcmp(argv[i], "--port") && has_value) {
      if (!number(argv[++i], 0, 65535, v)) return usage("--port takes 0 to 65535");
      port = static_cast<unsigned short>(v);
    } else if (!std::strcmp(argv[i], "--data") && has_value) {
      data = argv[++i];
    } else if (!std::strcmp(argv[i], "--idle-timeout") && has_value) {
      if (!number(argv[++i], 1, 86400 * 365, v)) return usage("--idle-timeout takes 1 or more seconds");
      settings.idle_timeout = std::chrono::seconds(v);
    } else if (!std::strcmp(argv[i], "--max-lists") && has_value) {
      if (!number(argv[++i], 1, 100000000, v)) return usage("--max-lists takes 1 or more");
      settings.max_lists = static_cast<std::size_t>(v);
    } else if (!std::strcmp(argv[i], "--threads") && has_value) {
      if (!number(argv[++i], 1, 255, v)) return usage("--threads takes 1 to 255");
      threads = static_cast<std::size_t>(v);
    } else {
      return usage(nullptr);
    }
  }
  todo::configure(settings);
  otp::node n(threads);
  auto& rt = n.runtime();
  auto app = otp::spawn(rt, application, data, port);
  asio::signal_set stop(n.context(), SIGINT, SIGTERM);
  bool asked_to_stop = false;
  stop.async_wait([&](std::error_code ec, int) {
    if (ec) return;
    asked_to_stop = true;
    std::printf("\ntodo_app: stopping (the tree stops in reverse start order)\n");
    std::fflush(stdout);
    rt.shutdown();
  });
  // Once the application has ended, stop listening for signals: run() returns.
  otp::exit_reason ended;
  otp::async_wait_exit(app, [&](const otp::exit_reason& r) {
    ended = r;
    stop.cancel();
  });
  n.run();
  if (!asked_to_stop) {
    std::fprintf(stderr, "todo_app: the supervision tree gave up (%s); the reports above say why\n",
                 ended.to_string().c_str());
    return 1;
  }
  std::printf("todo_app: stopped\n");
  return 0;
}
