// SPDX-License-Identifier: MIT
// asio_bench <w1|w2|w3|w4|w5|w8|micro> <st|cc1|cc2>: the raw Asio baseline for
// the peer workloads (../README.md), on standalone Asio 1.22 and C++20
// coroutines. A process is a coroutine started with asio::co_spawn; its
// mailbox is an Asio experimental channel; messages go through
// async_send / async_receive awaited with asio::use_awaitable.
//
//   st   experimental::channel, io_context(1) run by one thread
//   cc1  experimental::concurrent_channel, io_context(1) run by one thread
//   cc2  experimental::concurrent_channel, io_context(2) run by two threads
//
// `micro` runs on one thread (st or cc1). Every figure is printed as
// `RESULT <metric> <value> <unit>`, timing the workload only. A wrong result
// is reported on stderr with a non-zero exit; bad arguments exit 2.
// W5_N in the environment changes W5's call count.
//
// Build: g++ -O2 -std=c++20 -pthread bench.cpp -o asio_bench
//
// GCC 12 note: apart from the awaitable being awaited (Asio's ordinary
// `co_await x.async_op(use_awaitable)` form), no temporary with a non-trivial
// destructor appears in a co_await expression: every message type here is
// trivially destructible, and the values sent are scalars or named locals.

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/experimental/channel.hpp>
#include <asio/experimental/concurrent_channel.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <exception>
#include <string>
#include <thread>
#include <vector>

namespace {

using asio::awaitable;
using asio::use_awaitable;
using i64 = std::int64_t;

// The two mailbox flavours. Workloads are templates over one of them.
template <class T>
using chan = asio::experimental::channel<void(asio::error_code, T)>;
template <class T>
using cchan = asio::experimental::concurrent_channel<void(asio::error_code, T)>;

double now_ns() {
  return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void report(const char* metric, double value, const char* unit) {
  std::printf("RESULT %s %.1f%s%s\n", metric, value, *unit ? " " : "", unit);
}

i64 env_or(const char* name, i64 dflt) {
  const char* v = std::getenv(name);
  return v ? std::atoll(v) : dflt;
}

// ---- W1 skynet: a 10-ary tree of coroutines, 1,000,000 leaves. A leaf sends
// its ordinal to its parent; an inner node sums its children's replies and
// sends the sum up. A leaf only sends, so it has no mailbox; an inner node's
// mailbox holds all 10 replies (capacity = its fan-in, so no child waits).
template <template <class> class Chan>
awaitable<void> skynet(Chan<i64>* parent, i64 num, i64 size) {
  if (size == 1) {
    co_await parent->async_send(asio::error_code{}, num, use_awaitable);
    co_return;
  }
  auto ex = co_await asio::this_coro::executor;
  Chan<i64> mailbox(ex, 10);
  const i64 sub = size / 10;
  for (i64 i = 0; i < 10; ++i) asio::co_spawn(ex, skynet<Chan>(&mailbox, num + i * sub, sub), asio::detached);
  i64 sum = 0;
  for (int i = 0; i < 10; ++i) sum += co_await mailbox.async_receive(use_awaitable);
  co_await parent->async_send(asio::error_code{}, sum, use_awaitable);
}

template <template <class> class Chan>
awaitable<bool> w1() {
  const i64 leaves = 1000000;
  auto ex = co_await asio::this_coro::executor;
  Chan<i64> mailbox(ex, 10);
  const double t = now_ns();
  const i64 sub = leaves / 10;
  for (i64 i = 0; i < 10; ++i) asio::co_spawn(ex, skynet<Chan>(&mailbox, i * sub, sub), asio::detached);
  i64 sum = 0;
  for (int i = 0; i < 10; ++i) sum += co_await mailbox.async_receive(use_awaitable);
  const double el = now_ns() - t;
  if (sum != leaves * (leaves - 1) / 2) {
    std::fprintf(stderr, "w1: bad sum %lld, expected %lld\n", static_cast<long long>(sum),
                 static_cast<long long>(leaves * (leaves - 1) / 2));
    co_return false;
  }
  report("w1_ms", el / 1e6, "ms");
  report("w1_sum", static_cast<double>(sum), "");
  co_return true;
}

// ---- W2 ping-pong: 1,000,000 round trips of an integer. At most one message
// is in flight each way, so each mailbox has capacity 1. A negative value
// stops the pong coroutine.
template <template <class> class Chan>
awaitable<void> pong(Chan<i64>* mailbox, Chan<i64>* ping) {
  for (;;) {
    const i64 v = co_await mailbox->async_receive(use_awaitable);
    if (v < 0) co_return;
    co_await ping->async_send(asio::error_code{}, v, use_awaitable);
  }
}

template <template <class> class Chan>
awaitable<bool> w2() {
  const i64 n = 1000000;
  auto ex = co_await asio::this_coro::executor;
  Chan<i64> mailbox(ex, 1), pong_mailbox(ex, 1);
  asio::co_spawn(ex, pong<Chan>(&pong_mailbox, &mailbox), asio::detached);
  const double t = now_ns();
  for (i64 i = 0; i < n; ++i) {
    co_await pong_mailbox.async_send(asio::error_code{}, i, use_awaitable);
    const i64 back = co_await mailbox.async_receive(use_awaitable);
    if (back != i) {
      std::fprintf(stderr, "w2: sent %lld, got back %lld\n", static_cast<long long>(i), static_cast<long long>(back));
      co_return false;
    }
  }
  report("w2_ns_per_rt", (now_ns() - t) / static_cast<double>(n), "ns");
  co_await pong_mailbox.async_send(asio::error_code{}, i64(-1), use_awaitable);
  co_return true;
}

// ---- W3 ring: 10,000 coroutines, each forwarding a token to the next; the
// token carries the hops left. Set-up (timed) creates the mailboxes and
// spawns each node with its own mailbox and its successor's. One token
// circulates, so capacity 1. The node that receives 0 tells the bench; a
// negative token stops the ring, the last node reporting that it has passed.
template <template <class> class Chan>
awaitable<void> ring_node(Chan<i64>* mailbox, Chan<i64>* next, Chan<i64>* done, bool last) {
  for (;;) {
    const i64 k = co_await mailbox->async_receive(use_awaitable);
    if (k < 0) {
      if (last)
        co_await done->async_send(asio::error_code{}, k, use_awaitable);
      else
        co_await next->async_send(asio::error_code{}, k, use_awaitable);
      co_return;
    }
    if (k == 0)
      co_await done->async_send(asio::error_code{}, k, use_awaitable);
    else
      co_await next->async_send(asio::error_code{}, k - 1, use_awaitable);
  }
}

template <template <class> class Chan>
awaitable<bool> w3() {
  const i64 procs = 10000, hops = 1000000;
  auto ex = co_await asio::this_coro::executor;
  Chan<i64> done(ex, 1);
  const double t0 = now_ns();
  std::deque<Chan<i64>> ring;  // a deque keeps each mailbox's address as it grows
  for (i64 i = 0; i < procs; ++i) ring.emplace_back(ex, 1);
  for (i64 i = 0; i < procs; ++i)
    asio::co_spawn(ex, ring_node<Chan>(&ring[i], &ring[(i + 1) % procs], &done, i == procs - 1), asio::detached);
  const double setup = now_ns() - t0;

  const double t = now_ns();
  co_await ring[0].async_send(asio::error_code{}, hops, use_awaitable);
  const i64 end = co_await done.async_receive(use_awaitable);
  const double el = now_ns() - t;
  report("w3_setup_ms", setup / 1e6, "ms");
  report("w3_ns_per_hop", el / static_cast<double>(hops), "ns");

  // Stop the ring and wait until the stop token has passed every node, so no
  // node still refers to `ring` when this frame goes away.
  co_await ring[0].async_send(asio::error_code{}, i64(-1), use_awaitable);
  const i64 stopped = co_await done.async_receive(use_awaitable);
  if (end != 0 || stopped != -1) {
    std::fprintf(stderr, "w3: token ended at %lld, stop token %lld\n", static_cast<long long>(end),
                 static_cast<long long>(stopped));
    co_return false;
  }
  co_return true;
}

// ---- W4 spawn: 100,000 coroutines that end at once. Asio has no monitors:
// each one's co_spawn completion handler posts a notification to the
// parent's mailbox, and the parent receives all of them. The completion
// handler is a plain function and cannot suspend, so it uses try_send; the
// parent expects n notifications and sizes its mailbox to hold them all (as
// W1's nodes do for their 10 replies), so try_send always finds room.
awaitable<void> nop() { co_return; }

template <template <class> class Chan>
awaitable<bool> w4() {
  const i64 n = 100000;
  auto ex = co_await asio::this_coro::executor;
  Chan<i64> mailbox(ex, static_cast<std::size_t>(n));
  const double t = now_ns();
  for (i64 i = 0; i < n; ++i)
    asio::co_spawn(ex, nop(), [&mailbox](std::exception_ptr e) {
      if (!mailbox.try_send(asio::error_code{}, i64(e ? 0 : 1))) {
        std::fprintf(stderr, "w4: a notification found the mailbox full\n");
        std::abort();
      }
    });
  i64 ok = 0;
  // Most notifications are already queued when the parent looks, so it
  // takes them with try_receive and suspends in async_receive only when the
  // mailbox is empty: what a user would write once the profile shows the
  // awaitable path (about 100 ns a message here) dominating.
  for (i64 i = 0; i < n; ++i) {
    const bool took = mailbox.try_receive([&ok](asio::error_code, i64 v) { ok += v; });
    if (!took) ok += co_await mailbox.async_receive(use_awaitable);
  }
  const double el = now_ns() - t;
  if (ok != n) {
    std::fprintf(stderr, "w4: %lld of %lld coroutines failed\n", static_cast<long long>(n - ok),
                 static_cast<long long>(n));
    co_return false;
  }
  report("w4_ns_per_spawn", el / static_cast<double>(n), "ns");
  co_return true;
}

// ---- W5 call: synchronous request/reply with a server coroutine that
// answers x with x + 1. A request carries the caller's own mailbox for the
// reply; a request without one stops the server. One caller, one call in
// flight, so both mailboxes have capacity 1.
template <template <class> class Chan>
struct request {
  i64 x;
  Chan<i64>* reply_to;
};

template <template <class> class Chan>
awaitable<void> w5_server(Chan<request<Chan>>* mailbox) {
  for (;;) {
    const request<Chan> req = co_await mailbox->async_receive(use_awaitable);
    if (!req.reply_to) co_return;
    co_await req.reply_to->async_send(asio::error_code{}, req.x + 1, use_awaitable);
  }
}

// The client side of one call.
template <template <class> class Chan>
awaitable<i64> call(Chan<request<Chan>>* server, Chan<i64>* self, i64 x) {
  const request<Chan> req{x, self};
  co_await server->async_send(asio::error_code{}, req, use_awaitable);
  co_return co_await self->async_receive(use_awaitable);
}

// Runs n calls against a fresh server; returns ns per call, or < 0 on a wrong reply.
template <template <class> class Chan>
awaitable<double> timed_calls(i64 n) {
  auto ex = co_await asio::this_coro::executor;
  Chan<request<Chan>> server(ex, 1);
  Chan<i64> self(ex, 1);
  asio::co_spawn(ex, w5_server<Chan>(&server), asio::detached);
  const double t = now_ns();
  for (i64 k = 0; k < n; ++k) {
    const i64 r = co_await call<Chan>(&server, &self, k);
    if (r != k + 1) {
      std::fprintf(stderr, "call: sent %lld, got %lld\n", static_cast<long long>(k), static_cast<long long>(r));
      co_return -1.0;
    }
  }
  const double per = (now_ns() - t) / static_cast<double>(n);
  const request<Chan> stop{0, nullptr};
  co_await server.async_send(asio::error_code{}, stop, use_awaitable);
  co_return per;
}

template <template <class> class Chan>
awaitable<bool> w5() {
  const i64 n = env_or("W5_N", 1000000);
  if (n <= 0) {
    std::fprintf(stderr, "w5: W5_N must be a positive count\n");
    co_return false;
  }
  const double per = co_await timed_calls<Chan>(n);
  if (per < 0) co_return false;
  report("w5_ns_per_call", per, "ns");
  co_return true;
}

// ---- W8 fan-in: 1,000 producers each send 10,000 integers to one consumer
// (the bench coroutine itself), which counts 10,000,000. Its mailbox is
// bounded at 1,024 messages, as a user would bound a busy mailbox rather than
// size it for all 10,000,000: producers beyond it wait in async_send.
template <template <class> class Chan>
awaitable<void> producer(Chan<i64>* consumer, i64 per) {
  for (i64 i = 0; i < per; ++i) co_await consumer->async_send(asio::error_code{}, i, use_awaitable);
}

template <template <class> class Chan>
awaitable<bool> w8() {
  const i64 prods = 1000, per = 10000, total = prods * per;
  auto ex = co_await asio::this_coro::executor;
  Chan<i64> mailbox(ex, 1024);
  const double t = now_ns();
  for (i64 p = 0; p < prods; ++p) asio::co_spawn(ex, producer<Chan>(&mailbox, per), asio::detached);
  i64 sum = 0;
  for (i64 k = 0; k < total; ++k) sum += co_await mailbox.async_receive(use_awaitable);
  const double el = now_ns() - t;
  if (sum != prods * (per * (per - 1) / 2)) {
    std::fprintf(stderr, "w8: bad sum of received values %lld\n", static_cast<long long>(sum));
    co_return false;
  }
  report("w8_msgs_per_s", static_cast<double>(total) / (el / 1e9), "msg/s");
  co_return true;
}

// ---- micro: single operations, one thread.
template <template <class> class Chan>
awaitable<bool> micro() {
  auto ex = co_await asio::this_coro::executor;

  // m_send_ns / m_receive_ns: 1,000,000 integers into a mailbox with room for
  // all of them, then out again. These are try_send / try_receive, the
  // channel's non-suspending fast paths: nothing receives while the sends are
  // timed, so an awaited send would only add a post and a resumption per op.
  {
    const i64 n = 1000000;
    Chan<i64> mailbox(ex, static_cast<std::size_t>(n));
    double t = now_ns();
    for (i64 i = 0; i < n; ++i)
      if (!mailbox.try_send(asio::error_code{}, i)) {
        std::fprintf(stderr, "micro: try_send %lld failed\n", static_cast<long long>(i));
        co_return false;
      }
    report("m_send_ns", (now_ns() - t) / static_cast<double>(n), "ns");
    i64 got = 0, sum = 0;
    t = now_ns();
    for (i64 i = 0; i < n; ++i)
      got += mailbox.try_receive([&sum](asio::error_code, i64 v) { sum += v; }) ? 1 : 0;
    report("m_receive_ns", (now_ns() - t) / static_cast<double>(n), "ns");
    if (got != n || sum != n * (n - 1) / 2) {
      std::fprintf(stderr, "micro: received %lld messages, sum %lld\n", static_cast<long long>(got),
                   static_cast<long long>(sum));
      co_return false;
    }
  }

  // m_spawn_ns: 100,000 co_spawns of an empty coroutine, timed until every
  // one has completed; each completion handler decrements a counter, and the
  // one that reaches zero wakes the spawner.
  {
    const i64 n = 100000;
    std::atomic<i64> left{n};
    Chan<i64> done(ex, 1);
    const double t = now_ns();
    for (i64 i = 0; i < n; ++i)
      asio::co_spawn(ex, nop(), [&left, &done](std::exception_ptr) {
        if (left.fetch_sub(1, std::memory_order_acq_rel) == 1) done.try_send(asio::error_code{}, i64(0));
      });
    co_await done.async_receive(use_awaitable);
    report("m_spawn_ns", (now_ns() - t) / static_cast<double>(n), "ns");
  }

  // m_call_ns: 100,000 calls, as W5.
  {
    const double per = co_await timed_calls<Chan>(100000);
    if (per < 0) co_return false;
    report("m_call_ns", per, "ns");
  }
  co_return true;
}

// ---- driver

int usage() {
  std::fprintf(stderr,
               "usage: asio_bench <w1|w2|w3|w4|w5|w8|micro> <st|cc1|cc2>\n"
               "  st: channel, 1 thread; cc1: concurrent_channel, 1 thread; cc2: concurrent_channel, 2 threads\n"
               "  micro runs on one thread (st or cc1)\n");
  return 2;
}

using bench_fn = awaitable<bool> (*)();

// Picks the workload for one channel flavour; nullptr if the name is unknown.
template <template <class> class Chan>
bench_fn workload(const std::string& w) {
  if (w == "w1") return &w1<Chan>;
  if (w == "w2") return &w2<Chan>;
  if (w == "w3") return &w3<Chan>;
  if (w == "w4") return &w4<Chan>;
  if (w == "w5") return &w5<Chan>;
  if (w == "w8") return &w8<Chan>;
  if (w == "micro") return &micro<Chan>;
  return nullptr;
}

// Runs the bench coroutine on an io_context driven by `threads` threads (the
// concurrency hint says how many) and returns the exit status.
int run(bench_fn bench, int threads) {
  asio::io_context ctx(threads);
  bool ok = false;
  std::exception_ptr error;
  asio::co_spawn(ctx, bench(), [&](std::exception_ptr e, bool r) {
    error = e;
    ok = r;
  });
  std::vector<std::thread> others;
  for (int i = 1; i < threads; ++i) others.emplace_back([&ctx] { ctx.run(); });
  ctx.run();
  for (auto& th : others) th.join();
  if (error) {
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "asio_bench: %s\n", e.what());
    }
    return 1;
  }
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) return usage();
  const std::string w = argv[1], mode = argv[2];
  bench_fn bench = nullptr;
  int threads = 1;
  if (mode == "st") {
    bench = workload<chan>(w);
  } else if (mode == "cc1") {
    bench = workload<cchan>(w);
  } else if (mode == "cc2") {
    if (w == "micro") return usage();
    bench = workload<cchan>(w);
    threads = 2;
  }
  if (!bench) return usage();
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  return run(bench, threads);
}
