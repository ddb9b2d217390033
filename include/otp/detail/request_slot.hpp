// SPDX-License-Identifier: MIT
#pragma once
// The machinery of otp::request (otp/request.hpp): the reply slot a request
// and its reply_to share (claimed by the first answer, or by the caller
// giving up), the request's message node, which the target watches for the
// caller, and the awaiter that waits on the slot with a deadline.

#include <otp/process.hpp>

#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

namespace otp {

namespace detail {
template <class R>
struct reply_value : reply_slot {
  std::optional<R> value;
};
/// A reply that carries nothing but its arrival (a call answered with ok).
template <>
struct reply_value<void> : reply_slot {
  std::optional<std::monostate> value;
};

/// The slot of a new request by the calling process, holding `refs`
/// references (the waiter's, the request node's, the reply_to's: set at
/// once, no atomic increment). The process's spare slot when it has one of
/// this type, else a new one.
template <class R>
reply_value<R>* slot_for_request(std::uint32_t refs) {
  process_base* p = current();
  if (p && p->spare_slot && p->spare_tag == tag_of<R>()) {
    auto* s = static_cast<reply_value<R>*>(std::exchange(p->spare_slot, nullptr));
    s->reuse(refs);
    s->value.reset();
    return s;
  }
  auto* s = new reply_value<R>;
  s->refs.reset(refs);
  if (p) s->waiter = pid_of(*p);
  return s;
}

/// The waiter is done with its slot: kept as the process's spare when nobody
/// else holds it any more, else released.
template <class R>
void give_back(process_base* p, reply_value<R>* s) noexcept {
  if (p && !p->spare_slot && s->refs.only() && s->waiter.get() == p->core) {
    p->spare_slot = s;
    p->spare_tag = tag_of<R>();
    return;
  }
  s->release();
}

/// Adopts a reference the creator already counted.
struct adopt_ref_t {
  explicit adopt_ref_t() = default;
};
inline constexpr adopt_ref_t adopt_ref{};

/// A request's message: the target's runtime takes the slot when the message
/// reaches its mailbox (see the top of this header). Adopts one reference.
template <class M>
struct request_node final : message_node<M> {
  template <class... A>
  request_node(adopt_ref_t, reply_slot* s, std::in_place_t, A&&... a)
      : message_node<M>(std::in_place, std::forward<A>(a)...), slot_(intrusive_ref<reply_slot>::adopt(s)) {
    this->request = true;
  }
  reply_slot* take_slot() noexcept override { return slot_.detach(); }

 private:
  intrusive_ref<reply_slot> slot_;
};
}  // namespace detail

namespace detail {

template <class R>
class request_awaiter final : waiter, timer_entry {
 public:
  /// Sends the request `msg` to `target` now, from the calling process (the
  /// waiter of `slot`); co_await waits for the answer.
  request_awaiter(const pid& target, node* msg, duration timeout, reply_value<R>* slot) noexcept
      : p_(current()), timeout_(timeout), slot_(slot) {
    if (!target) {
      delete msg;
      out_.emplace(failed(error(errc::noproc, exit_reason::noproc())));
      return;
    }
    if (p_ && target.id() == p_->id) {
      delete msg;
      out_.emplace(failed(error(errc::calling_self)));
      return;
    }
    process_core& t = *as_core(target);
    // A bounded mailbox counts the request (deliver and the receiver uncount
    // it) but never refuses it: a caller has one request out at a time.
    if (t.bound) t.queued.fetch_add(1, std::memory_order_relaxed);
    active_ = true;
    undelivered_ = deliver(t, msg) != send_status::delivered;  // ended already
  }
  /// Waits for an answer to `slot`, already handed to whoever will write it
  /// (an otp::async task); takes the caller's reference.
  request_awaiter(reply_value<R>* slot, duration timeout) noexcept : p_(current()), timeout_(timeout), slot_(slot) {
    active_ = true;
  }
  /// A request that fails before it is sent (a name nobody holds, say).
  explicit request_awaiter(error e) : timeout_(), slot_(nullptr) { out_.emplace(failed(std::move(e))); }
  request_awaiter(request_awaiter&& o) noexcept
      : p_(o.p_), timeout_(o.timeout_), slot_(std::exchange(o.slot_, nullptr)), out_(std::move(o.out_)),
        active_(std::exchange(o.active_, false)), timed_out_(o.timed_out_), undelivered_(o.undelivered_) {}
  ~request_awaiter() {
    finish();
    if (slot_) give_back(p_, slot_);
  }

  void bind(process_base& p) noexcept { p_ = &p; }

  bool await_ready() noexcept { return out_.has_value(); }

  void await_suspend(std::coroutine_handle<>) noexcept { p_->wait = this; }

  result<R> await_resume() { return std::move(*out_); }

  bool ready(process_base& p) noexcept override {
    if (out_) return true;
    const int s = slot_->state.load(std::memory_order_acquire);
    if (s == reply_slot::written_state) {
      if constexpr (std::is_void_v<R>)
        out_.emplace(BOOST_OUTCOME_V2_NAMESPACE::success());
      else
        out_.emplace(BOOST_OUTCOME_V2_NAMESPACE::in_place_type<R>, std::move(*slot_->value));
    } else if (s == reply_slot::target_ended) {
      auto& r = slot_->ended_reason;
      out_.emplace(failed(r.is(exit_kind::noproc) ? error(errc::noproc, r) : error(errc::exited, r)));
    } else if (undelivered_) {
      out_.emplace(failed(error(errc::noproc, exit_reason::noproc())));
    } else if (timed_out_) {
      if (!slot_->abandon()) return false;  // an answer is being written: it wakes us
      out_.emplace(failed(error(errc::timeout, exit_reason::timeout())));
    } else {
      if (!armed() && timeout_ != duration::max()) timer_add(p, *this, timeout_);
      return false;
    }
    finish();
    return true;
  }

  timer_entry* own_timer() noexcept override { return this; }
  void fire() noexcept override {
    timed_out_ = true;
    if (p_->try_unblock()) schedule(*p_);
  }

 private:
  // Drops the timer and gives up the slot (a later answer is dropped).
  void finish() noexcept {
    if (!active_) return;
    active_ = false;
    if (armed()) timer_remove(*p_, *this);
    if (!out_) slot_->abandon();  // given up before an answer came: a later one is dropped
  }

  process_base* p_ = nullptr;
  duration timeout_;
  reply_value<R>* slot_;
  std::optional<result<R>> out_;
  bool active_ = false;
  bool timed_out_ = false;
  bool undelivered_ = false;
};

/// An awaiter whose result is fn(what `inner` gives).
template <class Inner, class Fn>
class mapped_awaiter {
 public:
  mapped_awaiter(Inner inner, Fn fn) : inner_(std::move(inner)), fn_(std::move(fn)) {}
  void bind(process_base& p) noexcept { inner_.bind(p); }
  bool await_ready() { return inner_.await_ready(); }
  decltype(auto) await_suspend(std::coroutine_handle<> h) { return inner_.await_suspend(h); }
  decltype(auto) await_resume() { return fn_(inner_.await_resume()); }

 private:
  Inner inner_;
  Fn fn_;
};

}  // namespace detail

}  // namespace otp
