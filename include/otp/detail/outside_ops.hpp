// SPDX-License-Identifier: MIT
#pragma once
// The machinery of otp/outside.hpp: Asio initiations for async_call,
// async_request, async_cast and async_wait_exit; the reply slot that
// completes a handler on its own executor (keeping its work counted); the
// deadline a plain Asio caller's request gets from the target's shard; the
// exit watch a waited-on process keeps.

#include <otp/server.hpp>

#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/execution/outstanding_work.hpp>
#include <asio/post.hpp>
#include <asio/prefer.hpp>
#include <asio/system_executor.hpp>

#include <optional>
#include <type_traits>
#include <utility>

namespace otp {

namespace detail {

/// The executor of the runtime `p` lives on (the default for completions);
/// for the null pid, the system executor.
asio::any_io_executor completion_executor(const pid& p);

/// Refuses, under the GCC 12 guard, a request given as a braced aggregate
/// temporary to an operation whose token makes it an awaitable (use_awaitable):
/// it will be co_awaited with the temporary inside (otp/detail/temporaries.hpp).
template <class Ret, class... Args>
constexpr void check_awaited_temporaries() {
  static_assert(!(requires(Ret& r) { r.await_ready(); } && holds_refused_temporary<Args...>),
                "GCC before 13 destroys twice a braced aggregate (or a lambda capturing by value) that is a "
                "temporary inside co_await, and this co_await would hold one (see otp/detail/temporaries.hpp). "
                "Give the request type a constructor, or use a callback or use_future token.");
}

/// Runs `h(args...)` as if by post on h's associated executor (default
/// `fallback`), counting outstanding work on it meanwhile.
template <class Handler>
class completion {
 public:
  using executor_type = asio::associated_executor_t<Handler, asio::any_io_executor>;
  completion(Handler h, const asio::any_io_executor& fallback)
      : handler_(std::move(h)),
        work_(asio::prefer(asio::get_associated_executor(handler_, fallback),
                           asio::execution::outstanding_work.tracked)) {}
  /// Once.
  template <class... A>
  void post(A... args) {
    auto ex = work_;
    asio::post(ex, [h = std::move(handler_), w = std::move(work_), ... a = std::move(args)]() mutable {
      std::move(h)(std::move(a)...);
    });
  }

 private:
  Handler handler_;
  std::decay_t<decltype(asio::prefer(std::declval<executor_type>(), asio::execution::outstanding_work.tracked))>
      work_;
};

/// A reply slot waited on from outside any process.
template <class R>
struct outside_slot : reply_value<R> {
  /// Completes with `e`; the caller has closed the slot (claim or abandon).
  virtual void fail(error e) noexcept = 0;
};

template <class R, class Handler>
class outside_reply final : public outside_slot<R> {
 public:
  outside_reply(Handler h, const asio::any_io_executor& fallback) : done_(std::move(h), fallback) {}

  void woken() noexcept override {  // the answer, or the target's end
    if (this->state.load(std::memory_order_acquire) == reply_slot::written_state) {
      if constexpr (std::is_void_v<R>)
        complete(result<void>(BOOST_OUTCOME_V2_NAMESPACE::success()));
      else
        complete(result<R>(BOOST_OUTCOME_V2_NAMESPACE::in_place_type<R>, std::move(*this->value)));
    } else {
      const exit_reason& r = this->ended_reason;
      complete(result<R>(failed(r.is(exit_kind::noproc) ? error(errc::noproc, r) : error(errc::exited, r))));
    }
  }
  void fail(error e) noexcept override { complete(result<R>(failed(std::move(e)))); }

 private:
  void complete(result<R> r) noexcept {
    try {
      done_.post(std::move(r));
    } catch (...) {  // no memory to post the completion: the handler is dropped
    }
  }
  completion<Handler> done_;
};

/// The deadline of an outside request, in the target's timer queue.
template <class R>
struct outside_deadline final : delayed_send {
  outside_deadline(outside_slot<R>* s, pid t) noexcept
      : slot(intrusive_ref<outside_slot<R>>::share(s)), target(std::move(t)) {
    refs.reset(1);  // the queue's only: nobody cancels it
  }
  void deliver() noexcept override {
    if (slot->abandon()) slot->fail(error(errc::timeout, exit_reason::timeout()));
  }
  process_core* follows() const noexcept override { return as_core(target); }
  intrusive_ref<outside_slot<R>> slot;
  pid target;  ///< the process asked: the deadline stays in its shard's queue
};

/// Sends `msg` (a request node holding two of the slot's references) to `to`
/// and arms the deadline; drops the third reference, the caller's.
template <class R>
void start_outside(const pid& to, node* msg, outside_slot<R>* slot, duration timeout) {
  auto* t = as_core(to);
  bool delivered = false;
  if (t) {
    if (t->bound) t->queued.fetch_add(1, std::memory_order_relaxed);  // counted, never refused (request.hpp)
    delivered = deliver(*t, msg) == send_status::delivered;
  } else {
    delete msg;
  }
  if (!delivered) {
    if (slot->claim()) slot->fail(error(errc::noproc, exit_reason::noproc()));
  } else if (timeout != duration::max()) {
    try {
      schedule_delayed(*t, new outside_deadline<R>(slot, to), timeout);
    } catch (...) {  // no memory for the deadline: the request waits without one
    }
  }
  slot->release();
}

template <class R>
struct initiate_request {
  template <class Handler, class Make>
  void operator()(Handler&& h, const pid& to, Make make, duration timeout) const {
    auto* slot = new outside_reply<R, std::decay_t<Handler>>(std::forward<Handler>(h), completion_executor(to));
    slot->refs.reset(3);  // ours, the node's, the node's reply_to
    node* msg;
    try {
      msg = make(slot);
    } catch (...) {
      slot->refs.reset(1);  // nobody else saw it
      slot->release();
      throw;
    }
    start_outside<R>(to, msg, slot, timeout);
  }
};

struct initiate_cast {
  template <class Handler, class Send>
  void operator()(Handler&& h, const pid& to, Send send) const {
    completion<std::decay_t<Handler>> done(std::forward<Handler>(h), completion_executor(to));
    done.post(send());
  }
};

/// Completes a waiter for a process's end (lib/outside.cpp places it).
struct exit_watch : exit_hook {
  virtual void complete(exit_reason r) noexcept = 0;
  void on_exit(process_base& p) noexcept override { complete(p.reason); }
  virtual ~exit_watch() = default;
};
/// Runs `w` when the process of `p` ends (at once with noproc if it is dead).
void watch_exit(const pid& p, exit_watch* w);

template <class Handler>
struct exit_watch_of final : exit_watch {
  exit_watch_of(Handler h, const asio::any_io_executor& fallback) : done(std::move(h), fallback) {}
  void complete(exit_reason r) noexcept override {
    try {
      done.post(std::move(r));
    } catch (...) {
    }
    delete this;
  }
  void discard() noexcept override { delete this; }
  completion<Handler> done;
};

struct initiate_wait_exit {
  template <class Handler>
  void operator()(Handler&& h, const pid& p) const {
    watch_exit(p, new exit_watch_of<std::decay_t<Handler>>(std::forward<Handler>(h), completion_executor(p)));
  }
};

}  // namespace detail

}  // namespace otp
