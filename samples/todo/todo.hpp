// SPDX-License-Identifier: MIT
#pragma once
// The to-do system of Elixir in Action, chapters 8 and 9: one piece per
// Elixir module.
//
//   todo::system             Todo.System: the root supervisor (one_for_one)
//   ├── process_registry     Todo.ProcessRegistry: a unique-key registry; via names
//   ├── database             Todo.Database: a supervisor of pool_size workers,
//   │   └── database_worker  Todo.DatabaseWorker: each registered by index, one file per list
//   └── cache                Todo.Cache: a dynamic supervisor of to-do servers
//       └── server           Todo.Server: one per list, temporary, found by name
//
// Each list's server loads its list from the database in a continue step
// after its start, and saves it on each change. File I/O is offloaded, so a
// slow disk never stalls a shard.

#include "list.hpp"

#include <otp/otp.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace todo {

// ---------------------------------------------------------------- Todo.ProcessRegistry

/// The registry every worker and to-do server registers in (a name that
/// exists before the registry runs, like an Elixir module name).
extern const otp::registry<std::string> process_registry;
/// {:via, Registry, {Todo.ProcessRegistry, key}}
otp::name via(std::string key);

// ---------------------------------------------------------------- Todo.Database

struct database_worker : otp::server<database_worker> {
  struct store {  // a cast
    store(std::string k, std::string d) : key(std::move(k)), data(std::move(d)) {}
    std::string key, data;
  };
  struct get {  // a call: the stored text, or none
    using reply = std::optional<std::string>;
    explicit get(std::string k) : key(std::move(k)) {}
    std::string key;
  };

  explicit database_worker(std::filesystem::path folder);
  otp::task<void> handle_cast(store s);
  otp::task<std::optional<std::string>> handle_call(get g);

  std::filesystem::path folder;
};

namespace database {
inline constexpr int pool_size = 3;
/// A supervisor of the pool: worker i is registered as "database_worker:i".
otp::child_spec child_spec(std::filesystem::path folder);
/// The worker a key's requests go to (by the key's hash).
int worker_of(const std::string& key);
/// Saves `l` as `key` (a cast to the key's worker; a dead worker drops it).
void store(const std::string& key, const list& l);
/// The list stored as `key` (empty when none): errc::noproc while the
/// key's worker is being restarted.
otp::task<otp::result<list>> get(std::string key);
}  // namespace database

// ---------------------------------------------------------------- Todo.Server

struct server : otp::server<server> {
  struct add_entry {  // a cast
    add_entry(std::string d, std::string t) : date(std::move(d)), title(std::move(t)) {}
    std::string date, title;
  };
  struct update_entry {  // a call: false when there is no such entry
    using reply = bool;
    update_entry(std::uint64_t i, std::string d, std::string t) : id(i), date(std::move(d)), title(std::move(t)) {}
    std::uint64_t id;
    std::string date, title;
  };
  struct delete_entry {  // a call: false when there is no such entry
    using reply = bool;
    explicit delete_entry(std::uint64_t i) : id(i) {}
    std::uint64_t id;
  };
  struct entries {  // a call
    using reply = std::vector<entry>;
    explicit entries(std::string d) : date(std::move(d)) {}
    std::string date;
  };
  struct load {};  // the continue step
  struct crash {};  // a cast that throws: for the demo, to watch a crash and the restart


  explicit server(std::string list_name);
  otp::task<void> handle_continue(load);
  void handle_cast(add_entry a);
  [[noreturn]] void handle_cast(crash);
  bool handle_call(const update_entry& u);
  bool handle_call(const delete_entry& d);
  std::vector<entry> handle_call(const entries& q) const;

  /// Temporary (it comes back on its next use), registered as "todo_server:<name>".
  static otp::child_spec child_spec(std::string list_name);

  std::string name;
  list items;
};

// ---------------------------------------------------------------- Todo.Cache

namespace cache {
/// A dynamic supervisor of to-do servers, named otp::local("todo_cache").
otp::child_spec child_spec();
/// The server of `list_name`: the running one, found in the registry
/// without a lock; else started under the cache's supervisor. Two first
/// uses at once start one server (the name decides: the loser gets
/// already_started with the winner's pid).
otp::task<otp::result<otp::server_ref<server>>> server_process(std::string list_name);
}  // namespace cache

// ---------------------------------------------------------------- Todo.System

namespace system {
/// The root's children, in start order: registry, database, cache.
std::vector<otp::child_spec> children(std::filesystem::path data_folder);
/// The system as a supervisor child (a supervisor, one_for_one).
otp::child_spec child_spec(std::filesystem::path data_folder);
}  // namespace system

}  // namespace todo
