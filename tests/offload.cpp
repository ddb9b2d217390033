// SPDX-License-Identifier: MIT
// otp::offload: blocking work on the offload pool, never on a shard.
#include <otp/offload.hpp>

#include <doctest/doctest.h>
#include <otp/task.hpp>
#include <otp/testing.hpp>

#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>

using namespace std::chrono_literals;

namespace {
// Blocks the calling thread until `flag` is set: what a blocking read does.
void block_until(const std::atomic<bool>& flag) {
  while (!flag.load(std::memory_order_acquire)) std::this_thread::sleep_for(100us);
}
// A process held by its offloaded work: it tells the test (1) that it is
// about to offload, then blocks there until let_go(); frame_gone is set
// when its frame is destroyed.
struct held_by_work {
  std::atomic<bool> release{false};
  std::atomic<bool> frame_gone{false};
  otp::process<> body(otp::handle<int> test) {
    struct on_destroy {
      std::atomic<bool>* gone;
      ~on_destroy() { gone->store(true); }
    } guard{&frame_gone};
    otp::send(test, 1);
    co_await otp::offload([this] { block_until(release); });
  }
  auto spawn_monitored() {
    return otp::spawn_monitor([this](otp::handle<int> t) { return body(t); }, otp::self_as<int>());
  }
  otp::task<> let_go() {
    release.store(true);
    while (!frame_gone.load()) co_await otp::offload([] { std::this_thread::sleep_for(100us); });
  }
};
}  // namespace

TEST_SUITE("offload") {

OTP_TEST_CASE("offload: the result comes back to the process, and the shard runs others meanwhile") {
  // The work blocks until another process of the same shard has run: it
  // could never finish if it blocked the shard.
  std::atomic<bool> other_ran{false};
  otp::spawn([&other_ran]() -> otp::process<> {
    other_ran.store(true, std::memory_order_release);
    co_return;
  });
  int v = co_await otp::offload([&other_ran] {
    block_until(other_ran);
    return 42;
  });
  CHECK(v == 42);
  std::string s = co_await otp::offload([] { return std::string("text"); });
  CHECK(s == "text");
  bool ran = false;
  co_await otp::offload([&ran] { ran = true; });
  CHECK(ran);
}

OTP_TEST_CASE("offload: an exception thrown by the work is rethrown in the process") {
  bool caught = false;
  try {
    (void)co_await otp::offload([]() -> int { throw std::runtime_error("disk on fire"); });
  } catch (const std::runtime_error& e) {
    caught = std::string(e.what()) == "disk on fire";
  }
  CHECK(caught);
}

// Virtual time stands still while work is offloaded (the runtime is busy),
// so this test orders its steps with messages, not sleeps.
OTP_TEST_CASE_M("offload: a process killed while its work runs is dead at once, and its frame goes when the work is done",
                int) {
  std::atomic<bool> release{false};
  std::atomic<bool> work_done{false};
  std::atomic<bool> frame_gone{false};
  struct on_destroy {
    std::atomic<bool>* work_done;
    std::atomic<bool>* gone;
    ~on_destroy() {
      CHECK(work_done->load());  // never before the work returned
      gone->store(true);
    }
  };
  auto worker = [&](otp::handle<int> test) -> otp::process<> {
    on_destroy guard{&work_done, &frame_gone};
    otp::send(test, 1);  // about to offload
    co_await otp::offload([&] {
      block_until(release);
      work_done.store(true);
    });
    FAIL("the process must not resume after it was killed");
  };
  auto [w, ref] = otp::spawn_monitor(worker, otp::self_as<int>());
  REQUIRE(std::holds_alternative<int>(co_await otp::receive()));  // it runs its offload now
  otp::exit(w, otp::exit_reason::kill());
  auto m = co_await otp::receive();
  REQUIRE(std::holds_alternative<otp::down_message>(m));
  CHECK(std::get<otp::down_message>(m).reason == otp::exit_reason::killed());
  CHECK(!otp::is_alive(w));
  CHECK(!frame_gone.load());
  release.store(true);
  while (!frame_gone.load()) co_await otp::offload([] { std::this_thread::sleep_for(100us); });
}

OTP_TEST_CASE_M("offload: a kill after a shutdown fires the links and monitors at once, while the work still runs", int) {
  // A supervisor's shutdown with a timeout: exit(shutdown), then kill. The
  // shutdown cannot interrupt the work; the kill must not wait for it either.
  held_by_work held;
  auto [w, ref] = held.spawn_monitored();
  REQUIRE(std::holds_alternative<int>(co_await otp::receive()));
  otp::exit(w, otp::exit_reason::shutdown());
  for (int i = 0; i < 3; ++i) co_await otp::yield();
  CHECK(!otp::is_alive(w));
  CHECK_FALSE((co_await otp::receive(0s)).has_value());  // ending, held by its work: no down yet
  otp::exit(w, otp::exit_reason::kill());
  auto m = co_await otp::receive();
  REQUIRE(std::holds_alternative<otp::down_message>(m));
  CHECK(std::get<otp::down_message>(m).reason == otp::exit_reason::killed());
  CHECK(!held.frame_gone.load());
  // Dead to the world: a monitor set now answers noproc at once, before the work returns.
  auto late = otp::monitor(w);
  auto d = co_await otp::receive_down(late, 1s);
  REQUIRE(d.has_value());
  CHECK(d->reason == otp::exit_reason::noproc());
  co_await held.let_go();
}

OTP_TEST_CASE_M("offload: a shutdown and a kill sent back to back end the process as killed, without waiting", int) {
  held_by_work held;
  auto [w, ref] = held.spawn_monitored();
  REQUIRE(std::holds_alternative<int>(co_await otp::receive()));
  otp::exit(w, otp::exit_reason::shutdown());
  otp::exit(w, otp::exit_reason::kill());  // merged in the same batch as the shutdown
  auto d = co_await otp::receive_down(ref);
  CHECK(d.reason == otp::exit_reason::killed());
  CHECK(!held.frame_gone.load());
  co_await held.let_go();
}

}  // TEST_SUITE
