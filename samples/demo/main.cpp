// SPDX-License-Identifier: MIT
// A process crashes; another one, trapping exits, sees why and starts a new
// one. Run it (scripts/demo.sh) and watch: it takes about three seconds.
//
//   client ──job──▶ keeper ──job──▶ worker       (worker divides; b == 0 crashes it)
//                     ▲                 │
//                     └── exit_message ─┘         (keeper traps exits, restarts it)

#include <otp/otp.hpp>

#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>

#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>

using namespace std::chrono_literals;

namespace {

const auto start = std::chrono::steady_clock::now();
void say(const std::string& line) {
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("[%5.2fs] %s\n", s, line.c_str());
  std::fflush(stdout);
}

struct job {
  job(int x, int y) : a(x), b(y) {}
  int a, b;
};

// Does the work; lets it crash on bad input.
otp::process<job> worker() {
  for (;;) {
    auto j = std::get<job>(co_await otp::receive());
    if (j.b == 0) throw std::domain_error("division by zero: " + std::to_string(j.a) + " / 0");
    say("worker " + otp::self().to_string() + ": " + std::to_string(j.a) + " / " + std::to_string(j.b) + " = " +
        std::to_string(j.a / j.b));
  }
}

// Keeps one worker alive: traps exits, and starts a new worker when one dies.
otp::process<job> keeper() {
  otp::trap_exit(true);
  auto w = otp::spawn_link(worker);
  say("keeper " + otp::self().to_string() + " started worker " + w.to_string());
  int restarts = 0;
  for (;;) {
    auto m = co_await otp::receive();
    if (auto* j = std::get_if<job>(&m)) {
      otp::send(w, *j);
    } else if (auto* e = std::get_if<otp::exit_message>(&m)) {
      if (e->from != w) {  // from our parent or the runtime: time to stop
        say("keeper asked to stop (" + e->reason.to_string() + "); stopping worker " + w.to_string());
        otp::exit(w, otp::exit_reason::shutdown());  // a normal return would leave it running
        co_return;
      }
      say("keeper saw worker " + e->from.to_string() + " exit: " + e->reason.to_string());
      w = otp::spawn_link(worker);
      say("keeper started worker " + w.to_string() + " (restart " + std::to_string(++restarts) + ")");
    }
  }
}

// Sends a job every 250 ms, some of them bad; then stops the keeper.
otp::process<> client(otp::handle<job> keeper) {
  const int jobs[][2] = {{10, 2}, {9, 3}, {7, 0}, {8, 4}, {1, 0}, {6, 3}, {100, 10}};
  auto watch = otp::monitor(keeper);
  for (auto& j : jobs) {
    co_await otp::sleep_for(250ms);
    say("client sends " + std::to_string(j[0]) + " / " + std::to_string(j[1]));
    otp::send(keeper, job(j[0], j[1]));
  }
  co_await otp::sleep_for(250ms);
  otp::exit(keeper, otp::exit_reason::shutdown());
  auto m = co_await otp::receive();
  if (auto* d = std::get_if<otp::down_message>(&m); d && d->ref == watch)
    say("client saw keeper " + d->from.to_string() + " end: " + d->reason.to_string());
}

}  // namespace

int main() {
  asio::io_context io(1);
  otp::runtime_options opts;
  opts.log = [](const otp::log_event& e) { say("crash report: " + e.text); };
  otp::runtime rt(io.get_executor(), opts);

  // Ctrl-C stops everything in order.
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const std::error_code& ec, int) {
    if (!ec) rt.shutdown();
  });

  auto k = otp::spawn(rt, keeper);
  auto c = otp::spawn(rt, client, k);
  // When the client is done, stop listening for signals so run() can return.
  otp::spawn(rt, [&signals](otp::pid client_pid) -> otp::process<> {
    otp::monitor(client_pid);
    co_await otp::receive();
    signals.cancel();
  }, otp::pid(c));

  io.run();
  say("all processes ended; io_context::run() returned");
  return 0;
}
