// SPDX-License-Identifier: MIT
#include <otp/node.hpp>

#include <algorithm>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace otp {

namespace {
std::size_t thread_count(std::size_t n) { return n ? n : std::max(1u, std::thread::hardware_concurrency()); }
}  // namespace

node::node(std::size_t threads, runtime_options options)
    : threads_(thread_count(threads)), io_(static_cast<int>(threads_)) {
  options.shards = threads_;
  rt_ = std::make_unique<otp::runtime>(io_.get_executor(), std::move(options));
}

node::~node() = default;

void node::run() {
  std::exception_ptr failure;
  std::mutex m;
  auto body = [&] {
    try {
      io_.run();
    } catch (...) {
      std::lock_guard<std::mutex> g(m);
      if (!failure) failure = std::current_exception();
      io_.stop();
    }
  };
  std::vector<std::thread> extra;
  for (std::size_t i = 1; i < threads_; ++i) extra.emplace_back(body);
  body();
  for (auto& t : extra) t.join();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace otp
