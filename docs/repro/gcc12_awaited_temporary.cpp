// SPDX-License-Identifier: MIT
//
// What this shows
// ---------------
// g++ 12 (Debian 12.2) destroys a temporary twice when the temporary is
// created inside a co_await full-expression and its type has a non-trivial
// destructor, provided it is
//   - a braced aggregate (here `item{1, std::string(40, 'x')}`), or
//   - a lambda closure that captures such a value by copy.
// Under AddressSanitizer the first free shows up when the callee's frame is
// destroyed (its by-value parameter), and the second when the awaiting
// coroutine destroys "its" temporary at the end of the full-expression: the
// same heap buffer, so ASan reports "attempting double-free". Without a
// sanitizer glibc aborts with "free(): double free detected in tcache 2".
// This happens at -O0 and -O2 alike; clang++ 16 compiles the same code
// correctly. The string has 40 characters so that it does not fit in the
// small-string buffer and really owns heap memory.
//
// Modes (first argument):
//   aggregate  co_await take_item(item{...});              broken on g++ 12
//   lambda     co_await run_fn([s] { ... });               broken on g++ 12
//   named      item it{...}; co_await take_item(std::move(it));   fine
//   named-fn   auto fn = [s] {...}; co_await run_fn(std::move(fn)); fine
// Exit status 0 means the awaited values came back as expected.
//
// How to build and run (each command below is a single line)
// --------------------
//   g++-12 -std=c++20 -O0 -g -fsanitize=address -DASIO_STANDALONE
//       -DASIO_NO_DEPRECATED gcc12_awaited_temporary.cpp -o t -pthread
//   ./t named; ./t aggregate
//   clang++-16 -std=c++20 -O0 -g -fsanitize=address -DASIO_STANDALONE
//       -DASIO_NO_DEPRECATED -DASIO_HAS_CO_AWAIT=1
//       gcc12_awaited_temporary.cpp -o t -pthread
// clang with libstdc++ needs ASIO_HAS_CO_AWAIT=1: Asio 1.22 only detects
// coroutine support there through <experimental/coroutine>. run.sh in this
// directory builds and runs every combination.
//
// What otp does about it
// -----------------------
// The temporary sits in the *awaiting* coroutine's frame, so nothing on the
// callee's side can repair it. otp refuses the spelling instead: with
// OTP_GUARD_AWAITED_TEMPORARIES on (include/otp/detail/temporaries.hpp),
// otp's awaitable entry points look at the arguments they receive as
// rvalues, and if one is a non-trivially destructible aggregate or closure,
// co_awaiting the result directly does not compile. Spellings g++ 12 gets
// right stay allowed: a message type with a constructor, std::in_place
// construction, naming the awaitable in its own statement first, or passing
// an lvalue. The guard only covers otp's own entry points; a user coroutine
// like take_item() below is not checked.

#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>

#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <utility>

namespace {

// An aggregate (no constructors) whose member has a destructor.
struct item {
  int n;
  std::string s;
};

asio::awaitable<int> take_item(item it) { co_return it.n + static_cast<int>(it.s.size()); }

template <class F>
asio::awaitable<int> run_fn(F fn) {
  co_return fn();
}

asio::awaitable<int> scenario(const char* mode) {
  const std::string payload(40, 'x');
  if (std::strcmp(mode, "aggregate") == 0) {
    // Temporary aggregate inside the co_await expression.
    co_return co_await take_item(item{1, std::string(40, 'x')});
  }
  if (std::strcmp(mode, "lambda") == 0) {
    // Temporary closure capturing a std::string by copy.
    co_return co_await run_fn([payload] { return 1 + static_cast<int>(payload.size()); });
  }
  if (std::strcmp(mode, "named") == 0) {
    item it{1, std::string(40, 'x')};
    co_return co_await take_item(std::move(it));
  }
  if (std::strcmp(mode, "named-fn") == 0) {
    auto fn = [payload] { return 1 + static_cast<int>(payload.size()); };
    co_return co_await run_fn(std::move(fn));
  }
  std::fprintf(stderr, "unknown mode %s\n", mode);
  co_return -1;
}

}  // namespace

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "aggregate";
  int result = 0;
  asio::io_context io;
  asio::co_spawn(io, scenario(mode), [&](std::exception_ptr e, int r) {
    if (e) std::fprintf(stderr, "exception escaped the coroutine\n");
    result = r;
  });
  io.run();
  std::printf("%s: result %d (expected 41)\n", mode, result);
  return result == 41 ? 0 : 1;
}
