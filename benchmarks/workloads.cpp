// SPDX-License-Identifier: MIT
// otp_bench <w1|w2|w3|w4|w5|w6|w7|w8|w9|w10|micro> [threads]: the workloads of
// benchmarks/peers/README.md, same parameters, same `RESULT <metric> <value> <unit>`
// lines. OTP_BENCH_SMALL=1 shrinks N for smoke runs. With 2 threads the
// runtime has 2 shards: W1's subtrees, W3's ring and W8's producers are
// spread over them; W2, W4 and W10 keep the default placement (the
// spawner's shard), and W10 measures how work stealing spreads its workers.

#include <otp/inspect.hpp>
#include <otp/otp.hpp>
#include <otp/registry.hpp>
#include <otp/server.hpp>
#include <otp/supervisor.hpp>

#include <asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

bool small() { return std::getenv("OTP_BENCH_SMALL") != nullptr; }

double now_ns() {
  return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
void report(const char* metric, double v, const char* unit) { std::printf("RESULT %s %.1f %s\n", metric, v, unit); }

int shards = 1;
otp::spawn_options on_shard(std::int64_t i) {
  otp::spawn_options o;
  o.shard = i % shards;
  return o;
}

// ---- W1 skynet: 10-ary tree, 1e6 leaves; each node sums its children's replies.
otp::process<std::int64_t> skynet(otp::handle<std::int64_t> parent, std::int64_t num, std::int64_t size,
                                  std::int64_t div) {
  if (size == 1) {
    otp::send(parent, num);
    co_return;
  }
  auto me = otp::self_as<std::int64_t>();
  const std::int64_t sub = size / div;
  for (std::int64_t i = 0; i < div; ++i) otp::spawn(skynet, me, num + i * sub, sub, div);
  std::int64_t sum = 0;
  for (std::int64_t i = 0; i < div; ++i) sum += std::get<std::int64_t>(co_await otp::receive());
  otp::send(parent, sum);
}

otp::process<std::int64_t> w1() {
  const std::int64_t leaves = small() ? 10000 : 1000000;
  auto me = otp::self_as<std::int64_t>();
  double t = now_ns();
  // The first level is spread over the shards; below it each subtree stays local.
  const std::int64_t sub = leaves / 10;
  for (std::int64_t i = 0; i < 10; ++i) otp::spawn_opt(on_shard(i), skynet, me, i * sub, sub, std::int64_t(10));
  std::int64_t sum = 0;
  for (int i = 0; i < 10; ++i) sum += std::get<std::int64_t>(co_await otp::receive());
  double el = now_ns() - t;
  if (sum != leaves * (leaves - 1) / 2) {
    std::fprintf(stderr, "w1: bad sum %lld\n", static_cast<long long>(sum));
    std::abort();
  }
  report("w1_ms", el / 1e6, "ms");
  report("w1_sum", static_cast<double>(sum), "");
}

// ---- W2 ping-pong: 1e6 round trips of a small message.
otp::process<std::int64_t> pong(otp::handle<std::int64_t> ping) {
  for (;;) {
    auto v = std::get<std::int64_t>(co_await otp::receive());
    if (v < 0) co_return;
    co_await otp::send(ping, v);
  }
}

otp::process<std::int64_t> w2() {
  const std::int64_t n = small() ? 10000 : 1000000;
  // Default placement (the spawner's shard), as a scheduler keeps a
  // ping-pong pair together; crossing threads per message costs an Asio
  // wake-up of the other thread.
  auto p = otp::spawn(pong, otp::self_as<std::int64_t>());
  double t = now_ns();
  for (std::int64_t i = 0; i < n; ++i) {
    co_await otp::send(p, i);
    if (std::get<std::int64_t>(co_await otp::receive()) != i) std::abort();
  }
  report("w2_ns_per_rt", (now_ns() - t) / static_cast<double>(n), "ns");
  otp::send(p, std::int64_t(-1));
}

// ---- W3 ring: 10,000 processes, one token passed 1e6 hops.
struct ring_msg {
  ring_msg(std::int64_t t, otp::handle<ring_msg> n) : k(t), next(std::move(n)) {}
  std::int64_t k;
  otp::handle<ring_msg> next;  // set only in the set-up message
};

otp::process<ring_msg> ring_node(otp::handle<std::int64_t> done) {
  auto first = std::get<ring_msg>(co_await otp::receive());
  auto next = std::move(first.next);
  for (;;) {
    auto m = std::get<ring_msg>(co_await otp::receive());
    if (m.k < 0) {
      co_await otp::send(next, ring_msg(-1, {}));
      co_return;
    }
    if (m.k == 0)
      otp::send(done, std::int64_t(0));
    else
      co_await otp::send(next, ring_msg(m.k - 1, {}));
  }
}

otp::process<std::int64_t> w3() {
  const std::int64_t procs = 10000, hops = small() ? 10000 : 1000000;
  auto me = otp::self_as<std::int64_t>();
  double t0 = now_ns();
  std::vector<otp::handle<ring_msg>> ring;
  ring.reserve(procs);
  for (std::int64_t i = 0; i < procs; ++i) ring.push_back(otp::spawn_opt(on_shard(i * shards / procs), ring_node, me).pid);
  for (std::int64_t i = 0; i < procs; ++i) otp::send(ring[i], ring_msg(0, ring[(i + 1) % procs]));
  double setup = now_ns() - t0;
  double t = now_ns();
  otp::send(ring[0], ring_msg(hops, {}));
  co_await otp::receive();
  double el = now_ns() - t;
  report("w3_setup_ms", setup / 1e6, "ms");
  report("w3_ns_per_hop", el / static_cast<double>(hops), "ns");
  otp::send(ring[0], ring_msg(-1, {}));  // the stop token goes round once; each node ends after passing it
}

// ---- W4 spawn: 1e5 spawn_monitor of a process that exits at once; collect every down.
otp::process<> nop() { co_return; }

otp::process<> w4() {
  const std::int64_t n = small() ? 1000 : 100000;
  double t = now_ns();
  for (std::int64_t i = 0; i < n; ++i) otp::spawn_monitor(nop);  // default placement: the spawner's shard
  for (std::int64_t i = 0; i < n; ++i) co_await otp::receive();
  report("w4_ns_per_spawn", (now_ns() - t) / static_cast<double>(n), "ns");
}

// ---- W8 fan-in: 1,000 producers x 10,000 messages into one consumer.
otp::process<std::int64_t> consumer(std::int64_t total, otp::handle<std::int64_t> done) {
  for (std::int64_t k = 0; k < total; ++k) co_await otp::receive();
  otp::send(done, total);
}

otp::process<> producer(otp::handle<std::int64_t> c, std::int64_t per) {
  for (std::int64_t i = 0; i < per; ++i) co_await otp::send(c, i);
}

otp::process<std::int64_t> w8() {
  const std::int64_t prods = 1000, per = small() ? 100 : 10000;
  double t = now_ns();
  auto c = otp::spawn(consumer, prods * per, otp::self_as<std::int64_t>());
  for (std::int64_t p = 0; p < prods; ++p) otp::spawn_opt(on_shard(p + 1), producer, c, per);
  co_await otp::receive();
  report("w8_msgs_per_s", static_cast<double>(prods * per) / ((now_ns() - t) / 1e9), "msg/s");
}

std::int64_t env_or(const char* name, std::int64_t dflt) {
  const char* v = std::getenv(name);
  return v ? std::atoll(v) : dflt;
}

// ---- W6 registry: N processes each register "worker:<i>" in a unique
// registry with one partition per thread; then 10,000,000 lookups of
// pseudo-random existing keys (Park-Miller LCG, seed 7919 x worker) over 2
// workers; then 1,000,000 register+unregister pairs over 2 workers, each
// reusing one key.
using w6_registry = otp::registry<std::string>;

otp::process<int> w6_holder(w6_registry reg, std::string key, otp::handle<int> done) {
  if (!reg.register_self(std::move(key)).has_value()) throw std::runtime_error("w6: register failed");
  otp::send(done, 1);
  (void)co_await otp::receive();
}

otp::process<int> w6_lookups(w6_registry reg, std::shared_ptr<const std::vector<std::string>> keys, std::int64_t count,
                             std::int64_t seed, otp::handle<int> done) {
  const auto n = static_cast<std::int64_t>(keys->size());
  std::int64_t x = seed, hits = 0;
  for (std::int64_t k = 0; k < count; ++k) {
    x = x * 48271 % 2147483647;
    hits += static_cast<std::int64_t>(reg.visit((*keys)[static_cast<std::size_t>(x % n)], [](const otp::pid&, const std::monostate&) {}));
  }
  if (hits != count) throw std::runtime_error("w6: lookup misses");
  otp::send(done, 1);
  co_return;
}

otp::process<int> w6_churn(w6_registry reg, std::string key, std::int64_t pairs, otp::handle<int> done) {
  for (std::int64_t k = 0; k < pairs; ++k) {
    if (!reg.register_self(key).has_value()) throw std::runtime_error("w6: churn register failed");
    if (reg.unregister_self(key) != 1) throw std::runtime_error("w6: churn unregister failed");
  }
  otp::send(done, 1);
  co_return;
}

otp::process<int> w6() {
  const std::int64_t n = env_or("W6_N", small() ? 1000 : 100000);
  const std::int64_t lookups = env_or("W6_LOOKUPS", small() ? 100000 : 10000000);
  const std::int64_t pairs = env_or("W6_PAIRS", small() ? 10000 : 1000000);
  otp::registry_options ro;
  ro.keys = otp::registry_keys::unique;
  ro.partitions = static_cast<std::size_t>(shards);
  const w6_registry reg(ro);
  otp::start_options unlinked;
  unlinked.link = false;
  auto r = (co_await reg.start(unlinked)).value();
  auto keys = std::make_shared<std::vector<std::string>>();
  for (std::int64_t i = 0; i < n; ++i) keys->push_back("worker:" + std::to_string(i));
  auto me = otp::self_as<int>();

  double t = now_ns();
  std::vector<otp::pid> holders;
  holders.reserve(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i)
    holders.push_back(otp::spawn_opt(on_shard(i), w6_holder, reg, (*keys)[static_cast<std::size_t>(i)], me).pid);
  for (std::int64_t i = 0; i < n; ++i) (void)co_await otp::receive();
  report("w6_register_ns_each", (now_ns() - t) / static_cast<double>(n), "ns");

  t = now_ns();
  std::shared_ptr<const std::vector<std::string>> shared_keys = keys;
  for (std::int64_t w = 1; w <= 2; ++w)
    otp::spawn_opt(on_shard(w), w6_lookups, reg, shared_keys, lookups / 2, w * 7919, me);
  for (int w = 0; w < 2; ++w) (void)co_await otp::receive();
  report("w6_lookups_per_s", static_cast<double>(lookups) / ((now_ns() - t) / 1e9), "lookup/s");

  t = now_ns();
  for (std::int64_t w = 1; w <= 2; ++w)
    otp::spawn_opt(on_shard(w), w6_churn, reg, "churn:" + std::to_string(w), pairs / 2, me);
  for (int w = 0; w < 2; ++w) (void)co_await otp::receive();
  report("w6_churn_per_s", static_cast<double>(pairs) / ((now_ns() - t) / 1e9), "pair/s");

  for (auto& h : holders) otp::exit(h, otp::exit_reason::kill());
  otp::exit(r, otp::exit_reason::shutdown());
}

// ---- W5 call: a server answers x with x + 1, 1,000,000 calls in a row, each
// with the default 5 s timeout (GenServer.call's).

struct w5_server : otp::server<w5_server> {
  std::int64_t handle_call(std::int64_t x) const { return x + 1; }
};

otp::process<> w5() {
  const std::int64_t n = env_or("W5_N", small() ? 10000 : 1000000);
  auto srv = (co_await otp::start_server<w5_server>()).value();
  double t = now_ns();
  for (std::int64_t k = n; k > 0; --k) {
    auto r = co_await otp::call(srv, k);
    if (r.value() != k + 1) throw std::runtime_error("w5: wrong reply");
  }
  report("w5_ns_per_call", (now_ns() - t) / static_cast<double>(n), "ns");
  (void)co_await otp::stop(srv);
}

// ---- W7 restart: a one_for_one supervisor with one server under a local
// name; W7_N times (default 10,000) crash it with a cast that throws, then
// call it by name until the restarted one answers. Also the average over the
// first 1,000 cycles, and the failed calls per cycle.

struct w7_worker : otp::server<w7_worker> {
  struct ping {};
  struct crash {};
  int handle_call(ping) const { return 1; }
  void handle_cast(crash) { throw std::runtime_error("boom"); }
};

otp::process<> w7() {
  const std::int64_t n = env_or("W7_N", small() ? 1000 : 10000);
  const otp::name worker = otp::local("w7_worker");
  std::vector<otp::child_spec> children;
  children.push_back(otp::child<w7_worker>().with(worker));
  auto flags = otp::supervisor_flags(otp::restart_strategy::one_for_one, 1000000, std::chrono::seconds(1));
  otp::start_options unlinked;
  unlinked.link = false;
  auto sup = (co_await otp::start_supervisor(flags, std::move(children), unlinked)).value();
  if (!(co_await otp::call<w7_worker>(worker, w7_worker::ping{})).has_value()) throw std::runtime_error("w7: no worker");
  std::int64_t retries = 0;
  double first = 0;
  const double t = now_ns();
  for (std::int64_t k = 0; k < n; ++k) {
    if (k == 1000) first = now_ns() - t;
    (void)otp::cast<w7_worker>(worker, w7_worker::crash{});
    // A call after the cast reaches the dying server (exited) or nobody
    // (noproc): the first answer is the restarted one's.
    while (!(co_await otp::call<w7_worker>(worker, w7_worker::ping{})).has_value()) {
      ++retries;
      co_await otp::yield();
    }
  }
  const double el = now_ns() - t;
  if (n < 1000) first = el;
  report("w7_us_per_cycle", el / static_cast<double>(n) / 1000.0, "us");
  report("w7_first1k_us_per_cycle", first / static_cast<double>(std::min<std::int64_t>(n, 1000)) / 1000.0, "us");
  report("w7_retries_per_cycle", static_cast<double>(retries) / static_cast<double>(n), "");
  otp::exit(sup, otp::exit_reason::shutdown());
}

// ---- W9 supervise: (a) a dynamic supervisor starts N children one by one, then
// is stopped; (b) a one_for_one child crashes and is restarted, CYCLES times.
// W9_N (default 100,000) and W9_CYCLES (default 10,000) as the Elixir peer.

otp::process<int> w9_child(otp::handle<otp::pid> notify) {
  if (notify) otp::send(notify, otp::self());
  otp::init_ack();
  for (;;) {
    auto m = co_await otp::receive();
    if (std::holds_alternative<int>(m)) throw std::runtime_error("boom");  // the cast that raises
  }
}

otp::process<otp::pid> w9() {
  const std::int64_t n = env_or("W9_N", small() ? 1000 : 100000);
  const std::int64_t cycles = env_or("W9_CYCLES", small() ? 100 : 10000);
  otp::start_options unlinked;
  unlinked.link = false;
  auto dsup = (co_await otp::start_dynamic_supervisor(otp::dynamic_supervisor_options(), unlinked)).value();
  const otp::child_spec trivial("c", otp::start_fn(w9_child, otp::handle<otp::pid>()));
  double t = now_ns();
  for (std::int64_t i = 0; i < n; ++i) (void)(co_await otp::start_child(dsup, trivial)).value();
  const std::string suffix = "_n" + std::to_string(n);
  report(("w9_start_ns_per_child" + suffix).c_str(), (now_ns() - t) / static_cast<double>(n), "ns");
  t = now_ns();
  auto mon = otp::monitor(dsup);
  otp::exit(dsup, otp::exit_reason::shutdown());
  for (;;) {
    auto m = co_await otp::receive();
    if (auto* d = std::get_if<otp::down_message>(&m); d && d->ref == mon) break;
  }
  report(("w9_shutdown_ns_per_child" + suffix).c_str(), (now_ns() - t) / static_cast<double>(n), "ns");
  if (cycles == 0) co_return;

  std::vector<otp::child_spec> children;
  children.emplace_back("c", otp::start_fn(w9_child, otp::self_as<otp::pid>()));
  auto flags = otp::supervisor_flags(otp::restart_strategy::one_for_one, 1000000, std::chrono::seconds(1));
  auto sup = (co_await otp::start_supervisor(flags, std::move(children), unlinked)).value();
  auto up = [](otp::message<otp::pid>& m) { return std::get<otp::pid>(m); };
  auto first = co_await otp::receive();
  otp::pid child = up(first);
  t = now_ns();
  for (std::int64_t k = 0; k < cycles; ++k) {
    otp::send(otp::handle<int>::from(child).value(), 1);
    auto m = co_await otp::receive();
    child = up(m);
  }
  report("w9_restart_us_per_cycle", (now_ns() - t) / static_cast<double>(cycles) / 1000.0, "us");
  otp::exit(sup, otp::exit_reason::shutdown());
}


// ---- W10 unbalanced: a coordinator spawns N workers (W10_N, default 10,000)
// with the default placement, so with 2 threads they all start on its shard
// and only work stealing can spread them. Worker i starts with x = i and does
// 10 slices of 1,000 Park-Miller steps, yielding between slices, then sends
// x to the coordinator, which sums the N values and checks the sum.

constexpr std::int64_t w10_slices = 10, w10_steps = 1000;

// The sum the coordinator must get, computed the same way in plain C++:
// hard-coded for the default N, computed (untimed) for any other.
std::int64_t w10_expected(std::int64_t n) {
  if (n == 10000) return 10736709305125;
  std::int64_t sum = 0;
  for (std::int64_t i = 1; i <= n; ++i) {
    std::int64_t x = i;
    for (std::int64_t k = 0; k < w10_slices * w10_steps; ++k) x = x * 48271 % 2147483647;
    sum += x;
  }
  return sum;
}

otp::process<> w10_worker(otp::handle<std::int64_t> coordinator, std::int64_t x) {
  for (std::int64_t s = 0; s < w10_slices; ++s) {
    if (s > 0) co_await otp::yield();
    for (std::int64_t k = 0; k < w10_steps; ++k) x = x * 48271 % 2147483647;
  }
  otp::send(coordinator, x);
}

otp::process<std::int64_t> w10() {
  const std::int64_t n = env_or("W10_N", small() ? 1000 : 10000);
  const std::int64_t expected = w10_expected(n);
  auto me = otp::self_as<std::int64_t>();
  const double t = now_ns();
  for (std::int64_t i = 1; i <= n; ++i) otp::spawn(w10_worker, me, i);  // placement::local
  std::int64_t sum = 0;
  for (std::int64_t i = 0; i < n; ++i) sum += std::get<std::int64_t>(co_await otp::receive());
  const double el = now_ns() - t;
  if (sum != expected) {
    std::fprintf(stderr, "w10: bad sum %lld, expected %lld\n", static_cast<long long>(sum),
                 static_cast<long long>(expected));
    std::abort();
  }
  std::uint64_t moved = 0;
  for (const auto& s : otp::inspect_shards()) moved += s.immigrated;
  report("w10_ms", el / 1e6, "ms");
  report("w10_moved", static_cast<double>(moved), "processes");
}

// ---- micro: what one operation costs, measured by one process on one thread
// (benchmarks/peers/README.md, "Micro-operations"). Each loop alone is timed.

std::atomic<std::int64_t> micro_live{0};
otp::process<> micro_nop() {
  micro_live.fetch_sub(1, std::memory_order_relaxed);
  co_return;
}

otp::process<int> micro_idle() { (void)co_await otp::receive(); }

otp::process<int> micro_holder(otp::registry<std::string> reg, std::string key, otp::handle<std::int64_t> done) {
  if (!reg.register_self(std::move(key)).has_value()) throw std::runtime_error("micro: register failed");
  otp::send(done, std::int64_t(1));
  (void)co_await otp::receive();
}

otp::process<std::int64_t> micro() {
  const std::int64_t msgs = small() ? 10000 : 1000000, procs = small() ? 1000 : 100000;
  const std::int64_t lookups = small() ? 10000 : 1000000, calls = small() ? 1000 : 100000;
  auto me = otp::self_as<std::int64_t>();

  // send: into the process's own mailbox, nobody receiving; then receive them.
  double t = now_ns();
  for (std::int64_t i = 0; i < msgs; ++i) otp::send(me, i);
  report("m_send_ns", (now_ns() - t) / static_cast<double>(msgs), "ns");
  t = now_ns();
  for (std::int64_t i = 0; i < msgs; ++i)
    if (std::get<std::int64_t>(co_await otp::receive()) != i) throw std::runtime_error("micro: receive out of order");
  report("m_receive_ns", (now_ns() - t) / static_cast<double>(msgs), "ns");

  // spawn: processes whose body returns at once, until every one has ended.
  micro_live.store(procs);
  t = now_ns();
  for (std::int64_t i = 0; i < procs; ++i) otp::spawn(micro_nop);
  while (micro_live.load(std::memory_order_relaxed) != 0) co_await otp::yield();
  report("m_spawn_ns", (now_ns() - t) / static_cast<double>(procs), "ns");

  // link and monitor: once to each of 100,000 idle processes.
  std::vector<otp::pid> idle;
  idle.reserve(static_cast<std::size_t>(procs));
  for (std::int64_t i = 0; i < procs; ++i) idle.push_back(otp::spawn(micro_idle));
  co_await otp::yield();  // let them start and wait
  t = now_ns();
  for (const auto& p : idle) otp::link(p);
  report("m_link_ns", (now_ns() - t) / static_cast<double>(procs), "ns");
  for (const auto& p : idle) otp::unlink(p);
  std::vector<otp::monitor_ref> refs;
  refs.reserve(idle.size());
  t = now_ns();
  for (const auto& p : idle) refs.push_back(otp::monitor(p));
  report("m_monitor_ns", (now_ns() - t) / static_cast<double>(procs), "ns");
  for (const auto& r : refs) otp::demonitor(r);
  for (const auto& p : idle) otp::exit(p, otp::exit_reason::kill());

  // lookup: 1,000 registered keys, pseudo-random existing ones (W6's generator).
  otp::registry_options ro;
  ro.keys = otp::registry_keys::unique;
  const otp::registry<std::string> reg(ro);
  otp::start_options unlinked;
  unlinked.link = false;
  auto r = (co_await reg.start(unlinked)).value();
  std::vector<std::string> keys;
  std::vector<otp::pid> holders;
  for (int i = 0; i < 1000; ++i) {
    keys.push_back("worker:" + std::to_string(i));
    holders.push_back(otp::spawn(micro_holder, reg, keys.back(), me));
  }
  for (int i = 0; i < 1000; ++i) (void)co_await otp::receive();
  std::int64_t x = 7919, found = 0;
  t = now_ns();
  for (std::int64_t k = 0; k < lookups; ++k) {
    x = x * 48271 % 2147483647;
    found += reg.whereis(keys[static_cast<std::size_t>(x % 1000)]) ? 1 : 0;
  }
  report("m_lookup_ns", (now_ns() - t) / static_cast<double>(lookups), "ns");
  if (found != lookups) throw std::runtime_error("micro: lookup misses");
  for (const auto& p : holders) otp::exit(p, otp::exit_reason::kill());
  otp::exit(r, otp::exit_reason::shutdown());

  // call: to an idle server, as W5.
  auto srv = (co_await otp::start_server<w5_server>()).value();
  t = now_ns();
  for (std::int64_t k = calls; k > 0; --k)
    if ((co_await otp::call(srv, k)).value() != k + 1) throw std::runtime_error("micro: wrong reply");
  report("m_call_ns", (now_ns() - t) / static_cast<double>(calls), "ns");
  (void)co_await otp::stop(srv);
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: otp_bench w1|w2|w3|w4|w5|w6|w7|w8|w9|w10|micro [threads]\n");
    return 2;
  }
  const std::string w = argv[1];
  const int threads = argc > 2 ? std::max(1, std::atoi(argv[2])) : 1;
  shards = threads;
  asio::io_context io(threads);
  otp::runtime_options o;
  o.shards = static_cast<std::size_t>(threads);
  if (w == "w7" || w == "w9") o.log = nullptr;  // crash logging off, as in the peers' W7 and W9
  otp::runtime rt(io.get_executor(), o);
  if (w == "w1")
    otp::spawn(rt, w1);
  else if (w == "w2")
    otp::spawn(rt, w2);
  else if (w == "w3")
    otp::spawn(rt, w3);
  else if (w == "w4")
    otp::spawn(rt, w4);
  else if (w == "w5")
    otp::spawn(rt, w5);
  else if (w == "w6")
    otp::spawn(rt, w6);
  else if (w == "w7")
    otp::spawn(rt, w7);
  else if (w == "w8")
    otp::spawn(rt, w8);
  else if (w == "w9")
    otp::spawn(rt, w9);
  else if (w == "w10")
    otp::spawn(rt, w10);
  else if (w == "micro")
    otp::spawn(rt, micro);
  else {
    std::fprintf(stderr, "otp_bench: unknown workload '%s' (w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 micro)\n", w.c_str());
    return 2;
  }
  std::vector<std::thread> extra;
  for (int i = 1; i < threads; ++i) extra.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& t : extra) t.join();
  return 0;
}
