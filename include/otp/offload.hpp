// SPDX-License-Identifier: MIT
#pragma once
// otp::offload: run blocking work on a thread pool, not on a shard.
//
//   std::string text = co_await otp::offload([&path] { return read_file(path); });
//
// A shard runs many processes on one thread; a process that blocks it (file
// I/O, a heavy computation, a blocking library call) stalls all of them.
// `co_await offload(fn)` runs fn() on the runtime's offload pool (BEAM's
// dirty schedulers) and resumes the process with its result, on its own
// shard; an exception fn throws is rethrown in the process. Messages keep
// arriving meanwhile, and exit signals are handled at once.
//
// The pool has runtime_options::offload_threads threads (0: as many as the
// hardware has, at least 2), started at the first offload. Work beyond that
// waits its turn in the pool's queue.
//
// Cancellation: fn cannot be interrupted. A process ended while fn runs
// (an exit signal, kill, runtime shutdown) ends once fn has returned, and
// its result is dropped; its links and monitors fire when it ends, except
// for `kill`, which fires them at once (with reason `killed`), also when it
// reaches a process already ending for another reason: so a supervisor's
// shutdown timeout followed by a kill is not held up by fn. Its registry
// entries and local name go at once in every case. fn may therefore refer to the
// process's locals. Runtime destruction waits for running work to finish.
// GCC 12: a lambda temporary that captures by value something with a
// destructor (a std::string) is destroyed twice there when it sits inside
// the co_await, so that spelling does not compile under GCC 12
// (otp/detail/temporaries.hpp). Capture by reference, as above (the process
// outlives fn, see Cancellation), or name the lambda first:
// `auto read = [path] { ... }; co_await otp::offload(read);`.
//
// Under otp::testing, virtual time stands still while work is offloaded
// (the runtime counts it as busy): order such tests with messages.
// Thread safety: fn runs on a pool thread, concurrently with other
// processes: it must not touch the process's state, nor call otp functions
// that need a calling process (send, a reply_to, a registry lookup are fine).

#include <otp/asio.hpp>
#include <otp/detail/offload_awaiter.hpp>

#include <exception>
#include <functional>
#include <optional>
#include <type_traits>
#include <utility>

namespace otp {

/// Runs `fn()` on the runtime's offload pool and resumes the calling process
/// with its result (see the top of this header). Inside a process only.
///
/// GCC 12: a lambda capturing by value something with a destructor (a
/// std::string), written as a temporary inside co_await, does not compile
/// there (GCC 12 would destroy the capture twice; otp/detail/temporaries.hpp).
/// Capture by reference, or name the lambda first.
template <class F>
detail::guarded<detail::offload_awaiter<std::decay_t<F>>, F> offload(F&& fn) {
  return detail::guarded<detail::offload_awaiter<std::decay_t<F>>, F>(
      detail::offload_awaiter<std::decay_t<F>>(std::forward<F>(fn)));
}

}  // namespace otp
