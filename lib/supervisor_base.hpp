// SPDX-License-Identifier: MIT
#pragma once
// What both supervisors share (lib/supervisor.cpp, lib/dynamic_supervisor.cpp):
// a child's record; starting, stopping and restarting children; the restart
// intensity; the loop that takes the parent's exit, children's exits and
// calls; reports. The comments name the OTP functions each part follows.
// Internal to the library.

#include <otp/dynamic_supervisor.hpp>
#include <otp/supervisor.hpp>
#include <otp/task.hpp>

#include "runtime_core.hpp"

#include <algorithm>
#include <array>
#include <deque>
#include <map>
#include <optional>
#include <unordered_map>
#include <variant>
#include <vector>

namespace otp::detail::sup {

inline error invalid(std::string why) { return error(errc::invalid_spec, exit_reason::other(std::move(why))); }

// A supervisor's retries travel through its own mailbox: it is never bounded.
inline start_options unbounded(start_options o) {
  o.spawn.mailbox_bound = 0;
  return o;
}

/// A supervisor call whose answer is a result: Request{args..., reply}.
template <class R, class Request, class... A>
detail::flat_request<R> call(const supervisor_ref& sup, duration timeout, A... args) {
  auto build = [&](reply_to<result<R>> r) { return supervisor_msg(Request{std::move(args)..., std::move(r)}); };
  return detail::flat_request<R>(request<result<R>>(sup, build, timeout));
}

using msg = message<supervisor_msg>;
template <class T>
using sup_task = otp::task<T, supervisor_msg>;

// Answers a call with an error. Out of line: inlined into the coroutines,
// g++ 12 -O2 warns that the result's (inactive) pid may be uninitialized.
[[gnu::noinline]] inline void refuse(const reply_to<result<pid>>& r, error e) { r.send(result<pid>(std::move(e))); }
[[gnu::noinline]] inline void refuse(const reply_to<result<void>>& r, error e) { r.send(result<void>(std::move(e))); }

/// Starts a child through its type-erased start function and waits for its
/// acknowledgement (start_link semantics, linked and monitored).
class child_start_awaiter final : public start_base {
 public:
  child_start_awaiter(const child_starter& s, const extra_args& x, const otp::name& n, placement place)
      : start_base(start_options{}), s_(&s), extra_(&x), name_(&n), place_(place) {}
  void await_suspend(std::coroutine_handle<>) {
    spawn_options so;
    so.link = true;
    so.name = *name_;
    so.place = place_;
    auto* ack = make_ack();
    auto child = s_->spawn(ack, *p_, so, *extra_);
    if (child)
      begin(std::move(child).value());
    else
      refuse(std::move(child).error());  // its name is taken: it never ran
  }
  result<pid> await_resume() { return outcome(); }

 private:
  const child_starter* s_;
  const extra_args* extra_;
  const otp::name* name_;
  placement place_;
};

struct child_rec : pooled {
  child_rec(child_spec s, std::uint64_t k) : spec(std::move(s)), shutdown(spec.effective_shutdown()), key(k) {}
  child_spec spec;
  shutdown_policy shutdown;
  pid process;  ///< set while running
  child_info::status state = child_info::status::undefined;
  std::uint64_t key;  ///< names the child in try_again messages
  std::uint64_t restarts = 0;
  bool running() const noexcept { return state == child_info::status::running; }
};

/// What both kinds of supervisor share: starting, stopping and restarting
/// one child, the restart intensity, messages set aside, reports.
class supervisor_base {
 public:
  supervisor_base(int intensity, duration period, extra_args extra, placement place)
      : intensity_(intensity),
        period_(period),
        extra_(std::move(extra)),
        place_(place),
        self_(current_or_throw("supervisor")) {}

 protected:
  // ---- messages: those set aside by a selective wait come first ----
  // (Plain functions, not a task: a coroutine frame per message would cost
  // more than the rest of taking it.)
  std::optional<msg> take_deferred() {
    if (deferred_.empty()) return std::nullopt;
    std::optional<msg> m(std::move(deferred_.front()));
    deferred_.pop_front();
    return m;
  }

  // ---- starting (do_start_child) ----
  /// The pid, a null pid for ignore, or the error.
  sup_task<result<pid>> start(child_rec& c) {
    const child_starter& s = *child_start_access::starter(c.spec.start);
    result<pid> r = error(errc::start_failed);
    try {
      if (s.acks) {
        r = co_await child_start_awaiter(s, extra_, c.spec.name, c.spec.place.value_or(place_));
      } else {
        spawn_options so;
        so.link = true;
        so.name = c.spec.name;
        so.place = c.spec.place.value_or(place_);
        r = s.spawn(nullptr, self_, so, extra_);
      }
    } catch (...) {  // the start function itself threw (wrong extra arguments, the body's creation, bad_alloc)
      r = error(errc::start_failed, exit_reason::from_current_exception());
    }
    if (r) {
      c.state = child_info::status::running;
      c.process = r.value();
      by_pid_[c.process.id()] = &c;
      co_return r;
    }
    c.state = child_info::status::undefined;
    c.process = pid();
    if (r.error() == errc::ignored) co_return pid();
    co_return r;
  }

  /// Forgets a running child before it is stopped; returns its pid.
  pid detach(child_rec& c) {
    pid p = std::exchange(c.process, pid());
    by_pid_.erase(p.id());
    c.state = child_info::status::undefined;
    return p;
  }

  /// OTP's verdict on how a stopped child ended; a bad one is reported.
  void judge_stop(const child_rec& c, const pid& p, const exit_reason& why) {
    const auto how = c.shutdown.what();
    const bool permanent = c.spec.restart == restart_type::permanent;
    bool ok = false;
    if (how == shutdown_policy::kind::brutal_kill && why.is(exit_kind::killed)) ok = true;
    if (how != shutdown_policy::kind::brutal_kill && why == exit_reason::shutdown()) ok = true;
    if (!permanent && (why.is(exit_kind::normal) || why.is(exit_kind::shutdown))) ok = true;
    if (!ok) report("shutdown_error", c, why, p);
  }

  // ---- stopping: shutdown/2 and terminate_children/2, one protocol ----
  /// Stops one child per its shutdown spec (a child not running is marked
  /// undefined).
  sup_task<void> stop(child_rec& c) {
    const std::array<child_rec*, 1> one{&c};
    co_await stop_together(one);
  }

  /// Stops `which` per their shutdown specs, all at once: exit signals to
  /// all (shutdown, or kill for brutal_kill), then each down as it comes; a
  /// group of children with the same timeout shares one deadline, after
  /// which those left of it are killed (traffic cannot postpone it). A
  /// static supervisor stops one child at a time, in its order, through
  /// stop(); a dynamic one stops all its children together. Linear in the
  /// number of children (OTP looks for each child's exit message in the
  /// whole mailbox: quadratic). A child's exit message comes before its down
  /// (links fire first), so while waiting, exit messages from stopping
  /// children are kept by pid; a down that says noproc (the child had ended
  /// before our monitor) takes its reason from there, and waits for it while
  /// the link is still up; with no link left, the child is a naughty_child.
  /// Other messages are set aside for the loop. Each child is then judged
  /// by how it ended (judge_stop).
  /// `which`: any range of child_rec* (no copy of a dynamic supervisor's
  /// children is made to stop them).
  template <class Children>
  sup_task<void> stop_together(const Children& which) {
    struct stopping {
      child_rec* c;
      pid p;
      monitor_ref mon;
      bool down = false;
      bool settled = false;
      std::optional<exit_reason> exit;  ///< from its exit message
    };
    map_of<stopping> by_mon;              // monitor slot -> child
    map_of<stopping*> by_child;           // pid number -> child
    std::map<duration, std::vector<std::uint64_t>> groups;  // timeout -> monitor slots
    std::size_t unsettled = 0;
    for (child_rec* c : which) {
      if (!c->running()) {
        c->state = child_info::status::undefined;
        continue;
      }
      pid p = detach(*c);
      monitor_ref mon = otp::monitor(p);
      const bool brutal = c->shutdown.what() == shutdown_policy::kind::brutal_kill;
      otp::exit(p, brutal ? exit_reason::kill() : exit_reason::shutdown());
      if (c->shutdown.what() == shutdown_policy::kind::timeout) groups[c->shutdown.after()].push_back(mon.slot());
      auto& st = by_mon.emplace(mon.slot(), stopping{c, std::move(p), mon, false, false, std::nullopt}).first->second;
      by_child.emplace(st.p.id(), &st);
      ++unsettled;
    }
    if (unsettled == 0) co_return;
    // Exit messages that arrived before the stop began.
    for (auto it = deferred_.begin(); it != deferred_.end();) {
      auto* e = std::get_if<exit_message>(&*it);
      auto k = e ? by_child.find(e->from.id()) : by_child.end();
      if (k == by_child.end()) {
        ++it;
        continue;
      }
      k->second->exit = std::move(e->reason);
      it = deferred_.erase(it);
    }
    self_.remove_all(
        [&](node* x) {
          return x->kind == node_kind::exit_message && by_child.count(static_cast<signal_node*>(x)->from.id());
        },
        [&](node* x) {
          auto* sn = static_cast<signal_node*>(x);
          by_child[sn->from.id()]->exit = std::move(sn->reason);
          delete x;
        });
    // A down settles a child, unless it says noproc and the exit message is still to come.
    auto settle = [&](stopping& st, const exit_reason* down_reason) {
      if (st.settled) return;
      if (down_reason && !down_reason->is(exit_kind::noproc)) {
        judge_stop(*st.c, st.p, *down_reason);
      } else if (st.exit) {
        judge_stop(*st.c, st.p, *st.exit);
      } else if (!self_.links.contains(st.p)) {
        judge_stop(*st.c, st.p, exit_reason::other("naughty_child"));
      } else {
        return;  // linked: its exit message is on its way
      }
      st.settled = true;
      --unsettled;
    };
    const time_point t0 = otp::now();
    auto group = groups.begin();
    while (unsettled > 0) {
      std::optional<msg> m;
      if (group != groups.end()) {
        const duration left = t0 + group->first - otp::now();
        if (left > duration::zero()) m = co_await otp::receive(left);
        if (!m) {  // this group's time is up (traffic cannot postpone it): kill who is left of it
          for (auto slot : group->second)
            if (auto it = by_mon.find(slot); it != by_mon.end() && !it->second.down)
              otp::exit(it->second.p, exit_reason::kill());
          ++group;
          continue;
        }
      } else {
        m.emplace(co_await otp::receive());
      }
      if (auto* e = std::get_if<exit_message>(&*m)) {
        if (auto k = by_child.find(e->from.id()); k != by_child.end()) {
          k->second->exit = std::move(e->reason);
          if (k->second->down) settle(*k->second, nullptr);
          continue;
        }
      } else if (auto* d = std::get_if<down_message>(&*m)) {
        auto it = by_mon.find(d->ref.slot());
        if (it != by_mon.end() && it->second.mon == d->ref && !it->second.down) {
          it->second.down = true;
          settle(it->second, &d->reason);
          continue;
        }
      }
      deferred_.push_back(std::move(*m));
    }
  }

  // ---- the loop: gen_server's, as both supervisors run it ----
  /// Takes messages, those set aside first, until the supervisor must end.
  /// The parent's exit (it ends, or asks us to) stops every child, then ends
  /// the supervisor with the parent's reason. A child's exit goes to
  /// Self::child_exited, a call to Self::handle; either answering true (the
  /// intensity reached, an auto shutdown) stops every child and ends with
  /// shutdown. start_child, the common call, is served here without a
  /// coroutine frame of its own: Self::admit makes the child's record (or
  /// refuses the call and returns nullptr), the child is started, and
  /// Self::admitted keeps or drops the record before the answer goes. A
  /// down here is a stale monitor of a stop already handled: dropped.
  template <class Self>
  sup_task<void> serve(Self& self) {
    const pid parent = otp::parent();
    for (;;) {
      std::optional<msg> got = take_deferred();
      if (!got) got.emplace(co_await otp::receive());
      msg& m = *got;
      if (auto* e = std::get_if<exit_message>(&m)) {
        if (e->from == parent) {
          co_await self.stop_all();
          otp::exit(e->reason);
        }
        auto it = by_pid_.find(e->from.id());
        if (it == by_pid_.end()) continue;  // not (or no longer) a child of ours
        if (co_await self.child_exited(*it->second, std::move(e->reason))) break;
      } else if (auto* r = std::get_if<supervisor_msg>(&m)) {
        if (auto* sc = std::get_if<supervisor_msg::start_child>(&r->what)) {
          if (child_rec* c = self.admit(*sc)) {
            auto started = co_await start(*c);
            self.admitted(*c, started);  // `c` may be gone after this
            sc->reply.send(std::move(started));
          }
          continue;
        }
        if (co_await self.handle(*r)) break;
      }
    }
    co_await self.stop_all();
    otp::exit(exit_reason::shutdown());
  }

  /// handle_call for everything but start_child (taken by serve): each
  /// call type goes to Self::on; true when the supervisor must shut down.
  template <class Self>
  static sup_task<bool> dispatch(Self& self, supervisor_msg& m) {
    bool shut = false;
    auto one = [&](auto& r) -> sup_task<void> {
      if constexpr (std::is_same_v<std::remove_cvref_t<decltype(r)>, supervisor_msg::start_child>)
        return nothing_to_do();  // serve() takes start_child before dispatching
      else
        return self.on(r, shut);
    };
    // Named, not a temporary inside co_await (otp/detail/temporaries.hpp).
    sup_task<void> t = std::visit(one, m.what);
    co_await t;
    co_return shut;
  }
  static sup_task<void> nothing_to_do() { co_return; }

  // ---- restarting ----
  /// add_restart: false when more than `intensity` restarts fall within
  /// `period`. As OTP's, the window is closed: a restart made exactly
  /// `period` ago still counts (R >= Now - Period).
  bool add_restart() {
    const time_point now = otp::now();
    restarts_.push_back(now);
    while (!restarts_.empty() && now - restarts_.front() > period_) restarts_.pop_front();
    return restarts_.size() <= static_cast<std::size_t>(intensity_);
  }

  void retry_later(child_rec& c) {
    c.state = child_info::status::restarting;
    (void)otp::send(otp::self_as<supervisor_msg>(), std::in_place, supervisor_msg::try_again{c.key});
  }

  /// do_restart's first half: reports, and says whether the child restarts.
  bool wants_restart(child_rec& c, const exit_reason& reason, const pid& was) {
    const auto r = c.spec.restart;
    if (r == restart_type::permanent || !reason.clean()) report("child_terminated", c, reason, was);
    return r == restart_type::permanent || (r == restart_type::transient && !reason.clean());
  }

  void report(const char* context, const child_rec& c, const exit_reason& reason, const pid& child) const {
    if (!self_.home()->core.options.log) return;
    log_event e;
    e.what = log_event::kind::supervisor_report;
    e.process = pid_of(self_);
    e.reason = reason;
    e.context = context;
    e.child_id = c.spec.id;
    e.child = child;
    e.text = "supervisor " + e.process.to_string() + " " + context + ": child " +
             (c.spec.id.empty() ? std::string() : c.spec.id + " ") + (child ? child.to_string() + " " : std::string()) +
             "(" + to_string(c.spec.restart) + " " + to_string(c.spec.type) + "), reason " + reason.to_string();
    self_.home()->core.log(e);
  }

  int intensity_;
  duration period_;
  extra_args extra_;
  placement place_;  ///< for children whose spec does not say
  process_base& self_;
  template <class T>
  using map_of = std::unordered_map<std::uint64_t, T, std::hash<std::uint64_t>, std::equal_to<>,
                                    pool_allocator<std::pair<const std::uint64_t, T>>>;
  map_of<child_rec*> by_pid_;  ///< running children
  std::deque<time_point> restarts_;
  std::deque<msg> deferred_;  ///< set aside by a selective wait, handled first
  std::uint64_t next_key_ = 1;
};

/// A dynamic supervisor's whole life once trapping exits: acknowledges its
/// start, then serves until it ends (lib/dynamic_supervisor.cpp).
sup_task<void> serve_dynamic(supervisor_config& cfg);

}  // namespace otp::detail::sup
