// SPDX-License-Identifier: MIT
// The to-do system (see todo.hpp).
#include "todo.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
#include <system_error>
#include <tuple>

namespace todo {

// ---------------------------------------------------------------- Todo.ProcessRegistry

const otp::registry<std::string> process_registry;

otp::name via(std::string key) { return otp::via(process_registry, std::move(key)); }

// ---------------------------------------------------------------- settings

namespace {
settings the_settings;
}
void configure(const settings& s) { the_settings = s; }
const settings& current_settings() { return the_settings; }

// ---------------------------------------------------------------- Todo.DatabaseWorker

namespace {

// A list's log starts with this line and the list's name (escaped as a
// record's fields are), so that a file is never read as another list's.
std::string header_of(const std::string& key) {
  std::string h = "todo-list ";
  for (char c : key) {
    if (c == '\\') h += "\\\\";
    else if (c == '\n') h += "\\n";
    else h += c;
  }
  return h + "\n";
}

std::string why(const char* what, const std::filesystem::path& path) {
  return std::string(what) + " " + path.filename().string() + ": " + std::strerror(errno);
}

// One batch, in arrival order, on an offload thread. Consecutive appends to
// one list are written together: one open, one write, then their answers.
void run_batch(const std::filesystem::path& folder, std::vector<db_request>& batch, std::vector<db_answer>& out) {
  for (std::size_t i = 0; i < batch.size();) {
    const auto& r = batch[i];
    const auto path = database::file_of(folder, r.key);
    if (r.what == db_request::kind::load) {
      std::error_code ec;
      if (std::filesystem::exists(path, ec) && !std::filesystem::is_regular_file(path, ec)) {
        out[i++].error = "cannot read " + path.filename().string() + ": not a regular file";
        continue;
      }
      std::ifstream in(path, std::ios::binary);
      if (in) {
        std::ostringstream text;
        text << in.rdbuf();
        std::string all = std::move(text).str();
        const std::string h = header_of(r.key);
        if (all.compare(0, h.size(), h) != 0)
          out[i].error = "the file " + path.filename().string() + " holds another list";
        else
          out[i].text = all.substr(h.size());
      } else if (errno != ENOENT) {
        out[i].error = why("cannot read", path);
      }
      ++i;
      continue;
    }
    if (r.what == db_request::kind::compact) {
      auto tmp = path;
      tmp += ".tmp";
      {
        std::ofstream o(tmp, std::ios::binary | std::ios::trunc);
        o << header_of(r.key) << r.text;
        if (!o.flush()) out[i].error = why("cannot write", tmp);
      }
      std::error_code ec;
      if (out[i].error.empty()) std::filesystem::rename(tmp, path, ec);
      if (ec) out[i].error = "cannot rename " + tmp.filename().string() + ": " + ec.message();
      ++i;
      continue;
    }
    // Appends: this one and the ones right after it to the same list.
    std::size_t j = i;
    std::string records;
    while (j < batch.size() && batch[j].what == db_request::kind::append && batch[j].key == r.key) records += batch[j++].text;
    std::string error;
    {
      const bool fresh = !std::filesystem::exists(path);
      std::ofstream o(path, std::ios::binary | std::ios::app);
      if (fresh) o << header_of(r.key);
      o << records;
      if (!o.flush()) error = why("cannot write", path);
    }
    for (; i < j; ++i) out[i].error = error;
  }
}

}  // namespace

// Todo.DatabaseWorker, as a process that takes its requests in batches:
// whatever waits in its mailbox (up to max_batch) is done with one offload
// and one write per list, then answered. Under a flood of changes, the
// writes grow, not their number.
otp::process<db_request> database_worker(std::filesystem::path folder) {
  std::filesystem::create_directories(folder);  // throws: the start fails
  otp::init_ack();
  std::vector<db_request> batch;
  std::vector<db_answer> answers;
  for (;;) {
    batch.clear();
    auto first = co_await otp::receive();
    if (auto* r = std::get_if<db_request>(&first)) batch.push_back(std::move(*r));
    while (batch.size() < database::max_batch) {
      auto more = co_await otp::receive(otp::duration::zero());
      if (!more) break;
      if (auto* r = std::get_if<db_request>(&*more)) batch.push_back(std::move(*r));
    }
    if (batch.empty()) continue;
    answers.assign(batch.size(), db_answer());
    auto work = [&] { run_batch(folder, batch, answers); };
    co_await otp::offload(work);
    for (std::size_t i = 0; i < batch.size(); ++i) batch[i].reply.send(std::move(answers[i]));
  }
}

// ---------------------------------------------------------------- Todo.Database

namespace database {

namespace {
otp::name worker_name(int i) { return via("database_worker:" + std::to_string(i)); }

// FNV-1a, 64 bits: the same on every machine and every run, unlike std::hash.
std::uint64_t stable_hash(std::string_view s) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

otp::task<otp::result<db_answer>> ask(db_request::kind k, std::string key, std::string text) {
  auto to = otp::handle<db_request>::from(worker_name(worker_of(key)).whereis());
  if (!to) co_return to.error() == otp::errc::bad_message_type ? to.error() : otp::error(otp::errc::noproc);
  auto build = [&](otp::reply_to<db_answer> r) { return db_request(k, key, std::move(text), std::move(r)); };
  co_return co_await otp::request<db_answer>(to.value(), build);
}

std::string describe(const otp::error& e) { return "the database did not answer: " + e.message(); }
}  // namespace

otp::child_spec child_spec(std::filesystem::path folder) {
  std::vector<otp::child_spec> workers;
  for (int i = 0; i < pool_size; ++i)
    workers.push_back(otp::child_spec("worker_" + std::to_string(i), otp::start_fn(database_worker, folder))
                          .with(worker_name(i)));
  return otp::supervisor_child("database", otp::supervisor_flags(), std::move(workers));
}

int worker_of(const std::string& key) { return static_cast<int>(stable_hash(key) % pool_size); }

std::filesystem::path file_of(const std::filesystem::path& folder, const std::string& key) {
  std::string name;
  for (unsigned char c : key) {
    if (name.size() == 32) break;
    name += std::isalnum(c) || c == '-' || c == '_' ? static_cast<char>(c) : '_';
  }
  char hash[17];
  std::snprintf(hash, sizeof hash, "%016llx", static_cast<unsigned long long>(stable_hash(key)));
  return folder / (name + "-" + hash + ".todo");
}

otp::task<std::string> append(std::string key, std::string records) {
  auto r = co_await ask(db_request::kind::append, std::move(key), std::move(records));
  co_return r ? std::move(r.value().error) : describe(r.error());
}

otp::task<std::string> compact(std::string key, std::string records) {
  auto r = co_await ask(db_request::kind::compact, std::move(key), std::move(records));
  co_return r ? std::move(r.value().error) : describe(r.error());
}

otp::task<otp::result<std::string>> load(std::string key) {
  auto r = co_await ask(db_request::kind::load, std::move(key), {});
  if (!r) co_return r.error();
  if (!r.value().error.empty())
    co_return otp::error(otp::errc::start_failed, otp::exit_reason::other(std::move(r.value().error)));
  co_return std::move(r.value().text);
}

}  // namespace database

// ---------------------------------------------------------------- Todo.Server

server::server(std::string list_name) : name(std::move(list_name)) { continue_with(load{}); }

otp::task<void> server::handle_continue(load) {
  // A worker being restarted answers noproc for a moment: try again, a few
  // times. Anything else, or no luck: stop with a clear reason (a client's
  // call then fails with it), rather than crash.
  otp::result<std::string> text = otp::error(otp::errc::noproc);
  for (int attempt = 0; attempt < 5; ++attempt) {
    text = co_await database::load(name);
    if (text || text.error() != otp::errc::noproc) break;
    co_await otp::sleep_for(std::chrono::milliseconds(20 << attempt));
  }
  if (!text) {
    stop(otp::exit_reason::shutdown("cannot load " + name + ": " + text.error().message()));
    co_return;
  }
  try {
    std::tie(items, records) = list::replay(text.value());
  } catch (const std::exception& e) {
    stop(otp::exit_reason::shutdown("cannot load " + name + ": " + e.what()));
    co_return;
  }
  idle_timeout(current_settings().idle_timeout);
}

otp::task<outcome> server::store(std::string record, outcome done) {
  idle_timeout(current_settings().idle_timeout);
  std::string error = co_await database::append(name, record);
  if (!error.empty()) co_return outcome(outcome::status::not_stored, done.id, std::move(error));
  items.apply(std::string_view(record).substr(0, record.size() - 1));
  ++records;
  if (records > 2 * items.size() + 1000) {  // mostly changes and deletes by now: rewrite it
    if ((co_await database::compact(name, items.snapshot())).empty()) records = items.size() + 1;
  }
  idle_timeout(current_settings().idle_timeout);
  co_return done;
}

otp::task<outcome> server::handle_call(add_entry a) {
  entry e{items.next_id(), std::move(a.date), std::move(a.title)};
  co_return co_await store(list::add_record(e), outcome(outcome::status::stored, e.id));
}

otp::task<outcome> server::handle_call(update_entry u) {
  if (items.entries_with_id(u.id) == nullptr) {
    idle_timeout(current_settings().idle_timeout);
    co_return outcome(outcome::status::no_entry, u.id);
  }
  const entry updated{u.id, std::move(u.date), std::move(u.title)};  // named: no aggregate inside co_await
  co_return co_await store(list::update_record(updated),
                           outcome(outcome::status::stored, u.id));
}

otp::task<outcome> server::handle_call(delete_entry d) {
  if (items.entries_with_id(d.id) == nullptr) {
    idle_timeout(current_settings().idle_timeout);
    co_return outcome(outcome::status::no_entry, d.id);
  }
  co_return co_await store(list::delete_record(d.id), outcome(outcome::status::stored, d.id));
}

std::vector<entry> server::handle_call(const entries& q) {
  idle_timeout(current_settings().idle_timeout);
  return items.entries(q.date);
}

void server::handle_cast(crash) { throw std::runtime_error("crashed on purpose (POST /crash)"); }

void server::handle_info(otp::server_timeout) { stop(otp::exit_reason::normal()); }

otp::child_spec server::child_spec(std::string list_name) {
  auto registered = via("todo_server:" + list_name);
  return default_child_spec(std::move(list_name))
      .with(otp::restart_type::temporary)
      .with(std::move(registered));
}

// ---------------------------------------------------------------- Todo.Cache

namespace cache {

namespace {
const char* const cache_name = "todo_cache";
}

otp::child_spec child_spec() {
  otp::dynamic_supervisor_options o;
  o.max_children = current_settings().max_lists;
  return otp::dynamic_supervisor_child("cache", std::move(o)).with(otp::local(cache_name));
}

otp::task<otp::result<otp::server_ref<server>>> server_process(std::string list_name) {
  // Running already (the common case): found without a lock, and without
  // making every request wait its turn at the cache's supervisor.
  if (otp::pid running = process_registry.whereis("todo_server:" + list_name))
    co_return otp::server_ref<server>::from(std::move(running));
  auto sup = otp::supervisor_ref::from(otp::local(cache_name).whereis());
  if (!sup) co_return sup.error();
  auto spec = server::child_spec(list_name);
  auto started = co_await otp::start_child(otp::dynamic_supervisor_ref(sup.value()), std::move(spec));
  otp::pid p;
  if (started)
    p = started.value();
  else if (started.error() == otp::errc::already_started)  // running already (or another caller won the race)
    p = started.error().process;
  else
    co_return started.error();
  co_return otp::server_ref<server>::from(std::move(p));
}

}  // namespace cache

// ---------------------------------------------------------------- Todo.System

namespace system {

std::vector<otp::child_spec> children(std::filesystem::path data_folder) {
  std::vector<otp::child_spec> c;
  c.push_back(process_registry.child_spec("process_registry"));
  c.push_back(database::child_spec(std::move(data_folder)));
  c.push_back(cache::child_spec());
  return c;
}

otp::child_spec child_spec(std::filesystem::path data_folder) {
  return otp::supervisor_child("todo_system", otp::supervisor_flags(), children(std::move(data_folder)));
}

}  // namespace system

}  // namespace todo
