// SPDX-License-Identifier: MIT
#include <otp/start.hpp>

namespace otp {
namespace detail {

void start_ack::owner_ended(const exit_reason& r) noexcept {
  if (state.load(std::memory_order_acquire) == 3) return;  // the starter gave up
  end_reason = r;
  ended.store(true, std::memory_order_seq_cst);
  if (auto* w = as_core(waiter); w && w->try_unblock()) schedule(*w);
}

start_base::start_base(start_base&& o) noexcept
    : p_(o.p_), opts_(o.opts_), child_(std::move(o.child_)), ack_(std::exchange(o.ack_, nullptr)),
      active_(std::exchange(o.active_, false)), timed_out_(o.timed_out_), acked_(o.acked_),
      out_(std::move(o.out_)) {}

start_base::~start_base() {
  finish();
  if (ack_) ack_->release();
}

reply_slot* start_base::make_ack() {
  ack_ = new start_ack;
  ack_->waiter = pid_of(*p_);
  return ack_;
}

void start_base::begin(pid child) {
  child_ = std::move(child);
  active_ = true;
  p_->wait = this;
}

void start_base::refuse(error e) {
  out_.emplace(std::move(e));
  p_->wait = this;
}

bool start_base::ready(process_base& p) noexcept {
  if (out_) return true;
  if (ack_->written() && !acked_) {
    acked_ = true;
    if (ack_->what == start_ack::outcome::ready) {
      out_.emplace(child_);
      finish();
      return true;
    }
    // ignore or fail: the child ends right after; wait for its end so that
    // nothing lingers when start returns.
  }
  if (ack_->ended.load(std::memory_order_acquire)) {
    // Its link's exit signal was pushed before `ended` was set: merge it
    // first, so that the flush below finds it.
    if (p.inbox_pending()) return false;
    if (acked_ && ack_->what == start_ack::outcome::ignore)
      out_.emplace(error(errc::ignored));
    else if (acked_ && ack_->what == start_ack::outcome::fail)
      out_.emplace(error(errc::start_failed, ack_->reason));
    else
      out_.emplace(error(errc::start_failed, ack_->end_reason));
    flush_exit_message(p, child_);
    finish();
    return true;
  }
  if (timed_out_ && !acked_) {
    if (!ack_->abandon()) return false;  // an ack is being written: it wakes us
    unlink_from(p, child_);
    otp::exit(child_, exit_reason::kill());
    flush_exit_message(p, child_);
    out_.emplace(error(errc::timeout, exit_reason::timeout()));
    finish();
    return true;
  }
  if (!armed() && !timed_out_ && opts_.timeout != duration::max()) timer_add(p, *this, opts_.timeout);
  return false;
}

void start_base::fire() noexcept {
  timed_out_ = true;
  if (p_->try_unblock()) schedule(*p_);
}

result<pid> start_base::outcome() { return std::move(*out_); }

void start_base::finish() noexcept {
  if (!active_) return;
  active_ = false;
  if (armed()) timer_remove(*p_, *this);
  ack_->abandon();
}

namespace {
// Writes the acknowledgement, if one is awaited. After `ready` the child's
// reference goes; after ignore or fail it keeps it, so that its end (which
// follows at once) is reported through the slot and start returns only then.
bool acknowledge(start_ack::outcome what, exit_reason reason) {
  auto& p = current_or_throw("otp::init_ack");
  auto* slot = static_cast<start_ack*>(p.ack);
  if (!slot) return false;
  bool ok = slot->claim();
  if (ok) {
    slot->what = what;
    slot->reason = std::move(reason);
    slot->publish();
  }
  if (what == start_ack::outcome::ready || !ok) {
    p.ack = nullptr;
    slot->release();
  }
  return ok;
}
}  // namespace

}  // namespace detail

bool init_ack() { return detail::acknowledge(detail::start_ack::outcome::ready, {}); }

void init_ignore() {
  detail::acknowledge(detail::start_ack::outcome::ignore, {});
  otp::exit(exit_reason::normal());
}

void init_fail(exit_reason reason) {
  detail::acknowledge(detail::start_ack::outcome::fail, reason);
  otp::exit(std::move(reason));
}

}  // namespace otp
