// SPDX-License-Identifier: MIT
//
// What this shows
// ---------------
// g++ 12 (Debian 12.2) destroys a temporary twice when the temporary is
// created inside a co_await full-expression and its type has a non-trivial
// destructor, provided it is
//   - a braced aggregate (here `item{1, std::string(40, 'x')}`), or
//   - a lambda closure that captures such a value by copy.
// The second destructor call frees the std::string's heap buffer again, so
// AddressSanitizer reports a double free (attempting double-free) and a plain
// build aborts in glibc ("free(): double free detected") or corrupts the heap.
// It happens at -O0 and -O2 alike; clang++ 16 compiles the same code
// correctly. The string is 40 characters so that it does not fit in the
// small-string buffer and really owns heap memory.
//
// Modes (first argument):
//   aggregate  co_await take_item(item{...});              broken on g++ 12
//   lambda     co_await run_fn([s] { ... });               broken on g++ 12
//   named      item it{...}; co_await take_item(std::move(it));   fine
//   named-fn   auto fn = [s] {...}; co_await run_fn(std::move(fn)); fine
// Exit status 0 means the awaited values came back as expected.
//
// How to build and run
// --------------------
//   g++-12 -std=c++20 -O0 -g -fsanitize=address -DASIO_STANDALONE \
//       -DASIO_NO_DEPRECATED gcc12_awaited_temporary.cpp -o t -pthread
//   ./t named; ./t aggregate
//   clang++-16 -std=c++20 -O0 -g -fsanitize=address -DASIO_STANDALONE \
//       -DASIO_NO_DEPRECATED -DASIO_HAS_CO_AWAIT=1 \
//       gcc12_awaited_temporary.cpp -o t -pthread
// (clang with libstdc++ needs ASIO_HAS_CO_AWAIT=1: Asio 1.22 only detects
// coroutine support there through <experimental/coroutine>.)
// run.sh in this directory does all of it.
//
// What otp does about it
// ----------------------
// The temporary lives in the *awaiting* coroutine's frame, so the library
// cannot fix it from the callee side. Instead, with OTP_GUARD_AWAITED_TEMPORARIES
// switched on (see include/otp/detail/temporaries.hpp), otp's awaitable
// entry points notice rvalue arguments of such types (non-trivially
// destructible aggregates and closures) and make the co_await fail to
// compile, pointing the user at a spelling g++ 12 handles: a named value, a
// type with a user-declared constructor, or std::in_place construction.

#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
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
