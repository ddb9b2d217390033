// SPDX-License-Identifier: MIT
#pragma once
// The types behind an otp::registry<K, V, Hash, Eq> (otp/registry.hpp): its
// entries, its partitions over an entry_index, one incarnation's state, and
// the name every copy of a registry handle shares. What does not depend on
// K and V is in detail/registry_core.hpp.

#include <otp/detail/entry_index.hpp>
#include <otp/detail/registry_core.hpp>

#include <any>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace otp {

template <class K, class V>
struct registry_event;

namespace detail {

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

}  // namespace otp
