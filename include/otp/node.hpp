// SPDX-License-Identifier: MIT
#pragma once
// otp::node: an io_context run by N threads, with a runtime of one shard per
// thread. A convenience for programs that have no io_context of their own;
// embedders use otp::runtime on theirs.
//
//   otp::node n(2);                    // two threads, two shards
//   otp::spawn(n.runtime(), my_root);
//   n.run();                           // returns when every process has ended
//
// Lifetime: run() blocks the calling thread (it is one of the N) until the
// io_context runs out of work: every process ended and no other work queued.
// shutdown() (from any thread, a signal handler's Asio callback, or a
// process) stops every process in order, so run() returns.

#include <otp/runtime.hpp>

#include <asio/io_context.hpp>

#include <cstddef>
#include <memory>

namespace otp {

class node {
 public:
  /// `threads` threads (0: std::thread::hardware_concurrency()), one shard each.
  explicit node(std::size_t threads = 0, runtime_options options = {});
  ~node();
  node(const node&) = delete;
  node& operator=(const node&) = delete;

  otp::runtime& runtime() noexcept { return *rt_; }
  asio::io_context& context() noexcept { return io_; }
  std::size_t threads() const noexcept { return threads_; }

  /// Runs the io_context on this thread and threads()-1 more; returns when it
  /// runs out of work. Exceptions escaping a handler stop all threads and are
  /// rethrown here.
  void run();
  /// runtime().shutdown().
  void shutdown() { rt_->shutdown(); }

 private:
  std::size_t threads_;
  asio::io_context io_;
  std::unique_ptr<otp::runtime> rt_;
};

}  // namespace otp
