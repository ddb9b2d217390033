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

#include <otp/tcp.hpp>

#include <otp/testing.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <unistd.h>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>
#include <sys/wait.h>
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

// Adds an entry through the list's server; true once it is stored.
otp::task<bool> add(otp::server_ref<todo::server> s, std::string date, std::string title) {
  auto r = co_await otp::call(s, todo::server::add_entry(std::move(date), std::move(title)));
  co_return r && r.value().what == todo::outcome::status::stored;
}

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

  CHECK(co_await add(bob, "2026-11-22", "Dentist"));
  CHECK(co_await add(bob, "2026-11-22", "Shopping"));
  CHECK(co_await add(bob, "2026-11-23", "Movies"));
  todo::server::entries day("2026-11-22");
  auto before = (co_await otp::call(bob, day)).value();
  REQUIRE(before.size() == 2);

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
  CHECK(co_await add(bob, "2026-11-24", "Dinner"));  // answered once stored
  CHECK((co_await otp::call(bob, day)).value().size() == 1);
  auto stored = todo::list::replay((co_await todo::database::load("bob")).value()).first;
  CHECK(stored.entries("2026-11-24").size() == 1);
  co_await stop_system(sup);
}

OTP_TEST_CASE("the whole system restarted: the entries survived on disk") {
  data_folder data;
  auto sup = co_await start_system(data.path);
  auto bob = must(co_await todo::cache::server_process("bob"));
  CHECK(co_await add(bob, "2026-12-01", "Flight"));
  todo::server::update_entry change(1, "2026-12-02", "Flight, moved");
  CHECK((co_await otp::call(bob, change)).value().what == todo::outcome::status::stored);
  todo::server::update_entry missing(99, "2026-12-02", "nothing");
  CHECK((co_await otp::call(bob, missing)).value().what == todo::outcome::status::no_entry);
  co_await stop_system(sup);

  auto again = co_await start_system(data.path);
  auto bob2 = must(co_await todo::cache::server_process("bob"));
  todo::server::entries day("2026-12-02");
  auto got = (co_await otp::call(bob2, day)).value();
  REQUIRE(got.size() == 1);
  CHECK(got[0].title == "Flight, moved");
  todo::server::delete_entry gone(1);
  CHECK((co_await otp::call(bob2, gone)).value().what == todo::outcome::status::stored);
  CHECK((co_await otp::call(bob2, day)).value().empty());
  co_await stop_system(again);
}

OTP_TEST_CASE("any list name is stored under a short file name inside the data folder, and read back") {
  data_folder data;
  auto sup = co_await start_system(data.path);
  const std::string cyrillic = [] {
    std::string s;
    for (int i = 0; i < 43; ++i) s += "\xd0\xb6";  // ж
    return s;
  }();
  const std::vector<std::string> names{std::string(100, '.'), cyrillic, "../../etc/passwd", ""};
  for (const auto& name : names) {
    CAPTURE(name);
    auto file = todo::database::file_of(data.path, name);
    CHECK(file.parent_path() == data.path);
    CHECK(file.filename().string().size() <= 60);
    auto s = must(co_await todo::cache::server_process(name));
    for (int i = 0; i < 20; ++i) CHECK(co_await add(s, "2026-01-01", "entry " + std::to_string(i)));
    auto back = todo::list::replay((co_await todo::database::load(name)).value()).first;
    CHECK(back.size() == 20);
  }
  // Names that share their first 32 characters still get their own files.
  CHECK(todo::database::file_of(data.path, std::string(40, 'a') + "1") !=
        todo::database::file_of(data.path, std::string(40, 'a') + "2"));
  co_await stop_system(sup);
}

OTP_TEST_CASE("a save that fails is an answer the client sees; the server, the pool and other lists go on") {
  data_folder data;
  auto sup = co_await start_system(data.path);
  auto bob = must(co_await todo::cache::server_process("bob"));
  todo::server::entries day("2026-01-01");
  CHECK((co_await otp::call(bob, day)).value().empty());  // loaded (nothing yet)
  // A directory where bob's log should be: every write to it fails.
  std::filesystem::create_directories(todo::database::file_of(data.path, "bob"));
  for (int i = 0; i < 50; ++i) {  // far past any supervisor's intensity, had it crashed
    auto r = co_await otp::call(bob, todo::server::add_entry("2026-01-01", "lost"));
    REQUIRE(r);
    CHECK(r.value().what == todo::outcome::status::not_stored);
    CHECK(r.value().why.find("cannot write") != std::string::npos);
  }
  CHECK(otp::is_alive(bob));
  CHECK((co_await otp::call(bob, day)).value().empty());  // nothing applied that was not stored
  // Its next start cannot read the list: the first call says why, no crash loop.
  otp::exit(bob, otp::exit_reason::kill());
  co_await otp::sleep_for(std::chrono::milliseconds(1));
  auto fresh = must(co_await todo::cache::server_process("bob"));
  auto failed = co_await otp::call(fresh, day);
  REQUIRE(failed.has_error());
  CHECK(failed.error().reason.to_string().find("not a regular file") != std::string::npos);
  auto alice = must(co_await todo::cache::server_process("alice"));
  CHECK(co_await add(alice, "2026-01-01", "fine"));
  CHECK(otp::is_alive(sup));
  co_await stop_system(sup);
}

OTP_TEST_CASE("an idle list server stops after the idle timeout, and the next use brings it back from disk") {
  data_folder data;
  todo::settings s;
  s.idle_timeout = std::chrono::minutes(1);
  todo::configure(s);
  auto sup = co_await start_system(data.path);
  auto bob = must(co_await todo::cache::server_process("bob"));
  CHECK(co_await add(bob, "2026-01-01", "kept"));
  co_await otp::sleep_for(std::chrono::seconds(50));
  todo::server::entries day("2026-01-01");
  CHECK((co_await otp::call(bob, day)).value().size() == 1);  // used: the minute starts again
  co_await otp::sleep_for(std::chrono::seconds(50));
  CHECK(otp::is_alive(bob));
  co_await otp::sleep_for(std::chrono::seconds(11));
  CHECK_FALSE(otp::is_alive(bob));
  CHECK_FALSE(todo::process_registry.whereis("todo_server:bob"));
  auto again = must(co_await todo::cache::server_process("bob"));
  CHECK(again != bob);
  CHECK((co_await otp::call(again, day)).value().size() == 1);
  co_await stop_system(sup);
  todo::configure(todo::settings());
}

OTP_TEST_CASE("the number of live list servers is bounded: past it, a new list is refused until one stops") {
  data_folder data;
  todo::settings s;
  s.max_lists = 2;
  s.idle_timeout = std::chrono::minutes(1);
  todo::configure(s);
  auto sup = co_await start_system(data.path);
  (void)must(co_await todo::cache::server_process("a"));
  (void)must(co_await todo::cache::server_process("b"));
  auto third = co_await todo::cache::server_process("c");
  REQUIRE(third.has_error());
  CHECK(third.error() == otp::errc::max_children);
  co_await otp::sleep_for(std::chrono::minutes(2));  // a and b idle out
  CHECK(co_await todo::cache::server_process("c"));
  co_await stop_system(sup);
  todo::configure(todo::settings());
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

namespace {
// The system with its HTTP interface under these limits; the port is bound.
otp::task<otp::supervisor_ref> start_http(std::filesystem::path folder, otp::tcp_limits l) {
  auto kids = todo::system::children(std::move(folder));
  kids.push_back(todo::http::child_spec(0, std::move(l)));
  co_return (co_await otp::start_supervisor(otp::supervisor_flags(), std::move(kids))).value();
}
asio::ip::tcp::endpoint local(unsigned short port) {
  return asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port);
}
// Reads until the server closes; the error that ended it in `why`.
std::string read_to_end(asio::ip::tcp::socket& s, std::error_code& why) {
  std::string got;
  std::array<char, 65536> buf;
  for (;;) {
    std::size_t n = s.read_some(asio::buffer(buf), why);
    got.append(buf.data(), n);
    if (why) return got;
  }
}
}  // namespace

OTP_TEST_CASE("HTTP: a request that trickles in is dropped at its deadline, however steady the trickle (real time)") {
  data_folder data;
  otp::tcp_limits l = todo::http::default_limits();
  l.request_timeout = std::chrono::milliseconds(300);
  auto sup = co_await start_http(data.path, l);
  const unsigned short port = todo::http::bound_port();
  auto slowloris = [port] {
    asio::io_context io;
    asio::ip::tcp::socket s(io);
    s.connect(local(port));
    const auto t0 = std::chrono::steady_clock::now();
    asio::write(s, asio::buffer(std::string("GET /entries?list=bob&date=2026-01-01 HTTP/1.1\r\nX-Slow: ")));
    std::error_code ec;
    while (std::chrono::steady_clock::now() - t0 < std::chrono::seconds(3) && !ec) {  // a byte every 50 ms
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      asio::write(s, asio::buffer("x", 1), ec);
      if (s.available(ec) > 0) break;  // the server answered
    }
    std::error_code end;
    auto answer = read_to_end(s, end);
    return std::make_pair(answer, std::chrono::steady_clock::now() - t0);
  };
  auto [answer, took] = co_await otp::offload(slowloris);
  CHECK(starts(answer, "HTTP/1.1 408"));
  CHECK(answer.find("request too slow") != std::string::npos);
  CHECK(took < std::chrono::milliseconds(1500));
  co_await stop_system(sup);
}

OTP_TEST_CASE("HTTP: a client that never reads its answers is dropped at the write deadline (real time)") {
  data_folder data;
  otp::tcp_limits l = todo::http::default_limits();
  l.write_timeout = std::chrono::milliseconds(300);
  auto sup = co_await start_http(data.path, l);
  auto bob = must(co_await todo::cache::server_process("bob"));
  for (int i = 0; i < 40; ++i) CHECK(co_await add(bob, "2026-01-01", std::string(200, 'a' + i % 26)));
  const unsigned short port = todo::http::bound_port();
  auto never_reads = [port] {
    asio::io_context io;
    asio::ip::tcp::socket s(io);
    s.connect(local(port));
    std::string one = "GET /entries?list=bob&date=2026-01-01 HTTP/1.1\r\nHost: x\r\n\r\n";
    std::string many;
    for (int i = 0; i < 3000; ++i) many += one;  // about 25 MB of answers
    std::error_code ec;
    s.non_blocking(true);
    std::size_t sent = 0;
    const auto t0 = std::chrono::steady_clock::now();
    while (sent < many.size() && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(2)) {
      sent += s.write_some(asio::buffer(many.data() + sent, many.size() - sent), ec);
      if (ec && ec != asio::error::would_block) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));  // not reading, well past the deadline
    s.non_blocking(false);
    std::error_code end;
    auto got = read_to_end(s, end);
    return std::make_pair(got.size(), end);
  };
  auto [received, end] = co_await otp::offload(never_reads);
  CHECK(received < 3000u * 8000u);  // far from every answer: the server gave up on it
  CHECK(end);  // and it closed the connection
  co_await stop_system(sup);
}

OTP_TEST_CASE("HTTP: a client over the connection cap reads its 503, not a connection reset") {
  data_folder data;
  otp::tcp_limits l = todo::http::default_limits();
  l.max_connections = 1;
  auto sup = co_await start_http(data.path, l);
  const unsigned short port = todo::http::bound_port();
  auto over_the_cap = [port] {
    asio::io_context io;
    asio::ip::tcp::socket first(io), second(io);
    first.connect(local(port));  // holds the only slot
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    second.connect(local(port));
    asio::write(second, asio::buffer(std::string("GET /entries?list=bob&date=2026-01-01 HTTP/1.1\r\nHost: x\r\n\r\n")));
    std::error_code end;
    auto got = read_to_end(second, end);
    return std::make_pair(got, end);
  };
  auto [answer, end] = co_await otp::offload(over_the_cap);
  CHECK(starts(answer, "HTTP/1.1 503"));
  CHECK(answer.find("too many connections") != std::string::npos);
  CHECK(end == asio::error::eof);  // an orderly close: the request was drained, not left to reset it
  co_await stop_system(sup);
}

// ---------------------------------------------------------------- todo_app itself

namespace {
// todo_app run as a child process on a free port, its stdout read for the port.
struct app_process {
  pid_t pid = -1;
  unsigned short port = 0;
  int out = -1;
  explicit app_process(const std::filesystem::path& data) {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::dup2(fds[1], 1);
      ::close(fds[0]);
      ::execl(TODO_APP, "todo_app", "--port", "0", "--data", data.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(fds[1]);
    out = fds[0];
    std::string text;
    char buf[256];
    for (;;) {  // "todo_app: listening on http://127.0.0.1:PORT, ..."
      auto n = ::read(out, buf, sizeof buf);
      if (n <= 0) break;
      text.append(buf, static_cast<std::size_t>(n));
      auto at = text.find("127.0.0.1:");
      if (at != std::string::npos && text.find(',', at) != std::string::npos) {
        port = static_cast<unsigned short>(std::stoi(text.substr(at + 10)));
        break;
      }
    }
    REQUIRE(port != 0);
  }
  /// Sends `sig` and returns the exit status (or 128 + the signal that ended it).
  int stop(int sig) {
    ::kill(pid, sig);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ::close(out);
    pid = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  ~app_process() {
    if (pid > 0) stop(SIGKILL);
  }
};

// `clients` connections each pipeline `adds` adds to their own list; returns
// how many were answered OK.
int burst(unsigned short port, int clients, int adds) {
  std::atomic<int> oks{0};
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c)
    threads.emplace_back([&, c] {
      asio::io_context io;
      asio::ip::tcp::socket s(io);
      s.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
      std::string out;
      for (int i = 0; i < adds; ++i)
        out += "POST /add_entry?list=burst" + std::to_string(c) + "&date=2026-01-01&title=e" + std::to_string(i) +
               " HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n";
      asio::write(s, asio::buffer(out));
      std::string got;
      std::array<char, 65536> buf;
      std::error_code ec;
      const std::string ok = "HTTP/1.1 200 OK";
      int answers = 0;
      while (answers < adds && !ec) {
        got.append(buf.data(), s.read_some(asio::buffer(buf), ec));
        for (auto at = got.find("\r\n\r\n"); at != std::string::npos; at = got.find("\r\n\r\n")) {
          const std::size_t end = at + 4 + 3;  // every answer here has a 3-byte body ("OK\n") or is an error
          if (got.size() < end) break;
          if (got.compare(0, ok.size(), ok) == 0) ++oks;
          ++answers;
          got.erase(0, end);
        }
      }
    });
  for (auto& t : threads) t.join();
  return oks.load();
}

std::size_t stored_entries(unsigned short port, int clients) {
  std::size_t n = 0;
  for (int c = 0; c < clients; ++c) {
    auto got = http_roundtrip(port, req("GET", "/entries?list=burst" + std::to_string(c) + "&date=2026-01-01"));
    auto body = got.find("\r\n\r\n");
    if (got.rfind("HTTP/1.1 200", 0) == 0 && body != std::string::npos)
      n += static_cast<std::size_t>(std::count(got.begin() + static_cast<std::ptrdiff_t>(body) + 4, got.end(), '\n'));
  }
  return n;
}
}  // namespace

TEST_CASE("todo_app: after a burst of adds, Ctrl-C or kill -9 loses no entry that was answered OK") {
  for (int sig : {SIGINT, SIGKILL}) {
    CAPTURE(sig);
    data_folder data;
    int oks = 0;
    {
      app_process app(data.path);
      oks = burst(app.port, 8, 400);
      CHECK(oks == 8 * 400);
      CHECK(app.stop(sig) == (sig == SIGINT ? 0 : 128 + SIGKILL));
    }
    app_process again(data.path);
    CHECK(stored_entries(again.port, 8) >= static_cast<std::size_t>(oks));
    CHECK(again.stop(SIGINT) == 0);
  }
}

TEST_CASE("todo_app: a tree that cannot start exits 1 and says why") {
  data_folder data;
  std::filesystem::create_directories(data.path);
  const auto not_a_folder = data.path / "file";
  { std::ofstream(not_a_folder) << "x"; }
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(fds[1], 2);
    ::close(fds[0]);
    ::execl(TODO_APP, "todo_app", "--port", "0", "--data", not_a_folder.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(fds[1]);
  std::string err;
  char buf[512];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) err.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 1);
  CHECK(err.find("failed_to_start_child") != std::string::npos);
  CHECK(err.find("gave up") != std::string::npos);
}

TEST_CASE("Todo.List: entries by date, updates, deletes, and a log of records that replays to the same list") {
  todo::list l;
  std::string log;
  auto add = [&](std::string date, std::string title) {
    todo::entry e{l.next_id(), std::move(date), std::move(title)};
    log += todo::list::add_record(e);
    return l.add(e);
  };
  CHECK(add("2026-11-22", "Dentist") == 1);
  CHECK(add("2026-11-22", "tabs\tand\nnewlines \\ too") == 2);
  CHECK(add("2026-11-23", "Movies") == 3);
  CHECK(l.entries("2026-11-22").size() == 2);
  CHECK(l.update(3, "2026-11-22", "Movies, earlier"));
  log += todo::list::update_record({3, "2026-11-22", "Movies, earlier"});
  CHECK(!l.update(7, "x", "y"));
  CHECK(l.remove(1));
  log += todo::list::delete_record(1);
  CHECK(!l.remove(1));
  auto [back, records] = todo::list::replay(log);
  CHECK(records == 5);
  CHECK(back.entries("2026-11-22") == l.entries("2026-11-22"));
  CHECK(back.next_id() == 4);  // ids go on where they stopped
  // A compacted log rebuilds the same list, next id included.
  auto [compacted, n] = todo::list::replay(l.snapshot());
  CHECK(n == 3);  // "next" and two entries
  CHECK(compacted.entries("2026-11-22") == l.entries("2026-11-22"));
  CHECK(compacted.next_id() == 4);
  // A torn last line (a write that never finished) is left out; a malformed record throws.
  CHECK(todo::list::replay(log + "+ 9\td\tunfinished").first.size() == 2);
  CHECK_THROWS_AS(todo::list::replay("garbage\n"), std::runtime_error);
  CHECK_THROWS_AS(todo::list::replay("+ 1\td\\q\tt\n"), std::runtime_error);
  CHECK_THROWS_AS(todo::list::replay("* 1\n"), std::runtime_error);
}

}  // TEST_SUITE
