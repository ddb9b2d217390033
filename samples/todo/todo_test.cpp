// SPDX-License-Identifier: MIT
// The seed's test of the to-do system ("Testing the system", chapter 9),
// plus what the sample promises: a killed database worker, a restarted
// system, a race of first uses, and Todo.List itself.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "http.hpp"
#include "todo.hpp"

#include <asio/connect.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>

#include <otp/testing.hpp>

#include <array>
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

namespace {
// A blocking HTTP client for one request (run it through otp::offload).
std::string http_roundtrip(unsigned short port, std::string raw) {
  asio::io_context io;
  asio::ip::tcp::socket s(io);
  s.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  asio::write(s, asio::buffer(raw));
  std::string got;
  std::error_code ec;
  std::array<char, 4096> buf;
  for (;;) {
    std::size_t n = s.read_some(asio::buffer(buf), ec);
    got.append(buf.data(), n);
    if (ec) break;
  }
  return got;
}
std::string req(const std::string& method, const std::string& target) {
  return method + " " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
}
bool starts(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }
}  // namespace

OTP_TEST_CASE("HTTP: entries added with POST come back with GET; bad requests get a 4xx and harm nothing") {
  data_folder data;
  auto kids = todo::system::children(data.path);
  kids.push_back(todo::http::child_spec(0));
  auto sup = (co_await otp::start_supervisor(otp::supervisor_flags(), std::move(kids))).value();
  const unsigned short port = todo::http::bound_port();
  REQUIRE(port != 0);
  auto ask = [port](std::string raw) { return [port, raw] { return http_roundtrip(port, raw); }; };

  auto add1 = ask(req("POST", "/add_entry?list=bob&date=2026-11-22&title=Dentist%20at%209"));
  CHECK(starts(co_await otp::offload(add1), "HTTP/1.1 200 OK"));
  auto add2 = ask(req("POST", "/add_entry?list=bob&date=2026-11-22&title=Shopping"));
  CHECK(starts(co_await otp::offload(add2), "HTTP/1.1 200 OK"));
  auto get = ask(req("GET", "/entries?list=bob&date=2026-11-22"));
  auto got = co_await otp::offload(get);
  CHECK(starts(got, "HTTP/1.1 200 OK"));
  CHECK(got.find("1 2026-11-22 Dentist at 9\n2 2026-11-22 Shopping\n") != std::string::npos);
  auto upd = ask(req("POST", "/update_entry?list=bob&id=2&date=2026-11-23&title=Shop"));
  CHECK(starts(co_await otp::offload(upd), "HTTP/1.1 200 OK"));
  auto del_missing = ask(req("POST", "/delete_entry?list=bob&id=99"));
  CHECK(starts(co_await otp::offload(del_missing), "HTTP/1.1 404"));

  struct bad_case {
    std::string raw, status, says;
  };
  std::vector<bad_case> bad{
      {req("GET", "/nowhere"), "404", "no such path"},
      {req("POST", "/entries?list=bob&date=2026-11-22"), "405", "use GET"},
      {req("GET", "/entries?date=2026-11-22"), "400", "missing parameter 'list'"},
      {req("GET", "/entries?list=bob&date=tomorrow"), "400", "YYYY-MM-DD"},
      {req("POST", "/delete_entry?list=bob&id=one"), "400", "id must be a number"},
      {req("GET", "/entries?list=bob&date=2026-11-2%"), "400", "malformed URL"},
      {"this is not HTTP\r\n\r\n", "400", ""},
      {"POST /add_entry HTTP/1.1\r\nContent-Length: 999999\r\n\r\n", "413", "body too large"},
      {"GET /" + std::string(5000, 'a') + " HTTP/1.1\r\n\r\n", "414", "URL too long"},
      {req("GET", "/entries?list=bob&date=2026-13-45"), "400", "YYYY-MM-DD"},
      {req("GET", "/entries?list=bob&date=2026-02-29"), "400", "YYYY-MM-DD"},  // not a leap year
      {req("GET", "/entries?list=bob&date=2026-04-31"), "400", "YYYY-MM-DD"},
      {"GET /entries?list=bob&date=2026-11-22 HTTP/9.9\r\nHost: x\r\n\r\n", "505", "HTTP/9.9 is not supported"},
      {"GET /entries?list=bob&date=2026-11-22 HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
       "501", "upgrade is not supported"},
  };
  for (auto& b : bad) {
    auto call = ask(b.raw);
    auto answer = co_await otp::offload(call);
    CHECK_MESSAGE(starts(answer, "HTTP/1.1 " + b.status), b.raw.substr(0, 60));
    CHECK_MESSAGE(answer.find(b.says) != std::string::npos, answer);
  }
  // A leap day is a day.
  auto leap = ask(req("GET", "/entries?list=bob&date=2024-02-29"));
  CHECK(starts(co_await otp::offload(leap), "HTTP/1.1 200 OK"));
  // An answer of 400 or more closes the connection: the request pipelined
  // behind it is not answered, and the server closes (the read sees EOF).
  auto pipelined = ask("GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\nGET /entries?list=bob&date=2026-11-22 HTTP/1.1\r\nHost: x\r\n\r\n");
  auto both = co_await otp::offload(pipelined);
  CHECK(starts(both, "HTTP/1.1 404"));
  CHECK(both.find("HTTP/1.1", 1) == std::string::npos);
  CHECK(both.find("Connection: close") != std::string::npos);
  // None of it harmed the list.
  auto again = co_await otp::offload(get);
  CHECK(again.find("1 2026-11-22 Dentist at 9\n") != std::string::npos);
  auto moved = ask(req("GET", "/entries?list=bob&date=2026-11-23"));
  CHECK((co_await otp::offload(moved)).find("2 2026-11-23 Shop\n") != std::string::npos);
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
