// SPDX-License-Identifier: MIT
#pragma once
// The awaiters behind otp/process.hpp's receive, receive_down, receive_exit,
// yield and sleep_for: how each parks its process, what wakes it, and what
// it hands back.

#include <otp/messages.hpp>
#include <otp/detail/process_promise.hpp>

#include <chrono>
#include <coroutine>
#include <optional>
#include <utility>
#include <variant>

namespace otp {

namespace detail {

// A trapped exit or a down: the rare case, out of the way of the common one.
template <class M>
[[gnu::noinline]] message<M> take_system_message(node* n) {
  auto* s = static_cast<signal_node*>(n);
  if (n->kind == node_kind::exit_message) {
    message<M> r(std::in_place_index<1>, std::move(s->from), std::move(s->reason));
    delete s;
    return r;
  }
  message<M> r(std::in_place_index<2>, s->ref, std::move(s->from), std::move(s->reason));
  delete s;
  return r;
}

template <class M>
message<M> take_message(process_base& p, node* n) {
  if (n->kind != node_kind::message) [[unlikely]]
    return take_system_message<M>(n);
  if (p.core->bound) p.core->queued.fetch_sub(1, std::memory_order_relaxed);
  auto* m = static_cast<message_node<M>*>(n);
  message<M> r(std::in_place_index<0>, std::move(m->value));
  delete m;
  return r;
}

template <class M>
struct take_variant {
  using type = message<M>;
  static type take(process_base& p, node* n) { return take_message<M>(p, n); }
};

// The part of receive shared by its two forms.
template <class M>
class receive_base : public waiter {
 protected:
  explicit receive_base(process_base* p) noexcept : p_(p) { woken_from_outside = false; }
  receive_base(receive_base&& o) noexcept : p_(o.p_), got_(std::exchange(o.got_, nullptr)) {
    woken_from_outside = false;
  }
  ~receive_base() {
    if (got_) delete got_;
  }
  // A message already merged, no signal pending, reductions left: no suspension.
  bool take_now() noexcept {
    if (p_->first && !p_->inbox_pending() && --p_->reductions > 0) {
      got_ = p_->pop_front();
      return true;
    }
    return false;
  }
  void park() noexcept {
    p_->wait = this;
    if (p_->reductions <= 0) p_->yield_requested = true;
  }
  bool take_merged() noexcept {
    if (got_) return true;
    if (!p_->first) return false;
    got_ = p_->pop_front();
    return true;
  }

  process_base* p_;
  node* got_ = nullptr;
};

template <class M, class Take>
class receive_awaiter final : receive_base<M> {
 public:
  explicit receive_awaiter(process_base* p) noexcept : receive_base<M>(p) {}
  receive_awaiter(receive_awaiter&&) noexcept = default;
  void bind(process_base& p) noexcept { this->p_ = &p; }
  bool await_ready() noexcept { return this->take_now(); }
  void await_suspend(std::coroutine_handle<>) noexcept { this->park(); }
  typename Take::type await_resume() { return Take::take(*this->p_, std::exchange(this->got_, nullptr)); }
  bool ready(process_base&) noexcept override { return this->take_merged(); }
};

template <class M, class Take>
class timed_receive_awaiter final : receive_base<M>, timer_entry {
 public:
  timed_receive_awaiter(process_base* p, duration t) noexcept : receive_base<M>(p), timeout_(t) {}
  timed_receive_awaiter(timed_receive_awaiter&& o) noexcept
      : receive_base<M>(std::move(o)), timeout_(o.timeout_), timed_out_(o.timed_out_), started_(o.started_) {}
  ~timed_receive_awaiter() {
    if (armed()) timer_remove(*this->p_, *this);
  }
  void bind(process_base& p) noexcept { this->p_ = &p; }
  bool await_ready() noexcept { return this->take_now(); }
  void await_suspend(std::coroutine_handle<>) noexcept { this->park(); }
  std::optional<typename Take::type> await_resume() {
    if (!this->got_) return std::nullopt;
    return Take::take(*this->p_, std::exchange(this->got_, nullptr));
  }
  bool ready(process_base& p) noexcept override {
    if (this->take_merged()) {
      if (armed()) timer_remove(p, *this);
      return true;
    }
    if (timed_out_) return true;
    if (!started_) {
      started_ = true;
      if (timeout_ <= duration::zero()) return timed_out_ = true;
      timer_add(p, *this, timeout_);
    }
    return false;
  }
  timer_entry* own_timer() noexcept override { return this; }
  void fire() noexcept override {
    timed_out_ = true;
    if (this->p_->try_unblock()) schedule(*this->p_);
  }

 private:
  duration timeout_;
  bool timed_out_ = false;
  bool started_ = false;
};

}  // namespace detail

namespace detail {

/// The down of one monitor.
struct down_of {
  using message_type = down_message;
  monitor_ref ref;
  bool operator()(const node* n) const noexcept {
    return n->kind == node_kind::down_message && static_cast<const signal_node*>(n)->ref == ref;
  }
  static down_message take(signal_node* s) { return down_message(s->ref, std::move(s->from), std::move(s->reason)); }
};
/// The trapped exit of one process.
struct exit_from {
  using message_type = exit_message;
  pid from;
  bool operator()(const node* n) const noexcept {
    return n->kind == node_kind::exit_message && static_cast<const signal_node*>(n)->from == from;
  }
  static exit_message take(signal_node* s) { return exit_message(std::move(s->from), std::move(s->reason)); }
};

/// Waits for the first node `match` accepts and takes it out of the mailbox,
/// leaving the others where they are. Each wake-up looks only at what
/// arrived since the last.
template <class Match, bool Timed>
class selective_receive final : waiter, timer_entry {
 public:
  using message_type = typename Match::message_type;
  selective_receive(Match m, duration timeout) noexcept : match_(std::move(m)), timeout_(timeout) {
    woken_from_outside = false;
  }
  selective_receive(selective_receive&& o) noexcept
      : match_(std::move(o.match_)), timeout_(o.timeout_), p_(o.p_), got_(std::exchange(o.got_, nullptr)) {
    woken_from_outside = false;
  }
  ~selective_receive() {
    if (armed()) timer_remove(*p_, *this);
    delete got_;
  }
  void bind(process_base& p) noexcept { p_ = &p; }
  bool await_ready() noexcept { return scan(); }
  void await_suspend(std::coroutine_handle<>) noexcept { p_->wait = this; }
  auto await_resume() {
    if constexpr (Timed) {
      if (!got_) return std::optional<message_type>();
      return std::optional<message_type>(take());
    } else {
      return take();
    }
  }
  bool ready(process_base& p) noexcept override {
    if (scan()) {
      if (armed()) timer_remove(p, *this);
      return true;
    }
    if constexpr (Timed) {
      if (timed_out_) return true;
      if (!started_) {
        started_ = true;
        if (timeout_ <= duration::zero()) return timed_out_ = true;
        if (timeout_ != duration::max()) timer_add(p, *this, timeout_);  // max: no deadline
      }
    }
    return false;
  }
  timer_entry* own_timer() noexcept override { return this; }
  void fire() noexcept override {
    timed_out_ = true;
    if (p_->try_unblock()) schedule(*p_);
  }

 private:
  bool scan() noexcept {
    if (got_) return true;
    node* prev = seen_;
    for (node* n = seen_ ? seen_->next : p_->first; n; prev = n, n = n->next) {
      if (!match_(n)) continue;
      (prev ? prev->next : p_->first) = n->next;
      if (p_->last == n) p_->last = prev;
      got_ = n;
      return true;
    }
    seen_ = prev;
    return false;
  }
  message_type take() {
    auto* s = static_cast<signal_node*>(std::exchange(got_, nullptr));
    message_type m = Match::take(s);
    delete s;
    return m;
  }

  Match match_;
  duration timeout_;
  process_base* p_ = nullptr;
  node* seen_ = nullptr;  ///< the last node looked at: the next scan starts after it
  node* got_ = nullptr;
  bool timed_out_ = false;
  bool started_ = false;
};

}  // namespace detail

namespace detail {
class yield_awaiter {
 public:
  yield_awaiter() noexcept = default;
  void bind(process_base& p) noexcept { p_ = &p; }
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<>) noexcept {
    p_->wait = nullptr;
    p_->yield_requested = true;
  }
  void await_resume() const noexcept {}

 private:
  process_base* p_ = nullptr;
};

class sleep_awaiter final : waiter, timer_entry {
 public:
  explicit sleep_awaiter(duration d) noexcept : d_(d) { woken_from_outside = false; }
  sleep_awaiter(sleep_awaiter&& o) noexcept : d_(o.d_), p_(o.p_), done_(o.done_) { woken_from_outside = false; }
  ~sleep_awaiter() {
    if (armed()) timer_remove(*p_, *this);
  }
  void bind(process_base& p) noexcept { p_ = &p; }
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<>) noexcept { p_->wait = this; }
  void await_resume() const noexcept {}
  bool ready(process_base& p) noexcept override {
    if (done_) return true;
    if (!armed()) {
      if (d_ <= duration::zero()) return true;
      timer_add(p, *this, d_);
    }
    return false;
  }
  timer_entry* own_timer() noexcept override { return this; }
  void fire() noexcept override {
    done_ = true;
    if (p_->try_unblock()) schedule(*p_);
  }

 private:
  duration d_;
  process_base* p_ = nullptr;
  bool done_ = false;
};
}  // namespace detail

}  // namespace otp
