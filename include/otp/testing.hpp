// SPDX-License-Identifier: MIT
#pragma once
// otp::testing: test your processes with OTP semantics and exact time.
//
// `otp::testing::run(body)` runs `body` as a process on a fresh io_context and
// runtime whose clock is virtual (otp::manual_clock): time moves only when
// nothing is runnable, straight to the next deadline, so a 5 s timeout takes
// no real time and timing rules are exact and repeatable. It returns a report
// that fails when:
//   - the body ends with any reason other than `normal` (an escaped exception,
//     a failed REQUIRE, otp::exit(reason), a kill);
//   - processes are still alive after the body ended (they are then killed);
//   - the runtime deadlocks: processes alive, nothing runnable, no timer and
//     no Asio operation pending;
//   - the body has not ended after `options::time_limit` of virtual time.
// Crash reports of other processes are collected in `report::log`, not
// treated as failures: tests crash processes on purpose.
//
// With doctest included first, OTP_TEST_CASE("name") { ... co_await ...; }
// declares a test whose body is such a process (message type otp::nothing);
// OTP_TEST_CASE_M("name", M) gives the body the message type M.
//
// Virtual time moves only when the runtime is idle: while a process awaits a
// socket, an Asio timer of its own or offloaded work, the clock stands still
// (the runtime is busy). Tests of network code wait with otp::yield() or for
// messages, not with sleep_for.
//
// Multi-threaded runs (options::threads > 1, one shard per thread) use the
// same virtual clock; doctest's CHECK is not thread-safe, so check from the
// body only.

#include <otp/process.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace otp::testing {

struct options {
  std::size_t threads = 1;
  std::size_t shards = 0;  ///< 0: one per thread
  /// runtime_options::migration: with more than one shard, an idle shard
  /// takes runnable processes from a busy one. Off: each process stays on
  /// the shard it was spawned on. (A run with one thread is repeatable
  /// either way: the io_context takes the shards' turns in order.)
  bool migration = true;
  duration time_limit = std::chrono::hours(1);  ///< virtual time
  /// Collect log events in report::log / events. Off for tests that crash
  /// processes on purpose a million times.
  bool keep_log = true;
};

struct report {
  std::vector<std::string> failures;
  std::vector<std::string> log;  ///< crash reports and other log lines, in order
  std::vector<log_event> events;  ///< the same, as the logging hook received them
  exit_reason body_reason;
  bool ok() const noexcept { return failures.empty(); }
};

namespace detail {

class harness {
 public:
  explicit harness(const options& o);
  ~harness();
  otp::runtime& rt() noexcept;
  void fail(std::string what);
  void body_ended(const exit_reason& r);
  /// Called by the watcher once the body is gone and the rest had a chance to end.
  void check_leftovers(std::size_t own);
  report run();

 public:
  struct impl;

 private:
  options opts_;
  std::unique_ptr<impl> impl_;
};

template <class F>
otp::process<> watch(F body, harness* h) {
  auto [child, ref] = otp::spawn_monitor(std::move(body));
  auto m = co_await otp::receive();
  if (auto* d = std::get_if<down_message>(&m)) h->body_ended(d->reason);
  // Virtual time moves only when every shard is idle: this sleep returns once
  // the processes that are still ending (exit signals in flight, on any
  // thread) are done. Whatever lives after it is left over.
  co_await otp::sleep_for(std::chrono::nanoseconds(1));
  h->check_leftovers(1);
}

}  // namespace detail

/// Runs `body` (a callable returning otp::process<M>) as described above.
template <class F>
report run(F&& body, const options& o = {}) {
  detail::harness h(o);
  otp::spawn(h.rt(), detail::watch<std::decay_t<F>>, std::forward<F>(body), &h);
  return h.run();
}

/// Inside a test run by otp::testing::run: what the logging hook received so
/// far (crash and supervisor reports), in order. Empty outside a run.
std::vector<log_event> logged();

/// A thread-safe list of events, compared whole: log("a:recv"), then
/// CHECK(log.events() == std::vector<std::string>{...}).
class event_log {
 public:
  void operator()(std::string e) {
    std::lock_guard<std::mutex> g(m_);
    v_.push_back(std::move(e));
  }
  std::vector<std::string> events() const {
    std::lock_guard<std::mutex> g(m_);
    return v_;
  }

 private:
  mutable std::mutex m_;
  std::vector<std::string> v_;
};

}  // namespace otp::testing

#ifdef DOCTEST_LIBRARY_INCLUDED
#define OTP_TESTING_CAT2(a, b) a##b
#define OTP_TESTING_CAT(a, b) OTP_TESTING_CAT2(a, b)
#define OTP_TESTING_CASE(name, M, fn)                                   \
  static ::otp::process<M> fn();                                        \
  TEST_CASE(name) {                                                     \
    auto otp_testing_report = ::otp::testing::run(fn);                  \
    for (auto& otp_testing_f : otp_testing_report.failures) FAIL_CHECK(otp_testing_f); \
  }                                                                     \
  static ::otp::process<M> fn()
/// A doctest test case whose body is a process (see otp/testing.hpp).
#define OTP_TEST_CASE(name) OTP_TESTING_CASE(name, ::otp::nothing, OTP_TESTING_CAT(otp_test_body_, __COUNTER__))
/// The same, with the body taking messages of type M.
#define OTP_TEST_CASE_M(name, M) OTP_TESTING_CASE(name, M, OTP_TESTING_CAT(otp_test_body_, __COUNTER__))
#endif
