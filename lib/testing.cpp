// SPDX-License-Identifier: MIT
#include <otp/testing.hpp>

#include <asio/io_context.hpp>

#include <thread>

namespace otp::testing::detail {

namespace {
/// Virtual time that refuses to pass the test's limit: it fails the test and
/// kills everything instead.
class limited_clock final : public manual_clock {
 public:
  limited_clock(harness& h, duration limit) : h_(h), limit_(time_point(limit)) {}
  std::function<void()> on_limit;
  void advance_to(time_point t) noexcept override {
    if (t > limit_) {
      if (!hit_.exchange(true)) {
        h_.fail("the test did not end within its virtual time limit");
        if (on_limit) on_limit();
      }
      return;
    }
    manual_clock::advance_to(t);
  }

 private:
  harness& h_;
  time_point limit_;
  std::atomic<bool> hit_{false};
};
}  // namespace

struct harness::impl {
  explicit impl(harness& h, const options& o)
      : io(o.threads > 1 ? static_cast<int>(o.threads) : 1),
        clk(std::make_shared<limited_clock>(h, o.time_limit)) {
    clk->on_limit = [this] { rt->kill_all(); };
    runtime_options ro;
    ro.shards = o.shards ? o.shards : o.threads;
    ro.migration = o.migration;
    ro.clock = clk;
    ro.log = {};
    if (o.keep_log) {
      ro.log = [this](const log_event& e) {
        std::lock_guard<std::mutex> g(m);
        rep.log.push_back(e.text);
        rep.events.push_back(e);
      };
    }
    ro.on_deadlock = [this, &h] {
      h.fail("deadlock: " + std::to_string(rt->live()) +
             " process(es) alive, nothing runnable, no timer and no Asio operation pending");
      rt->kill_all();
    };
    rt.emplace(io.get_executor(), std::move(ro));
  }
  asio::io_context io;
  std::shared_ptr<limited_clock> clk;
  std::optional<otp::runtime> rt;
  std::mutex m;
  report rep;
  bool body_done = false;
};

namespace {
std::atomic<harness::impl*> running{nullptr};  // the harness whose run() is in progress
}

harness::harness(const options& o) : opts_(o), impl_(std::make_unique<impl>(*this, o)) {}
harness::~harness() = default;

otp::runtime& harness::rt() noexcept { return *impl_->rt; }

void harness::fail(std::string what) {
  std::lock_guard<std::mutex> g(impl_->m);
  impl_->rep.failures.push_back(std::move(what));
}

void harness::body_ended(const exit_reason& r) {
  {
    std::lock_guard<std::mutex> g(impl_->m);
    impl_->rep.body_reason = r;
    impl_->body_done = true;
  }
  if (!r.is(exit_kind::normal)) fail("the test body ended with " + r.to_string());
}

void harness::check_leftovers(std::size_t own) {
  std::size_t live = impl_->rt->live();
  if (live > own) {
    fail(std::to_string(live - own) + " process(es) left alive after the test body ended");
    impl_->rt->kill_all();
  }
}

report harness::run() {
  const std::size_t extra = opts_.threads > 1 ? opts_.threads - 1 : 0;
  std::vector<std::thread> threads;
  running.store(impl_.get());
  for (std::size_t i = 0; i < extra; ++i) threads.emplace_back([this] { impl_->io.run(); });
  impl_->io.run();
  for (auto& t : threads) t.join();
  running.store(nullptr);
  std::lock_guard<std::mutex> g(impl_->m);
  if (!impl_->body_done && impl_->rep.failures.empty()) impl_->rep.failures.push_back("the test body never ended");
  impl_->rt.reset();
  return impl_->rep;
}

}  // namespace otp::testing::detail

namespace otp::testing {
std::vector<log_event> logged() {
  auto* h = detail::running.load();
  if (!h) return {};
  std::lock_guard<std::mutex> g(h->m);
  return h->rep.events;
}
}  // namespace otp::testing
