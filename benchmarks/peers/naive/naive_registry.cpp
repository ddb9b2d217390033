// SPDX-License-Identifier: MIT
// naive_registry.cpp: the naive registry baseline of benchmarks/peers (see
// README.md there): a std::unordered_map<std::string, int> from key to pid,
// guarded by one std::shared_mutex (shared for lookups, exclusive for
// register and unregister). No processes: the "processes" are plain threads.
//
//   build: g++ -O2 -std=c++20 -pthread naive_registry.cpp -o naive_registry
//   run:   naive_registry w6 T      (T = 1 or 2 threads)
//          naive_registry micro     (one thread; a T after it is ignored)
//
// w6: 100,000 keys `worker:<i>` are registered by T threads (each a
// contiguous share); then 10,000,000 lookups of pseudo-random existing keys
// over 2 workers (Park-Miller, seed 7919 * w for worker w = 1, 2, key x mod
// N); then 1,000,000 register+unregister pairs over 2 workers, each reusing
// its own key `churn:<w>`. The 2 workers run on T threads: with T = 1 one
// after the other on one thread, with T = 2 one thread each. Each phase is
// timed from starting its threads to joining them; the key strings are made
// before the timed part. W6_N, W6_LOOKUPS and W6_PAIRS in the environment
// change the three counts, as for otp_bench.
//
// micro: 1,000 keys registered, then 1,000,000 lookups of pseudo-random
// existing keys (the W6 generator, seed 7919) on one thread, a shared lock
// per lookup: m_lookup_ns.
//
// Prints `RESULT <metric> <value> <unit>` lines; a missed lookup or a failed
// register/unregister is reported on stderr with exit status 1, an unknown
// workload with the usage and exit status 2.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

namespace {

// The baseline itself: the simplest thread-safe registry.
class naive_registry {
 public:
  // False if the key is taken.
  bool register_key(const std::string& key, int pid) {
    std::unique_lock lock(mutex_);
    return map_.try_emplace(key, pid).second;
  }

  // False if the key was not registered.
  bool unregister_key(const std::string& key) {
    std::unique_lock lock(mutex_);
    return map_.erase(key) == 1;
  }

  std::optional<int> lookup(const std::string& key) const {
    std::shared_lock lock(mutex_);
    const auto it = map_.find(key);
    if (it == map_.end()) return std::nullopt;
    return it->second;
  }

 private:
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, int> map_;
};

double now_ns() {
  return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void report(const char* metric, double v, const char* unit) { std::printf("RESULT %s %.1f %s\n", metric, v, unit); }

[[noreturn]] void fail(const std::string& why) {
  std::fprintf(stderr, "naive_registry: %s\n", why.c_str());
  std::exit(1);
}

std::int64_t env_or(const char* name, std::int64_t dflt) {
  const char* v = std::getenv(name);
  if (v == nullptr) return dflt;
  char* end = nullptr;
  const long long n = std::strtoll(v, &end, 10);
  if (end == v || *end != '\0' || n <= 0) fail(std::string(name) + " is not a positive count");
  return n;
}

std::vector<std::string> make_keys(const char* prefix, std::int64_t n) {
  std::vector<std::string> keys;
  keys.reserve(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) keys.push_back(prefix + std::to_string(i));
  return keys;
}

// Runs the jobs on `threads` threads, job j on thread j % threads (so with
// fewer threads than jobs a thread runs its jobs one after the other), and
// returns the wall time in nanoseconds from starting the threads to joining
// them.
double run_on_threads(int threads, const std::vector<std::function<void()>>& jobs) {
  const double t = now_ns();
  std::vector<std::jthread> pool;
  for (int k = 0; k < threads; ++k)
    pool.emplace_back([&jobs, threads, k] {
      for (std::size_t j = static_cast<std::size_t>(k); j < jobs.size(); j += static_cast<std::size_t>(threads))
        jobs[j]();
    });
  pool.clear();  // joins
  return now_ns() - t;
}

// `count` lookups of the keys picked by the Park-Miller generator from
// `seed`. Each lookup must find the pid the key was registered with (its
// index), which also keeps the compiler from dropping the lookups.
void lookups(const naive_registry& reg, const std::vector<std::string>& keys, std::int64_t count, std::int64_t seed) {
  const auto n = static_cast<std::int64_t>(keys.size());
  std::int64_t x = seed, hits = 0;
  for (std::int64_t k = 0; k < count; ++k) {
    x = x * 48271 % 2147483647;
    const std::int64_t i = x % n;
    const std::optional<int> pid = reg.lookup(keys[static_cast<std::size_t>(i)]);
    hits += (pid && *pid == i) ? 1 : 0;
  }
  if (hits != count)
    fail("lookup missed " + std::to_string(count - hits) + " of " + std::to_string(count) + " keys (seed " +
         std::to_string(seed) + ")");
}

int w6(int threads) {
  const std::int64_t n = env_or("W6_N", 100000);
  const std::int64_t total_lookups = env_or("W6_LOOKUPS", 10000000);
  const std::int64_t total_pairs = env_or("W6_PAIRS", 1000000);
  constexpr int workers = 2;
  naive_registry reg;
  const std::vector<std::string> keys = make_keys("worker:", n);

  // Registration: T threads, each registering a contiguous share of the keys.
  std::vector<std::function<void()>> jobs;
  for (int k = 0; k < threads; ++k)
    jobs.emplace_back([&, k] {
      for (std::int64_t i = n * k / threads; i < n * (k + 1) / threads; ++i)
        if (!reg.register_key(keys[static_cast<std::size_t>(i)], static_cast<int>(i)))
          fail("register of " + keys[static_cast<std::size_t>(i)] + " failed");
    });
  report("w6_register_ns_each", run_on_threads(threads, jobs) / static_cast<double>(n), "ns");

  // Lookups: 2 workers, seeds 7919 and 2 * 7919.
  jobs.clear();
  for (std::int64_t w = 1; w <= workers; ++w)
    jobs.emplace_back([&, w] { lookups(reg, keys, total_lookups / workers, 7919 * w); });
  const double lookup_ns = run_on_threads(threads, jobs);
  report("w6_lookups_per_s", static_cast<double>(total_lookups / workers * workers) / (lookup_ns / 1e9), "lookup/s");

  // Churn: 2 workers, each registering and unregistering its own key.
  const std::vector<std::string> churn_keys = make_keys("churn:", workers + 1);
  jobs.clear();
  for (std::size_t w = 1; w <= workers; ++w)
    jobs.emplace_back([&, w] {
      const std::string& key = churn_keys[w];
      for (std::int64_t k = 0; k < total_pairs / workers; ++k) {
        if (!reg.register_key(key, static_cast<int>(n + w))) fail("churn register of " + key + " failed");
        if (!reg.unregister_key(key)) fail("churn unregister of " + key + " failed");
      }
    });
  const double churn_ns = run_on_threads(threads, jobs);
  report("w6_churn_per_s", static_cast<double>(total_pairs / workers * workers) / (churn_ns / 1e9), "pair/s");
  return 0;
}

int micro() {
  constexpr std::int64_t n = 1000, count = 1000000;
  naive_registry reg;
  const std::vector<std::string> keys = make_keys("worker:", n);
  for (std::int64_t i = 0; i < n; ++i)
    if (!reg.register_key(keys[static_cast<std::size_t>(i)], static_cast<int>(i))) fail("micro: register failed");
  const double t = now_ns();
  lookups(reg, keys, count, 7919);
  report("m_lookup_ns", (now_ns() - t) / static_cast<double>(count), "ns");
  return 0;
}

int usage() {
  std::fprintf(stderr, "usage: naive_registry w6 T | naive_registry micro   (T = threads, 1 or 2)\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) return usage();
  const std::string_view w = argv[1];
  if (w == "micro") return micro();
  if (w != "w6" || argc != 3) return usage();
  const int threads = std::atoi(argv[2]);
  if (threads != 1 && threads != 2) return usage();
  return w6(threads);
}
