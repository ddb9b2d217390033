// SPDX-License-Identifier: MIT
// Local names: a runtime-wide table of singleton names (see otp/name.hpp).
// The same lock-free entries as a registry partition, without a process:
// a local name does not link, and goes with its process through an exit
// hook.
#include <otp/name.hpp>
#include <otp/registry.hpp>

#include "runtime_core.hpp"

namespace otp {
namespace detail {

using local_types = registry_types<std::string, std::monostate, std::hash<std::string>, std::equal_to<std::string>>;
using local_entry = local_types::entry;

struct local_names {
  spin_lock lock;
  entry_index<local_entry> index;
  ebr::retire_list garbage;

  local_entry* find(std::size_t h, std::string_view n) const {
    for (local_entry* e = index.first_by_key(h); e; e = index.next_by_key(e))
      if (e->key_hash == h && e->key == n) return e;
    return nullptr;
  }
  pid whereis(std::string_view n) const {
    ebr::guard g;
    local_entry* e = find(std::hash<std::string_view>{}(n), n);
    return e && otp::is_alive(e->owner) ? e->owner : pid();
  }
  /// Drops `owner`'s entry under `n`, if it is still there.
  void drop(const std::string& n, const process_core* owner) noexcept {
    ebr::guard g;
    std::lock_guard l(lock);
    if (local_entry* e = find(std::hash<std::string_view>{}(n), n); e && e->owner.get() == owner)
      index.erase(e, garbage);
  }
};

void local_names_deleter::operator()(local_names* t) const noexcept { delete t; }
local_names* make_local_names() { return new local_names; }

namespace {
/// A process's local name: dropped when it ends.
struct local_name_hook final : exit_hook, pooled {
  local_name_hook(local_names& t, std::string n) : table(&t), name(std::move(n)) {
    subject = &t;
    at_death = true;
  }
  local_names* table;
  std::string name;
  void on_exit(process_base& p) noexcept override {
    table->drop(name, p.core);
    delete this;
  }
  void discard() noexcept override { delete this; }
};

local_names& table_of(runtime_core& core) noexcept { return *core.names; }

exit_hook** hook_slot(process_base& p, const local_names& t) noexcept {
  for (exit_hook** at = &p.exit_hooks; *at; at = &(*at)->next_hook)
    if ((*at)->subject == &t) return at;
  return nullptr;
}

result<void> register_in(process_base& p, std::string n) {
  local_names& t = table_of(p.home()->core);
  // A process that is ending (a destructor in its unwinding) takes no name.
  if (p.core->exiting.load(std::memory_order_relaxed)) return error(errc::noproc, exit_reason::noproc());
  if (hook_slot(p, t)) return error(errc::already_registered, pid_of(p));
  const std::size_t h = std::hash<std::string_view>{}(n);
  auto hook = std::make_unique<local_name_hook>(t, n);
  auto fresh = std::make_unique<local_entry>(h, std::move(n), pid_of(p), std::monostate{});
  {
    ebr::guard g;
    std::lock_guard l(t.lock);
    if (local_entry* e = t.find(h, fresh->key)) {
      if (otp::is_alive(e->owner)) return error(errc::already_started, e->owner);
      t.index.erase(e, t.garbage);  // its process is ending: the name is free
    }
    t.index.insert(fresh.release(), t.garbage);
  }
  p.add_exit_hook(hook.release());
  return otp::ok();
}

struct local_name final : name_kind {
  explicit local_name(std::string s) : n(std::move(s)) {}
  std::string n;
  pid whereis(runtime* rt) const override {
    if (rt) return otp::whereis(*rt, n);
    process_base* p = current();
    return p ? otp::whereis(n) : pid();
  }
  result<void> register_process(process_base& p) const override { return register_in(p, n); }
  std::string to_string() const override { return "{local," + n + "}"; }
};
}  // namespace

result<void> register_spawned(process_base& p, const name& n) { return name_access::kind(n)->register_process(p); }

}  // namespace detail

name local(std::string n) {
  return detail::name_access::make(std::make_shared<const detail::local_name>(std::move(n)));
}

result<void> register_local(std::string n) {
  return detail::register_in(detail::current_or_throw("otp::register_local"), std::move(n));
}

bool unregister_local() {
  detail::process_base& p = detail::current_or_throw("otp::unregister_local");
  detail::local_names& t = detail::table_of(p.home()->core);
  detail::exit_hook** at = detail::hook_slot(p, t);
  if (!at) return false;
  auto* hook = static_cast<detail::local_name_hook*>(*at);
  *at = hook->next_hook;
  t.drop(hook->name, p.core);
  delete hook;
  return true;
}

pid whereis(std::string_view n) {
  detail::process_base& p = detail::current_or_throw("otp::whereis");
  return detail::table_of(p.home()->core).whereis(n);
}

pid whereis(runtime& rt, std::string_view n) { return detail::table_of(detail::core_of(rt)).whereis(n); }

}  // namespace otp
