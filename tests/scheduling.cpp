// SPDX-License-Identifier: MIT
// Where processes run: placement at spawn (local, balanced, an explicit
// shard) and migration, an idle shard taking runnable processes from a busy
// one, shown by the counters inspect_shards() exposes. With one thread and
// two shards the runs are repeatable; the stress tests with real threads are
// in scheduling_stress.cpp.
#include <otp/asio.hpp>
#include <otp/dynamic_supervisor.hpp>
#include <otp/inspect.hpp>
#include <otp/process.hpp>
#include <otp/request.hpp>

#include <doctest/doctest.h>
#include <otp/testing.hpp>

#include <atomic>
#include <set>
#include <vector>

namespace {

// What a worker reports: the shards it ran on.
struct ran_on {
  explicit ran_on(std::set<std::size_t> s) : shards(std::move(s)) {}
  std::set<std::size_t> shards;
};

enum class pinning { none, pin_option, explicit_shard, executor };

// Yields `slices` times (a CPU-bound job cut in slices), noting its shard
// after each resumption, then reports.
otp::process<> worker(int slices, otp::handle<ran_on> report, pinning how) {
  if (how == pinning::executor) (void)otp::executor();
  std::set<std::size_t> seen{otp::current_shard()};
  for (int i = 0; i < slices; ++i) {
    co_await otp::yield();
    seen.insert(otp::current_shard());
  }
  otp::send(report, ran_on(std::move(seen)));
}

struct spread {
  std::vector<otp::shard_info> shards;
  std::size_t moved_workers = 0;  ///< workers that ran on more than one shard
  std::size_t reports = 0;
};

// The body of the stealing tests: `n` workers spawned on this shard, each
// `slices` resumptions long.
otp::process<ran_on> spawn_and_wait(int n, int slices, pinning how, spread* out) {
  for (int i = 0; i < n; ++i) {
    otp::spawn_options o;
    o.pin = how == pinning::pin_option;
    if (how == pinning::explicit_shard) o.shard = otp::current_shard();
    otp::spawn_opt(o, worker, slices, otp::self_as<ran_on>(), how);
  }
  for (int i = 0; i < n; ++i) {
    auto m = co_await otp::receive();
    auto& r = std::get<ran_on>(m);
    out->moved_workers += r.shards.size() > 1;
    ++out->reports;
  }
  out->shards = otp::inspect_shards();
}

otp::process<int> idle() { co_await otp::receive(); }

// Starts `n` idle children under a dynamic supervisor whose default is
// `dflt`, each spec saying `own` (if set); counts the children per shard.
otp::process<> children_per_shard(otp::placement dflt, std::optional<otp::placement> own, int n,
                                  std::vector<int>* per_shard) {
  otp::dynamic_supervisor_options opts;
  opts.place = dflt;
  auto sup = (co_await otp::start_dynamic_supervisor(opts)).value();
  per_shard->assign(otp::shard_count(), 0);
  for (int i = 0; i < n; ++i) {
    otp::child_spec spec("idle", otp::spawn_fn(idle), otp::restart_type::temporary);
    if (own) spec.place = *own;
    auto child = (co_await otp::start_child(sup, std::move(spec))).value();
    auto info = co_await otp::inspect(child);
    ++(*per_shard)[info.shard];
  }
  otp::unlink(sup);
  auto ref = otp::monitor(sup);
  otp::exit(sup, otp::exit_reason::shutdown());
  co_await otp::receive_down(ref);
}

// ---- a request's deadline moves with the process ----

struct ask {
  ask(int v, otp::reply_to<int> r) : value(v), reply(std::move(r)) {}
  int value;
  otp::reply_to<int> reply;
};
struct make_ask {
  explicit make_ask(int v) : value(v) {}
  int value;
  ask operator()(otp::reply_to<int> r) const { return ask(value, std::move(r)); }
};

// Takes `batch` requests, then answers the even ones all at once (their
// callers become runnable together, each with its deadline armed) and
// never answers the odd ones.
otp::process<ask> batcher(int batch) {
  std::vector<ask> held, ignored;
  for (;;) {
    auto m = co_await otp::receive();
    auto& a = std::get<ask>(m);
    if (a.value % 2) {
      ignored.push_back(std::move(a));
      continue;
    }
    held.push_back(std::move(a));
    if (held.size() < static_cast<std::size_t>(batch)) continue;
    for (auto& h : held) h.reply.send(h.value);
    held.clear();
  }
}

struct deadline_report {
  deadline_report(bool m, bool a, otp::duration e) : moved(m), answered(a), late_by(e) {}
  bool moved;
  bool answered;
  otp::duration late_by;  ///< how far from 50 ms the second request's timeout came
};

// Asks for an answer that comes (with a 10 s deadline), then for one that
// never comes (50 ms): the second deadline is set on whichever shard the
// first answer found it on, and must fire exactly.
otp::process<> asker(int i, otp::handle<ask> b, otp::handle<deadline_report> report) {
  const std::size_t before = otp::current_shard();
  make_ask even(2 * i);
  auto r = co_await otp::request<int>(b, even, std::chrono::seconds(10));
  const bool moved = otp::current_shard() != before;
  make_ask odd(2 * i + 1);
  const auto t0 = otp::now();
  auto never = co_await otp::request<int>(b, odd, std::chrono::milliseconds(50));
  const auto waited = otp::now() - t0;
  const bool timed_out = !never && never.error() == otp::errc::timeout;
  otp::send(report, deadline_report(moved, r && r.value() == 2 * i && timed_out,
                                    waited - std::chrono::milliseconds(50)));
}

otp::testing::options two_shards_one_thread() {
  otp::testing::options o;
  o.shards = 2;  // one thread: the io_context interleaves the two shards' drains
  return o;
}

}  // namespace

TEST_SUITE("scheduling") {

TEST_CASE("placement::local: a child starts on its parent's shard") {
  auto o = two_shards_one_thread();
  o.migration = false;
  std::atomic<int> wrong{-1};
  auto r = otp::testing::run([&wrong]() -> otp::process<std::size_t> {
    int bad = 0;
    for (int i = 0; i < 20; ++i) {
      otp::spawn([me = otp::self_as<std::size_t>()]() -> otp::process<> {
        otp::send(me, otp::current_shard());
        co_return;
      });
      bad += std::get<std::size_t>(co_await otp::receive()) != otp::current_shard();
    }
    wrong = bad;
  }, o);
  CHECK(r.ok());
  CHECK(wrong == 0);
}

TEST_CASE("placement::balanced: each spawn goes to the less loaded shard, so the shards fill evenly") {
  auto o = two_shards_one_thread();
  o.migration = false;  // where they were placed is where they run
  std::vector<otp::shard_info> after;
  std::vector<std::size_t> first_shard(2, 0);
  auto r = otp::testing::run([&]() -> otp::process<std::size_t> {
    constexpr int n = 200;
    std::vector<otp::handle<int>> kids;
    const auto before = otp::inspect_shards();
    for (int i = 0; i < n; ++i) {
      otp::spawn_options so;
      so.place = otp::placement::balanced;
      kids.push_back(otp::spawn_opt(so, [me = otp::self_as<std::size_t>()]() -> otp::process<int> {
        otp::send(me, otp::current_shard());
        co_await otp::receive();  // until told to end: they count as load meanwhile
      }).pid);
    }
    for (int i = 0; i < n; ++i) ++first_shard[std::get<std::size_t>(co_await otp::receive())];
    after = otp::inspect_shards();
    for (std::size_t s = 0; s < 2; ++s) after[s].spawned -= before[s].spawned;
    for (auto& k : kids) otp::send(k, 0);
  }, o);
  CHECK(r.ok());
  REQUIRE(after.size() == 2);
  // The spawner's shard already holds the test's two processes.
  CHECK(after[0].spawned + after[1].spawned == 200);
  CHECK(after[0].spawned >= 98);
  CHECK(after[0].spawned <= 100);
  CHECK(first_shard[0] == after[0].spawned);
  CHECK(first_shard[1] == after[1].spawned);
}

TEST_CASE("dynamic_supervisor_options::place spreads the children a supervisor starts; a child spec's own placement wins") {
  auto o = two_shards_one_thread();
  o.migration = false;
  std::vector<int> balanced, local, spec_balanced, spec_local;
  CHECK(otp::testing::run([&] { return children_per_shard(otp::placement::balanced, {}, 20, &balanced); }, o).ok());
  CHECK(otp::testing::run([&] { return children_per_shard(otp::placement::local, {}, 20, &local); }, o).ok());
  CHECK(otp::testing::run(
            [&] { return children_per_shard(otp::placement::local, otp::placement::balanced, 20, &spec_balanced); }, o)
            .ok());
  CHECK(otp::testing::run(
            [&] { return children_per_shard(otp::placement::balanced, otp::placement::local, 20, &spec_local); }, o)
            .ok());
  REQUIRE(balanced.size() == 2);
  REQUIRE(local.size() == 2);
  // The supervisor, the test and its watcher live on shard 0.
  CHECK(balanced[1] >= 10);
  CHECK(balanced[0] >= 8);
  CHECK(local[1] == 0);
  CHECK(spec_balanced[1] >= 10);
  CHECK(spec_local[1] == 0);
}

TEST_CASE("spawn_options::shard places the process there, and an index out of range is refused") {
  auto o = two_shards_one_thread();
  std::atomic<int> where{-1};
  std::atomic<bool> refused{false};
  auto r = otp::testing::run([&]() -> otp::process<std::size_t> {
    otp::spawn_options so;
    so.shard = 1;
    otp::spawn_opt(so, [me = otp::self_as<std::size_t>()]() -> otp::process<> {
      otp::send(me, otp::current_shard());
      co_return;
    });
    where = static_cast<int>(std::get<std::size_t>(co_await otp::receive()));
    so.shard = 2;
    try {
      otp::spawn_opt(so, []() -> otp::process<> { co_return; });
    } catch (const std::out_of_range&) {
      refused = true;
    }
  }, o);
  CHECK(r.ok());
  CHECK(where == 1);
  CHECK(refused);
}

TEST_CASE("an idle shard takes half the runnable processes of a busy one, and inspect_shards counts it") {
  auto o = two_shards_one_thread();
  spread s;
  auto r = otp::testing::run([&s] { return spawn_and_wait(64, 50, pinning::none, &s); }, o);
  CHECK(r.ok());
  CHECK(s.reports == 64);
  REQUIRE(s.shards.size() == 2);
  // Everything was spawned on shard 0; shard 1 got work only by taking it.
  CHECK(s.shards[1].spawned == 0);
  CHECK(s.shards[0].steals >= 1);
  CHECK(s.shards[1].immigrated >= 16);
  CHECK(s.shards[0].emigrated + s.shards[1].emigrated == s.shards[0].immigrated + s.shards[1].immigrated);
  CHECK(s.moved_workers >= 16);
}

TEST_CASE("a process that moves while its request's deadline is armed takes the deadline along") {
  std::size_t moved = 0, answered = 0, exact = 0;
  std::uint64_t immigrated = 0;
  auto r = otp::testing::run([&]() -> otp::process<deadline_report> {
    constexpr int n = 64;
    otp::spawn_options far;
    far.shard = 1;
    auto b = otp::spawn_opt(far, batcher, n).pid;
    for (int i = 0; i < n; ++i) otp::spawn(asker, i, b, otp::self_as<deadline_report>());
    for (int i = 0; i < n; ++i) {
      auto m = co_await otp::receive();
      auto& d = std::get<deadline_report>(m);
      moved += d.moved;
      answered += d.answered;
      exact += d.late_by == otp::duration::zero();
    }
    otp::exit(b, otp::exit_reason::kill());
    immigrated = otp::inspect_shards()[1].immigrated;
  }, two_shards_one_thread());
  CHECK(r.ok());
  CHECK(answered == 64);
  CHECK(exact == 64);  // the virtual clock: a deadline fires at its time, to the nanosecond
  CHECK(moved >= 8);   // runnable together, mailboxes empty, deadlines armed: half may go
  CHECK(immigrated >= moved);
}

TEST_CASE("runtime_options::migration off: every process stays on the shard it was spawned on") {
  auto o = two_shards_one_thread();
  o.migration = false;
  spread s;
  auto r = otp::testing::run([&s] { return spawn_and_wait(64, 50, pinning::none, &s); }, o);
  CHECK(r.ok());
  CHECK(s.reports == 64);
  CHECK(s.moved_workers == 0);
  for (auto& i : s.shards) {
    CHECK(i.immigrated == 0);
    CHECK(i.emigrated == 0);
  }
}

TEST_CASE("a pinned process never moves: spawn_options::pin, an explicit shard, or a call to otp::executor()") {
  for (pinning how : {pinning::pin_option, pinning::explicit_shard, pinning::executor}) {
    CAPTURE(static_cast<int>(how));
    spread s;
    auto r = otp::testing::run([&s, how] { return spawn_and_wait(64, 50, how, &s); }, two_shards_one_thread());
    CHECK(r.ok());
    CHECK(s.reports == 64);
    CHECK(s.moved_workers == 0);
    // A worker that pins itself by asking for the executor may have moved
    // before its first step (a fresh process is runnable).
    if (how != pinning::executor) CHECK(s.shards[1].immigrated == 0);
  }
}

TEST_CASE("one shard: nothing moves and nothing is counted as moved") {
  spread s;
  auto r = otp::testing::run([&s] { return spawn_and_wait(16, 20, pinning::none, &s); });
  CHECK(r.ok());
  REQUIRE(s.shards.size() == 1);
  CHECK(s.shards[0].immigrated == 0);
  CHECK(s.shards[0].emigrated == 0);
  CHECK(s.shards[0].steals == 0);
  CHECK(s.shards[0].spawned >= 18);
}

}  // TEST_SUITE
