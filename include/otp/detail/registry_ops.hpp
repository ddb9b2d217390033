// SPDX-License-Identifier: MIT
#pragma once
// The bodies of otp::registry's writes and lock-free reads, and the name a
// registry key is (otp::via). Included at the end of otp/registry.hpp.

#include <otp/registry.hpp>

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace otp {

template <class K, class V, class Hash, class Eq>
result<void> registry<K, V, Hash, Eq>::register_for(detail::process_base& self, K&& key, V&& value) const {
  // A process that is ending (a destructor in its unwinding) takes no key.
  if (self.core->exiting.load(std::memory_order_relaxed)) return error(errc::noproc, exit_reason::noproc());
  detail::ebr::guard g;
  state* st = current();
  if (!st) return error(errc::noproc, exit_reason::noproc());
  const std::size_t h = st->hash(key);
  auto& part = st->part_for(h, self.id);
  detail::prepare_join(self, part);
  // Allocated before the lock, freed if refused: the indexes do not change then.
  auto fresh = std::make_unique<typename types::entry>(h, std::move(key), detail::pid_of(self), std::move(value));
  std::optional<event> replaced;
  {
    std::lock_guard l(part.lock);
    if (part.closed) return error(errc::noproc, exit_reason::noproc());
    if (st->kind == registry_keys::unique) {
      if (auto* old = part.find_key(h, fresh->key)) {
        if (otp::is_alive(old->owner)) return error(errc::already_registered, old->owner);
        if (!st->listeners.empty()) replaced.emplace(event{event::kind::unregistered, old->key, old->owner, std::nullopt});
        part.remove_entry(old);  // its process is ending: its cleanup may lag, the key is free
      }
    }
    part.add_entry(fresh.get());
  }
  auto* added = fresh.release();
  detail::joined(self, part, 1);
  if (!st->listeners.empty()) {
    if (replaced) st->tell(*replaced);
    st->tell(event{event::kind::registered, added->key, added->owner, added->value});
  }
  return otp::ok();
}

template <class K, class V, class Hash, class Eq>
template <class Pred>
std::size_t registry<K, V, Hash, Eq>::unregister_match(const K& key, Pred pred) const {
  detail::process_base& self = detail::current_or_throw("otp::registry::unregister_self");
  detail::ebr::guard g;
  state* st = current();
  if (!st) return 0;
  const std::size_t h = st->hash(key);
  auto& part = st->part_for(h, self.id);
  std::size_t removed = 0;
  {
    std::lock_guard l(part.lock);
    if (part.closed) return 0;
    for (auto* n = part.index.first_by_key(h); n;) {
      auto* next = part.index.next_by_key(n);
      if (n->key_hash == h && n->owner.get() == self.core && st->eq(n->key, key) && pred(std::as_const(n->value))) {
        part.remove_entry(n);
        ++removed;
      }
      n = next;
    }
  }
  if (removed == 0) return 0;
  detail::left(self, part, removed);
  if (!st->listeners.empty())
    for (std::size_t i = 0; i < removed; ++i)
      st->tell(event{event::kind::unregistered, key, detail::pid_of(self), std::nullopt});
  return removed;
}

template <class K, class V, class Hash, class Eq>
template <class F>
result<std::pair<V, V>> registry<K, V, Hash, Eq>::update_value(const K& key, F f) const {
  detail::process_base& self = detail::current_or_throw("otp::registry::update_value");
  detail::ebr::guard g;
  state* st = current();
  if (!st) return error(errc::noproc, exit_reason::noproc());
  if (st->kind != registry_keys::unique) return error(errc::wrong_key_kind);
  const std::size_t h = st->hash(key);
  auto& part = st->part_for(h);
  const pid me = detail::pid_of(self);
  auto* found = part.find_key(h, key, &me);
  if (!found) return error(errc::not_owner);
  // Only this process changes its entry, so the value read here is the one
  // replaced below; f runs outside the lock (it is the caller's code).
  V previous = found->value;
  V updated = f(std::as_const(previous));
  auto fresh = std::make_unique<typename types::entry>(h, key, pid(me), updated);
  {
    std::lock_guard l(part.lock);
    if (part.closed) return error(errc::noproc, exit_reason::noproc());
    auto* old = part.find_key(h, key, &me);  // again: a grow may have copied it meanwhile
    if (!old) return error(errc::not_owner);
    part.index.replace(old, fresh.release(), part.garbage);
  }
  return std::pair<V, V>(std::move(updated), std::move(previous));
}

template <class K, class V, class Hash, class Eq>
template <class F>
std::size_t registry<K, V, Hash, Eq>::visit(const K& key, F&& f) const {
  detail::ebr::guard g;
  state* st = current();
  if (!st) return 0;
  const std::size_t h = st->hash(key);
  std::size_t n = 0;
  auto scan = [&](const typename types::reg_partition& part) {
    for (auto* x = part.index.first_by_key(h); x; x = part.index.next_by_key(x))
      if (x->key_hash == h && st->eq(x->key, key)) {
        f(std::as_const(x->owner), std::as_const(x->value));
        ++n;
      }
  };
  if (st->by_pid)
    for (auto& part : st->parts) scan(*part);
  else
    scan(st->part_for(h));
  return n;
}

template <class K, class V, class Hash, class Eq>
std::vector<K> registry<K, V, Hash, Eq>::keys(const pid& p) const {
  std::vector<K> out;
  detail::ebr::guard g;
  state* st = current();
  if (!st || !p) return out;
  const std::size_t h = detail::hash_pid(p);
  for (auto& part : st->parts)
    for (auto* n = part->index.first_by_pid(h); n; n = part->index.next_by_pid(n))
      if (n->owner == p) out.push_back(n->key);
  return out;
}

template <class K, class V, class Hash, class Eq>
std::size_t registry<K, V, Hash, Eq>::count() const {
  detail::ebr::guard g;
  state* st = current();
  if (!st) return 0;
  std::size_t n = 0;
  for (auto& part : st->parts) n += part->entries.load(std::memory_order_relaxed);
  return n;
}

template <class K, class V, class Hash, class Eq>
template <class T>
std::optional<T> registry<K, V, Hash, Eq>::meta(std::string_view key) const {
  detail::ebr::guard g;
  state* st = current();
  if (!st) return std::nullopt;
  auto* m = st->meta.load(std::memory_order_acquire);
  auto it = m->values.find(key);
  if (it == m->values.end()) return std::nullopt;
  if (auto* v = std::any_cast<T>(&it->second)) return *v;
  return std::nullopt;
}

template <class K, class V, class Hash, class Eq>
result<void> registry<K, V, Hash, Eq>::put_meta(std::string key, std::any value) const {
  detail::ebr::guard g;
  state* st = current();
  if (!st) return error(errc::noproc, exit_reason::noproc());
  auto fresh = std::make_unique<typename types::meta_map>();
  std::lock_guard l(st->meta_lock);
  auto* old = st->meta.load(std::memory_order_relaxed);
  fresh->values = old->values;
  fresh->values.insert_or_assign(std::move(key), std::move(value));
  st->meta.store(fresh.release(), std::memory_order_release);
  detail::ebr::retire_shared(old, [](detail::ebr::retired* r) noexcept {
    delete static_cast<typename types::meta_map*>(r);
  });
  return otp::ok();
}

namespace detail {
template <class K>
std::string key_text(const K& k) {
  if constexpr (std::is_convertible_v<const K&, std::string_view>)
    return std::string(std::string_view(k));
  else if constexpr (requires { std::to_string(k); })
    return std::to_string(k);
  else
    return "key";
}

template <class K, class V, class Hash, class Eq>
struct via_name final : name_kind {
  via_name(registry<K, V, Hash, Eq> r, K k, V v) : reg(std::move(r)), key(std::move(k)), value(std::move(v)) {}
  registry<K, V, Hash, Eq> reg;
  K key;
  V value;
  pid whereis(runtime*) const override { return reg.whereis(key); }
  result<void> register_process(process_base& p) const override {
    auto r = reg.register_for(p, K(key), V(value));
    if (!r && r.error() == errc::already_registered) return error(errc::already_started, r.error().process);
    return r;
  }
  std::string to_string() const override { return "{via,registry," + key_text(key) + "}"; }
};
}  // namespace detail

}  // namespace otp
