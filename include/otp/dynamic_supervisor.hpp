// SPDX-License-Identifier: MIT
#pragma once
// Dynamic supervisors (Elixir's DynamicSupervisor): children started on
// demand, named by pid, one_for_one, all stopped together.
//
//   auto conns = (co_await otp::start_dynamic_supervisor()).value();
//   auto c = (co_await otp::start_child(conns, otp::child_spec("conn", otp::start_fn(session, sock),
//                                                               otp::restart_type::temporary))).value();
//
// Semantics. A child that exits is restarted per its restart type, under
// the supervisor's intensity, as in a one_for_one supervisor (see
// otp/supervisor.hpp for restart types, intensity and reports). Children
// have no order: when the supervisor stops, every child is sent its exit
// signal at once and the supervisor waits for all of them, each within its
// own shutdown spec. max_children bounds how many run at once: past it,
// start_child answers errc::max_children. A child whose restart keeps
// failing is still named by its last pid until terminate_child forgets it.
//
// Calls: start_child, terminate_child (by pid), which_children and
// count_children. Each waits for the answer for ever by default (OTP's
// infinity) or up to the timeout given, and fails with errc::noproc when the
// supervisor is not alive or ends before answering, errc::timeout when the
// timeout passes first. Cancellation: a caller ended while waiting does not
// cancel the call: the supervisor still acts on it, and the answer is
// dropped. Thread safety: call from inside processes; refs are values.

#include <otp/supervisor.hpp>

namespace otp {

/// A dynamic supervisor (Elixir's DynamicSupervisor): it starts with no
/// children and takes them one by one through start_child, which returns the
/// child's pid. Strategy one_for_one only; children are named by pid (their
/// spec ids are ignored). When it stops, it stops all children at once and
/// waits for them (order undefined), each per its shutdown spec.
class dynamic_supervisor_ref {
 public:
  dynamic_supervisor_ref() noexcept = default;
  explicit dynamic_supervisor_ref(supervisor_ref h) noexcept : h_(std::move(h)) {}
  const supervisor_ref& handle() const noexcept { return h_; }
  operator const pid&() const noexcept { return h_; }  // NOLINT: monitor, link, exit take it as a pid
  explicit operator bool() const noexcept { return static_cast<bool>(h_); }
  friend bool operator==(const dynamic_supervisor_ref& a, const dynamic_supervisor_ref& b) noexcept {
    return a.h_ == b.h_;
  }

 private:
  supervisor_ref h_;
};

struct dynamic_supervisor_options {
  dynamic_supervisor_options(int intensity = 3, duration period = std::chrono::seconds(5),
                             std::size_t max_children = 0) noexcept
      : intensity(intensity), period(period), max_children(max_children) {}
  int intensity;             ///< restarts allowed within `period`; >= 0
  duration period;           ///< > 0
  std::size_t max_children;  ///< 0: no limit; else start_child fails with max_children when reached
  extra_args extra;          ///< prepended to every child's start arguments
  /// Where children go when their spec does not say (child_spec::place):
  /// placement::balanced spreads them over the shards, as a server wants
  /// for its connections (otp/process.hpp, "Shards").
  placement place = placement::local;
};

/// Starts a dynamic supervisor linked to the caller. errc::invalid_spec at once
/// for a negative intensity or a period that is not positive.
detail::supervisor_start_of<dynamic_supervisor_ref> start_dynamic_supervisor(
    dynamic_supervisor_options opts = {}, start_options o = {});
/// A child spec that runs a dynamic supervisor.
child_spec dynamic_supervisor_child(std::string id, dynamic_supervisor_options opts,
                                    restart_type restart = restart_type::permanent);

/// Starts a child; returns its pid (null when it answered ignore: nothing is
/// kept). Errors: max_children, invalid_spec, start_failed.
detail::flat_request<pid> start_child(const dynamic_supervisor_ref& sup, child_spec spec,
                                      duration timeout = duration::max());
/// Stops the child `child`. errc::not_found if it is not a child of this
/// supervisor (that process is left alone).
detail::flat_request<void> terminate_child(const dynamic_supervisor_ref& sup, pid child,
                                           duration timeout = duration::max());
/// Every child (id empty), in no particular order.
detail::request_awaiter<std::vector<child_info>> which_children(const dynamic_supervisor_ref& sup,
                                                                 duration timeout = duration::max());
detail::request_awaiter<child_counts> count_children(const dynamic_supervisor_ref& sup,
                                                      duration timeout = duration::max());

/// OTP's names for the statuses and types: "running", "worker", ...

}  // namespace otp
