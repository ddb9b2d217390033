// SPDX-License-Identifier: MIT
// A supervision tree at work. Run it (scripts/demo.sh) and watch: it takes
// about two seconds.
//
//   root (one_for_one, at most 3 restarts in 5 s)
//   ├── divider   worker: divides; b == 0 crashes it, the root restarts it
//   └── pool      dynamic supervisor: one short-lived helper per job
//
// The client sends jobs, some bad. Each crash shows up as a crash report and
// a supervisor report (the runtime's logging hook), the divider comes back
// with a new pid, and at the end the whole tree is printed and stopped in
// order: children in reverse start order, then the supervisors.

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

struct says_goodbye {
  std::string who;
  ~says_goodbye() { say(who + " stopped"); }
};

// Does the work; lets it crash on bad input. Its supervisor restarts it.
otp::process<job> divider() {
  say("divider " + otp::self().to_string() + " up");
  says_goodbye bye{"divider " + otp::self().to_string()};
  otp::init_ack();
  for (;;) {
    auto m = co_await otp::receive();
    auto* j = std::get_if<job>(&m);
    if (!j) continue;  // exit messages, downs: not ours to handle
    if (j->b == 0) throw std::domain_error("division by zero: " + std::to_string(j->a) + " / 0");
    say("divider " + otp::self().to_string() + ": " + std::to_string(j->a) + " / " + std::to_string(j->b) + " = " +
        std::to_string(j->a / j->b));
  }
}

// A helper the pool starts per job: it reports and ends (temporary: never restarted).
otp::process<> helper(int n) {
  otp::init_ack();
  co_await otp::sleep_for(100ms);
  say("helper " + otp::self().to_string() + " finished job " + std::to_string(n));
}

otp::task<otp::pid> child_pid(otp::supervisor_ref sup, std::string id) {
  auto kids = co_await otp::which_children(sup);
  if (kids)
    for (auto& k : kids.value())
      if (k.id == id) co_return k.process;
  co_return otp::pid();
}

// Starts the tree, sends a job every 250 ms (some bad), prints the tree, stops it.
otp::process<> client() {
  std::vector<otp::child_spec> children;
  children.emplace_back("divider", otp::start_fn(divider));
  children.push_back(otp::dynamic_supervisor_child("pool", otp::dynamic_supervisor_options()));
  auto flags = otp::supervisor_flags(otp::restart_strategy::one_for_one, 3, 5s);
  auto root = (co_await otp::start_supervisor(flags, std::move(children))).value();
  say("root supervisor " + root.to_string() + " started its children");

  const int jobs[][2] = {{10, 2}, {9, 3}, {7, 0}, {8, 4}, {1, 0}, {6, 3}, {100, 10}};
  int n = 0;
  for (auto& j : jobs) {
    co_await otp::sleep_for(250ms);
    otp::pid d = co_await child_pid(root, "divider");  // a restart gives a new pid: ask each time
    say("client sends " + std::to_string(j[0]) + " / " + std::to_string(j[1]) + " to " + d.to_string());
    if (auto h = otp::handle<job>::from(d)) otp::send(h.value(), job(j[0], j[1]));
    auto pool = otp::handle<otp::supervisor_msg>::from(co_await child_pid(root, "pool"));
    if (pool) {
      auto spec = otp::child_spec("helper", otp::start_fn(helper, ++n), otp::restart_type::temporary);
      (void)co_await otp::start_child(otp::dynamic_supervisor_ref(pool.value()), std::move(spec));
    }
  }
  co_await otp::sleep_for(250ms);
  auto tree = co_await otp::inspect_tree(root);
  say("the tree now:\n" + otp::to_text(tree));
  say("client stops the root supervisor");
  otp::unlink(root);  // we ask it to stop; we do not want to go down with it
  auto watch = otp::monitor(root);
  otp::exit(root, otp::exit_reason::shutdown());
  for (;;) {
    auto m = co_await otp::receive();
    if (auto* d = std::get_if<otp::down_message>(&m); d && d->ref == watch) {
      say("root supervisor ended: " + d->reason.to_string());
      break;
    }
  }
}

}  // namespace

int main() {
  asio::io_context io(1);
  otp::runtime_options opts;
  opts.log = [](const otp::log_event& e) {
    say(std::string(e.what == otp::log_event::kind::crash_report ? "crash report: " : "supervisor report: ") +
        e.text);
  };
  otp::runtime rt(io.get_executor(), opts);

  // Ctrl-C stops everything in order.
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const std::error_code& ec, int) {
    if (!ec) rt.shutdown();
  });

  auto c = otp::spawn(rt, client);
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
