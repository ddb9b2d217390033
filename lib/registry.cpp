// SPDX-License-Identifier: MIT
// The registry's processes and memberships (see include/otp/registry.hpp).
#include <otp/detail/registry_core.hpp>
#include <otp/start.hpp>

#include "runtime_core.hpp"

#include <algorithm>
#include <string>

namespace otp::detail {

void registry_state_base::release() noexcept {
  if (!refs.drop()) return;
  // A reader that found it through the registry handle may still be on it.
  ebr::retire_shared(this, [](ebr::retired* r) noexcept { delete static_cast<registry_state_base*>(r); });
}

namespace {

/// A reference to an incarnation, held by a frame or a hook.
using state_ref = intrusive_ref<registry_state_base>;

/// A process's entries in one partition: dropped as soon as it is dead to
/// the world (before its frame is gone if an operation holds it), before its
/// links fire (so the partition is spared an exit signal it has no use for).
struct membership final : exit_hook, pooled {
  explicit membership(registry_partition_base& p) noexcept : part(&p), keep(state_ref::share(p.state)) {
    subject = &p;
    at_death = true;
  }
  registry_partition_base* part;
  state_ref keep;  ///< the partition's incarnation
  std::size_t count = 0;  ///< its entries there, as far as it knows

  void on_exit(process_base& p) noexcept override {
    if (count) {
      p.links.remove(part->process);
      part->drop_pid(pid_of(p));
    }
    delete this;
  }
  void discard() noexcept override { delete this; }
};

membership* find_membership(process_base& self, const registry_partition_base& part) noexcept {
  // Only a membership names a partition as its subject.
  for (exit_hook* h = self.exit_hooks; h; h = h->next_hook)
    if (h->subject == &part) return static_cast<membership*>(h);
  return nullptr;
}

/// A partition's process ending: every registrant gets the exit signal a
/// link would give it.
struct partition_hook final : exit_hook, pooled {
  explicit partition_hook(registry_partition_base& p) noexcept : part(&p), keep(state_ref::share(p.state)) {}
  registry_partition_base* part;
  state_ref keep;  ///< the partition's incarnation

  void on_exit(process_base& p) noexcept override {
    std::vector<pid> registrants = part->close_partition();
    std::sort(registrants.begin(), registrants.end());
    registrants.erase(std::unique(registrants.begin(), registrants.end()), registrants.end());
    for (auto& r : registrants)
      send_signal(*as_core(r), new signal_node(node_kind::link_exit, pid_of(p), p.reason));
    delete this;
  }
  void discard() noexcept override { delete this; }
};

process<nothing> partition_main(state_ref st, std::size_t index) {
  process_base& self = current_or_throw("registry partition");
  auto* hook = new partition_hook(st->partition(index));
  self.add_exit_hook(hook);
  otp::trap_exit(true);
  otp::init_ack();
  const pid parent = otp::parent();
  for (;;) {
    auto m = co_await otp::receive();
    // Registrants are not linked this way (see registry.hpp): only the
    // registry itself matters here.
    if (auto* e = std::get_if<exit_message>(&m); e && e->from == parent) otp::exit(e->reason);
  }
}

/// Unpublishes the incarnation however the registry's process ends.
struct publication {
  registry_name_base& name;
  registry_state_base* st;
  bool published = false;
  ~publication() {
    if (!published) return;
    registry_state_base* expected = st;
    if (name.current.compare_exchange_strong(expected, nullptr, std::memory_order_acq_rel)) st->release();
  }
};

}  // namespace

void prepare_join(process_base& self, registry_partition_base& part) {
  if (find_membership(self, part)) return;
  auto* m = new membership(part);
  self.add_exit_hook(m);
}

void joined(process_base& self, registry_partition_base& part, std::size_t n) noexcept {
  membership* m = find_membership(self, part);
  if (!m || n == 0) return;  // prepare_join came first
  if (m->count == 0) self.links.add(part.process);
  m->count += n;
}

void left(process_base& self, registry_partition_base& part, std::size_t n) noexcept {
  membership* m = find_membership(self, part);
  if (!m || n == 0 || m->count == 0) return;
  m->count -= std::min(n, m->count);
  if (m->count == 0) self.links.remove(part.process);
}

process<registry_stop> registry_main(std::shared_ptr<registry_name_base> name) {
  otp::trap_exit(true);
  process_base& self = current_or_throw("registry");
  {
    ebr::guard g;
    if (name->current.load(std::memory_order_acquire))
      init_fail(exit_reason::other("{already_started,registry}"));
  }
  const std::size_t shards = self.home()->core.shards.size();
  const std::size_t n =
      name->options.partitions ? name->options.partitions : std::max(1u, std::thread::hardware_concurrency());
  const state_ref st = state_ref::adopt(name->make_state(n));
  publication pub{*name, st.get()};
  std::vector<pid> partitions;
  for (std::size_t i = 0; i < n; ++i) {
    start_options o;
    o.spawn.shard = i % shards;
    auto r = co_await otp::start_opt(o, &partition_main, st, i);
    if (!r) init_fail(r.error().reason);
    st->partition(i).process = r.value();
    partitions.push_back(r.value());
  }
  st->process = pid_of(self);
  registry_state_base* expected = nullptr;
  st->retain();  // the name's
  if (!name->current.compare_exchange_strong(expected, st.get(), std::memory_order_acq_rel)) {
    st->release();
    init_fail(exit_reason::other("{already_started,registry}"));  // another start won the race
  }
  pub.published = true;
  otp::init_ack();
  const pid parent = otp::parent();
  for (;;) {
    auto m = co_await otp::receive();
    if (auto* stop = std::get_if<registry_stop>(&m)) {
      // As a supervisor stops its children: each partition with shutdown
      // (its registrants get that exit signal), newest first, then itself.
      for (auto it = partitions.rbegin(); it != partitions.rend(); ++it) {
        otp::exit(*it, exit_reason::shutdown());
        (void)co_await otp::receive_exit(*it);
      }
      otp::exit(stop->reason);
    }
    auto* e = std::get_if<exit_message>(&m);
    if (!e) continue;
    if (e->from == parent) otp::exit(e->reason);
    if (std::find(partitions.begin(), partitions.end(), e->from) != partitions.end())
      otp::exit(e->reason);  // a partition ended: the registry goes with it, taking the others
  }
}

task<result<void>> stop_registry(pid p, exit_reason reason, duration timeout) {
  if (!p) co_return error(errc::noproc, exit_reason::noproc());
  if (p == otp::self()) co_return error(errc::calling_self);
  auto mon = otp::monitor(p);
  (void)otp::send(handle<registry_stop>::unchecked(p), registry_stop(reason));
  auto down = co_await otp::receive_down(mon, timeout);
  if (!down) {
    otp::demonitor(mon, demonitor_option::flush);
    co_return error(errc::timeout);
  }
  if (down->reason.is(exit_kind::noproc)) co_return error(errc::noproc, exit_reason::noproc());
  if (down->reason == reason) co_return otp::ok();
  co_return error(errc::exited, std::move(down->reason));
}

}  // namespace otp::detail
