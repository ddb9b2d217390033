// SPDX-License-Identifier: MIT
//
// What this shows
// ---------------
// clang++ 16 may compute the address of a thread_local once, before a loop
// in a coroutine body, and keep it in the coroutine frame. If the loop
// suspends and the coroutine is resumed on another thread, later iterations
// still go through the first thread's variable. (LLVM 16 already fixed the
// straight-line case with llvm.threadlocal.address; what is left here is the
// loop case: the address is hoisted out of a loop that contains a
// co_await. Upstream reports: llvm/llvm-project issues 47179 and 63022;
// pull request 81937 later stopped LoopRotate from hoisting such addresses
// out of loops in coroutines.)
//
// Three modes, chosen by the first argument:
//
//   tls-direct   No Asio. A coroutine loops over `co_await` points that hand
//                it alternately to two worker threads, and after each resume
//                records `&tl` (tl is a thread_local int). Each worker
//                recorded its own `&tl` when it started, so the two can be
//                compared. Prints how many iterations saw a foreign address;
//                exit status 1 if any did. Deterministic: with clang++-16 at
//                -O1 and above every iteration is stale (the address is the
//                main thread's); with g++-12 and with clang -O0 none is.
//   tls-call     The same, but the coroutine asks a [[gnu::noinline]]
//                function for the address instead of naming tl itself. That
//                was enough here; otp goes one step further and keeps such
//                functions in a separate .cpp file, so the optimiser has
//                nothing to look into.
//   asio [coroutines iterations inner]
//                Asio's recycling allocator for coroutine frames finds the
//                current thread's cache through a thread_local (the top of
//                call_stack<thread_context, thread_info_base>, reached via
//                thread_context::top_of_thread_call_stack()). Its inline
//                code gets inlined into our coroutine's loop, the address is
//                hoisted, and after a hop to the other io_context thread the
//                coroutine allocates and frees frames in the *other* thread's
//                cache while that thread uses it too. The program spawns
//                many coroutines (no strand) on one io_context run by two
//                threads; each loops over asio::post(use_awaitable) (the hop)
//                and a few calls of a tiny awaitable (the frame allocations).
//                With clang++-16 -O3 and Asio's default (the `thread_local`
//                keyword) a fraction of runs crash: SIGSEGV, or SIGABRT
//                from glibc ("free(): double free detected in tcache 2",
//                "free(): invalid pointer", ...); under ASan
//                "heap-use-after-free" in thread_info_base::allocate, a
//                double free or a SEGV. With
//                -DASIO_DISABLE_THREAD_KEYWORD_EXTENSION (Asio then uses
//                pthread keys, read through calls the optimiser cannot
//                merge) and with g++-12 it did not crash. Exit status 0 means
//                the run finished and the sum came out right.
//
// Measured on the Debian 12 machine this was written on (2 cores, g++ 12.2,
// clang 16.0.6), `asio` runs with the default arguments unless noted:
//   clang++-16 -O3                           23/50 and 29/50 crashed (two
//                                            batches); 9/50 with 4000
//                                            iterations instead of 20000
//   clang++-16 -O3 -fsanitize=address,       12/20, 16/20 and 20/20 reported
//     arguments 64 4000 8                    an error
//   clang++-16 -O3 with the Asio macro       0/50 twice; ASan build 0/20 x3
//   clang++-16 -O2                           0/50 twice, 0/30: at -O2 Asio's
//                                            thread_local lookup was not
//                                            inlined into hopper() at all
//   clang++-16 -O1, and -O1 with ASan        0/30 each
//   g++-12 -O3                               0/50 twice
// In the -O3 assembly of hopper()'s resume function the address of Asio's
// thread_local (keyword_tss_ptr<...>::value_) is computed once, before the
// loop, and stored in the coroutine frame; in hop_and_look() the address of
// tl is computed in the ramp function and stored in the frame likewise. The
// crash is a race between the two threads, so its rate varies from batch to
// batch and with machine load.
//
// How to build and run (each command below is a single line)
// --------------------
//   clang++-16 -std=c++20 -O3 -pthread -DASIO_STANDALONE -DASIO_NO_DEPRECATED
//       -DASIO_HAS_CO_AWAIT=1 clang16_tls_in_frame.cpp -o t
//   ./t tls-direct; ./t tls-call; for i in $(seq 50); do ./t asio; done
//   Add -DASIO_DISABLE_THREAD_KEYWORD_EXTENSION for the fixed build; with
//   g++-12 drop -DASIO_HAS_CO_AWAIT=1 (clang with libstdc++ needs it because
//   Asio 1.22 looks for <experimental/coroutine> to detect co_await there).
// run.sh in this directory builds every variant and counts failures.
//
// What otp does about it
// ----------------------
// cmake/otpAsio.cmake defines ASIO_DISABLE_THREAD_KEYWORD_EXTENSION (and
// ASIO_HAS_CO_AWAIT=1) whenever the compiler is clang, so Asio's per-thread
// state is never a `thread_local` that could be hoisted into a frame. otp's
// own coroutine bodies never name a thread_local either: they call non-inline
// functions compiled in lib/*.cpp, such as otp::detail::current() in
// lib/runtime.cpp, whose result is recomputed at every call.

#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <atomic>
#include <condition_variable>
#include <coroutine>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>

namespace probe {

thread_local int tl = 0;

[[gnu::noinline]] int* address_of_tl() { return &tl; }

// A fire-and-forget coroutine type: starts at once, frees its own frame.
struct detached_task {
  struct promise_type {
    detached_task get_return_object() noexcept { return {}; }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { std::terminate(); }
  };
};

// A thread that resumes whatever coroutine handles it is given.
class resumer {
 public:
  void start() {
    thread_ = std::thread([this] {
      {
        std::lock_guard lock(mutex_);
        own_tl_ = &tl;  // not a coroutine: this is the thread's real address
      }
      ready_.notify_all();
      for (;;) {
        std::unique_lock lock(mutex_);
        ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;
        const std::coroutine_handle<> h = queue_.front();
        queue_.pop_front();
        lock.unlock();
        h.resume();
      }
    });
    std::unique_lock lock(mutex_);
    ready_.wait(lock, [this] { return own_tl_ != nullptr; });
  }
  void push(std::coroutine_handle<> h) {
    {
      std::lock_guard lock(mutex_);
      queue_.push_back(h);
    }
    ready_.notify_all();
  }
  void stop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    ready_.notify_all();
    thread_.join();
  }
  int* own_tl() const { return own_tl_; }

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::coroutine_handle<>> queue_;
  bool stopping_ = false;
  int* own_tl_ = nullptr;
  std::thread thread_;
};

resumer workers[2];

// co_await move_to{w}: suspend here, continue on worker w.
struct move_to {
  resumer& target;
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) { target.push(h); }
  void await_resume() const noexcept {}
};

constexpr int rounds = 16;
int* seen[rounds];
std::atomic<bool> finished{false};

detached_task hop_and_look(bool through_call) {
  for (int i = 0; i < rounds; ++i) {
    co_await move_to{workers[i % 2]};
    int* p = through_call ? address_of_tl() : &tl;
    seen[i] = p;
    ++*p;
  }
  finished = true;
  finished.notify_all();
}

int run(bool through_call) {
  for (auto& w : workers) w.start();
  hop_and_look(through_call);
  finished.wait(false);
  for (auto& w : workers) w.stop();
  int stale = 0;
  for (int i = 0; i < rounds; ++i) stale += seen[i] != workers[i % 2].own_tl();
  std::printf("%s: %d of %d resumptions saw another thread's &tl (main %p, workers %p %p, last seen %p)\n",
              through_call ? "tls-call" : "tls-direct", stale, rounds, static_cast<void*>(&tl),
              static_cast<void*>(workers[0].own_tl()), static_cast<void*>(workers[1].own_tl()),
              static_cast<void*>(seen[rounds - 1]));
  return stale == 0 ? 0 : 1;
}

}  // namespace probe

namespace with_asio {

std::atomic<long> total{0};

asio::awaitable<int> parity(int i) { co_return i & 1; }

asio::awaitable<void> hopper(int iterations, int inner) {
  const auto ex = co_await asio::this_coro::executor;
  long sum = 0;
  for (int i = 0; i < iterations; ++i) {
    // Back through the io_context queue: may continue on the other thread.
    co_await asio::post(ex, asio::use_awaitable);
    // Each call allocates and frees an awaitable frame through Asio's
    // per-thread cache, found through the (possibly hoisted) thread_local.
    for (int j = 0; j < inner; ++j) sum += co_await parity(j);
  }
  total += sum;
}

int run(int coroutines, int iterations, int inner) {
  asio::io_context io;
  for (int c = 0; c < coroutines; ++c) asio::co_spawn(io, hopper(iterations, inner), asio::detached);
  std::thread second([&io] { io.run(); });
  io.run();
  second.join();
  const long expected = static_cast<long>(coroutines) * iterations * (inner / 2);
  std::printf("asio: total %ld, expected %ld\n", total.load(), expected);
  return total.load() == expected ? 0 : 1;
}

}  // namespace with_asio

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "asio";
  if (std::strcmp(mode, "tls-direct") == 0) return probe::run(false);
  if (std::strcmp(mode, "tls-call") == 0) return probe::run(true);
  if (std::strcmp(mode, "asio") == 0) {
    const int coroutines = argc > 2 ? std::atoi(argv[2]) : 64;
    const int iterations = argc > 3 ? std::atoi(argv[3]) : 20000;
    const int inner = argc > 4 ? std::atoi(argv[4]) : 8;
    return with_asio::run(coroutines, iterations, inner);
  }
  std::fprintf(stderr, "usage: %s tls-direct | tls-call | asio [coroutines iterations inner]\n", argv[0]);
  return 2;
}
