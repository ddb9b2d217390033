// SPDX-License-Identifier: MIT
#pragma once
// otp::registry: find processes by key, in the image of Elixir's Registry.
//
//   const otp::registry<std::string> names;               // unique keys
//   children.push_back(names.child_spec());               // started by a supervisor
//   ...
//   names.register_self("list:bob").value();              // in the process to be found (throws if taken)
//   otp::pid p = names.whereis("list:bob");               // from anywhere
//
// A registry object is a name, like the atom an Elixir registry is started
// under: copies share it, it exists before the registry runs, and each start
// (a restart under a supervisor too) installs a fresh incarnation behind it.
// Reads through a registry that is not running find nothing; writes fail
// with errc::noproc.
//
// Keys are `unique` (one process per key) or `duplicate` (any number, a
// process may hold a key several times: pubsub with dispatch). Entries are
// split into partitions (default: one per hardware thread), each with its
// own writer lock and its own process: by key, or for duplicate keys by
// process if many processes write the same popular key (a lookup then
// reads every partition).
//
// Reading. lookup, whereis, find, keys, values, match, count and dispatch
// take no lock at all: they walk immutable entries under an epoch guard
// (detail/ebr.hpp), so no writer can stall them and they scale with the
// threads reading. A writer (register, unregister, update_value, a
// registrant ending) takes its partition's lock for a few hundred
// instructions; entries it unlinks are freed once no reader can be on them.
// Callable from any thread, inside or outside a process.
//
// Liveness. Registering links the calling process to the key's partition:
// if the registry ends, every registrant gets the exit signal (so a
// restarted registry never leaves unfindable processes behind). The link is
// one-sided, kept by the registrant: the partition signals the processes in
// its pid index when it ends, and a registrant's own end removes its entries
// itself, at once, without a message (a link the partition kept would cost
// two signals per register/unregister pair). The link goes when the
// process's last key in that partition is unregistered. A process's entries
// go as soon as it is dead to the rest of the system, even when its frame
// must still wait for an Asio operation or offloaded work to let go of it:
// lookup, count and keys stop listing it then, and an ending process
// registers nothing. A lookup that races with the end can still return it
// for a moment; a send to it is then simply dropped.
//
// Listeners (listen) hear of every unregistration, whatever caused it: an
// unregister, or the end of the process that held the key.
//
// Indexes. Each partition keeps key -> entries and pid -> keys; a register
// writes the pid index first, so whatever happens in between, the entry can
// be found from its process. A refused register (already_registered)
// changes neither.
//
// Thread safety and cancellation, operation by operation:
//   lookup, find, whereis, visit, keys, values, match, count_match, count,
//   dispatch, meta, running     any thread, inside or outside a process;
//                               never block, never suspend
//   register_self, unregister_self, unregister_match, update_value
//                               act for the calling process (outside one: a
//                               broken contract, OTP_ASSERT); they take the
//                               partition's lock briefly and never suspend,
//                               so there is nothing to cancel
//   put_meta                    any thread (a short spin lock)
//   listen, with_meta           configuration: before start, from one thread
//   start, stop                 awaited inside a process; what a caller's
//                               end does to them is said where they are
//                               declared
// The registry handle itself is a value: copy it to any thread.

#include <otp/detail/registry_types.hpp>
#include <otp/name.hpp>
#include <otp/supervisor.hpp>

#include <any>
#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace otp {

/// What a registry tells its listeners.
template <class K, class V>
struct registry_event {
  enum class kind : std::uint8_t { registered, unregistered };
  kind what;
  K key;
  pid process;
  std::optional<V> value;  ///< registered: the value registered
};

namespace detail {
template <class K, class V, class Hash, class Eq>
struct via_name;  // a name in a registry (detail/registry_ops.hpp)
}  // namespace detail

/// A process registry (see the top of this header). K and V must be
/// copyable; Hash and Eq as for std::unordered_map.
template <class K, class V = std::monostate, class Hash = std::hash<K>, class Eq = std::equal_to<K>>
class registry {
  using types = detail::registry_types<K, V, Hash, Eq>;
  using state = typename types::reg_state;

 public:
  using key_type = K;
  using value_type = V;
  using entry = std::pair<pid, V>;
  using event = registry_event<K, V>;

  /// A registry name with these options. Nothing runs until it is started.
  explicit registry(registry_options o = {}) : name_(std::make_shared<typename types::name>(o)) {}

  // ---- configuration: takes effect at the next start; not synchronised
  // with a start in progress, so configure before starting ----

  /// Tells `listener` of every register and unregister, as a message built
  /// from a registry_event<K, V> (its message type must be constructible
  /// from one: the event itself, or a variant holding it). Unregistrations
  /// include the entries a process loses by ending (one `unregistered` per
  /// key it held), sent when it is dead to the world; and, on a unique
  /// registry, a key taken over from an ending holder.
  template <class M>
  const registry& listen(handle<M> listener) const {
    static_assert(std::is_constructible_v<M, const event&>,
                  "a registry listener's message type must be constructible from otp::registry_event<K, V>");
    name_->listeners.push_back([h = std::move(listener)](const event& e) { (void)otp::send(h, M(e)); });
    return *this;
  }
  /// Metadata the registry starts with (Elixir's `meta:` option).
  const registry& with_meta(std::string key, std::any value) const {
    name_->initial_meta.insert_or_assign(std::move(key), std::move(value));
    return *this;
  }
  const registry_options& options() const noexcept { return name_->options; }

  // ---- running it ----

  /// Starts the registry linked to the caller (start_options as for
  /// start_opt): the registry's pid, once its partitions run. Fails with
  /// errc::start_failed, reason {already_started,...}, when this name runs
  /// already. Cancellation as for start_link: a caller ended while waiting
  /// takes the starting registry down through the link.
  auto start(start_options o = {}) const {
    return otp::start_opt(o, &detail::registry_main, std::shared_ptr<detail::registry_name_base>(name_));
  }
  /// Stops the running incarnation, as Supervisor.stop/3 stops an Elixir
  /// registry: each partition ends with `shutdown`, taking its registrants
  /// with it (those not trapping exits), then the registry's process ends
  /// with `reason`. Returns (a task<result<void>>) once it has ended: ok;
  /// errc::noproc when the registry is not running; errc::exited with the
  /// reason if it ended otherwise meanwhile; errc::timeout after `timeout`
  /// (it goes on stopping); errc::calling_self from the registry's own
  /// process. A registry under a supervisor is restarted as after any other
  /// exit: stop it through its supervisor (terminate_child) to keep it
  /// stopped. A linked caller gets the exit signal `reason`, harmless when
  /// it is normal; a caller that holds keys is itself a registrant.
  /// Cancellation: a caller ended while waiting stops waiting; the registry
  /// still stops. Inside a process only.
  task<result<void>> stop(exit_reason reason = exit_reason::normal(), duration timeout = duration::max()) const {
    pid p;
    {
      detail::ebr::guard g;
      if (auto* st = current()) p = st->process;
    }
    return detail::stop_registry(std::move(p), std::move(reason), timeout);
  }
  /// Its default child spec: a permanent child of type supervisor (its
  /// partitions are its children, as in Elixir).
  otp::child_spec child_spec(std::string id = "registry") const {
    return otp::child_spec(std::move(id),
                           otp::start_fn(&detail::registry_main, std::shared_ptr<detail::registry_name_base>(name_)),
                           restart_type::permanent, child_type::supervisor);
  }
  /// True while an incarnation runs.
  bool running() const noexcept {
    detail::ebr::guard g;
    return current() != nullptr;
  }

  // ---- writes: by the calling process, for itself ----

  /// Registers the calling process under `key` with `value` (Elixir's
  /// register/3) and links it to the key's partition. Unique keys: fails
  /// with errc::already_registered (error::process: the holder) when a live
  /// process holds the key; a holder that is ending is replaced. Duplicate
  /// keys: always adds an entry. errc::noproc when the registry is not
  /// running. Outside a process: a broken contract (OTP_ASSERT).
  result<void> register_self(K key, V value = V()) const {
    return register_for(detail::current_or_throw("otp::registry::register_self"), std::move(key), std::move(value));
  }

  /// Removes every entry of the calling process under `key` (Elixir's
  /// unregister/2); returns how many there were. When it held no other key
  /// in that partition, the link goes too.
  std::size_t unregister_self(const K& key) const {
    return unregister_match(key, [](const V&) { return true; });
  }

  /// Removes the calling process's entries under `key` whose value
  /// satisfies `pred` (Elixir's unregister_match/4); returns how many. `pred`
  /// runs under the partition's writer lock: keep it to a comparison.
  template <class Pred>
  std::size_t unregister_match(const K& key, Pred pred) const;

  /// Unique keys only: replaces the value of the calling process's entry
  /// under `key` with f(old value); returns {new, old}. errc::not_owner when
  /// the caller does not hold the key, errc::wrong_key_kind on a duplicate
  /// registry, errc::noproc when it is not running.
  template <class F>
  result<std::pair<V, V>> update_value(const K& key, F f) const;

  // ---- reads: from anywhere, without locks ----

  /// Every entry under `key`: {process, value} (Elixir's lookup/2). May
  /// briefly include a process that is ending.
  std::vector<entry> lookup(const K& key) const {
    std::vector<entry> out;
    visit(key, [&](const pid& p, const V& v) { out.emplace_back(p, v); });
    return out;
  }
  /// The first entry under `key`, if any: for unique keys, the entry.
  std::optional<entry> find(const K& key) const {
    std::optional<entry> out;
    visit(key, [&](const pid& p, const V& v) {
      if (!out) out.emplace(p, v);
    });
    return out;
  }
  /// The live process under a unique `key`, or the null pid (Elixir's
  /// whereis_name: a process that is ending is not returned).
  pid whereis(const K& key) const {
    pid out;
    visit(key, [&](const pid& p, const V&) {
      if (!out && otp::is_alive(p)) out = p;
    });
    return out;
  }
  /// Calls f(pid, value) for each entry under `key`, inside the read guard
  /// (no copies): keep f short, and do not register or unregister in it.
  /// Returns how many entries there were.
  template <class F>
  std::size_t visit(const K& key, F&& f) const;
  /// The keys `p` holds here, in no particular order (Elixir's keys/2).
  std::vector<K> keys(const pid& p) const;
  /// The values `p` holds under `key` (Elixir's values/3).
  std::vector<V> values(const K& key, const pid& p) const {
    std::vector<V> out;
    visit(key, [&](const pid& q, const V& v) {
      if (q == p) out.push_back(v);
    });
    return out;
  }
  /// The entries under `key` whose value satisfies `pred` (Elixir's match/4
  /// with a guard).
  template <class Pred>
  std::vector<entry> match(const K& key, Pred pred) const {
    std::vector<entry> out;
    visit(key, [&](const pid& p, const V& v) {
      if (pred(v)) out.emplace_back(p, v);
    });
    return out;
  }
  template <class Pred>
  std::size_t count_match(const K& key, Pred pred) const {
    std::size_t n = 0;
    visit(key, [&](const pid&, const V& v) { n += pred(v) ? 1 : 0; });
    return n;
  }
  /// All entries (Elixir's count/1).
  std::size_t count() const;
  /// Calls f(entries) with every entry under `key`, outside the read guard
  /// (so f may send, register, anything); not at all when there is none.
  /// Returns whether it was called (Elixir's dispatch/3: pubsub over a
  /// duplicate registry).
  template <class F>
  bool dispatch(const K& key, F&& f) const {
    auto entries = lookup(key);
    if (entries.empty()) return false;
    f(std::as_const(entries));
    return true;
  }

  // ---- metadata ----

  /// The metadata under `key`, if present and of type T.
  template <class T>
  std::optional<T> meta(std::string_view key) const;
  /// Sets metadata (Elixir's put_meta/3); errc::noproc when not running.
  result<void> put_meta(std::string key, std::any value) const;

  friend bool operator==(const registry& a, const registry& b) noexcept { return a.name_ == b.name_; }

 private:
  template <class, class, class, class>
  friend struct detail::via_name;

  /// Registers `self`, the calling process or one
  /// being spawned that has not run yet.
  result<void> register_for(detail::process_base& self, K&& key, V&& value) const;

  state* current() const noexcept { return static_cast<state*>(name_->current.load(std::memory_order_acquire)); }

  std::shared_ptr<typename types::name> name_;
};

/// A name in `reg` under `key` (with `value` stored for the process), for
/// spawn and start options, child specs, send, exit, link and monitor: the
/// {:via, Registry, {registry, key}} of Elixir. A process started under it
/// is registered (and linked to the registry) before its body runs.
template <class K, class V, class Hash, class Eq>
name via(const registry<K, V, Hash, Eq>& reg, K key, V value = V()) {
  return detail::name_access::make(
      std::make_shared<const detail::via_name<K, V, Hash, Eq>>(reg, std::move(key), std::move(value)));
}
/// via with a key given as a string literal for a registry of std::string.
template <class V, class Hash, class Eq>
name via(const registry<std::string, V, Hash, Eq>& reg, const char* key, V value = V()) {
  return via(reg, std::string(key), std::move(value));
}

}  // namespace otp

// The bodies of the registry's writes and reads, declared above.
#include <otp/detail/registry_ops.hpp>
