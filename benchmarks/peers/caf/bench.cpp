// SPDX-License-Identifier: MIT
// caf_bench: the peer workloads of benchmarks/peers/README.md on CAF 0.17
// (Debian libcaf-dev 0.17.6), with the parameters of benchmarks/workloads.cpp.
//
//   build: g++ -O2 -std=c++17 bench.cpp -o OUT/caf_bench -lcaf_core -pthread
//   run:   caf_bench W T    W = w1 w2 w3 w4 w5 w8 w10 micro, T = scheduler.max-threads
//
// Every figure is printed as `RESULT <metric> <value> <unit>`. Each workload
// is driven by an event-based "bench" actor on CAF's scheduler, so all the
// work runs on the T worker threads (as otp's workloads run on its shards):
// main spawns it, sends it `go`, and it takes the time itself, from its
// first action until its last message, so the start of the actor system is
// outside the timed part. It sends its figures to a scoped_actor in main,
// then stops every actor it started (untimed), and main waits until they
// have all ended; so the process exits cleanly. A wrong result (bad sum, wrong reply, failed request)
// is reported on stderr and ends the process with exit status 1; a lost
// message is caught by main's watchdog (no answer within 10 minutes).
//
// W10_N in the environment sets W10's worker count (default 10,000).
//
// The configuration is not parsed from argv or from caf-application.ini:
// actor_system_config::parse() is never called, only
// `scheduler.max-threads` is set.

#include <caf/all.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using namespace caf;

namespace {

// ---- Messages ---------------------------------------------------------------

using go_atom = atom_constant<atom("go")>;        // main -> bench: start now
using done_atom = atom_constant<atom("done")>;    // "this part has finished"
using ready_atom = atom_constant<atom("ready")>;  // an idle actor is up

// ---- Helpers ----------------------------------------------------------------

using clock_type = std::chrono::steady_clock;

double ns_since(clock_type::time_point t0) {
  return std::chrono::duration<double, std::nano>(clock_type::now() - t0).count();
}

void report(const char* metric, double value, const char* unit) {
  std::printf("RESULT %s %.1f %s\n", metric, value, unit);
  std::fflush(stdout);
}

// A wrong result: say why and end the process. Actors may still be running
// (and waiting for messages that will never come), so this does not try to
// shut the actor system down.
[[noreturn]] void die(const std::string& why) {
  std::fflush(stdout);
  std::fprintf(stderr, "caf_bench: %s\n", why.c_str());
  std::fflush(stderr);
  std::_Exit(1);
}

// An actor whose behaviour is empty: CAF terminates it as soon as it has
// been initialised.
behavior quit_at_once(event_based_actor*) {
  return {};
}

// ---- W1 skynet: 10-ary tree, 1,000,000 leaves -------------------------------
// A node of size 1 sends its ordinal to its parent and quits; any other node
// spawns 10 children covering its range, sums their 10 answers, sends the sum
// up and quits.

struct skynet_state {
  std::int64_t sum = 0;
  int pending = 10;
};

behavior skynet(stateful_actor<skynet_state>* self, actor parent, std::int64_t num, std::int64_t size) {
  if (size == 1) {
    self->send(parent, num);
    return {};
  }
  const std::int64_t sub = size / 10;
  for (std::int64_t i = 0; i < 10; ++i) self->spawn(skynet, actor_cast<actor>(self), num + i * sub, sub);
  return {
    [=](std::int64_t x) {
      self->state.sum += x;
      if (--self->state.pending == 0) {
        self->send(parent, self->state.sum);
        self->quit();
      }
    },
  };
}

behavior w1_bench(event_based_actor* self, actor driver) {
  const std::int64_t leaves = 1000000;
  auto t0 = std::make_shared<clock_type::time_point>();
  return {
    [=](go_atom) {
      *t0 = clock_type::now();
      self->spawn(skynet, actor_cast<actor>(self), std::int64_t{0}, leaves);
    },
    [=](std::int64_t sum) {
      const double el = ns_since(*t0);
      if (sum != leaves * (leaves - 1) / 2) die("w1: bad sum " + std::to_string(sum));
      self->send(driver, el / 1e6, sum);
      self->quit();
    },
  };
}

// ---- W2 ping-pong: 1,000,000 round trips --------------------------------------
// The bench actor is ping: it sends i, pong answers with the same value (the
// handler's result goes back to the sender), ping checks it and sends i + 1.

behavior pong(event_based_actor*) {
  return {
    [](std::int64_t x) { return x; },
  };
}

struct ping_state {
  actor pong;
  std::int64_t next = 0;  // the value of the ball in flight
  clock_type::time_point t0;
};

behavior w2_bench(stateful_actor<ping_state>* self, actor driver) {
  const std::int64_t n = 1000000;
  self->state.pong = self->spawn(pong);
  return {
    [=](go_atom) {
      self->state.t0 = clock_type::now();
      self->send(self->state.pong, self->state.next);
    },
    [=](std::int64_t x) {
      auto& st = self->state;
      if (x != st.next) die("w2: pong answered " + std::to_string(x) + ", expected " + std::to_string(st.next));
      if (++st.next < n) {
        self->send(st.pong, st.next);
        return;
      }
      self->send(driver, ns_since(st.t0) / static_cast<double>(n));
      self->send_exit(st.pong, exit_reason::user_shutdown);
      self->quit();
    },
  };
}

// ---- W3 ring: 10,000 actors, one token passed 1,000,000 hops -------------------
// Set-up (timed) spawns the nodes and sends each the handle of its successor.
// The token is a hop count: a node passes k - 1 on, the node that gets 0
// tells the bench actor. A negative token stops the ring: each node passes it
// on and quits.

struct ring_state {
  actor next;
};

behavior ring_node(stateful_actor<ring_state>* self, actor bench) {
  return {
    [=](actor next) { self->state.next = std::move(next); },
    [=](std::int64_t k) {
      if (k < 0) {
        self->send(self->state.next, k);
        self->quit();
      } else if (k == 0) {
        self->send(bench, done_atom::value);
      } else {
        self->send(self->state.next, k - 1);
      }
    },
  };
}

// The ring is built from main's thread, as a CAF program sets up its actors
// before handing over: when one actor spawns 10,000 others they pile up in
// its worker's queue, and with 2 threads the idle worker's stealing walks
// that queue under the lock the spawner needs (perf: set-up went from about
// 20 ms to about 200 ms). The bench actor then times the hops.

struct w3_state {
  actor first;
  clock_type::time_point t0;
};

behavior w3_bench(stateful_actor<w3_state>* self, actor driver, std::int64_t hops) {
  return {
    [=](go_atom, actor first) {
      self->state.first = std::move(first);
      self->state.t0 = clock_type::now();
      self->send(self->state.first, hops);
    },
    [=](done_atom) {
      const double el = ns_since(self->state.t0);
      self->send(driver, el / static_cast<double>(hops));
      self->send(self->state.first, std::int64_t{-1});
      self->quit();
    },
  };
}

// ---- W4 spawn: 100,000 actors that quit at once, each monitored ----------------
// spawn<monitored> monitors the child before it can run; the bench actor
// waits for every down_msg.

struct w4_state {
  std::int64_t downs = 0;
  clock_type::time_point t0;
};

behavior w4_bench(stateful_actor<w4_state>* self, actor driver) {
  const std::int64_t n = 100000;
  self->set_down_handler([=](down_msg& dm) {
    if (dm.reason) die("w4: a child ended with " + self->system().render(dm.reason));
    if (++self->state.downs == n) {
      self->send(driver, ns_since(self->state.t0) / static_cast<double>(n));
      self->quit();
    }
  });
  return {
    [=](go_atom) {
      self->state.t0 = clock_type::now();
      for (std::int64_t i = 0; i < n; ++i) self->spawn<monitored>(quit_at_once);
    },
  };
}

// ---- W5 call: request/response to a server answering x with x + 1 -------------
// The caller is event-based: request(...).then(...) and the next request is
// issued from the response handler. A CAF request fails with an error if the
// server is or goes down (the mailbox bounces it), so it needs no monitor; the
// timeout is infinite, so no timer is set per call.

behavior add_one_server(event_based_actor*) {
  return {
    [](std::int64_t x) { return x + 1; },
  };
}

struct caller_state {
  actor server;
  clock_type::time_point t0;
};

void call_next(stateful_actor<caller_state>* self, actor driver, std::int64_t n, std::int64_t k) {
  self->request(self->state.server, infinite, k)
    .then(
      [=](std::int64_t r) {
        if (r != k + 1) die("w5: server answered " + std::to_string(r) + " to " + std::to_string(k));
        if (k > 1) {
          call_next(self, driver, n, k - 1);
          return;
        }
        self->send(driver, ns_since(self->state.t0) / static_cast<double>(n));
        self->send_exit(self->state.server, exit_reason::user_shutdown);
        self->quit();
      },
      [=](error& e) { die("w5: call failed: " + self->system().render(e)); });
}

behavior w5_bench(stateful_actor<caller_state>* self, actor driver, std::int64_t n) {
  self->state.server = self->spawn(add_one_server);
  return {
    [=](go_atom) {
      self->state.t0 = clock_type::now();
      call_next(self, driver, n, n);  // n calls, k = n down to 1
    },
  };
}

// ---- W8 fan-in: 1,000 producers x 10,000 messages into one consumer ------------
// A producer sends its 10,000 values in one go and quits. The consumer counts
// (and sums, to check nothing was lost or duplicated) and tells the bench
// actor when it has all 10,000,000. Timed from the consumer's spawn.
//
// The consumer is spawned with lazy_init: it is scheduled by its first
// message instead of at spawn. A worker runs the actors spawned on it last
// in, first out, so an eagerly scheduled consumer (spawned first, as the
// producers need its handle) would run only after all 1,000 producers, with
// all 10,000,000 messages queued (1.1 GB, ~5 M msg/s on one thread). Lazily,
// it drains its mailbox as the producers run, as a consumer does on BEAM or
// Go.

struct consumer_state {
  std::int64_t count = 0;
  std::int64_t sum = 0;
};

behavior consumer(stateful_actor<consumer_state>* self, std::int64_t total, actor bench) {
  return {
    [=](std::int64_t x) {
      self->state.sum += x;
      if (++self->state.count == total) {
        self->send(bench, done_atom::value, self->state.sum);
        self->quit();
      }
    },
  };
}

behavior producer(event_based_actor* self, actor target, std::int64_t per) {
  for (std::int64_t i = 0; i < per; ++i) self->send(target, i);
  return {};
}

behavior w8_bench(event_based_actor* self, actor driver) {
  const std::int64_t prods = 1000, per = 10000, total = prods * per;
  auto t0 = std::make_shared<clock_type::time_point>();
  return {
    [=](go_atom) {
      *t0 = clock_type::now();
      auto c = self->spawn<lazy_init>(consumer, total, actor_cast<actor>(self));
      for (std::int64_t p = 0; p < prods; ++p) self->spawn(producer, c, per);
    },
    [=](done_atom, std::int64_t sum) {
      const double el = ns_since(*t0);
      if (sum != prods * (per * (per - 1) / 2)) die("w8: bad sum " + std::to_string(sum));
      self->send(driver, static_cast<double>(total) / (el / 1e9));
      self->quit();
    },
  };
}

// ---- W10 unbalanced: N workers (W10_N, default 10,000), fixed CPU work in slices --
// The bench actor spawns the workers with a plain spawn. Worker i starts
// with x = i and does 10 slices of 1,000 Park-Miller steps. CAF has no
// yield: between two slices the worker sends itself a `slice` message and
// does the next slice when it receives it, so the others run meanwhile.
// After the last slice it sends x to the bench actor, which sums the N
// values and checks the sum.

using slice_atom = atom_constant<atom("slice")>;

constexpr std::int64_t w10_slices = 10, w10_steps = 1000;

std::int64_t w10_steps_from(std::int64_t x, std::int64_t steps) {
  for (std::int64_t k = 0; k < steps; ++k) x = x * 48271 % 2147483647;
  return x;
}

// The sum the bench must get, computed the same way as the workers:
// hard-coded for the default N, computed (untimed) for any other.
std::int64_t w10_expected(std::int64_t n) {
  if (n == 10000) return 10736709305125;
  std::int64_t sum = 0;
  for (std::int64_t i = 1; i <= n; ++i) sum += w10_steps_from(i, w10_slices * w10_steps);
  return sum;
}

struct w10_worker_state {
  std::int64_t x = 0;
  std::int64_t done = 0;  // slices done
};

behavior w10_worker(stateful_actor<w10_worker_state>* self, actor bench, std::int64_t i) {
  self->state.x = w10_steps_from(i, w10_steps);
  self->state.done = 1;
  self->send(self, slice_atom::value);
  return {
    [=](slice_atom) {
      auto& st = self->state;
      st.x = w10_steps_from(st.x, w10_steps);
      if (++st.done < w10_slices) {
        self->send(self, slice_atom::value);
        return;
      }
      self->send(bench, st.x);
      self->quit();
    },
  };
}

struct w10_state {
  std::int64_t sum = 0;
  std::int64_t left = 0;
  clock_type::time_point t0;
};

behavior w10_bench(stateful_actor<w10_state>* self, actor driver, std::int64_t n) {
  return {
    [=](go_atom) {
      self->state.left = n;
      self->state.t0 = clock_type::now();
      for (std::int64_t i = 1; i <= n; ++i) self->spawn(w10_worker, actor_cast<actor>(self), i);
    },
    [=](std::int64_t x) {
      auto& st = self->state;
      st.sum += x;
      if (--st.left > 0) return;
      const double el = ns_since(st.t0);
      const std::int64_t want = w10_expected(n);
      if (st.sum != want) die("w10: bad sum " + std::to_string(st.sum) + ", expected " + std::to_string(want));
      self->send(driver, el / 1e6);
      self->quit();
    },
  };
}

// ---- micro: m_spawn_ns ----------------------------------------------------------
// 100,000 children whose behaviour is empty; each decrements a shared counter
// as it runs and the one that brings it to zero tells the bench actor. On one
// thread a child is finished (terminated and released) before the next one
// runs, so this times until all have ended (bar the last one's clean-up).

behavior counted_child(event_based_actor* self, std::atomic<std::int64_t>* left, actor bench) {
  if (left->fetch_sub(1, std::memory_order_acq_rel) == 1) self->send(bench, done_atom::value);
  return {};
}

struct m_spawn_state {
  std::atomic<std::int64_t> left{0};
  clock_type::time_point t0;
};

behavior m_spawn_bench(stateful_actor<m_spawn_state>* self, actor driver) {
  const std::int64_t n = 100000;
  return {
    [=](go_atom) {
      self->state.left = n;
      self->state.t0 = clock_type::now();
      for (std::int64_t i = 0; i < n; ++i) self->spawn(counted_child, &self->state.left, actor_cast<actor>(self));
    },
    [=](done_atom) {
      self->send(driver, ns_since(self->state.t0) / static_cast<double>(n));
      self->quit();
    },
  };
}

// ---- micro: m_link_ns and m_monitor_ns -------------------------------------------
// 100,000 idle actors are spawned and report `ready` once running (untimed);
// then the bench actor links to (or monitors) each one once, timed around
// that loop only. Tear-down: every idle actor is sent an exit.

behavior idle_child(event_based_actor* self, actor bench) {
  self->send(bench, ready_atom::value);
  return {
    [](std::int64_t) {},  // never sent: the actor just waits
  };
}

struct attach_state {
  std::vector<actor> children;
  std::int64_t ready = 0;
};

behavior m_attach_bench(stateful_actor<attach_state>* self, actor driver, bool link) {
  const std::int64_t n = 100000;
  // Linked children that are shut down send exit_msgs back: ignore them.
  self->set_exit_handler([](exit_msg&) {});
  return {
    [=](go_atom) {
      self->state.children.reserve(n);
      for (std::int64_t i = 0; i < n; ++i) self->state.children.push_back(self->spawn(idle_child, actor_cast<actor>(self)));
    },
    [=](ready_atom) {
      if (++self->state.ready < n) return;
      auto& children = self->state.children;
      const auto t0 = clock_type::now();
      if (link) {
        for (auto& c : children) self->link_to(c);
      } else {
        for (auto& c : children) self->monitor(c);
      }
      self->send(driver, ns_since(t0) / static_cast<double>(n));
      for (auto& c : children) self->send_exit(c, exit_reason::user_shutdown);
      self->quit();
    },
  };
}

// ---- Driver -----------------------------------------------------------------------

// Spawns a bench actor, starts it and waits for its figures; a lost message
// shows as no answer (the watchdog). Afterwards, waits until every actor the
// workload started has ended, so the next part starts on an idle system: the
// running-actor count is back to 1, main's scoped_actor (which CAF 0.17.6
// counts even when constructed as hidden).
template <class Bench, class... Handlers>
void run(actor_system& sys, scoped_actor& self, Bench bench, Handlers... handlers) {
  self->send(bench, go_atom::value);
  self->receive(handlers..., after(std::chrono::minutes(10)) >> [] { die("no answer in 10 minutes: a message was lost"); });
  sys.registry().await_running_count_equal(1);
}

int usage() {
  std::fprintf(stderr, "usage: caf_bench w1|w2|w3|w4|w5|w8|w10|micro [threads]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) return usage();
  const std::string w = argv[1];
  if (w != "w1" && w != "w2" && w != "w3" && w != "w4" && w != "w5" && w != "w8" && w != "w10" &&
      w != "micro") return usage();
  const int threads = argc > 2 ? std::atoi(argv[2]) : 1;
  if (threads < 1) return usage();

  actor_system_config cfg;  // defaults only: no parse(), so no argv, no ini file
  cfg.set("scheduler.max-threads", threads);
  actor_system sys{cfg};
  scoped_actor main_actor{sys};
  const actor me = main_actor;
  auto ns = [](const char* metric) { return [metric](double v) { report(metric, v, "ns"); }; };

  if (w == "w1") {
    run(sys, main_actor, sys.spawn(w1_bench, me), [](double ms, std::int64_t sum) {
      report("w1_ms", ms, "ms");
      std::printf("RESULT w1_sum %lld\n", static_cast<long long>(sum));
    });
  } else if (w == "w2") {
    run(sys, main_actor, sys.spawn(w2_bench, me), ns("w2_ns_per_rt"));
  } else if (w == "w3") {
    const std::int64_t procs = 10000, hops = 1000000;
    auto bench = sys.spawn(w3_bench, me, hops);
    const auto t0 = clock_type::now();
    std::vector<actor> ring;
    ring.reserve(procs);
    for (std::int64_t i = 0; i < procs; ++i) ring.push_back(sys.spawn(ring_node, bench));
    for (std::int64_t i = 0; i < procs; ++i) main_actor->send(ring[i], ring[(i + 1) % procs]);
    report("w3_setup_ms", ns_since(t0) / 1e6, "ms");
    main_actor->send(bench, go_atom::value, ring[0]);
    ring.clear();
    main_actor->receive([](double per_hop) { report("w3_ns_per_hop", per_hop, "ns"); },
                        after(std::chrono::minutes(10)) >> [] { die("no answer in 10 minutes: a message was lost"); });
    sys.registry().await_running_count_equal(1);
  } else if (w == "w4") {
    run(sys, main_actor, sys.spawn(w4_bench, me), ns("w4_ns_per_spawn"));
  } else if (w == "w5") {
    run(sys, main_actor, sys.spawn(w5_bench, me, std::int64_t{1000000}), ns("w5_ns_per_call"));
  } else if (w == "w8") {
    run(sys, main_actor, sys.spawn(w8_bench, me), [](double rate) { report("w8_msgs_per_s", rate, "msg/s"); });
  } else if (w == "w10") {
    const char* n = std::getenv("W10_N");
    run(sys, main_actor, sys.spawn(w10_bench, me, std::int64_t{n ? std::atoll(n) : 10000}),
        [](double ms) { report("w10_ms", ms, "ms"); });
  } else {
    // m_send_ns, m_receive_ns: the scoped_actor sends 1,000,000 ints to its
    // own mailbox, then takes them out one at a time.
    const std::int64_t n = 1000000;
    auto t0 = clock_type::now();
    for (std::int64_t i = 0; i < n; ++i) main_actor->send(me, i);
    const double send_ns = ns_since(t0);
    std::int64_t i = 0;
    t0 = clock_type::now();
    main_actor->receive_for(i, n)([&](std::int64_t x) {
      if (x != i) die("micro: received " + std::to_string(x) + ", expected " + std::to_string(i));
    });
    const double receive_ns = ns_since(t0);
    report("m_send_ns", send_ns / static_cast<double>(n), "ns");
    report("m_receive_ns", receive_ns / static_cast<double>(n), "ns");

    run(sys, main_actor, sys.spawn(m_spawn_bench, me), ns("m_spawn_ns"));
    run(sys, main_actor, sys.spawn(m_attach_bench, me, true), ns("m_link_ns"));
    run(sys, main_actor, sys.spawn(m_attach_bench, me, false), ns("m_monitor_ns"));
    run(sys, main_actor, sys.spawn(w5_bench, me, std::int64_t{100000}), ns("m_call_ns"));
  }
  std::fflush(stdout);
  return 0;
}
