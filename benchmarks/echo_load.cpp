// SPDX-License-Identifier: MIT
// echo_load: the load generator of W11 (benchmarks/peers/README.md), for a
// line echo server on loopback.
//
//   echo_load --port N [--connections C] [--seconds D] [--warmup W]
//
// C connections (default 64) to 127.0.0.1:N. Every server W11 measures
// greets a new connection with one line (otp's echo_server says "welcome
// <pid>; commands: ..."); it is read and dropped. Then each connection runs
// a closed loop: it sends one 32-byte line, "ping <connection> <seq>\n",
// waits for the same line to come back, and sends the next. The first W
// seconds (default 1) warm up; the requests sent and answered within the
// next D seconds (default 5) are counted and their latencies (send to reply)
// kept, then every connection closes. Prints
//
//   RESULT w11_echo_rps <requests per second> req/s
//   RESULT w11_echo_p50_us <median latency> us
//   RESULT w11_echo_p99_us <99th percentile latency> us
//   RESULT w11_echo_load_cpu_pct <CPU time the generator used> %
//
// The last is the generator's own CPU time over the measured window, in
// percent of one core: near 100, it was the bottleneck, and the server's
// figure is a floor, not the server's limit.
//
// A reply that differs from what was sent, a connection that fails or
// closes, or no progress for 10 s past the end is reported on stderr and
// exits 1; bad arguments exit 2. One thread runs everything (run.sh pins it
// to a core with taskset), so the generator's own cost is one core at most.

#include <asio/co_spawn.hpp>
#include <asio/connect.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <sys/resource.h>

namespace {

using asio::ip::tcp;
using clock_type = std::chrono::steady_clock;
// Awaited operations give their error code instead of throwing it.
constexpr auto checked = asio::experimental::as_tuple(asio::use_awaitable);

[[noreturn]] void fail(const std::string& why) {
  std::fflush(stdout);
  std::fprintf(stderr, "echo_load: %s\n", why.c_str());
  std::_Exit(1);
}

// What every connection shares. One thread: no locks.
struct load {
  tcp::endpoint server;
  clock_type::time_point start, stop;  // the measured window
  std::vector<std::uint64_t> latencies_ns;  // one per request completed inside it
  int running = 0;                     // connections not yet closed
  asio::steady_timer* watchdog = nullptr;
};

// A socket's bytes, cut into lines.
class line_reader {
 public:
  // The next line, without its '\n'.
  asio::awaitable<std::string> next(tcp::socket& s, int id) {
    for (;;) {
      const auto nl = pending_.find('\n');
      if (nl != std::string::npos) {
        std::string line = pending_.substr(0, nl);
        pending_.erase(0, nl + 1);
        co_return line;
      }
      auto [ec, n] = co_await s.async_read_some(asio::buffer(chunk_), checked);
      if (ec) fail("connection " + std::to_string(id) + ": read: " + ec.message());
      pending_.append(chunk_.data(), n);
    }
  }

 private:
  std::string pending_;
  std::array<char, 512> chunk_{};
};

asio::awaitable<void> connection(load& l, int id) {
  tcp::socket s(co_await asio::this_coro::executor);
  if (auto [ec] = co_await s.async_connect(l.server, checked); ec)
    fail("connection " + std::to_string(id) + ": connect: " + ec.message());
  s.set_option(tcp::no_delay(true));
  line_reader in;
  (void)co_await in.next(s, id);  // the greeting
  char line[64];
  for (std::uint64_t seq = 0;; ++seq) {
    // "ping " + 4 digits + " " + 21 digits + "\n": 32 bytes.
    const int len = std::snprintf(line, sizeof line, "ping %04d %021llu\n", id, static_cast<unsigned long long>(seq));
    const auto sent = clock_type::now();
    if (auto [ec, n] = co_await asio::async_write(s, asio::buffer(line, static_cast<std::size_t>(len)), checked); ec)
      fail("connection " + std::to_string(id) + ": write: " + ec.message());
    const std::string back = co_await in.next(s, id);
    const auto done = clock_type::now();
    if (back.size() + 1 != static_cast<std::size_t>(len) || std::memcmp(back.data(), line, back.size()) != 0)
      fail("connection " + std::to_string(id) + ": sent '" + std::string(line, static_cast<std::size_t>(len) - 1) +
           "', got back '" + back + "'");
    if (done >= l.stop) break;
    if (sent >= l.start)
      l.latencies_ns.push_back(
        static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(done - sent).count()));
  }
  std::error_code ignored;
  s.shutdown(tcp::socket::shutdown_both, ignored);
  s.close(ignored);
  if (--l.running == 0) l.watchdog->cancel();
}

// CPU time this process has used, user and system.
double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

int usage() {
  std::fprintf(stderr, "usage: echo_load --port N [--connections C] [--seconds D] [--warmup W]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  long port = 0, connections = 64;
  double seconds = 5, warmup = 1;
  for (int i = 1; i < argc; ++i) {
    if (i + 1 >= argc) return usage();
    const char* v = argv[++i];
    if (!std::strcmp(argv[i - 1], "--port"))
      port = std::atol(v);
    else if (!std::strcmp(argv[i - 1], "--connections"))
      connections = std::atol(v);
    else if (!std::strcmp(argv[i - 1], "--seconds"))
      seconds = std::atof(v);
    else if (!std::strcmp(argv[i - 1], "--warmup"))
      warmup = std::atof(v);
    else
      return usage();
  }
  if (port <= 0 || port > 65535 || connections < 1 || connections > 9999 || seconds <= 0 || warmup < 0) return usage();

  asio::io_context io(1);
  load l;
  l.server = tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port));
  const auto to_clock = [](double s) { return std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(s)); };
  l.start = clock_type::now() + to_clock(warmup);
  l.stop = l.start + to_clock(seconds);
  l.latencies_ns.reserve(1 << 20);
  l.running = static_cast<int>(connections);
  // Every connection ends with the first reply after `stop`; one that has
  // not 10 s later is stuck (a lost reply).
  asio::steady_timer watchdog(io, l.stop + std::chrono::seconds(10));
  l.watchdog = &watchdog;
  watchdog.async_wait([](std::error_code ec) {
    if (!ec) fail("no reply for 10 s after the end: a line was lost");
  });
  // The generator's CPU time at both ends of the measured window.
  double cpu_at_start = 0, cpu_at_stop = 0;
  asio::steady_timer at_start(io, l.start), at_stop(io, l.stop);
  at_start.async_wait([&](std::error_code) { cpu_at_start = cpu_seconds(); });
  at_stop.async_wait([&](std::error_code) { cpu_at_stop = cpu_seconds(); });
  for (int id = 0; id < connections; ++id) asio::co_spawn(io, connection(l, id), asio::detached);
  io.run();

  auto& lat = l.latencies_ns;
  if (lat.empty()) fail("no request completed in the measured window");
  const auto pct = [&lat](double p) {
    auto k = static_cast<std::size_t>(p * static_cast<double>(lat.size() - 1));
    std::nth_element(lat.begin(), lat.begin() + static_cast<std::ptrdiff_t>(k), lat.end());
    return static_cast<double>(lat[k]) / 1e3;
  };
  std::printf("RESULT w11_echo_rps %.1f req/s\n", static_cast<double>(lat.size()) / seconds);
  std::printf("RESULT w11_echo_p50_us %.1f us\n", pct(0.50));
  std::printf("RESULT w11_echo_p99_us %.1f us\n", pct(0.99));
  std::printf("RESULT w11_echo_load_cpu_pct %.1f %%\n", (cpu_at_stop - cpu_at_start) / seconds * 100);
  return 0;
}
