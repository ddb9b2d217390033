// SPDX-License-Identifier: MIT
// The supervisor process: OTP's supervisor.erl, as one coroutine and a few
// tasks. The comments name the OTP functions each part follows.
#include <otp/supervisor.hpp>
#include <otp/task.hpp>

#include "runtime_core.hpp"

#include <algorithm>
#include <deque>
#include <map>
#include <stdexcept>
#include <unordered_map>

namespace otp {

// ---------------------------------------------------------------- values

std::string shutdown_policy::to_string() const {
  switch (kind_) {
    case kind::brutal_kill:
      return "brutal_kill";
    case kind::infinity:
      return "infinity";
    case kind::timeout:
      break;
  }
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(after_).count());
}

const char* to_string(child_info::status s) noexcept {
  switch (s) {
    case child_info::status::running:
      return "running";
    case child_info::status::restarting:
      return "restarting";
    case child_info::status::undefined:
      break;
  }
  return "undefined";
}

const char* to_string(child_type t) noexcept { return t == child_type::supervisor ? "supervisor" : "worker"; }

const char* to_string(restart_type r) noexcept {
  switch (r) {
    case restart_type::permanent:
      return "permanent";
    case restart_type::transient:
      return "transient";
    case restart_type::temporary:
      break;
  }
  return "temporary";
}

namespace {
error invalid(std::string why) { return error(errc::invalid_spec, exit_reason::other(std::move(why))); }
}  // namespace

result<void> validate(const child_spec& c, otp::auto_shutdown mode) {
  if (c.id.empty()) return invalid("child spec without an id");
  auto who = [&] { return "child \"" + c.id + "\": "; };  // built only for an error
  if (!c.start) return invalid(who() + "no start function");
  if (static_cast<unsigned>(c.restart) > static_cast<unsigned>(restart_type::temporary))
    return invalid(who() + "bad restart type");
  if (static_cast<unsigned>(c.type) > static_cast<unsigned>(child_type::supervisor))
    return invalid(who() + "bad child type");
  if (c.shutdown) {
    if (static_cast<unsigned>(c.shutdown->what()) > static_cast<unsigned>(shutdown_policy::kind::infinity))
      return invalid(who() + "bad shutdown");
    if (c.shutdown->what() == shutdown_policy::kind::timeout && c.shutdown->after() < duration::zero())
      return invalid(who() + "negative shutdown timeout");
  }
  if (c.significant && c.restart == restart_type::permanent)
    return invalid(who() + "a permanent child cannot be significant");
  if (c.significant && mode == otp::auto_shutdown::never)
    return invalid(who() + "significant child under a supervisor with auto_shutdown never");
  return otp::ok();
}

result<void> validate(const supervisor_flags& f, const std::vector<child_spec>& children) {
  if (static_cast<unsigned>(f.strategy) > static_cast<unsigned>(restart_strategy::rest_for_one))
    return invalid("bad restart strategy");
  if (f.intensity < 0) return invalid("negative intensity");
  if (f.period <= duration::zero()) return invalid("the intensity period must be positive");
  if (static_cast<unsigned>(f.auto_shutdown) > static_cast<unsigned>(otp::auto_shutdown::all_significant))
    return invalid("bad auto_shutdown");
  std::unordered_map<std::string_view, int> seen;
  for (auto& c : children) {
    if (auto r = validate(c, f.auto_shutdown); !r) return r;
    if (!seen.emplace(c.id, 0).second) return invalid("duplicate child id \"" + c.id + "\"");
  }
  return otp::ok();
}

child_spec supervisor_child(std::string id, supervisor_flags flags, std::vector<child_spec> children,
                            restart_type restart) {
  detail::supervisor_config c;
  c.flags = flags;
  c.children = std::move(children);
  child_spec s(std::move(id), start_fn(&detail::supervisor_main, std::move(c)), restart, child_type::supervisor);
  return s;
}

namespace {
// A supervisor's retries travel through its own mailbox: it is never bounded.
start_options unbounded(start_options o) {
  o.spawn.mailbox_bound = 0;
  return o;
}
}  // namespace

detail::supervisor_start start_supervisor(supervisor_flags flags, std::vector<child_spec> children,
                                          start_options o) {
  o = unbounded(o);
  if (auto v = validate(flags, children); !v) return detail::supervisor_start(v.error());
  detail::supervisor_config c;
  c.flags = flags;
  c.children = std::move(children);
  return detail::supervisor_start(detail::start_unguarded(o, &detail::supervisor_main, std::move(c)));
}

// ---------------------------------------------------------------- the API calls

namespace {
/// A supervisor call whose answer is a result: Request{args..., reply}.
template <class R, class Request, class... A>
detail::flat_request<R> call(const supervisor_ref& sup, duration timeout, A... args) {
  auto build = [&](reply_to<result<R>> r) { return supervisor_msg(Request{std::move(args)..., std::move(r)}); };
  return detail::flat_request<R>(request<result<R>>(sup, build, timeout));
}
}  // namespace

detail::flat_request<pid> start_child(const supervisor_ref& sup, child_spec spec, duration timeout) {
  return call<pid, supervisor_msg::start_child>(sup, timeout, std::move(spec));
}

detail::flat_request<void> terminate_child(const supervisor_ref& sup, std::string id, duration timeout) {
  return call<void, supervisor_msg::terminate_child>(sup, timeout, std::move(id));
}

detail::flat_request<pid> restart_child(const supervisor_ref& sup, std::string id, duration timeout) {
  return call<pid, supervisor_msg::restart_child>(sup, timeout, std::move(id));
}

detail::flat_request<void> delete_child(const supervisor_ref& sup, std::string id, duration timeout) {
  return call<void, supervisor_msg::delete_child>(sup, timeout, std::move(id));
}

detail::request_awaiter<std::vector<child_info>> which_children(const supervisor_ref& sup, duration timeout) {
  return request<std::vector<child_info>>(
      sup, [](reply_to<std::vector<child_info>> r) { return supervisor_msg(supervisor_msg::which_children{std::move(r)}); },
      timeout);
}

detail::request_awaiter<child_counts> count_children(const supervisor_ref& sup, duration timeout) {
  return request<child_counts>(
      sup, [](reply_to<child_counts> r) { return supervisor_msg(supervisor_msg::count_children{std::move(r)}); },
      timeout);
}

// ---------------------------------------------------------------- dynamic supervisors

detail::supervisor_start_of<dynamic_supervisor_ref> start_dynamic_supervisor(dynamic_supervisor_options opts,
                                                                             start_options o) {
  o = unbounded(o);
  if (opts.intensity < 0) return error(invalid("negative intensity"));
  if (opts.period <= duration::zero()) return error(invalid("the intensity period must be positive"));
  detail::supervisor_config c;
  c.dynamic = true;
  c.flags = supervisor_flags(restart_strategy::one_for_one, opts.intensity, opts.period);
  c.max_children = opts.max_children;
  c.extra = std::move(opts.extra);
  return detail::start_unguarded(o, &detail::supervisor_main, std::move(c));
}

child_spec dynamic_supervisor_child(std::string id, dynamic_supervisor_options opts, restart_type restart) {
  detail::supervisor_config c;
  c.dynamic = true;
  c.flags = supervisor_flags(restart_strategy::one_for_one, opts.intensity, opts.period);
  c.max_children = opts.max_children;
  c.extra = std::move(opts.extra);
  return child_spec(std::move(id), start_fn(&detail::supervisor_main, std::move(c)), restart,
                    child_type::supervisor);
}

detail::flat_request<pid> start_child(const dynamic_supervisor_ref& sup, child_spec spec, duration timeout) {
  return start_child(sup.handle(), std::move(spec), timeout);
}

detail::flat_request<void> terminate_child(const dynamic_supervisor_ref& sup, pid child, duration timeout) {
  return call<void, supervisor_msg::terminate_pid>(sup.handle(), timeout, std::move(child));
}

detail::request_awaiter<std::vector<child_info>> which_children(const dynamic_supervisor_ref& sup,
                                                                 duration timeout) {
  return which_children(sup.handle(), timeout);
}

detail::request_awaiter<child_counts> count_children(const dynamic_supervisor_ref& sup, duration timeout) {
  return count_children(sup.handle(), timeout);
}

// ---------------------------------------------------------------- the process

namespace detail {

void wrong_extra_arguments(const extra_args& given, const char* expected) {
  throw std::invalid_argument(std::string("the supervisor's extra arguments are ") + given.type_name() +
                              ", the child's start function takes " + expected +
                              " (build it with otp::with_extra<...> matching otp::extra_arguments)");
}

namespace {

using msg = message<supervisor_msg>;
template <class T>
using sup_task = otp::task<T, supervisor_msg>;

// Answers a call with an error. Out of line: inlined into the coroutines,
// g++ 12 -O2 warns that the result's (inactive) pid may be uninitialized.
[[gnu::noinline]] void refuse(const reply_to<result<pid>>& r, error e) { r.send(result<pid>(std::move(e))); }
[[gnu::noinline]] void refuse(const reply_to<result<void>>& r, error e) { r.send(result<void>(std::move(e))); }

/// Starts a child through its type-erased start function and waits for its
/// acknowledgement (start_link semantics, linked and monitored).
class child_start_awaiter final : public start_base {
 public:
  child_start_awaiter(const child_start::impl& s, const extra_args& x, const otp::name& n)
      : start_base(start_options{}), s_(&s), extra_(&x), name_(&n) {}
  void await_suspend(std::coroutine_handle<>) {
    spawn_options so;
    so.link = true;
    so.name = *name_;
    auto* ack = make_ack();
    try {
      begin(s_->spawn(ack, *p_, so, *extra_));
    } catch (const name_refused& e) {  // its name is taken: it never ran
      refuse(e.why);
    }
  }
  result<pid> await_resume() { return outcome(); }

 private:
  const child_start::impl* s_;
  const extra_args* extra_;
  const otp::name* name_;
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
  supervisor_base(int intensity, duration period, extra_args extra)
      : intensity_(intensity), period_(period), extra_(std::move(extra)), self_(current_or_throw("supervisor")) {}

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
    const child_start::impl& s = *c.spec.start.get();
    result<pid> r = error(errc::start_failed);
    try {
      if (s.acks) {
        r = co_await child_start_awaiter(s, extra_, c.spec.name);
      } else {
        spawn_options so;
        so.link = true;
        so.name = c.spec.name;
        r = s.spawn(nullptr, self_, so, extra_);
      }
    } catch (const name_refused& e) {  // a spawn_fn child whose name is taken
      r = e.why;
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

  // ---- stopping (shutdown/2 and unlink_flush/2) ----
  /// Waits for the down of `mon`, setting other messages aside; nullopt on timeout.
  sup_task<std::optional<exit_reason>> wait_down(monitor_ref mon, duration timeout) {
    const bool bounded = timeout != duration::max();
    const time_point deadline = bounded ? otp::now() + timeout : time_point::max();
    for (;;) {
      std::optional<msg> m;
      if (bounded) {
        const duration left = deadline - otp::now();
        if (left <= duration::zero()) co_return std::nullopt;  // traffic cannot postpone the kill
        m = co_await otp::receive(left);
        if (!m) co_return std::nullopt;
      } else {
        m.emplace(co_await otp::receive());
      }
      if (auto* d = std::get_if<down_message>(&*m); d && d->ref == mon) co_return std::move(d->reason);
      deferred_.push_back(std::move(*m));
    }
  }

  /// The exit message from `p`, if one is set aside or in the mailbox.
  std::optional<exit_reason> take_exit_message(const pid& p) {
    for (auto it = deferred_.begin(); it != deferred_.end(); ++it) {
      if (auto* e = std::get_if<exit_message>(&*it); e && e->from == p) {
        exit_reason r = std::move(e->reason);
        deferred_.erase(it);
        return r;
      }
    }
    if (node* n = self_.remove_first([&](node* x) {
          return x->kind == node_kind::exit_message && static_cast<signal_node*>(x)->from == p;
        })) {
      exit_reason r = std::move(static_cast<signal_node*>(n)->reason);
      delete n;
      return r;
    }
    return std::nullopt;
  }

  /// unlink_flush: the reason the child really ended with.
  sup_task<exit_reason> unlink_flush(const pid& p, exit_reason down_reason) {
    if (down_reason.is(exit_kind::noproc)) {
      // It ended before our monitor: while the link is there, its exit message is on the way.
      for (;;) {
        if (auto r = take_exit_message(p)) co_return std::move(*r);
        if (!self_.links.contains(p)) co_return exit_reason::other("naughty_child");
        deferred_.push_back(co_await otp::receive());
      }
    }
    otp::unlink(p);
    (void)take_exit_message(p);
    co_return down_reason;
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

  /// Stops a running child per its shutdown spec.
  sup_task<void> stop(child_rec& c) {
    if (!c.running()) {
      c.state = child_info::status::undefined;
      co_return;
    }
    const pid p = detach(c);
    const monitor_ref mon = otp::monitor(p);
    std::optional<exit_reason> down;
    if (c.shutdown.what() == shutdown_policy::kind::brutal_kill) {
      otp::exit(p, exit_reason::kill());
      down = co_await wait_down(mon, duration::max());
    } else {
      otp::exit(p, exit_reason::shutdown());
      down = co_await wait_down(mon, c.shutdown.after());
      if (!down) {
        otp::exit(p, exit_reason::kill());
        down = co_await wait_down(mon, duration::max());
      }
    }
    judge_stop(c, p, co_await unlink_flush(p, std::move(*down)));
  }

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
  process_base& self_;
  template <class T>
  using map_of = std::unordered_map<std::uint64_t, T, std::hash<std::uint64_t>, std::equal_to<>,
                                    pool_allocator<std::pair<const std::uint64_t, T>>>;
  map_of<child_rec*> by_pid_;  ///< running children
  std::deque<time_point> restarts_;
  std::deque<msg> deferred_;  ///< set aside by a selective wait, handled first
  std::uint64_t next_key_ = 1;
};

/// The supervisor (supervisor.erl): ordered children with ids and a strategy.
class static_supervisor final : supervisor_base {
 public:
  explicit static_supervisor(const supervisor_flags& f)
      : supervisor_base(f.intensity, f.period, extra_args()), flags_(f) {}

  void add(child_spec spec) { children_.push_back(std::make_unique<child_rec>(std::move(spec), next_key_++)); }

  /// init: start every child in order; on a failure stop the started ones and
  /// fail the start with {shutdown,{failed_to_start_child,Id,Reason}}.
  sup_task<void> start_all() {
    for (std::size_t i = 0; i < children_.size();) {
      child_rec& c = *children_[i];
      auto r = co_await start(c);
      if (!r) {
        report("start_error", c, r.error().reason, {});
        // Built before stop_all: a temporary `c` is erased by it.
        auto why = exit_reason::shutdown("{failed_to_start_child," + c.spec.id + "," + r.error().reason.to_string() + "}");
        co_await stop_all();
        init_fail(std::move(why));
      }
      if (!r.value() && c.spec.restart == restart_type::temporary) {
        children_.erase(children_.begin() + static_cast<std::ptrdiff_t>(i));
        continue;
      }
      ++i;
    }
  }

  /// The gen_server loop: API calls, children's exits, the parent's exit.
  sup_task<void> loop() {
    const pid parent = otp::parent();
    for (;;) {
      std::optional<msg> got = take_deferred();
      if (!got) got.emplace(co_await otp::receive());
      msg& m = *got;
      if (auto* e = std::get_if<exit_message>(&m)) {
        if (e->from == parent) {  // the parent ends, or asks us to: stop everything first
          co_await stop_all();
          otp::exit(e->reason);
        }
        auto it = by_pid_.find(e->from.id());
        if (it == by_pid_.end()) continue;  // not (or no longer) a child of ours
        if (co_await child_exited(*it->second, std::move(e->reason))) break;
      } else if (auto* r = std::get_if<supervisor_msg>(&m)) {
        if (co_await handle(*r)) break;
      }
      // A down here is a stale monitor of a shutdown already handled: dropped.
    }
    co_await stop_all();
    otp::exit(exit_reason::shutdown());
  }

 private:
  /// terminate_children: all, in reverse start order; temporary specs go.
  sup_task<void> stop_all() { co_await stop_range(0); }

  /// Stops children [from, end) in reverse order; temporary specs go.
  sup_task<void> stop_range(std::size_t from) {
    for (std::size_t i = children_.size(); i-- > from;) {
      co_await stop(*children_[i]);
      if (children_[i]->spec.restart == restart_type::temporary)
        children_.erase(children_.begin() + static_cast<std::ptrdiff_t>(i));
    }
  }

  /// restart_child/3 + do_restart: true when the supervisor must shut down.
  sup_task<bool> child_exited(child_rec& c, exit_reason reason) {
    const pid was = detach(c);
    if (wants_restart(c, reason, was)) co_return co_await restart(c);
    const bool significant = c.spec.significant;
    if (c.spec.restart == restart_type::temporary) erase(c);
    co_return significant && auto_shutdown_due();
  }

  bool auto_shutdown_due() const {
    switch (flags_.auto_shutdown) {
      case otp::auto_shutdown::never:
        return false;
      case otp::auto_shutdown::any_significant:
        return true;
      case otp::auto_shutdown::all_significant:
        break;
    }
    return std::none_of(children_.begin(), children_.end(),
                        [](auto& c) { return c->spec.significant && c->state != child_info::status::undefined; });
  }

  /// restart/2: true when the intensity is exceeded.
  sup_task<bool> restart(child_rec& c) {
    if (!add_restart()) {
      report("shutdown", c, exit_reason::other("reached_max_restart_intensity"), {});
      co_return true;
    }
    switch (flags_.strategy) {
      case restart_strategy::one_for_one: {
        auto r = co_await start(c);
        if (r) {
          ++c.restarts;
        } else {
          report("start_error", c, r.error().reason, {});
          retry_later(c);
        }
        break;
      }
      case restart_strategy::one_for_all:
        co_await restart_from(0);
        break;
      case restart_strategy::rest_for_one:
        co_await restart_from(index_of(c));
        break;
    }
    co_return false;
  }

  /// restart_multiple_children: stop children [from, end) in reverse, start them in order.
  sup_task<void> restart_from(std::size_t from) {
    co_await stop_range(from);
    for (std::size_t i = from; i < children_.size(); ++i) {
      child_rec& k = *children_[i];
      auto r = co_await start(k);
      if (!r) {
        report("start_error", k, r.error().reason, {});
        retry_later(k);
        break;  // the rest stays stopped until the retry restarts them with it
      }
      ++k.restarts;
    }
  }

  // ---- the API (handle_call) ----
  sup_task<bool> handle(supervisor_msg& m) {
    bool shut = false;
    // Named, not a temporary inside co_await (otp/detail/temporaries.hpp).
    auto dispatch = [&](auto& r) -> sup_task<void> { return on(r, shut); };
    sup_task<void> t = std::visit(dispatch, m.what);
    co_await t;
    co_return shut;
  }

  sup_task<void> on(supervisor_msg::start_child& m, bool&) {
    if (auto v = validate(m.spec, flags_.auto_shutdown); !v) {
      refuse(m.reply, v.error());
      co_return;
    }
    if (child_rec* c = find(m.spec.id)) {
      refuse(m.reply, c->running() ? error(errc::already_started, c->process) : error(errc::already_present));
      co_return;
    }
    add(std::move(m.spec));
    child_rec& c = *children_.back();
    auto r = co_await start(c);
    if (!r) {
      children_.pop_back();  // nothing is kept after a failed start
      refuse(m.reply, r.error());
      co_return;
    }
    if (!r.value() && c.spec.restart == restart_type::temporary) children_.pop_back();
    m.reply.send(std::move(r));
  }

  sup_task<void> on(supervisor_msg::terminate_child& m, bool&) {
    child_rec* c = find(m.id);
    if (!c) {
      refuse(m.reply, error(errc::not_found));
      co_return;
    }
    co_await stop(*c);
    if (c->spec.restart == restart_type::temporary) erase(*c);
    m.reply.send(otp::ok());
  }

  sup_task<void> on(supervisor_msg::terminate_pid& m, bool&) {
    // OTP's terminate_child takes an id here; a pid is a dynamic supervisor's.
    refuse(m.reply, error(errc::not_found));
    co_return;
  }

  sup_task<void> on(supervisor_msg::restart_child& m, bool&) {
    child_rec* c = find(m.id);
    if (!c) {
      refuse(m.reply, error(errc::not_found));
      co_return;
    }
    if (c->running()) {
      refuse(m.reply, error(errc::running, c->process));
      co_return;
    }
    if (c->state == child_info::status::restarting) {
      refuse(m.reply, error(errc::restarting));
      co_return;
    }
    m.reply.send(co_await start(*c));
  }

  sup_task<void> on(supervisor_msg::delete_child& m, bool&) {
    child_rec* c = find(m.id);
    if (!c)
      refuse(m.reply, error(errc::not_found));
    else if (c->running())
      refuse(m.reply, error(errc::running, c->process));
    else if (c->state == child_info::status::restarting)
      refuse(m.reply, error(errc::restarting));
    else {
      erase(*c);
      m.reply.send(otp::ok());
    }
    co_return;
  }

  sup_task<void> on(supervisor_msg::which_children& m, bool&) {
    std::vector<child_info> out;
    out.reserve(children_.size());
    for (auto& c : children_) out.emplace_back(c->spec.id, c->process, c->state, c->spec.type, c->restarts);
    m.reply.send(std::move(out));
    co_return;
  }

  sup_task<void> on(supervisor_msg::count_children& m, bool&) {
    child_counts n;
    n.specs = children_.size();
    for (auto& c : children_) {
      if (c->running()) ++n.active;
      ++(c->spec.type == child_type::supervisor ? n.supervisors : n.workers);
    }
    m.reply.send(n);
    co_return;
  }

  sup_task<void> on(supervisor_msg::try_again& m, bool& shut) {
    for (auto& c : children_) {
      if (c->key != m.child) continue;
      if (c->state == child_info::status::restarting) shut = co_await restart(*c);
      co_return;
    }
  }

  // ---- bookkeeping ----
  child_rec* find(std::string_view id) const {
    for (auto& c : children_)
      if (c->spec.id == id) return c.get();
    return nullptr;
  }
  std::size_t index_of(const child_rec& c) const {
    for (std::size_t i = 0; i < children_.size(); ++i)
      if (children_[i].get() == &c) return i;
    return children_.size();
  }
  void erase(child_rec& c) {
    const std::size_t i = index_of(c);
    if (i < children_.size()) children_.erase(children_.begin() + static_cast<std::ptrdiff_t>(i));
  }

  supervisor_flags flags_;
  std::vector<std::unique_ptr<child_rec>> children_;  ///< start order
};

/// The dynamic supervisor (DynamicSupervisor): children by pid, one_for_one,
/// all stopped at once.
class dynamic_supervisor final : supervisor_base {
 public:
  dynamic_supervisor(int intensity, duration period, std::size_t max_children, extra_args extra)
      : supervisor_base(intensity, period, std::move(extra)), max_children_(max_children) {}

  sup_task<void> loop() {
    const pid parent = otp::parent();
    for (;;) {
      std::optional<msg> got = take_deferred();
      if (!got) got.emplace(co_await otp::receive());
      msg& m = *got;
      if (auto* e = std::get_if<exit_message>(&m)) {
        if (e->from == parent) {
          co_await stop_all();
          otp::exit(e->reason);
        }
        auto it = by_pid_.find(e->from.id());
        if (it == by_pid_.end()) continue;
        if (co_await child_exited(*it->second, std::move(e->reason))) break;
      } else if (auto* r = std::get_if<supervisor_msg>(&m)) {
        if (auto* sc = std::get_if<supervisor_msg::start_child>(&r->what)) {
          // The common call, handled here: one coroutine frame less per child.
          if (auto v = validate(sc->spec, otp::auto_shutdown::never); !v) {
            refuse(sc->reply, v.error());
          } else if (max_children_ && children_.size() >= max_children_) {
            refuse(sc->reply, error(errc::max_children));
          } else {
            const std::uint64_t key = next_key_++;
            auto& c = *children_.emplace(key, std::make_unique<child_rec>(std::move(sc->spec), key)).first->second;
            auto started = co_await start(c);
            if (!started || !started.value()) children_.erase(key);  // failed or ignored: nothing is kept
            sc->reply.send(std::move(started));
          }
          continue;
        }
        bool shut = false;
        auto dispatch = [&](auto& q) -> sup_task<void> { return on(q, shut); };
        sup_task<void> t = std::visit(dispatch, r->what);
        co_await t;
        if (shut) break;
      }
    }
    co_await stop_all();
    otp::exit(exit_reason::shutdown());
  }

 private:
  sup_task<bool> child_exited(child_rec& c, exit_reason reason) {
    const pid was = detach(c);
    if (!wants_restart(c, reason, was)) {
      forget(c);
      co_return false;
    }
    restarting_.emplace(was.id(), c.key);  // named by its last pid until it runs again
    co_return co_await restart(c);
  }

  sup_task<bool> restart(child_rec& c) {
    if (!add_restart()) {
      report("shutdown", c, exit_reason::other("reached_max_restart_intensity"), {});
      co_return true;
    }
    auto r = co_await start(c);
    if (!r) {
      report("start_error", c, r.error().reason, {});
      retry_later(c);
    } else if (!r.value()) {
      forget(c);  // ignore on restart: nothing to keep for a child named by pid
    } else {
      ++c.restarts;
      drop_restarting(c.key);
    }
    co_return false;
  }

  void drop_restarting(std::uint64_t key) {
    for (auto it = restarting_.begin(); it != restarting_.end(); ++it)
      if (it->second == key) {
        restarting_.erase(it);
        return;
      }
  }

  /// Stops every child at once: exit signals to all, then each down as it
  /// comes; a group of children with the same timeout shares one deadline.
  /// Linear in the number of children (OTP looks for each child's exit
  /// message in the whole mailbox: quadratic). A child's exit message comes
  /// before its down (links fire first), so while waiting, exit messages
  /// from stopping children are kept by pid; a down that says noproc (the
  /// child had ended before our monitor) takes its reason from there, and
  /// waits for it while the link is still up.
  sup_task<void> stop_all() {
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
    for (auto& [key, c] : children_) {
      if (!c->running()) continue;
      pid p = detach(*c);
      monitor_ref mon = otp::monitor(p);
      const bool brutal = c->shutdown.what() == shutdown_policy::kind::brutal_kill;
      otp::exit(p, brutal ? exit_reason::kill() : exit_reason::shutdown());
      if (c->shutdown.what() == shutdown_policy::kind::timeout) groups[c->shutdown.after()].push_back(mon.slot());
      auto& st = by_mon.emplace(mon.slot(), stopping{c.get(), std::move(p), mon, false, false, std::nullopt})
                     .first->second;
      by_child.emplace(st.p.id(), &st);
      ++unsettled;
    }
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
    children_.clear();
    restarting_.clear();
  }

  sup_task<void> on(supervisor_msg::start_child&, bool&) { co_return; }  // handled in loop()

  sup_task<void> on(supervisor_msg::terminate_pid& m, bool&) {
    auto it = m.child ? by_pid_.find(m.child.id()) : by_pid_.end();
    if (it == by_pid_.end()) {
      // A child whose restart keeps failing is still named by its last pid.
      auto r = m.child ? restarting_.find(m.child.id()) : restarting_.end();
      if (r == restarting_.end()) {
        refuse(m.reply, error(errc::not_found));
      } else {
        auto c = children_.find(r->second);
        if (c != children_.end()) forget(*c->second);  // the pending retry then finds nothing
        m.reply.send(otp::ok());
      }
      co_return;
    }
    child_rec& c = *it->second;
    co_await stop(c);
    forget(c);
    m.reply.send(otp::ok());
  }

  sup_task<void> on(supervisor_msg::which_children& m, bool&) {
    std::vector<child_info> out;
    out.reserve(children_.size());
    for (auto& [key, c] : children_) out.emplace_back(c->spec.id, c->process, c->state, c->spec.type, c->restarts);
    m.reply.send(std::move(out));
    co_return;
  }

  sup_task<void> on(supervisor_msg::count_children& m, bool&) {
    child_counts n;
    n.specs = children_.size();
    for (auto& [key, c] : children_) {
      if (c->running()) ++n.active;
      ++(c->spec.type == child_type::supervisor ? n.supervisors : n.workers);
    }
    m.reply.send(n);
    co_return;
  }

  sup_task<void> on(supervisor_msg::try_again& m, bool& shut) {
    auto it = children_.find(m.child);
    if (it != children_.end() && it->second->state == child_info::status::restarting)
      shut = co_await restart(*it->second);
  }

  // Calls that name children by id have no meaning here (the typed API
  // cannot send them; a raw message gets not_found).
  sup_task<void> on(supervisor_msg::terminate_child& m, bool&) {
    refuse(m.reply, error(errc::not_found));
    co_return;
  }
  sup_task<void> on(supervisor_msg::restart_child& m, bool&) {
    refuse(m.reply, error(errc::not_found));
    co_return;
  }
  sup_task<void> on(supervisor_msg::delete_child& m, bool&) {
    refuse(m.reply, error(errc::not_found));
    co_return;
  }

  void forget(child_rec& c) {
    const std::uint64_t key = c.key;  // not a reference into the node being erased
    if (c.state == child_info::status::restarting || !restarting_.empty()) drop_restarting(key);
    children_.erase(key);
  }

  std::size_t max_children_;
  map_of<std::unique_ptr<child_rec>> children_;  ///< by key
  map_of<std::uint64_t> restarting_;  ///< last pid number -> key, while a restart is pending
};

}  // namespace

process<supervisor_msg> supervisor_main(supervisor_config cfg) {
  otp::trap_exit(true);
  if (cfg.dynamic) {
    dynamic_supervisor s(cfg.flags.intensity, cfg.flags.period, cfg.max_children, std::move(cfg.extra));
    init_ack();
    co_await s.loop();
    co_return;
  }
  if (cfg.init) {
    auto [flags, children] = cfg.init();
    cfg.flags = flags;
    cfg.children = std::move(children);
  }
  // start_supervisor checked already; a callback's answer and the specs of
  // a supervisor_child are checked here, before any child starts.
  if (auto v = validate(cfg.flags, cfg.children); !v)
    init_fail(exit_reason::other("{invalid_spec," + v.error().reason.to_string() + "}"));
  static_supervisor s(cfg.flags);
  for (auto& c : cfg.children) s.add(std::move(c));
  cfg.children.clear();
  co_await s.start_all();
  init_ack();
  co_await s.loop();
}

}  // namespace detail
}  // namespace otp
