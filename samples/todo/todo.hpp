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
// after its start, and appends one record to the list's log on each change;
// it answers the change only once the record is written, so an answer means
// stored. Database workers take their requests in batches, one write per
// list, with the file I/O offloaded so a slow disk never stalls a shard; a
// list server waits for its own write, so a busy list never queues more
// than one request ahead of another list's load. Idle list servers stop.

#include "list.hpp"

#include <otp/otp.hpp>

#include <filesystem>
#include <chrono>
#include <cstdint>
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

// ---------------------------------------------------------------- settings

/// What a deployment tunes (todo_app's options); set before the system starts.
struct settings {
  /// A list's server that gets no request for this long stops; the next use
  /// starts it again from disk.
  otp::duration idle_timeout = std::chrono::minutes(5);
  /// Live list servers at most; past it, a first use of another list is
  /// refused (the cache answers errc::max_children) until idle ones stop.
  std::size_t max_lists = 10000;
};
/// Sets the settings of the systems started from now on.
void configure(const settings& s);
const settings& current_settings();

// ---------------------------------------------------------------- Todo.Database

/// What a database request answers: done, with the text of a load (empty
/// for a list never stored), or why not.
struct db_answer {
  std::string error;  ///< empty: done
  std::string text;   ///< a load: the list's records
};

/// A database worker's message: append records to a list's log, load the
/// log, or replace it by a compacted one; answered through `reply`.
struct db_request {
  enum class kind { append, load, compact };
  db_request(kind k, std::string key_, std::string text_, otp::reply_to<db_answer> r)
      : what(k), key(std::move(key_)), text(std::move(text_)), reply(std::move(r)) {}
  kind what;
  std::string key;   ///< the list's name
  std::string text;  ///< append: the records; compact: the whole log
  otp::reply_to<db_answer> reply;
};

namespace database {
inline constexpr int pool_size = 3;
/// Requests a worker takes at once: one write per list among them.
inline constexpr std::size_t max_batch = 256;
/// A supervisor of the pool: worker i is registered as "database_worker:i".
otp::child_spec child_spec(std::filesystem::path folder);
/// The worker a key's requests go to (by the key's hash).
int worker_of(const std::string& key);
/// The file a list is kept in: at most 32 characters of its name (others
/// than letters, digits, '-' and '_' become '_'), then a hash of the whole
/// name; bounded in length whatever the name, and never outside `folder`.
std::filesystem::path file_of(const std::filesystem::path& folder, const std::string& key);
/// Appends `records` to the log of `key`; returns once they are written (an
/// empty string), or why they could not be (the disk, or the worker's end).
otp::task<std::string> append(std::string key, std::string records);
/// Replaces the log of `key` by `records` (written aside, then renamed).
otp::task<std::string> compact(std::string key, std::string records);
/// The log of `key` (empty when none); errc::noproc while its worker
/// restarts, errc::exited or errc::timeout when it could not answer, and
/// errc::start_failed with the reason when the file cannot be read.
otp::task<otp::result<std::string>> load(std::string key);
}  // namespace database

// ---------------------------------------------------------------- Todo.Server

/// What a change to a list answers. (A constructor, not an aggregate: GCC 12
/// would destroy a braced temporary of it twice inside a co_await.)
struct outcome {
  enum class status { stored, no_entry, not_stored };
  explicit outcome(status s = status::stored, std::uint64_t i = 0, std::string w = {})
      : what(s), id(i), why(std::move(w)) {}
  status what;
  std::uint64_t id;  ///< the entry's id
  std::string why;   ///< not_stored: why (the database's error)
};

struct server : otp::server<server> {
  struct add_entry {  // a call: stored, or not_stored with why
    using reply = outcome;
    add_entry(std::string d, std::string t) : date(std::move(d)), title(std::move(t)) {}
    std::string date, title;
  };
  struct update_entry {  // a call: stored, no_entry, or not_stored
    using reply = outcome;
    update_entry(std::uint64_t i, std::string d, std::string t) : id(i), date(std::move(d)), title(std::move(t)) {}
    std::uint64_t id;
    std::string date, title;
  };
  struct delete_entry {  // a call: stored, no_entry, or not_stored
    using reply = outcome;
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
  otp::task<outcome> handle_call(add_entry a);
  otp::task<outcome> handle_call(update_entry u);
  otp::task<outcome> handle_call(delete_entry d);
  std::vector<entry> handle_call(const entries& q);
  [[noreturn]] void handle_cast(crash);
  void handle_info(otp::server_timeout);  // idle: stop (the next use starts it again)

  /// Temporary (it comes back on its next use), registered as "todo_server:<name>".
  static otp::child_spec child_spec(std::string list_name);

  std::string name;
  list items;
  std::size_t records = 0;  ///< in the stored log, for compaction

 private:
  /// Appends `record`, applies it once stored; compacts a log grown past
  /// twice the live entries.
  otp::task<outcome> store(std::string record, outcome done);
};

// ---------------------------------------------------------------- Todo.Cache

namespace cache {
/// A dynamic supervisor of to-do servers (settings::max_lists at most),
/// named otp::local("todo_cache").
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
