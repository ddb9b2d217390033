// SPDX-License-Identifier: MIT
// Processes that move between shards, between their waits on timers,
// requests, offloaded work and sockets, while they are linked, monitored and
// registered, at 1, 2 and 4 threads (4 threads on 2 cores still interleave):
// nothing lost, duplicated, reordered or resumed twice. Run under TSan in CI.
// (A move with a request's deadline armed: tests/scheduling.cpp.)
#include <otp/asio.hpp>
#include <otp/inspect.hpp>
#include <otp/offload.hpp>
#include <otp/process.hpp>
#include <otp/request.hpp>

#include <doctest/doctest.h>
#include <otp/testing.hpp>

#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>

#include <array>
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

constexpr int workers = 48;
constexpr int rounds = 24;

struct tagged {
  tagged(int s, int q) : sender(s), seq(q) {}
  int sender;
  int seq;
};

struct twice {
  twice(int v, otp::reply_to<int> r) : value(v), reply(std::move(r)) {}
  int value;
  otp::reply_to<int> reply;
};
struct ask_twice {
  explicit ask_twice(int v) : value(v) {}
  int value;
  twice operator()(otp::reply_to<int> r) const { return twice(value, std::move(r)); }
};

struct tallies {
  std::atomic<int> out_of_order{0};
  std::atomic<int> received{0};
  std::atomic<int> bad_replies{0};
  std::atomic<int> early_wakeups{0};  ///< a sleep or timed receive that ended before its time
  std::atomic<int> bad_offloads{0};
  std::atomic<int> double_resumes{0};
  std::atomic<int> pings{0};
  std::atomic<int> bad_pings{0};
  std::atomic<int> exits{0};
  std::atomic<int> downs{0};
  std::array<std::atomic<int>, workers> running{};  ///< 1 while worker i's body runs
};

std::string name_of(int i) { return "sched-w" + std::to_string(i); }

// Checks per-sender order of everything the workers send it.
otp::process<tagged> sink(tallies* t) {
  std::vector<int> next(workers, 0);
  for (int n = 0; n < workers * rounds; ++n) {
    auto m = co_await otp::receive();
    auto& g = std::get<tagged>(m);
    if (next[static_cast<std::size_t>(g.sender)]++ != g.seq) ++t->out_of_order;
    ++t->received;
  }
}

otp::process<twice> doubler() {
  for (;;) {
    auto m = co_await otp::receive();
    auto& r = std::get<twice>(m);
    r.reply.send(r.value * 2);
  }
}

// Marks worker i's body as running on this thread; a second runner at once
// would find the mark.
struct in_body {
  in_body(tallies* t, int i) : flag(t->running[static_cast<std::size_t>(i)]), t(t) { enter(); }
  void enter() {
    if (flag.exchange(1, std::memory_order_acq_rel) != 0) ++t->double_resumes;
  }
  void leave() { flag.store(0, std::memory_order_release); }
  std::atomic<int>& flag;
  tallies* t;
};

// Sends its sequence to the sink, asks the doubler, sleeps, waits on a timed
// receive, offloads now and then, pings its successor by name half-way,
// and yields: every suspension is a chance to move.
otp::process<int> worker(int i, otp::handle<tagged> to_sink, otp::handle<twice> server, tallies* t) {
  in_body mark(t, i);
  int pinged = 0;
  auto take = [&](int v) {
    ++pinged;
    ++t->pings;
    if (v != (i + workers - 1) % workers) ++t->bad_pings;
  };
  for (int r = 0; r < rounds; ++r) {
    otp::send(to_sink, tagged(i, r));
    ask_twice ask(r);
    mark.leave();
    auto reply = co_await otp::request<int>(server, ask);
    mark.enter();
    if (!reply || reply.value() != 2 * r) ++t->bad_replies;

    const auto t0 = otp::now();
    mark.leave();
    co_await otp::sleep_for(3us);
    mark.enter();
    if (otp::now() - t0 < 3us) ++t->early_wakeups;

    const auto t1 = otp::now();
    mark.leave();
    auto got = co_await otp::receive(2us);
    mark.enter();
    if (got)
      take(std::get<int>(*got));
    else if (otp::now() - t1 < 2us)
      ++t->early_wakeups;

    if (r % 6 == 0) {
      auto work = [r] { return r + 1; };
      mark.leave();
      int v = co_await otp::offload(work);
      mark.enter();
      if (v != r + 1) ++t->bad_offloads;
    }
    if (r == rounds / 2) {
      auto next = otp::handle<int>::from(otp::whereis(name_of((i + 1) % workers)));
      if (next) otp::send(next.value(), i);
    }
    for (int y = 0; y < 8; ++y) {  // a burst of work in slices: queued to run again, it may move
      mark.leave();
      co_await otp::yield();
      mark.enter();
    }
  }
  while (pinged == 0) {
    mark.leave();
    auto m = co_await otp::receive();
    mark.enter();
    take(std::get<int>(m));
  }
  mark.leave();
}

// Spawns the workers here, linked and monitored, and counts one exit and one
// down per worker.
otp::process<> keeper(otp::handle<tagged> to_sink, otp::handle<twice> server, tallies* t) {
  otp::trap_exit(true);
  for (int i = 0; i < workers; ++i) {
    otp::spawn_options o;
    o.link = true;
    o.monitor = true;
    o.name = otp::local(name_of(i));
    otp::spawn_opt(o, worker, i, to_sink, server, t);
  }
  for (int ended = 0; ended < 2 * workers; ++ended) {
    auto m = co_await otp::receive();
    if (auto* e = std::get_if<otp::exit_message>(&m); e && e->reason.clean()) ++t->exits;
    if (auto* d = std::get_if<otp::down_message>(&m); d && d->reason.clean()) ++t->downs;
  }
}

void run_movers(std::size_t threads) {
  CAPTURE(threads);
  otp::testing::options o;
  o.threads = threads;
  o.shards = threads == 1 ? 2 : threads;
  auto t = std::make_unique<tallies>();
  std::vector<otp::shard_info> shards;
  auto r = otp::testing::run([&]() -> otp::process<> {
    // Sink and server on the last shard, pinned: traffic crosses shards.
    otp::spawn_options far;
    far.shard = otp::shard_count() - 1;
    far.monitor = true;
    auto s = otp::spawn_opt(far, sink, t.get());
    far.monitor = false;
    auto d = otp::spawn_opt(far, doubler);
    auto k = otp::spawn_monitor(keeper, s.pid, d.pid, t.get());
    co_await otp::receive_down(k.monitor);
    co_await otp::receive_down(s.monitor);
    otp::exit(d.pid, otp::exit_reason::kill());
    shards = otp::inspect_shards();
  }, o);
  for (auto& f : r.failures) MESSAGE(f);
  CHECK(r.ok());
  CHECK(t->received == workers * rounds);
  CHECK(t->out_of_order == 0);
  CHECK(t->bad_replies == 0);
  CHECK(t->early_wakeups == 0);
  CHECK(t->bad_offloads == 0);
  CHECK(t->double_resumes == 0);
  CHECK(t->pings == workers);
  CHECK(t->bad_pings == 0);
  CHECK(t->exits == workers);
  CHECK(t->downs == workers);
  std::uint64_t moved_in = 0, moved_out = 0;
  for (auto& i : shards) {
    moved_in += i.immigrated;
    moved_out += i.emigrated;
  }
  CHECK(moved_in == moved_out);
  CHECK(moved_in > 0);  // the workers all started on one shard
  MESSAGE("threads " << threads << ": " << moved_in << " moves");
}

// ---- sockets: a process that moves between its reads and writes ----

// An echo connection, pinned (its socket lives on its shard's strand).
otp::process<> echo_session(std::shared_ptr<asio::ip::tcp::socket> sock) {
  std::array<char, 256> buf;
  for (;;) {
    auto [ec, n] = co_await sock->async_read_some(asio::buffer(buf), otp::use_process);
    if (ec) co_return;
    auto [wec, w] = co_await asio::async_write(*sock, asio::buffer(buf.data(), n), otp::use_process);
    if (wec) co_return;
  }
}

otp::process<> echo_acceptor(std::shared_ptr<asio::ip::tcp::acceptor> a, int sessions) {
  for (int i = 0; i < sessions; ++i) {
    auto sock = std::make_shared<asio::ip::tcp::socket>(otp::executor());
    auto [ec] = co_await a->async_accept(*sock, otp::use_process);
    if (ec) co_return;
    otp::spawn_options o;
    o.pin = true;
    otp::spawn_opt(o, echo_session, sock);
  }
}

// A client whose socket belongs to the io_context (not to its shard's
// strand), so it stays free to move between operations.
otp::process<> client(asio::any_io_executor io, unsigned short port, int exchanges, std::atomic<int>* ok,
                      std::atomic<int>* bad) {
  asio::ip::tcp::socket sock(io);
  auto [cec] = co_await sock.async_connect({asio::ip::make_address("127.0.0.1"), port}, otp::use_process);
  if (cec) {
    ++*bad;
    co_return;
  }
  for (int k = 0; k < exchanges; ++k) {
    std::string out = "exchange " + std::to_string(k) + " of " + std::to_string(exchanges);
    auto [wec, w] = co_await asio::async_write(sock, asio::buffer(out), otp::use_process);
    std::string in(out.size(), '\0');
    auto [rec, n] = co_await asio::async_read(sock, asio::buffer(in), otp::use_process);
    if (wec || rec || in != out) ++*bad;
    for (int y = 0; y < 4; ++y) co_await otp::yield();
  }
  ++*ok;
}

void run_socket_movers(std::size_t threads) {
  CAPTURE(threads);
  constexpr int clients = 16, exchanges = 20;
  asio::io_context io(static_cast<int>(threads));
  otp::runtime_options ro;
  ro.shards = threads == 1 ? 2 : threads;
  ro.log = {};
  otp::runtime rt(io.get_executor(), ro);
  auto acceptor = std::make_shared<asio::ip::tcp::acceptor>(
      io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const unsigned short port = acceptor->local_endpoint().port();
  std::atomic<int> ok{0}, bad{0};
  otp::spawn_options last;
  last.shard = rt.shard_count() - 1;
  otp::spawn_opt(rt, last, echo_acceptor, acceptor, clients);
  // The clients all start on shard 0, busy enough for the others to take some.
  otp::spawn_options first;
  first.shard = 0;
  otp::spawn_opt(rt, first, [&, ex = io.get_executor()]() -> otp::process<> {
    for (int c = 0; c < clients; ++c) otp::spawn(client, ex, port, exchanges, &ok, &bad);
    co_return;
  });
  std::vector<std::thread> extra;
  for (std::size_t i = 1; i < threads; ++i) extra.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& th : extra) th.join();
  CHECK(ok == clients);
  CHECK(bad == 0);
  std::uint64_t moved = 0;
  for (auto& i : otp::inspect_shards(rt)) moved += i.immigrated;
  MESSAGE("threads " << threads << ": " << moved << " moves of socket clients");
}

// ---- shutdown and kill_all while processes move ----

// Traps exits and ignores shutdown: only the kill after the grace period
// ends it. Alternates bursts of work with short sleeps, so that shards keep
// going idle and taking work from each other.
otp::process<> stubborn() {
  otp::trap_exit(true);
  for (;;) {
    for (int i = 0; i < 8; ++i) co_await otp::yield();
    co_await otp::sleep_for(50us);
  }
}

otp::process<> spawn_stubborn(int n) {
  for (int i = 0; i < n; ++i) otp::spawn(stubborn);
  co_return;
}

// Runs `n` stubborn processes on `threads` threads for a few milliseconds,
// then stops the runtime with `stop`; run() must return (nothing missed).
template <class Stop>
std::uint64_t stop_while_moving(std::size_t threads, int n, Stop stop) {
  asio::io_context io(static_cast<int>(threads));
  otp::runtime_options ro;
  ro.shards = threads == 1 ? 2 : threads;
  ro.shutdown_timeout = 1ms;
  ro.log = {};
  otp::runtime rt(io.get_executor(), ro);
  otp::spawn_options first;
  first.shard = 0;
  otp::spawn_opt(rt, first, spawn_stubborn, n);
  asio::steady_timer later(io, 5ms);
  later.async_wait([&](std::error_code) { stop(rt); });
  std::vector<std::thread> extra;
  for (std::size_t i = 1; i < threads; ++i) extra.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& th : extra) th.join();
  std::uint64_t moved = 0;
  for (auto& i : otp::inspect_shards(rt)) moved += i.immigrated;
  CHECK(rt.live() == 0);
  return moved;
}

}  // namespace

TEST_SUITE("scheduling stress") {

TEST_CASE("shutdown and kill_all reach processes that are moving between shards (real time)") {
  for (std::size_t threads : {1u, 2u, 4u}) {
    CAPTURE(threads);
    std::uint64_t moved = 0;
    for (int round = 0; round < 10; ++round) {
      moved += stop_while_moving(threads, 64, [](otp::runtime& rt) { rt.shutdown(); });
      moved += stop_while_moving(threads, 64, [](otp::runtime& rt) { rt.kill_all(); });
    }
    CHECK(moved > 0);
  }
}


TEST_CASE("moving processes keep messages, links, monitors, names, timers, requests and offloads: 1 thread, 2 shards") {
  run_movers(1);
}
TEST_CASE("moving processes keep messages, links, monitors, names, timers, requests and offloads: 2 threads") {
  run_movers(2);
}
TEST_CASE("moving processes keep messages, links, monitors, names, timers, requests and offloads: 4 threads") {
  run_movers(4);
}

TEST_CASE("a process whose socket is not its shard's moves between reads and writes and loses no byte (real time)") {
  for (std::size_t threads : {1u, 2u, 4u}) run_socket_movers(threads);
}

}  // TEST_SUITE
