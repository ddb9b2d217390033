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

#include <otp/detail/registry_core.hpp>
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

inline std::size_t mix(std::uint64_t x) noexcept {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  return static_cast<std::size_t>(x);
}
inline std::size_t hash_pid(const pid& p) noexcept { return mix(p.id()); }

/// The two indexes of a partition, over one set of entries: each entry is
/// in a key chain and in a pid chain. Readers walk either without locks
/// while one writer at a time (the partition's lock holder) changes them.
/// Entries are immutable once linked, apart from their links; growing
/// copies the entries into new bucket arrays, so a reader on the old ones
/// still sees every entry. An Entry has next_key, key_hash, next_pid and
/// owner (a pid), derives from ebr::retired, and is copy-constructible (the copy
/// unlinked).
template <class Entry>
class entry_index {
  struct arrays : ebr::retired {
    explicit arrays(std::size_t n) : mask(n - 1), by_key(new std::atomic<Entry*>[n]), by_pid(new std::atomic<Entry*>[n]) {
      for (std::size_t i = 0; i < n; ++i) {
        by_key[i].store(nullptr, std::memory_order_relaxed);
        by_pid[i].store(nullptr, std::memory_order_relaxed);
      }
    }
    std::size_t mask;
    std::unique_ptr<std::atomic<Entry*>[]> by_key;
    std::unique_ptr<std::atomic<Entry*>[]> by_pid;
  };

 public:
  entry_index() : arr_(new arrays(16)) {}
  entry_index(const entry_index&) = delete;
  entry_index& operator=(const entry_index&) = delete;
  /// Only once no reader can reach the index.
  ~entry_index() {
    arrays* a = arr_.load(std::memory_order_relaxed);
    for (std::size_t i = 0; i <= a->mask; ++i)
      for (Entry* e = a->by_key[i].load(std::memory_order_relaxed); e;) {
        Entry* next = e->next_key.load(std::memory_order_relaxed);
        delete e;
        e = next;
      }
    delete a;
  }

  // ---- readers (inside an ebr::guard) ----
  Entry* first_by_key(std::size_t h) const noexcept {
    arrays* a = arr_.load(std::memory_order_acquire);
    return a->by_key[h & a->mask].load(std::memory_order_acquire);
  }
  static Entry* next_by_key(const Entry* e) noexcept { return e->next_key.load(std::memory_order_acquire); }
  Entry* first_by_pid(std::size_t h) const noexcept {
    arrays* a = arr_.load(std::memory_order_acquire);
    return a->by_pid[h & a->mask].load(std::memory_order_acquire);
  }
  static Entry* next_by_pid(const Entry* e) noexcept { return e->next_pid.load(std::memory_order_acquire); }
  template <class F>
  void for_each(F&& f) const {
    arrays* a = arr_.load(std::memory_order_acquire);
    for (std::size_t i = 0; i <= a->mask; ++i)
      for (Entry* e = a->by_key[i].load(std::memory_order_acquire); e; e = next_by_key(e)) f(*e);
  }

  // ---- the writer ----
  /// Links `e` into both indexes, the pid index first.
  void insert(Entry* e, ebr::retire_list& garbage) {
    arrays* a = arr_.load(std::memory_order_relaxed);
    if (size_ * 2 > a->mask) a = grow(a, garbage);  // load factor at most 1/2
    push(a->by_pid[hash_pid(e->owner) & a->mask], e, &Entry::next_pid);
    push(a->by_key[e->key_hash & a->mask], e, &Entry::next_key);
    ++size_;
  }
  /// Unlinks `e` from both indexes and retires it.
  void erase(Entry* e, ebr::retire_list& garbage) noexcept {
    arrays* a = arr_.load(std::memory_order_relaxed);
    link_to(a->by_key[e->key_hash & a->mask], e, &Entry::next_key)
        .store(e->next_key.load(std::memory_order_relaxed), std::memory_order_release);
    link_to(a->by_pid[hash_pid(e->owner) & a->mask], e, &Entry::next_pid)
        .store(e->next_pid.load(std::memory_order_relaxed), std::memory_order_release);
    --size_;
    garbage.push(e, &free_entry);
  }
  /// Puts `fresh` (same key and process) where `old` is, and retires `old`.
  void replace(Entry* old, Entry* fresh, ebr::retire_list& garbage) noexcept {
    arrays* a = arr_.load(std::memory_order_relaxed);
    fresh->next_key.store(old->next_key.load(std::memory_order_relaxed), std::memory_order_relaxed);
    fresh->next_pid.store(old->next_pid.load(std::memory_order_relaxed), std::memory_order_relaxed);
    link_to(a->by_pid[hash_pid(old->owner) & a->mask], old, &Entry::next_pid).store(fresh, std::memory_order_release);
    link_to(a->by_key[old->key_hash & a->mask], old, &Entry::next_key).store(fresh, std::memory_order_release);
    garbage.push(old, &free_entry);
  }
  std::size_t size() const noexcept { return size_; }

 private:
  using link = std::atomic<Entry*> Entry::*;
  static void free_entry(ebr::retired* r) noexcept { delete static_cast<Entry*>(r); }
  static void free_arrays(ebr::retired* r) noexcept { delete static_cast<arrays*>(r); }

  static void push(std::atomic<Entry*>& head, Entry* e, link next) noexcept {
    (e->*next).store(head.load(std::memory_order_relaxed), std::memory_order_relaxed);
    head.store(e, std::memory_order_release);
  }
  /// The pointer in the chain from `head` that points at `e`.
  static std::atomic<Entry*>& link_to(std::atomic<Entry*>& head, Entry* e, link next) noexcept {
    std::atomic<Entry*>* at = &head;
    for (Entry* x = at->load(std::memory_order_relaxed); x != e; x = at->load(std::memory_order_relaxed))
      at = &(x->*next);
    return *at;
  }

  arrays* grow(arrays* old, ebr::retire_list& garbage) {
    auto fresh = std::make_unique<arrays>((old->mask + 1) * 2);
    std::vector<Entry*> copies;  // undone if a copy throws
    copies.reserve(size_);
    try {
      for (std::size_t i = 0; i <= old->mask; ++i)
        for (Entry* e = old->by_key[i].load(std::memory_order_relaxed); e;
             e = e->next_key.load(std::memory_order_relaxed)) {
          Entry* c = new Entry(*e);
          copies.push_back(c);
          push(fresh->by_pid[hash_pid(c->owner) & fresh->mask], c, &Entry::next_pid);
          push(fresh->by_key[c->key_hash & fresh->mask], c, &Entry::next_key);
        }
    } catch (...) {
      for (Entry* c : copies) delete c;
      throw;
    }
    arrays* a = fresh.release();
    arr_.store(a, std::memory_order_release);
    for (std::size_t i = 0; i <= old->mask; ++i)
      for (Entry* e = old->by_key[i].load(std::memory_order_relaxed); e;) {
        Entry* next = e->next_key.load(std::memory_order_relaxed);
        garbage.push(e, &free_entry);
        e = next;
      }
    garbage.push(old, &free_arrays);
    return a;
  }

  std::atomic<arrays*> arr_;
  std::size_t size_ = 0;
};


template <class K, class V, class Hash, class Eq>
struct registry_types {
  using event = registry_event<K, V>;
  using listener = std::function<void(const event&)>;

  // What a lookup by key reads (next_key, key_hash, key) comes first, in
  // one cache line for small keys; the reclamation header, used only once
  // unlinked, after.
  struct entry;
  struct entry_fields {
    entry_fields(std::size_t h, K&& k, pid&& o, V&& v)
        : key_hash(h), key(std::move(k)), owner(std::move(o)), value(std::move(v)) {}
    entry_fields(std::size_t h, const K& k, pid&& o, const V& v) : key_hash(h), key(k), owner(std::move(o)), value(v) {}
    entry_fields(const entry_fields& o)
        : key_hash(o.key_hash), key(o.key), owner(o.owner), value(o.value) {}
    std::atomic<entry*> next_key{nullptr};
    std::size_t key_hash;
    K key;
    pid owner;
    [[no_unique_address]] V value;  // nothing for a registry of names only
    std::atomic<entry*> next_pid{nullptr};  // the pid chain's bucket: hash_pid(owner)
  };
  /// One registration: in its partition's key index and pid index.
  struct entry : entry_fields, ebr::retired, pooled {
    using entry_fields::entry_fields;
  };
  struct meta_map : ebr::retired {
    std::map<std::string, std::any, std::less<>> values;
  };

  struct reg_state;

  struct reg_partition final : registry_partition_base {
    explicit reg_partition(reg_state& s) : registry_partition_base(s) {}
    const reg_state& st() const noexcept { return static_cast<const reg_state&>(*state); }
    entry_index<entry> index;

    entry* find_key(std::size_t h, const K& k, const pid* owner = nullptr) const {
      for (entry* e = index.first_by_key(h); e; e = index.next_by_key(e))
        if (e->key_hash == h && st().eq(e->key, k) && (!owner || e->owner == *owner)) return e;
      return nullptr;
    }
    /// Writer: adds an entry to both indexes.
    void add_entry(entry* e) {
      index.insert(e, garbage);
      entries.store(entries.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    }
    /// Writer: removes an entry from both indexes.
    void remove_entry(entry* e) noexcept {
      index.erase(e, garbage);
      entries.store(entries.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
    }

    void drop_pid(const pid& p) noexcept override {
      std::vector<K> gone;
      {
        std::lock_guard l(lock);
        const std::size_t h = hash_pid(p);
        std::vector<entry*> mine;
        for (entry* e = index.first_by_pid(h); e; e = index.next_by_pid(e))
          if (e->owner == p) mine.push_back(e);
        for (entry* e : mine) {
          if (!st().listeners.empty()) gone.push_back(e->key);
          remove_entry(e);
        }
      }
      for (auto& k : gone) st().tell(event{event::kind::unregistered, std::move(k), p, std::nullopt});
    }

    std::vector<pid> close_partition() noexcept override {
      std::vector<pid> out;
      std::lock_guard l(lock);
      closed = true;
      index.for_each([&](const entry& e) { out.push_back(e.owner); });
      return out;
    }
  };

  struct reg_state final : registry_state_base {
    reg_state(std::size_t n, registry_keys k, bool pid_spread, std::vector<listener> ls, meta_map* m)
        : kind(k), by_pid(pid_spread), listeners(std::move(ls)), meta(m) {
      parts.reserve(n);
      for (std::size_t i = 0; i < n; ++i) parts.push_back(std::make_unique<reg_partition>(*this));
    }
    ~reg_state() override { delete meta.load(std::memory_order_relaxed); }

    std::size_t partition_count() const noexcept override { return parts.size(); }
    registry_partition_base& partition(std::size_t i) noexcept override { return *parts[i]; }
    reg_partition& part_for(std::size_t h) noexcept {
      // The mixed hash scaled to [0, n): no division on the lookup path.
      return *parts[static_cast<std::size_t>(((mix(h) >> 32) * parts.size()) >> 32)];
    }
    /// Where `owner` writes an entry under a key hashing to `h`.
    reg_partition& part_for(std::size_t h, std::uint64_t owner) noexcept {
      return by_pid ? part_for(owner * 0x9E3779B97F4A7C15ull) : part_for(h);
    }
    void tell(const event& e) const noexcept {
      for (auto& l : listeners) {
        try {
          l(e);
        } catch (...) {  // a listener's message could not be made: the registry goes on
        }
      }
    }

    registry_keys kind;
    bool by_pid;  ///< partitioned by process (duplicate keys, registry_partitioning::by_pid)
    Hash hash;
    Eq eq;
    std::vector<std::unique_ptr<reg_partition>> parts;
    std::vector<listener> listeners;
    std::atomic<meta_map*> meta;
    spin_lock meta_lock;
  };

  struct name final : registry_name_base {
    explicit name(registry_options o) : registry_name_base(o) {}
    registry_state_base* make_state(std::size_t partitions) override {
      auto m = std::make_unique<meta_map>();
      m->values = initial_meta;
      const bool by_pid = options.keys == registry_keys::duplicate &&
                          options.partition_by == registry_partitioning::by_pid;
      auto* s = new reg_state(partitions, options.keys, by_pid, listeners, m.get());
      m.release();
      return s;
    }
    std::vector<listener> listeners;
    std::map<std::string, std::any, std::less<>> initial_meta;
  };
};

}  // namespace detail

/// A process registry (see the top of this header). K and V must be
/// copyable; Hash and Eq as for std::unordered_map.
namespace detail {
template <class K, class V, class Hash, class Eq>
struct via_name;  // a name in a registry (below)
}  // namespace detail

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
  /// already.
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
  std::size_t unregister_match(const K& key, Pred pred) const {
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

  /// Unique keys only: replaces the value of the calling process's entry
  /// under `key` with f(old value); returns {new, old}. errc::not_owner when
  /// the caller does not hold the key, errc::wrong_key_kind on a duplicate
  /// registry, errc::noproc when it is not running.
  template <class F>
  result<std::pair<V, V>> update_value(const K& key, F f) const {
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
  std::size_t visit(const K& key, F&& f) const {
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
  /// The keys `p` holds here, in no particular order (Elixir's keys/2).
  std::vector<K> keys(const pid& p) const {
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
  std::size_t count() const {
    detail::ebr::guard g;
    state* st = current();
    if (!st) return 0;
    std::size_t n = 0;
    for (auto& part : st->parts) n += part->entries.load(std::memory_order_relaxed);
    return n;
  }
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
  std::optional<T> meta(std::string_view key) const {
    detail::ebr::guard g;
    state* st = current();
    if (!st) return std::nullopt;
    auto* m = st->meta.load(std::memory_order_acquire);
    auto it = m->values.find(key);
    if (it == m->values.end()) return std::nullopt;
    if (auto* v = std::any_cast<T>(&it->second)) return *v;
    return std::nullopt;
  }
  /// Sets metadata (Elixir's put_meta/3); errc::noproc when not running.
  result<void> put_meta(std::string key, std::any value) const {
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

  friend bool operator==(const registry& a, const registry& b) noexcept { return a.name_ == b.name_; }

 private:
  template <class, class, class, class>
  friend struct detail::via_name;

  /// Registers `self`, the calling process or one
  /// being spawned that has not run yet.
  result<void> register_for(detail::process_base& self, K&& key, V&& value) const {
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

  state* current() const noexcept { return static_cast<state*>(name_->current.load(std::memory_order_acquire)); }

  std::shared_ptr<typename types::name> name_;
};

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
