// SPDX-License-Identifier: MIT
// todo_app: the to-do system over HTTP.
//
//   todo_app [--port N] [--data DIR]
//
// Serves the routes of http.hpp on 127.0.0.1:N (default 8080; 0 picks a
// free port) and keeps one file per list in DIR (default ./todo_data).
// Ctrl-C (SIGINT) or SIGTERM stops the whole tree in order and exits.
#include "http.hpp"
#include "todo.hpp"

#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

// The application: the to-do system and its HTTP interface under one root.
otp::process<> application(std::filesystem::path data, unsigned short port) {
  auto children = todo::system::children(data);
  children.push_back(todo::http::child_spec(port));
  auto root = co_await otp::start_supervisor(otp::supervisor_flags(), std::move(children));
  if (!root) {
    std::fprintf(stderr, "todo_app: could not start: %s\n", root.error().message().c_str());
    co_return;
  }
  std::printf("todo_app: listening on http://127.0.0.1:%u, lists stored in %s\n", todo::http::bound_port(),
              std::filesystem::absolute(data).string().c_str());
  std::printf("todo_app: Ctrl-C stops it in order\n");
  std::fflush(stdout);
  co_await otp::receive();  // runtime::shutdown() ends the root, which stops the tree
}

}  // namespace

int main(int argc, char** argv) {
  unsigned short port = 8080;
  std::filesystem::path data = "todo_data";
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--port") && i + 1 < argc) {
      port = static_cast<unsigned short>(std::atoi(argv[++i]));
    } else if (!std::strcmp(argv[i], "--data") && i + 1 < argc) {
      data = argv[++i];
    } else {
      std::fprintf(stderr, "usage: todo_app [--port N] [--data DIR]\n");
      return 2;
    }
  }
  asio::io_context io;
  otp::runtime rt(io.get_executor());
  auto app = otp::spawn(rt, application, data, port);
  asio::signal_set stop(io, SIGINT, SIGTERM);
  stop.async_wait([&](std::error_code ec, int) {
    if (ec) return;
    std::printf("\ntodo_app: stopping (the tree stops in reverse start order)\n");
    std::fflush(stdout);
    rt.shutdown();
  });
  // Once the application has ended, stop listening for signals: run() returns.
  otp::async_wait_exit(app, [&stop](const otp::exit_reason&) { stop.cancel(); });
  io.run();
  std::printf("todo_app: stopped\n");
}
