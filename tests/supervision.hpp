// SPDX-License-Identifier: MIT
#pragma once
// What the supervisor tests share: workers that end as told, and waits.
#include <otp/supervisor.hpp>
#include <otp/task.hpp>

#include <doctest/doctest.h>
#include <otp/testing.hpp>

#include <stdexcept>

using namespace std::chrono_literals;
using otp::child_spec;
using otp::restart_strategy;
using otp::restart_type;
using otp::supervisor_flags;
using log_ptr = std::shared_ptr<otp::testing::event_log>;

namespace sup_test {

// How a worker ends when told to (the int it receives).
enum how : int { end_normal, end_shutdown, end_shutdown_payload, end_error, end_other };

inline otp::exit_reason reason_of(int h) {
  switch (h) {
    case end_normal:
      return otp::exit_reason::normal();
    case end_shutdown:
      return otp::exit_reason::shutdown();
    case end_shutdown_payload:
      return otp::exit_reason::shutdown("x");
    case end_other:
      return otp::exit_reason::other("bad");
    default:
      return otp::exit_reason::error("std::runtime_error", "crash");
  }
}

struct on_stop {
  log_ptr log;
  std::string name;
  ~on_stop() { (*log)(name + ":stop"); }
};

/// A worker: logs its start, acknowledges, logs its end (destructor), and
/// ends as told by the int it receives.
inline otp::process<int> worker(std::string name, log_ptr log) {
  (*log)(name + ":start");
  on_stop g{log, name};
  otp::init_ack();
  for (;;) {
    auto m = co_await otp::receive();
    if (auto* h = std::get_if<int>(&m)) {
      if (*h == end_normal) co_return;
      if (*h == end_error) throw std::runtime_error("crash");
      otp::exit(reason_of(*h));
    }
  }
}

/// A worker whose init fails while *fail is set.
inline otp::process<int> flaky(std::shared_ptr<bool> fail) {
  if (*fail) otp::init_fail(otp::exit_reason::other("cannot_start"));
  otp::init_ack();
  for (;;) co_await otp::receive();
}

/// Traps exits; when asked to shut down, ends with `own` instead.
inline otp::process<int> ends_own_way(otp::exit_reason own) {
  otp::trap_exit(true);
  otp::init_ack();
  for (;;) {
    auto m = co_await otp::receive();
    if (std::holds_alternative<otp::exit_message>(m)) otp::exit(own);
  }
}

/// Traps exits and ignores them: only kill ends it.
inline otp::process<int> stubborn(bool unlink_from_parent) {
  otp::trap_exit(true);
  if (unlink_from_parent) otp::unlink(otp::parent());
  otp::init_ack();
  for (;;) co_await otp::receive();
}

inline child_spec spec(std::string id, log_ptr log, restart_type r = restart_type::permanent) {
  auto name = id;
  return child_spec(std::move(id), otp::start_fn(worker, std::move(name), std::move(log)), r);
}

using test_task = otp::task<void, otp::nothing>;
template <class T>
using test_task_of = otp::task<T, otp::nothing>;

/// Starts a supervisor not linked to the test (which stays its parent).
inline test_task_of<otp::result<otp::supervisor_ref>> start_sup(supervisor_flags f, std::vector<child_spec> children) {
  otp::start_options o;
  o.link = false;
  co_return co_await otp::start_supervisor(f, std::move(children), o);
}

/// A supervisor of workers named `ids` (in that start order).
inline test_task_of<otp::supervisor_ref> start_workers(supervisor_flags f, log_ptr log,
                                                        std::vector<std::string> ids) {
  std::vector<child_spec> cs;
  for (auto& id : ids) cs.push_back(spec(id, log));
  co_return (co_await start_sup(f, std::move(cs))).value();
}

/// The reason in the down of `mon`; other messages stay in the mailbox.
inline otp::task<otp::exit_reason> wait_down(otp::monitor_ref mon) {
  co_return (co_await otp::receive_down(mon)).reason;
}

/// Stops a supervisor as its parent does, and returns its exit reason.
inline test_task_of<otp::exit_reason> stop_sup(otp::pid sup) {
  auto mon = otp::monitor(sup);
  otp::exit(sup, otp::exit_reason::shutdown());
  co_return co_await wait_down(mon);
}

inline test_task_of<otp::pid> pid_of(otp::supervisor_ref sup, std::string id) {
  auto kids = (co_await otp::which_children(sup)).value();
  for (auto& k : kids)
    if (k.id == id) co_return k.process;
  co_return otp::pid();
}

inline test_task_of<std::vector<otp::pid>> pids_of(otp::supervisor_ref sup) {
  std::vector<otp::pid> out;
  auto kids = (co_await otp::which_children(sup)).value();
  for (auto& k : kids) out.push_back(k.process);
  co_return out;
}

/// Tells a worker to end as `h` says and waits until it has.
inline test_task_of<otp::exit_reason> end_child(otp::pid p, int h) {
  auto mon = otp::monitor(p);
  otp::send(otp::handle<int>::from(p).value(), h);
  co_return co_await wait_down(mon);
}

inline test_task_of<otp::exit_reason> kill_child(otp::pid p) {
  auto mon = otp::monitor(p);
  otp::exit(p, otp::exit_reason::kill());
  co_return co_await wait_down(mon);
}

inline std::size_t reports(const char* context) {
  std::size_t n = 0;
  for (auto& e : otp::testing::logged())
    if (e.what == otp::log_event::kind::supervisor_report && e.context == context) ++n;
  return n;
}

}  // namespace sup_test
using namespace sup_test;
