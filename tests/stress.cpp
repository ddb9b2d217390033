// SPDX-License-Identifier: MIT
// Many processes on two threads, many senders, links and kills flying:
// nothing lost, nothing duplicated. Run under TSan in CI.
#include <otp/process.hpp>

#include <doctest/doctest.h>
#include <otp/testing.hpp>

#include <atomic>
#include <vector>

using namespace std::chrono_literals;

namespace {
struct tagged {
  int sender;
  int seq;
  tagged(int s, int q) : sender(s), seq(q) {}
};

// Receives `senders * per` messages, checking per-sender order, then reports.
otp::process<tagged> sink(int senders, int per, otp::handle<int> report) {
  std::vector<int> next(static_cast<std::size_t>(senders), 0);
  int bad = 0;
  for (int i = 0; i < senders * per; ++i) {
    auto t = std::get<tagged>(co_await otp::receive());
    if (next[static_cast<std::size_t>(t.sender)]++ != t.seq) ++bad;
  }
  otp::send(report, bad);
}

otp::process<> source(int id, int per, otp::handle<tagged> to) {
  for (int i = 0; i < per; ++i) co_await otp::send(to, tagged(id, i));
}
}  // namespace

TEST_SUITE("stress") {

TEST_CASE("two threads: every message arrives once and in per-sender order") {
  otp::testing::options o;
  o.threads = 2;
  std::atomic<int> bad{-1};
  auto r = otp::testing::run([&bad]() -> otp::process<int> {
    constexpr int senders = 40, per = 500;
    otp::spawn_options far;
    far.shard = 1;
    auto me = otp::self_as<int>();
    auto s = otp::spawn_opt(far, sink, senders, per, me).pid;
    for (int i = 0; i < senders; ++i) {
      otp::spawn_options opt;
      opt.shard = i % 2;
      otp::spawn_opt(opt, source, i, per, s);
    }
    bad = std::get<int>(co_await otp::receive());
  }, o);
  CHECK(r.ok());
  for (auto& f : r.failures) MESSAGE(f);
  CHECK(bad == 0);
}

TEST_CASE("two threads: links and kills flying, every down arrives exactly once") {
  otp::testing::options o;
  o.threads = 2;
  std::atomic<int> downs{0};
  auto r = otp::testing::run([&downs]() -> otp::process<> {
    constexpr int pairs = 200;
    std::vector<otp::monitor_ref> refs;
    for (int i = 0; i < pairs; ++i) {
      otp::spawn_options a;
      a.shard = i % 2;
      a.monitor = true;
      auto victim = otp::spawn_opt(a, []() -> otp::process<int> {
        for (;;) co_await otp::receive();
      });
      refs.push_back(victim.monitor);
      otp::spawn_options b;
      b.shard = (i + 1) % 2;
      b.monitor = true;
      auto killer = otp::spawn_opt(b, [](otp::handle<int> v, int k) -> otp::process<> {
        otp::link(v);
        for (int j = 0; j < k % 7; ++j) otp::send(v, j);
        co_await otp::yield();
        otp::exit(v, k % 3 == 0 ? otp::exit_reason::kill() : otp::exit_reason::other("stop"));
        co_await otp::receive();  // the link brings the victim's exit back to us
      }, victim.pid, i);
      refs.push_back(killer.monitor);
    }
    std::vector<int> seen(refs.size(), 0);
    for (std::size_t i = 0; i < refs.size(); ++i) {
      auto d = std::get<otp::down_message>(co_await otp::receive());
      for (std::size_t k = 0; k < refs.size(); ++k)
        if (refs[k] == d.ref) ++seen[k];
      ++downs;
    }
    for (int s : seen) CHECK(s == 1);
    CHECK_FALSE((co_await otp::receive(1s)).has_value());
  }, o);
  for (auto& f : r.failures) MESSAGE(f);
  CHECK(r.ok());
  CHECK(downs == 400);
}

}  // TEST_SUITE
