// SPDX-License-Identifier: MIT
// The seed's test of the to-do system ("Testing the system", chapter 9),
// plus what the sample promises: a killed database worker, a restarted
// system, a race of first uses, and Todo.List itself.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "todo.hpp"

#include <otp/testing.hpp>

#include <atomic>
#include <unistd.h>
#include <filesystem>
#include <string>

using namespace std::chrono_literals;

namespace {

// A fresh data folder per test, removed afterwards.
struct data_folder {
  std::filesystem::path path;
  data_folder() {
    static std::atomic<int> n{0};
    path = std::filesystem::temp_directory_path() /
           ("otp_todo_test_" + std::to_string(::getpid()) + "_" + std::to_string(n++));
    std::filesystem::remove_all(path);
  }
  ~data_folder() { std::filesystem::remove_all(path); }
};

otp::server_ref<todo::server> must(const otp::result<otp::server_ref<todo::server>>& r) {
  if (!r) throw otp::exit_error(r.error());
  return r.value();
}

// Waits until `list`'s worker has handled the stores already sent to it (a
// call queues behind them). Call the list's server first, so that its own
// casts to the worker are sent.
otp::task<void> flushed(std::string list) { (void)co_await todo::database::get(std::move(list)); }

// Starts the system under a supervisor linked to the caller.
otp::task<otp::supervisor_ref> start_system(std::filesystem::path folder) {
  co_return (co_await otp::start_supervisor(otp::supervisor_flags(), todo::system::children(std::move(folder))))
      .value();
}

// Stops it and waits until it is gone, with every process under it.
otp::task<void> stop_system(otp::supervisor_ref sup) {
  otp::unlink(sup);
  otp::exit(sup, otp::exit_reason::shutdown());
  for (int i = 0; otp::is_alive(sup); ++i) {
    if (i == 10000) throw std::runtime_error("the system did not stop");
    co_await otp::sleep_for(1ms);
  }
}

}  // namespace

TEST_SUITE("todo") {

OTP_TEST_CASE("the seed's test: one server per list, the same on every ask, a new one after a crash, its entries restored") {
  data_folder data;
  auto sup = co_await start_system(data.path);                        // 1. start the whole system
  auto bob = must(co_await todo::cache::server_process("bob"));        // 2. get one to-do server
  CHECK(must(co_await todo::cache::server_process("bob")) == bob);     // 3. again: the same server
  auto alice = must(co_await todo::cache::server_process("alice"));    // 4. another list: a new server
  CHECK(alice != bob);

  otp::cast(bob, todo::server::add_entry("2026-11-22", "Dentist"));
  otp::cast(bob, todo::server::add_entry("2026-11-22", "Shopping"));
  otp::cast(bob, todo::server::add_entry("2026-11-23", "Movies"));
  todo::server::entries day("2026-11-22");
  auto before = (co_await otp::call(bob, day)).value();
  REQUIRE(before.size() == 2);
  co_await flushed("bob");

  auto ref = otp::monitor(bob);
  otp::exit(bob, otp::exit_reason::kill());                             // 5. crash one to-do server
  co_await otp::receive();
  (void)ref;
  auto bob2 = must(co_await todo::cache::server_process("bob"));       // 6. ask again: a new pid...
  CHECK(bob2 != bob);
  CHECK((co_await otp::call(bob2, day)).value() == before);             // ...with its entries back
  CHECK(must(co_await todo::cache::server_process("alice")) == alice);  // the other list was not touched
  co_await stop_system(sup);
}

OTP_TEST_CASE("a killed database worker is restarted under its name, and requests keep working") {
  data_folder data;
  auto sup = co_await start_system(data.path);
  auto bob = must(co_await todo::cache::server_process("bob"));
  todo::server::entries day("2026-11-24");
  CHECK((co_await otp::call(bob, day)).value().empty());  // bob has loaded its list
  const std::string worker = "database_worker:" + std::to_string(todo::database::worker_of("bob"));
  otp::pid old = todo::process_registry.whereis(worker);
  REQUIRE(old);
  otp::exit(old, otp::exit_reason::kill());
  co_await otp::sleep_for(1ms);  // the database supervisor restarts it
  otp::pid fresh = todo::process_registry.whereis(worker);
  CHECK(fresh);
  CHECK(fresh != old);
  otp::cast(bob, todo::server::add_entry("2026-11-24", "Dinner"));
  CHECK((co_await otp::call(bob, day)).value().size() == 1);  // bob has stored it by now
  co_await flushed("bob");
  auto stored = (co_await todo::database::get("bob")).value();
  CHECK(stored.entries("2026-11-24").size() == 1);
  co_await stop_system(sup);
}

OTP_TEST_CASE("the whole system restarted: the entries survived on disk") {
  data_folder data;
  auto sup = co_await start_system(data.path);
  auto bob = must(co_await todo::cache::server_process("bob"));
  otp::cast(bob, todo::server::add_entry("2026-12-01", "Flight"));  // a call after it waits for it
  todo::server::update_entry change(1, "2026-12-02", "Flight, moved");
  CHECK((co_await otp::call(bob, change)).value());
  todo::server::update_entry missing(99, "2026-12-02", "nothing");
  CHECK(!(co_await otp::call(bob, missing)).value());
  co_await flushed("bob");
  co_await stop_system(sup);

  auto again = co_await start_system(data.path);
  auto bob2 = must(co_await todo::cache::server_process("bob"));
  todo::server::entries day("2026-12-02");
  auto got = (co_await otp::call(bob2, day)).value();
  REQUIRE(got.size() == 1);
  CHECK(got[0].title == "Flight, moved");
  todo::server::delete_entry gone(1);
  CHECK((co_await otp::call(bob2, gone)).value());
  CHECK((co_await otp::call(bob2, day)).value().empty());
  co_await stop_system(again);
}

OTP_TEST_CASE_M("two first uses of a list at once start one server", otp::pid) {
  data_folder data;
  auto sup = co_await start_system(data.path);
  auto me = otp::self_as<otp::pid>();
  auto ask = [](otp::handle<otp::pid> to) -> otp::process<> {
    otp::send(to, otp::pid(must(co_await todo::cache::server_process("carol"))));
  };
  for (int shard = 0; shard < 2; ++shard) otp::spawn(ask, me);
  auto a = std::get<otp::pid>(co_await otp::receive());
  auto b = std::get<otp::pid>(co_await otp::receive());
  CHECK(a == b);
  auto counts = (co_await otp::count_children(otp::dynamic_supervisor_ref(
                     otp::supervisor_ref::from(otp::local("todo_cache").whereis()).value())))
                    .value();
  CHECK(counts.active == 1);
  co_await stop_system(sup);
}

TEST_CASE("Todo.List: entries by date, updates, deletes, and a text form that survives a round trip") {
  todo::list l;
  CHECK(l.add({0, "2026-11-22", "Dentist"}) == 1);
  CHECK(l.add({0, "2026-11-22", "tabs\tand\nnewlines \\ too"}) == 2);
  CHECK(l.add({0, "2026-11-23", "Movies"}) == 3);
  CHECK(l.entries("2026-11-22").size() == 2);
  CHECK(l.update(3, "2026-11-22", "Movies, earlier"));
  CHECK(!l.update(7, "x", "y"));
  CHECK(l.remove(1));
  CHECK(!l.remove(1));
  auto back = todo::list::parse(l.serialize());
  CHECK(back.entries("2026-11-22") == l.entries("2026-11-22"));
  CHECK(back.add({0, "d", "t"}) == 4);  // ids go on where they stopped
  CHECK_THROWS_AS(todo::list::parse("garbage"), std::runtime_error);
  CHECK_THROWS_AS(todo::list::parse("next 2\n5\td\tt\n"), std::runtime_error);
  CHECK_THROWS_AS(todo::list::parse("next 2\n1\td\\q\tt\n"), std::runtime_error);
}

}  // TEST_SUITE
