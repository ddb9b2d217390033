// SPDX-License-Identifier: MIT
#pragma once
// otp::registry: find processes by key, in the image of Elixir's Registry.
//
//   const otp::registry<std::string> names;               // unique keys
//   children.push_back(names.child_spec());               // started by a supervisor
//   ...
//   co_await names.register_self("list:bob");             // in the process to be found
//   otp::pid p = names.whereis("list:bob");               // from anywhere
//
// A registry object is a name, like the atom an Elixir registry is started
// under: copies share it, it exists before the registry runs, and each start
// (a restart under a supervisor too) installs a fresh incarnation behind it.
// Reads through a registry that is not running find nothing; writes fail
// with errc::noproc.
//
// Keys are `unique` (one process per key) or `duplicate` (any number, a
// process may hold a key several times: pubsub with dispatch). The key space
// is split into partitions (default: one per hardware thread), each with
// its own writer lock and its own process.
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
// process's last key in that partition is unregistered. A process that has
// been told to end but has not finished yet (an Asio operation still
// completing) is treated as gone: its unique keys can be taken over, and
// whereis does not return it; lookup may still list it for that moment, as
// in Elixir, and a send to it is simply dropped.
//
// Indexes. Each partition keeps key -> entries and pid -> keys; a register
// writes the pid index first, so whatever happens in between, the entry can
// be found from its process. A refused register (already_registered)
// changes neither.

#include <otp/detail/registry_core.hpp>
#include <otp/supervisor.hpp>

#include <any>
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

/// A hash chain that readers walk without locks while one writer at a time
/// (the partition's lock holder) changes it. Nodes are immutable once
/// linked, apart from `next`; growing the table copies the nodes into a new
/// bucket array, so a reader on the old one still sees every entry.
template <class Node>
class chain_table {
  struct array : ebr::retired {
    explicit array(std::size_t n) : mask(n - 1), heads(new std::atomic<Node*>[n]) {
      for (std::size_t i = 0; i < n; ++i) heads[i].store(nullptr, std::memory_order_relaxed);
    }
    std::size_t mask;
    std::unique_ptr<std::atomic<Node*>[]> heads;
  };

 public:
  chain_table() : arr_(new array(16)) {}
  chain_table(const chain_table&) = delete;
  chain_table& operator=(const chain_table&) = delete;
  /// Only once no reader can reach the table.
  ~chain_table() {
    array* a = arr_.load(std::memory_order_relaxed);
    for (std::size_t i = 0; i <= a->mask; ++i)
      for (Node* n = a->heads[i].load(std::memory_order_relaxed); n;) {
        Node* next = n->next.load(std::memory_order_relaxed);
        delete n;
        n = next;
      }
    delete a;
  }

  // ---- readers (inside an ebr::guard) ----
  Node* first(std::size_t h) const noexcept {
    array* a = arr_.load(std::memory_order_acquire);
    return a->heads[h & a->mask].load(std::memory_order_acquire);
  }
  static Node* next(const Node* n) noexcept { return n->next.load(std::memory_order_acquire); }
  template <class F>
  void for_each(F&& f) const {
    array* a = arr_.load(std::memory_order_acquire);
    for (std::size_t i = 0; i <= a->mask; ++i)
      for (Node* n = a->heads[i].load(std::memory_order_acquire); n; n = next(n)) f(*n);
  }

  // ---- the writer ----
  void insert(Node* n, ebr::retire_list& garbage) {
    array* a = arr_.load(std::memory_order_relaxed);
    if (size_ > a->mask) a = grow(a, garbage);  // load factor 1
    auto& head = a->heads[n->hash & a->mask];
    n->next.store(head.load(std::memory_order_relaxed), std::memory_order_relaxed);
    head.store(n, std::memory_order_release);
    ++size_;
  }
  /// Unlinks `n` (in the table) and retires it.
  void erase(Node* n, ebr::retire_list& garbage) noexcept {
    link_to(n).store(n->next.load(std::memory_order_relaxed), std::memory_order_release);
    --size_;
    garbage.push(n, &free_node);
  }
  /// Puts `fresh` where `old` (in the table, same hash) is, and retires `old`.
  void replace(Node* old, Node* fresh, ebr::retire_list& garbage) noexcept {
    fresh->next.store(old->next.load(std::memory_order_relaxed), std::memory_order_relaxed);
    link_to(old).store(fresh, std::memory_order_release);
    garbage.push(old, &free_node);
  }
  std::size_t size() const noexcept { return size_; }

 private:
  static void free_node(ebr::retired* r) noexcept { delete static_cast<Node*>(r); }
  static void free_array(ebr::retired* r) noexcept { delete static_cast<array*>(r); }

  /// The pointer that points at `n`.
  std::atomic<Node*>& link_to(Node* n) noexcept {
    array* a = arr_.load(std::memory_order_relaxed);
    std::atomic<Node*>* at = &a->heads[n->hash & a->mask];
    for (Node* x = at->load(std::memory_order_relaxed); x != n; x = at->load(std::memory_order_relaxed))
      at = &x->next;
    return *at;
  }

  array* grow(array* old, ebr::retire_list& garbage) {
    const std::size_t n = (old->mask + 1) * 2;
    auto fresh = std::make_unique<array>(n);
    std::vector<Node*> copies;  // undone if a copy throws
    copies.reserve(size_);
    try {
      for (std::size_t i = 0; i <= old->mask; ++i)
        for (Node* x = old->heads[i].load(std::memory_order_relaxed); x; x = x->next.load(std::memory_order_relaxed)) {
          Node* c = new Node(*x);
          copies.push_back(c);
          auto& head = fresh->heads[c->hash & fresh->mask];
          c->next.store(head.load(std::memory_order_relaxed), std::memory_order_relaxed);
          head.store(c, std::memory_order_relaxed);
        }
    } catch (...) {
      for (Node* c : copies) delete c;
      throw;
    }
    array* a = fresh.release();
    arr_.store(a, std::memory_order_release);
    for (std::size_t i = 0; i <= old->mask; ++i)
      for (Node* x = old->heads[i].load(std::memory_order_relaxed); x;) {
        Node* next = x->next.load(std::memory_order_relaxed);
        garbage.push(x, &free_node);
        x = next;
      }
    garbage.push(old, &free_array);
    return a;
  }

  std::atomic<array*> arr_;
  std::size_t size_ = 0;
};

inline std::size_t mix(std::uint64_t x) noexcept {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  return static_cast<std::size_t>(x);
}
inline std::size_t hash_pid(const pid& p) noexcept { return mix(p.id()); }

template <class K, class V, class Hash, class Eq>
struct registry_types {
  using event = registry_event<K, V>;
  using listener = std::function<void(const event&)>;

  /// key -> (process, value)
  struct key_node : ebr::retired, pooled {
    key_node(std::size_t h, K k, pid o, V v) : hash(h), key(std::move(k)), owner(std::move(o)), value(std::move(v)) {}
    key_node(const key_node& o) : ebr::retired(), pooled(), hash(o.hash), key(o.key), owner(o.owner), value(o.value) {}
    std::atomic<key_node*> next{nullptr};
    std::size_t hash;
    K key;
    pid owner;
    V value;
  };
  /// process -> key
  struct pid_node : ebr::retired, pooled {
    pid_node(pid o, K k) : hash(hash_pid(o)), owner(std::move(o)), key(std::move(k)) {}
    pid_node(const pid_node& o) : ebr::retired(), pooled(), hash(o.hash), owner(o.owner), key(o.key) {}
    std::atomic<pid_node*> next{nullptr};
    std::size_t hash;
    pid owner;
    K key;
  };
  struct meta_map : ebr::retired {
    std::map<std::string, std::any, std::less<>> values;
  };

  struct reg_state;

  struct reg_partition final : registry_partition_base {
    explicit reg_partition(reg_state& s) : registry_partition_base(s), st(s) {}
    reg_state& st;
    chain_table<key_node> keys;
    chain_table<pid_node> pids;

    key_node* find_key(std::size_t h, const K& k, const pid* owner = nullptr) const {
      for (key_node* n = keys.first(h); n; n = keys.next(n))
        if (n->hash == h && st.eq(n->key, k) && (!owner || n->owner == *owner)) return n;
      return nullptr;
    }
    pid_node* find_pid(const pid& p, const K& k) const {
      const std::size_t h = hash_pid(p);
      for (pid_node* n = pids.first(h); n; n = pids.next(n))
        if (n->hash == h && n->owner == p && st.eq(n->key, k)) return n;
      return nullptr;
    }
    /// Writer: removes an entry from both indexes.
    void remove_entry(key_node* n) noexcept {
      if (pid_node* pn = find_pid(n->owner, n->key)) pids.erase(pn, garbage);
      keys.erase(n, garbage);
      entries.fetch_sub(1, std::memory_order_relaxed);
    }

    void drop_pid(const pid& p) noexcept override {
      std::vector<K> gone;
      {
        std::lock_guard l(lock);
        const std::size_t h = hash_pid(p);
        std::vector<pid_node*> mine;
        for (pid_node* n = pids.first(h); n; n = pids.next(n))
          if (n->hash == h && n->owner == p) mine.push_back(n);
        for (pid_node* pn : mine) {
          if (key_node* kn = find_key(st.hash(pn->key), pn->key, &p)) {
            keys.erase(kn, garbage);
            entries.fetch_sub(1, std::memory_order_relaxed);
          }
          if (!st.listeners.empty()) gone.push_back(pn->key);
          pids.erase(pn, garbage);
        }
      }
      for (auto& k : gone) st.tell(event{event::kind::unregistered, std::move(k), p, std::nullopt});
    }

    std::vector<pid> close_partition() noexcept override {
      std::vector<pid> out;
      std::lock_guard l(lock);
      closed = true;
      pids.for_each([&](const pid_node& n) { out.push_back(n.owner); });
      return out;
    }
  };

  struct reg_state final : registry_state_base {
    reg_state(std::size_t n, registry_keys k, std::vector<listener> ls, meta_map* m)
        : kind(k), listeners(std::move(ls)), meta(m) {
      parts.reserve(n);
      for (std::size_t i = 0; i < n; ++i) parts.push_back(std::make_unique<reg_partition>(*this));
    }
    ~reg_state() override { delete meta.load(std::memory_order_relaxed); }

    std::size_t partition_count() const noexcept override { return parts.size(); }
    registry_partition_base& partition(std::size_t i) noexcept override { return *parts[i]; }
    reg_partition& part_for(std::size_t h) noexcept {
      return *parts[(mix(h) >> 7) % parts.size()];
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
      auto* s = new reg_state(partitions, options.keys, listeners, m.get());
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

  // ---- configuration: takes effect at the next start ----

  /// Tells `listener` of every register and unregister, as a message built
  /// from a registry_event<K, V> (its message type must be constructible
  /// from one: the event itself, or a variant holding it).
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
  /// start_opt): result<handle<nothing>> once its partitions run. Fails
  /// with errc::start_failed, reason {already_started,...}, when this name
  /// runs already.
  auto start(start_options o = {}) const {
    return otp::start_opt(o, &detail::registry_main, std::shared_ptr<detail::registry_name_base>(name_));
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
  /// running. Throws std::logic_error outside a process.
  result<void> register_self(K key, V value = V()) const {
    detail::process_base& self = detail::current_or_throw("otp::registry::register_self");
    detail::ebr::guard g;
    state* st = current();
    if (!st) return error(errc::noproc, exit_reason::noproc());
    const std::size_t h = st->hash(key);
    auto& part = st->part_for(h);
    detail::prepare_join(self, part);
    pid me = detail::pid_of(self);
    // Allocated before the lock, freed if refused: the tables do not change then.
    auto pn = std::make_unique<typename types::pid_node>(me, key);
    auto kn = std::make_unique<typename types::key_node>(h, std::move(key), me, value);
    std::optional<event> replaced;
    {
      std::lock_guard l(part.lock);
      if (part.closed) return error(errc::noproc, exit_reason::noproc());
      if (st->kind == registry_keys::unique) {
        if (auto* old = part.find_key(h, kn->key)) {
          if (detail::alive(old->owner)) return error(errc::already_registered, old->owner);
          if (!st->listeners.empty()) replaced.emplace(event{event::kind::unregistered, old->key, old->owner, std::nullopt});
          part.remove_entry(old);  // its process is ending: its cleanup may lag, the key is free
        }
      }
      part.pids.insert(pn.release(), part.garbage);  // the pid index first
      part.keys.insert(kn.get(), part.garbage);
      part.entries.fetch_add(1, std::memory_order_relaxed);
    }
    auto* added = kn.release();
    detail::joined(self, part, 1);
    if (!st->listeners.empty()) {
      if (replaced) st->tell(*replaced);
      st->tell(event{event::kind::registered, added->key, me, added->value});
    }
    return otp::ok();
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
    auto& part = st->part_for(h);
    const pid me = detail::pid_of(self);
    std::size_t removed = 0;
    {
      std::lock_guard l(part.lock);
      if (part.closed) return 0;
      for (auto* n = part.keys.first(h); n;) {
        auto* next = part.keys.next(n);
        if (n->hash == h && n->owner == me && st->eq(n->key, key) && pred(std::as_const(n->value))) {
          part.remove_entry(n);
          ++removed;
        }
        n = next;
      }
    }
    if (removed == 0) return 0;
    detail::left(self, part, removed);
    if (!st->listeners.empty())
      for (std::size_t i = 0; i < removed; ++i) st->tell(event{event::kind::unregistered, key, me, std::nullopt});
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
    auto fresh = std::make_unique<typename types::key_node>(h, key, me, updated);
    {
      std::lock_guard l(part.lock);
      if (part.closed) return error(errc::noproc, exit_reason::noproc());
      auto* old = part.find_key(h, key, &me);  // again: a grow may have copied it meanwhile
      if (!old) return error(errc::not_owner);
      part.keys.replace(old, fresh.release(), part.garbage);
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
      if (!out && detail::alive(p)) out = p;
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
    auto& part = st->part_for(h);
    std::size_t n = 0;
    for (auto* x = part.keys.first(h); x; x = part.keys.next(x))
      if (x->hash == h && st->eq(x->key, key)) {
        f(std::as_const(x->owner), std::as_const(x->value));
        ++n;
      }
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
      for (auto* n = part->pids.first(h); n; n = part->pids.next(n))
        if (n->hash == h && n->owner == p) out.push_back(n->key);
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
  state* current() const noexcept { return static_cast<state*>(name_->current.load(std::memory_order_acquire)); }

  std::shared_ptr<typename types::name> name_;
};

}  // namespace otp
