// SPDX-License-Identifier: MIT
// Dynamic supervisors (include/otp/dynamic_supervisor.hpp): the calls, and
// the process, Elixir's DynamicSupervisor on the protocol both supervisors
// share (supervisor_base.hpp).
#include <otp/dynamic_supervisor.hpp>

#include "supervisor_base.hpp"

#include <memory>
#include <ranges>

namespace otp {

using detail::sup::call;
using detail::sup::invalid;
using detail::sup::unbounded;

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
  c.place = opts.place;
  return detail::start_unguarded(o, &detail::supervisor_main, std::move(c));
}

child_spec dynamic_supervisor_child(std::string id, dynamic_supervisor_options opts, restart_type restart) {
  detail::supervisor_config c;
  c.dynamic = true;
  c.flags = supervisor_flags(restart_strategy::one_for_one, opts.intensity, opts.period);
  c.max_children = opts.max_children;
  c.extra = std::move(opts.extra);
  c.place = opts.place;
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

namespace detail::sup {
namespace {

/// The dynamic supervisor (DynamicSupervisor): children by pid, one_for_one,
/// all stopped at once.
class dynamic_supervisor final : supervisor_base {
 public:
  dynamic_supervisor(int intensity, duration period, std::size_t max_children, extra_args extra, placement place)
      : supervisor_base(intensity, period, std::move(extra), place), max_children_(max_children) {}

  sup_task<void> loop() { return serve(*this); }

 private:
  friend class supervisor_base;
  sup_task<bool> handle(supervisor_msg& m) { return dispatch(*this, m); }

  /// start_child's checks: a valid spec, room under max_children.
  child_rec* admit(supervisor_msg::start_child& m) {
    if (auto v = validate(m.spec, otp::auto_shutdown::never); !v) {
      refuse(m.reply, v.error());
      return nullptr;
    }
    if (max_children_ && children_.size() >= max_children_) {
      refuse(m.reply, error(errc::max_children));
      return nullptr;
    }
    const std::uint64_t key = next_key_++;
    return children_.emplace(key, std::make_unique<child_rec>(std::move(m.spec), key)).first->second.get();
  }
  /// A child that failed or answered ignore leaves nothing behind.
  void admitted(child_rec& c, const result<pid>& r) {
    if (!r || !r.value()) children_.erase(c.key);
  }

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

  /// terminate_children: every child at once (stop_together).
  sup_task<void> stop_all() {
    const auto all = children_ | std::views::transform([](auto& kv) { return kv.second.get(); });
    co_await stop_together(all);
    children_.clear();
    restarting_.clear();
  }

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

sup_task<void> serve_dynamic(supervisor_config& cfg) {
  dynamic_supervisor s(cfg.flags.intensity, cfg.flags.period, cfg.max_children, std::move(cfg.extra), cfg.place);
  init_ack();
  co_await s.loop();
}

}  // namespace detail::sup
}  // namespace otp
