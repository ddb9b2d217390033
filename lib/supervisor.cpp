// SPDX-License-Identifier: MIT
// Supervisors (include/otp/supervisor.hpp): the values, the calls, and the
// supervisor process of supervisor.erl, with ordered children. What it shares
// with the dynamic supervisor is in supervisor_base.hpp. The comments name
// the OTP functions each part follows.
#include <otp/supervisor.hpp>

#include "supervisor_base.hpp"

#include <algorithm>
#include <stdexcept>

namespace otp {

using detail::sup::call;
using detail::sup::invalid;
using detail::sup::unbounded;

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

// ---------------------------------------------------------------- the process

namespace detail {

void wrong_extra_arguments(const extra_args& given, const char* expected) {
  throw std::invalid_argument(std::string("the supervisor's extra arguments are ") + given.type_name() +
                              ", the child's start function takes " + expected +
                              " (build it with otp::with_extra<...> matching otp::extra_arguments)");
}

namespace {

using namespace sup;

/// The supervisor (supervisor.erl): ordered children with ids and a strategy.
class static_supervisor final : supervisor_base {
 public:
  explicit static_supervisor(const supervisor_flags& f)
      : supervisor_base(f.intensity, f.period, extra_args(), placement::local), flags_(f) {}

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

  sup_task<void> loop() { return serve(*this); }

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
  friend class supervisor_base;
  sup_task<bool> handle(supervisor_msg& m) { return dispatch(*this, m); }

  /// start_child's checks: a valid spec with an id not taken. The new
  /// record goes last (start order).
  child_rec* admit(supervisor_msg::start_child& m) {
    if (auto v = validate(m.spec, flags_.auto_shutdown); !v) {
      refuse(m.reply, v.error());
      return nullptr;
    }
    if (child_rec* c = find(m.spec.id)) {
      refuse(m.reply, c->running() ? error(errc::already_started, c->process) : error(errc::already_present));
      return nullptr;
    }
    add(std::move(m.spec));
    return children_.back().get();
  }
  /// Nothing is kept after a failed start; a temporary child that answered
  /// ignore is not kept either.
  void admitted(child_rec& c, const result<pid>& r) {
    if (!r || (!r.value() && c.spec.restart == restart_type::temporary)) erase(c);
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

}  // namespace

process<supervisor_msg> supervisor_main(supervisor_config cfg) {
  otp::trap_exit(true);
  if (cfg.dynamic) {
    co_await sup::serve_dynamic(cfg);
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
