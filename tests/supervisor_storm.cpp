// SPDX-License-Identifier: MIT
// Supervisors under load: a crash storm that must leave memory flat, and
// supervision across threads (run under TSan in CI).
#include "supervision.hpp"

#include <cstdio>
#include <cstdlib>
#include <unistd.h>

namespace {
std::int64_t storm_cycles() {
  if (const char* v = std::getenv("OTP_STORM_CYCLES")) return std::atoll(v);
  return OTP_STORM_CYCLES;
}

constexpr std::int64_t storm_chunk = 10000;  ///< cycles between two pauses of virtual time

/// Resident set size in bytes (Linux).
std::size_t rss_bytes() {
  long pages = 0, resident = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return static_cast<std::size_t>(resident) * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

/// Tells `up` it is up, then crashes when told to.
otp::process<int> crashes_on_demand(otp::handle<otp::pid> up) {
  otp::send(up, otp::self());
  otp::init_ack();
  for (;;) {
    auto m = co_await otp::receive();
    if (std::holds_alternative<int>(m)) throw std::runtime_error("storm");
  }
}

/// Crashes the child `n` times, waiting each time for its replacement.
otp::task<otp::pid, otp::pid> crash_cycles(otp::pid child, std::int64_t n) {
  for (std::int64_t k = 0; k < n; ++k) {
    if (k % storm_chunk == storm_chunk - 1) co_await otp::sleep_for(std::chrono::seconds(2));
    otp::send(otp::handle<int>::from(child).value(), 1);
    for (;;) {
      auto m = co_await otp::receive();
      if (auto* p = std::get_if<otp::pid>(&m)) {
        child = *p;
        break;
      }
    }
  }
  co_return child;
}

otp::task<otp::supervisor_ref, otp::pid> start_storm_sup(std::optional<std::size_t> shard) {
  std::vector<child_spec> cs;
  cs.emplace_back("c", otp::start_fn(crashes_on_demand, otp::self_as<otp::pid>()));
  // The intensity is raised on purpose: every cycle is a restart. Virtual
  // time stands still while the storm runs, so it pauses 2 s after each
  // chunk and the 1 s window slides (the supervisor keeps one timestamp per
  // restart within the window).
  supervisor_flags f(restart_strategy::one_for_one, 2 * storm_chunk, std::chrono::seconds(1));
  otp::start_options o;
  o.link = false;
  o.spawn.shard = shard;
  co_return (co_await otp::start_supervisor(f, std::move(cs), o)).value();
}

otp::task<otp::pid, otp::pid> first_up() {
  for (;;) {
    auto m = co_await otp::receive();
    if (auto* p = std::get_if<otp::pid>(&m)) co_return *p;
  }
}
}  // namespace

TEST_SUITE("supervisor_storm") {

static otp::process<otp::pid> storm() {
  const std::int64_t n = storm_cycles();
  auto sup = co_await start_storm_sup(std::nullopt);
  otp::pid child = co_await first_up();
  child = co_await crash_cycles(child, std::min<std::int64_t>(10000, n));  // warm the pools
  const std::size_t before = rss_bytes();
  child = co_await crash_cycles(child, n);
  const std::size_t after = rss_bytes();
  auto kids = (co_await otp::which_children(sup)).value();
  REQUIRE(kids.size() == 1);
  CHECK(kids[0].process == child);
  CHECK(kids[0].restarts == static_cast<std::uint64_t>(n + std::min<std::int64_t>(10000, n)));
  MESSAGE("crash storm: " << n << " cycles, RSS " << before / 1024 << " KiB -> " << after / 1024 << " KiB");
#ifdef OTP_STORM_CHECK_RSS
  CHECK(after <= before + 8 * 1024 * 1024);  // flat: no growth with the number of cycles
#endif
  auto mon = otp::monitor(sup);
  otp::exit(sup, otp::exit_reason::shutdown());
  for (;;) {
    auto m = co_await otp::receive();
    if (auto* d = std::get_if<otp::down_message>(&m); d && d->ref == mon) break;
  }
}

TEST_CASE("crash storm: a million crash/restart cycles leave memory flat") {
  otp::testing::options o;
  o.keep_log = false;  // two reports per cycle would be the growth measured
  auto r = otp::testing::run(storm, o);
  for (auto& f : r.failures) FAIL_CHECK(f);
}

TEST_CASE("supervision across threads: a supervisor on one shard, its caller on another") {
  otp::testing::options o;
  o.threads = 2;
  auto body = []() -> otp::process<otp::pid> {
    const std::int64_t n = std::min<std::int64_t>(storm_cycles(), 2000);
    auto sup = co_await start_storm_sup(1);
    otp::pid child = co_await first_up();
    child = co_await crash_cycles(child, n);
    // API calls cross threads too, while the child keeps crashing.
    for (int i = 0; i < 50; ++i) {
      otp::send(otp::handle<int>::from(child).value(), 1);
      auto kids = co_await otp::which_children(sup);
      REQUIRE(kids.has_value());
      child = co_await first_up();
    }
    auto mon = otp::monitor(sup);
    otp::exit(sup, otp::exit_reason::shutdown());
    for (;;) {
      auto m = co_await otp::receive();
      if (auto* d = std::get_if<otp::down_message>(&m); d && d->ref == mon) break;
    }
  };
  auto r = otp::testing::run(body, o);
  for (auto& f : r.failures) FAIL_CHECK(f);
}
}
