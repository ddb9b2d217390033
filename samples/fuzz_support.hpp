// SPDX-License-Identifier: MIT
#pragma once
// What the samples' libFuzzer targets share: a supervision tree running on
// a background thread, and a client that sends the fuzzer's bytes over
// loopback and reads what comes back.

#include <otp/otp.hpp>

#include <asio/io_context.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace fuzz {

/// A runtime on its own thread running `children` under a root supervisor,
/// for the whole fuzzing run. Crash reports are silenced: handlers crash.
class background_tree {
 public:
  explicit background_tree(std::vector<otp::child_spec> children) {
    otp::runtime_options o;
    o.log = nullptr;
    rt_ = std::make_unique<otp::runtime>(io_.get_executor(), o);
    std::atomic<bool> up{false};
    root_ = otp::spawn(*rt_, [&up, c = std::move(children)]() mutable -> otp::process<> {
      auto sup = co_await otp::start_supervisor(otp::supervisor_flags(), std::move(c));
      if (!sup) {
        std::fprintf(stderr, "fuzz: the tree did not start: %s\n", sup.error().message().c_str());
        std::abort();
      }
      up = true;
      co_await otp::receive();
    });
    thread_ = std::thread([this] { io_.run(); });
    while (!up) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  otp::runtime& rt() { return *rt_; }
  /// The whole tree still stands (only handler processes may have died).
  bool alive() const { return otp::is_alive(root_); }

 private:
  asio::io_context io_;
  std::unique_ptr<otp::runtime> rt_;
  otp::pid root_;
  std::thread thread_;  // runs until the fuzzer exits
};

/// Sends `n` bytes to 127.0.0.1:port, closes its sending side, and returns
/// what comes back until the server closes or `wait_ms` of silence.
inline std::string exchange(unsigned short port, const std::uint8_t* data, std::size_t n, int wait_ms = 200) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) std::abort();
  sockaddr_in at{};
  at.sin_family = AF_INET;
  at.sin_port = htons(port);
  at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&at), sizeof at) != 0) {
    std::fprintf(stderr, "fuzz: the server refused a connection\n");
    std::abort();
  }
  timeval tv{0, wait_ms * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  for (std::size_t sent = 0; sent < n;) {
    auto k = ::send(fd, data + sent, n - sent, MSG_NOSIGNAL);
    if (k <= 0) break;  // the server may close early (a bad request): fine
    sent += static_cast<std::size_t>(k);
  }
  ::shutdown(fd, SHUT_WR);
  std::string got;
  char buf[4096];
  for (;;) {
    auto k = ::recv(fd, buf, sizeof buf, 0);
    if (k <= 0) break;
    got.append(buf, static_cast<std::size_t>(k));
  }
  ::close(fd);
  return got;
}

}  // namespace fuzz
