// SPDX-License-Identifier: MIT
// The to-do system (see todo.hpp).
#include "todo.hpp"

#include <cstdio>
#include <fstream>
#include <functional>
#include <sstream>
#include <system_error>

namespace todo {

// ---------------------------------------------------------------- Todo.ProcessRegistry

const otp::registry<std::string> process_registry;

otp::name via(std::string key) { return otp::via(process_registry, std::move(key)); }

// ---------------------------------------------------------------- Todo.DatabaseWorker

namespace {
// One file per key; anything but letters, digits, '-' and '_' is %XX-encoded,
// so a key can never name a path outside the folder.
std::filesystem::path file_of(const std::filesystem::path& folder, const std::string& key) {
  std::string name;
  for (unsigned char c : key) {
    if (std::isalnum(c) || c == '-' || c == '_') {
      name += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      name += buf;
    }
  }
  return folder / (name.empty() ? std::string("%") : name);
}

// Blocking file I/O: run through otp::offload, never on a shard.
void write_file(const std::filesystem::path& path, const std::string& data) {
  auto tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << data;
    if (!out.flush()) throw std::runtime_error("cannot write " + tmp.string());
  }
  std::filesystem::rename(tmp, path);  // a reader sees the old file or the new one, never half
}
std::optional<std::string> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return std::move(s).str();
}
}  // namespace

database_worker::database_worker(std::filesystem::path f) : folder(std::move(f)) {
  std::filesystem::create_directories(folder);
}

otp::task<void> database_worker::handle_cast(store s) {
  auto path = file_of(folder, s.key);
  auto write = [&] { write_file(path, s.data); };
  co_await otp::offload(write);
}

otp::task<std::optional<std::string>> database_worker::handle_call(get g) {
  auto path = file_of(folder, g.key);
  auto read = [&] { return read_file(path); };
  co_return co_await otp::offload(read);
}

// ---------------------------------------------------------------- Todo.Database

namespace database {

namespace {
otp::name worker_name(int i) { return via("database_worker:" + std::to_string(i)); }
}  // namespace

otp::child_spec child_spec(std::filesystem::path folder) {
  std::vector<otp::child_spec> workers;
  for (int i = 0; i < pool_size; ++i)
    workers.push_back(otp::child<database_worker>(folder).with(worker_name(i)));
  for (int i = 0; i < pool_size; ++i) workers[static_cast<std::size_t>(i)].id = "worker_" + std::to_string(i);
  return otp::supervisor_child("database", otp::supervisor_flags(), std::move(workers));
}

int worker_of(const std::string& key) { return static_cast<int>(std::hash<std::string>{}(key) % pool_size); }

void store(const std::string& key, const list& l) {
  (void)otp::cast<database_worker>(worker_name(worker_of(key)), database_worker::store(key, l.serialize()));
}

otp::task<otp::result<list>> get(std::string key) {
  database_worker::get q(key);
  auto text = co_await otp::call<database_worker>(worker_name(worker_of(key)), q);
  if (!text) co_return text.error();
  if (!text.value()) co_return list();
  co_return list::parse(*text.value());
}

}  // namespace database

// ---------------------------------------------------------------- Todo.Server

server::server(std::string list_name) : name(std::move(list_name)) { continue_with(load{}); }

otp::task<void> server::handle_continue(load) {
  items = (co_await database::get(name)).value();  // the database is down: let it crash
}

void server::handle_cast(add_entry a) {
  items.add(entry{0, std::move(a.date), std::move(a.title)});
  database::store(name, items);
}

void server::handle_cast(crash) { throw std::runtime_error("crashed on purpose (POST /crash)"); }

bool server::handle_call(const update_entry& u) {
  if (!items.update(u.id, u.date, u.title)) return false;
  database::store(name, items);
  return true;
}

bool server::handle_call(const delete_entry& d) {
  if (!items.remove(d.id)) return false;
  database::store(name, items);
  return true;
}

std::vector<entry> server::handle_call(const entries& q) const { return items.entries(q.date); }

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
  return otp::dynamic_supervisor_child("cache", otp::dynamic_supervisor_options()).with(otp::local(cache_name));
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
