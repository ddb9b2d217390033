// SPDX-License-Identifier: MIT
// The registry under concurrent load: readers on every thread (processes
// and a plain thread) while owners register, crash and re-register. Run
// under TSan in CI. No entry may be lost (an owner always finds its own),
// duplicated (a unique key never lists two processes) or stale (once the
// owners are gone, nothing is left).
#include <otp/registry.hpp>

#include <doctest/doctest.h>
#include <otp/testing.hpp>

#include <atomic>
#include <string>
#include <thread>

namespace {

using reg_t = otp::registry<int, int>;

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__) || !defined(NDEBUG)
constexpr int cycles = 300;
#else
constexpr int cycles = 3000;
#endif
constexpr int owners = 8;
constexpr int keys_per_owner = 4;

struct failures {
  std::atomic<int> lost{0};
  std::atomic<int> duplicated{0};
  std::atomic<int> refused{0};
  std::atomic<int> stale{0};
};

/// Registers its keys, checks it finds them, unregisters some, crashes now
/// and then; `round` tells the replacement where to go on.
otp::process<int> owner(reg_t reg, int id, int round, std::shared_ptr<failures> f, otp::handle<int> done) {
  for (int c = round; c < cycles; ++c) {
    for (int k = 0; k < keys_per_owner; ++k) {
      const int key = id * keys_per_owner + k;
      auto r = reg.register_self(key, c);
      if (!r) {
        // Only a holder that is ending may be in the way, and then it is replaced.
        f->refused.fetch_add(1);
        continue;
      }
      if (reg.whereis(key) != otp::self()) f->lost.fetch_add(1);
    }
    if (reg.keys(otp::self()).size() != keys_per_owner) f->lost.fetch_add(1);
    if (c % 7 == 3) {
      otp::send(done, c + 1);  // the replacement starts from the next round
      throw std::runtime_error("owner crash");
    }
    for (int k = 0; k < keys_per_owner; ++k)
      if (reg.unregister_self(id * keys_per_owner + k) != 1) f->lost.fetch_add(1);
    co_await otp::yield();
  }
  otp::send(done, -1);
}

/// Reads every key again and again until told to stop.
otp::process<int> reader(reg_t reg, std::shared_ptr<failures> f, std::shared_ptr<std::atomic<bool>> stop) {
  while (!stop->load()) {
    for (int key = 0; key < owners * keys_per_owner; ++key)
      if (reg.lookup(key).size() > 1) f->duplicated.fetch_add(1);
    (void)reg.count();
    co_await otp::yield();
  }
}

otp::process<int> storm(reg_t reg, int shards, std::shared_ptr<failures> f, std::shared_ptr<std::atomic<bool>> stop,
                        std::shared_ptr<std::atomic<int>> leftover) {
  otp::start_options unlinked;
  unlinked.link = false;
  auto r = (co_await reg.start(unlinked)).value();
  std::vector<otp::pid> readers;
  for (int s = 0; s < shards; ++s) {
    otp::spawn_options o;
    o.shard = s;
    readers.push_back(otp::spawn_opt(o, reader, reg, f, stop).pid);
  }
  auto me = otp::self_as<int>();
  int running = owners;
  for (int id = 0; id < owners; ++id) {
    otp::spawn_options o;
    o.shard = id % shards;
    otp::spawn_opt(o, [](reg_t reg, int id, int round, std::shared_ptr<failures> f,
                         otp::handle<int> up) -> otp::process<int> {
      // A small supervisor per owner: restarts it where it crashed.
      otp::trap_exit(true);
      for (;;) {
        auto relay = otp::self_as<int>();
        otp::spawn_link(owner, reg, id, round, f, relay);
        int next = -1;
        bool ended = false;
        while (!ended) {
          auto m = co_await otp::receive();
          if (auto* v = std::get_if<int>(&m)) next = *v;
          if (auto* e = std::get_if<otp::exit_message>(&m)) {
            // Its entries went before its links fired: none may be left.
            if (!reg.keys(e->from).empty()) f->stale.fetch_add(1);
            for (int k = 0; k < keys_per_owner; ++k)
              for (auto& [p, v] : reg.lookup(id * keys_per_owner + k))
                if (p == e->from) f->stale.fetch_add(1);
            ended = true;
          }
        }
        if (next < 0) break;
        round = next;
      }
      otp::send(up, 1);
    }, reg, id, 0, f, me);
  }
  while (running > 0) {
    (void)co_await otp::receive();
    --running;
  }
  stop->store(true);
  for (int i = 0; i < 3; ++i) co_await otp::yield();
  leftover->store(static_cast<int>(reg.count()));
  for (int key = 0; key < owners * keys_per_owner; ++key)
    if (!reg.lookup(key).empty()) leftover->fetch_add(1000);
  otp::exit(r, otp::exit_reason::shutdown());
}

void run_storm(std::size_t threads) {
  reg_t reg([] {
    otp::registry_options o;
    o.partitions = 8;
    return o;
  }());
  auto f = std::make_shared<failures>();
  auto stop = std::make_shared<std::atomic<bool>>(false);
  auto leftover = std::make_shared<std::atomic<int>>(-1);
  // A plain thread reads too: the epoch scheme must hold outside the runtime.
  std::atomic<bool> thread_stop{false};
  std::atomic<long> thread_reads{0};
  std::thread outside([&] {
    while (!thread_stop.load()) {
      for (int key = 0; key < owners * keys_per_owner; ++key)
        if (reg.lookup(key).size() > 1) f->duplicated.fetch_add(1);
      thread_reads.fetch_add(1);
    }
  });
  otp::testing::options o;
  o.threads = threads;
  o.keep_log = false;
  auto report = otp::testing::run([&] { return storm(reg, static_cast<int>(threads), f, stop, leftover); }, o);
  thread_stop.store(true);
  outside.join();
  for (auto& e : report.failures) FAIL_CHECK(e);
  CHECK(f->lost.load() == 0);
  CHECK(f->duplicated.load() == 0);
  CHECK(f->stale.load() == 0);
  CHECK(leftover->load() == 0);
  CHECK(thread_reads.load() > 0);
  MESSAGE("refused while a crashed holder was ending: " << f->refused.load());
}

}  // namespace

TEST_SUITE("registry") {

TEST_CASE("registry storm: readers everywhere while owners register, crash and re-register (1 thread)") {
  run_storm(1);
}

TEST_CASE("registry storm: readers everywhere while owners register, crash and re-register (2 threads)") {
  run_storm(2);
}

}  // TEST_SUITE
