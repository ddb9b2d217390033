// SPDX-License-Identifier: MIT
// The registry: Elixir's own registry tests (registry_test.exs) as a checklist,
// each run with 1 and 8 partitions, and with both key kinds where both apply
// (duplicate keys partitioned by key and by pid).
#include <otp/registry.hpp>

#include <doctest/doctest.h>
#include <otp/asio.hpp>
#include <otp/inspect.hpp>
#include <otp/offload.hpp>
#include <otp/testing.hpp>

#include <asio/io_context.hpp>
#include <asio/post.hpp>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <variant>

using namespace std::chrono_literals;

namespace {

using reg_t = otp::registry<std::string, int>;

/// The options of the registry under test: a subcase per partition count.
otp::registry_options with_partitions(otp::registry_keys k) {
  otp::registry_options o;
  o.keys = k;
  auto spread = [&] {
    if (k != otp::registry_keys::duplicate) return;
    SUBCASE("partitioned by key") { o.partition_by = otp::registry_partitioning::by_key; }
    SUBCASE("partitioned by pid") { o.partition_by = otp::registry_partitioning::by_pid; }
  };
  SUBCASE("1 partition") {
    o.partitions = 1;
    spread();
  }
  SUBCASE("8 partitions") {
    o.partitions = 8;
    spread();
  }
  return o;
}
otp::registry_options any_kind() {
  otp::registry_keys k = otp::registry_keys::unique;
  SUBCASE("unique") { k = otp::registry_keys::unique; }
  SUBCASE("duplicate") { k = otp::registry_keys::duplicate; }
  return with_partitions(k);
}

/// Starts `reg` unlinked from the test body (which ends it explicitly).
otp::task<otp::pid> start(const reg_t& reg) {
  otp::start_options o;
  o.link = false;
  co_return (co_await reg.start(o)).value();
}

/// Stops a registry and waits until it has ended. The caller traps exits
/// first (`survive`), since its own registrations link it to the registry.
otp::task<void, otp::pid> stop(otp::pid r, bool survive = true) {
  if (survive) otp::trap_exit(true);
  auto mon = otp::monitor(r);
  otp::exit(r, otp::exit_reason::shutdown());
  for (;;) {
    auto m = co_await otp::receive();
    if (auto* d = std::get_if<otp::down_message>(&m); d && d->ref == mon) co_return;
  }
}

/// Waits for the down of `mon`, keeping other messages out of the way.
otp::task<otp::exit_reason, otp::pid> down_of(otp::monitor_ref mon) {
  for (;;) {
    auto m = co_await otp::receive();
    if (auto* d = std::get_if<otp::down_message>(&m); d && d->ref == mon) co_return d->reason;
  }
}

/// A process that registers `key` with `value`, tells `back` it did, and
/// waits; it ends on any int message (throwing on a negative one).
otp::process<int> holder(reg_t reg, std::string key, int value, otp::handle<otp::pid> back) {
  auto r = reg.register_self(key, value);
  REQUIRE(r.has_value());
  otp::send(back, otp::self());
  const int m = std::get<int>(co_await otp::receive());
  if (m < 0) throw std::runtime_error("holder crashed");
}

/// Spawns a holder and waits until it has registered.
otp::task<otp::handle<int>, otp::pid> spawn_holder(reg_t reg, std::string key, int value) {
  auto me = otp::self_as<otp::pid>();
  auto h = otp::spawn(holder, reg, std::move(key), value, me);
  for (;;) {
    auto m = co_await otp::receive();
    if (auto* p = std::get_if<otp::pid>(&m); p && *p == h) co_return h;
  }
}


}  // namespace

TEST_SUITE("registry") {

OTP_TEST_CASE_M("a registry starts; count is 0 when empty and right after registering", otp::pid) {
  const reg_t reg(any_kind());
  CHECK_FALSE(reg.running());
  auto r = co_await start(reg);
  CHECK(reg.running());
  CHECK(reg.count() == 0);
  for (int i = 0; i < 20; ++i) REQUIRE(reg.register_self("k" + std::to_string(i), i).has_value());
  CHECK(reg.count() == 20);
  for (int i = 0; i < 20; ++i) {
    auto e = reg.lookup("k" + std::to_string(i));
    REQUIRE(e.size() == 1);
    CHECK(e[0].first == otp::self());
    CHECK(e[0].second == i);
  }
  CHECK(reg.lookup("absent").empty());
  co_await stop(r);
  CHECK_FALSE(reg.running());
  CHECK(reg.count() == 0);
  CHECK(reg.lookup("k1").empty());
}

OTP_TEST_CASE_M("unique: a second register fails with already_registered and the holder, in one process and across processes",
                otp::pid) {
  const reg_t reg(with_partitions(otp::registry_keys::unique));
  auto r = co_await start(reg);
  REQUIRE(reg.register_self("name", 1).has_value());
  auto again = reg.register_self("name", 2);
  REQUIRE(again.has_error());
  CHECK(again.error() == otp::errc::already_registered);
  CHECK(again.error().process == otp::self());

  auto other = co_await spawn_holder(reg, "other", 7);
  auto taken = reg.register_self("other", 3);
  REQUIRE(taken.has_error());
  CHECK(taken.error() == otp::errc::already_registered);
  CHECK(taken.error().process == other);
  CHECK(reg.whereis("other") == other);
  CHECK(reg.whereis("name") == otp::self());
  otp::send(other, 0);
  co_await stop(r);
}

OTP_TEST_CASE_M("no table growth on already_registered, within one process and across processes", otp::pid) {
  const reg_t reg(with_partitions(otp::registry_keys::unique));
  auto r = co_await start(reg);
  REQUIRE(reg.register_self("k", 1).has_value());
  auto other = co_await spawn_holder(reg, "o", 1);
  for (int i = 0; i < 100; ++i) {
    CHECK(reg.register_self("k", i).error() == otp::errc::already_registered);
    CHECK(reg.register_self("o", i).error() == otp::errc::already_registered);
  }
  CHECK(reg.count() == 2);
  CHECK(reg.keys(otp::self()) == std::vector<std::string>{"k"});
  CHECK(reg.keys(other) == std::vector<std::string>{"o"});
  otp::send(other, 0);
  co_await stop(r);
}

OTP_TEST_CASE_M("duplicate: a process may hold a key several times, beside other processes", otp::pid) {
  const reg_t reg(with_partitions(otp::registry_keys::duplicate));
  auto r = co_await start(reg);
  REQUIRE(reg.register_self("topic", 1).has_value());
  REQUIRE(reg.register_self("topic", 2).has_value());
  auto other = co_await spawn_holder(reg, "topic", 3);
  auto e = reg.lookup("topic");
  REQUIRE(e.size() == 3);
  std::vector<int> values;
  for (auto& [p, v] : e) values.push_back(v);
  std::sort(values.begin(), values.end());
  CHECK(values == std::vector<int>{1, 2, 3});
  CHECK(reg.values("topic", otp::self()).size() == 2);
  CHECK(reg.values("topic", other) == std::vector<int>{3});
  CHECK(reg.keys(otp::self()) == std::vector<std::string>{"topic", "topic"});
  CHECK(reg.count() == 3);
  otp::send(other, 0);
  co_await stop(r);
}

OTP_TEST_CASE_M("match and count_match select entries by their value", otp::pid) {
  const reg_t reg(with_partitions(otp::registry_keys::duplicate));
  auto r = co_await start(reg);
  for (int v : {1, 5, 10, 15}) REQUIRE(reg.register_self("k", v).has_value());
  auto big = reg.match("k", [](int v) { return v >= 10; });
  CHECK(big.size() == 2);
  CHECK(reg.count_match("k", [](int v) { return v < 10; }) == 2);
  CHECK(reg.match("other", [](int) { return true; }).empty());
  co_await stop(r);
}

OTP_TEST_CASE_M("update_value replaces the owner's value, on unique registries only", otp::pid) {
  SUBCASE("unique") {
    const reg_t reg(with_partitions(otp::registry_keys::unique));
    auto r = co_await start(reg);
    REQUIRE(reg.register_self("k", 1).has_value());
    auto u = reg.update_value("k", [](int v) { return v + 41; });
    REQUIRE(u.has_value());
    CHECK(u.value() == std::pair<int, int>(42, 1));
    CHECK(reg.lookup("k")[0].second == 42);
    CHECK(reg.update_value("absent", [](int v) { return v; }).error() == otp::errc::not_owner);
    auto other = co_await spawn_holder(reg, "theirs", 5);
    CHECK(reg.update_value("theirs", [](int v) { return v; }).error() == otp::errc::not_owner);
    CHECK(reg.lookup("theirs")[0].second == 5);
    otp::send(other, 0);
    co_await stop(r);
  }
  SUBCASE("duplicate") {
    const reg_t reg(with_partitions(otp::registry_keys::duplicate));
    auto r = co_await start(reg);
    REQUIRE(reg.register_self("k", 1).has_value());
    CHECK(reg.update_value("k", [](int v) { return v; }).error() == otp::errc::wrong_key_kind);
    co_await stop(r);
  }
}

OTP_TEST_CASE_M("dispatch calls the function with every entry of the key, and not at all without one", otp::pid) {
  const reg_t reg(with_partitions(otp::registry_keys::duplicate));
  auto r = co_await start(reg);
  auto a = co_await spawn_holder(reg, "news", 1);
  auto b = co_await spawn_holder(reg, "news", 2);
  REQUIRE(reg.register_self("sport", 3).has_value());
  int calls = 0;
  std::vector<otp::pid> told;
  CHECK(reg.dispatch("news", [&](const std::vector<reg_t::entry>& es) {
    ++calls;
    for (auto& [p, v] : es) told.push_back(p);
  }));
  CHECK(calls == 1);
  std::sort(told.begin(), told.end());
  std::vector<otp::pid> want{a, b};
  std::sort(want.begin(), want.end());
  CHECK(told == want);
  CHECK_FALSE(reg.dispatch("weather", [&](const std::vector<reg_t::entry>&) { ++calls; }));
  CHECK(calls == 1);
  otp::send(a, 0);
  otp::send(b, 0);
  co_await stop(r);
}

OTP_TEST_CASE_M("unregister removes the caller's entries only; with none it does nothing", otp::pid) {
  const reg_t reg(any_kind());
  auto r = co_await start(reg);
  CHECK(reg.unregister_self("nothing") == 0);
  REQUIRE(reg.register_self("mine", 1).has_value());
  auto other = co_await spawn_holder(reg, "theirs", 2);
  CHECK(reg.unregister_self("theirs") == 0);
  CHECK(reg.whereis("theirs") == other);
  CHECK(reg.unregister_self("mine") == 1);
  CHECK(reg.lookup("mine").empty());
  CHECK(reg.keys(otp::self()).empty());
  CHECK(reg.count() == 1);
  // and the key is free again
  REQUIRE(reg.register_self("mine", 3).has_value());
  CHECK(reg.lookup("mine")[0].second == 3);
  otp::send(other, 0);
  co_await stop(r);
}

OTP_TEST_CASE_M("unregister_match removes only the caller's entries whose value matches", otp::pid) {
  const reg_t reg(with_partitions(otp::registry_keys::duplicate));
  auto r = co_await start(reg);
  for (int v : {1, 2, 3, 4}) REQUIRE(reg.register_self("k", v).has_value());
  auto other = co_await spawn_holder(reg, "k", 2);
  CHECK(reg.unregister_match("k", [](int v) { return v % 2 == 0; }) == 2);
  std::vector<int> left = reg.values("k", otp::self());
  std::sort(left.begin(), left.end());
  CHECK(left == std::vector<int>{1, 3});
  CHECK(reg.values("k", other) == std::vector<int>{2});
  otp::send(other, 0);
  co_await stop(r);
}

OTP_TEST_CASE_M("register links the caller to its partition; only its last key's unregister unlinks it", otp::pid) {
  const reg_t reg(any_kind());
  auto r = co_await start(reg);
  const auto before = (co_await otp::inspect(otp::self())).links;
  REQUIRE(reg.register_self("a", 1).has_value());
  CHECK((co_await otp::inspect(otp::self())).links == before + 1);
  // With one partition both keys are in it; with 8, a second key may be
  // elsewhere: count the partitions holding our keys.
  REQUIRE(reg.register_self("a2", 1).has_value());
  const auto with_two = (co_await otp::inspect(otp::self())).links;
  CHECK(with_two >= before + 1);
  CHECK(with_two <= before + 2);
  CHECK(reg.unregister_self("a2") == 1);
  CHECK((co_await otp::inspect(otp::self())).links == before + 1);
  CHECK(reg.unregister_self("a") == 1);
  CHECK((co_await otp::inspect(otp::self())).links == before);
  co_await stop(r);
}

OTP_TEST_CASE_M("a registry that ends takes its registrants with it", otp::pid) {
  const reg_t reg(any_kind());
  auto r = co_await start(reg);
  auto h = co_await spawn_holder(reg, "k", 1);
  auto mon = otp::monitor(h);
  // A trapping registrant gets the exit message from its partition instead.
  auto trapping = otp::spawn([](reg_t reg, otp::handle<otp::pid> back) -> otp::process<int> {
    otp::trap_exit(true);
    REQUIRE(reg.register_self("t", 1).has_value());
    otp::send(back, otp::self());
    auto m = co_await otp::receive();
    auto* e = std::get_if<otp::exit_message>(&m);
    REQUIRE(e != nullptr);
    CHECK(e->reason == otp::exit_reason::shutdown());
    otp::send(back, otp::self());
  }, reg, otp::self_as<otp::pid>());
  CHECK(std::get<otp::pid>(co_await otp::receive()) == trapping);
  co_await stop(r);
  bool holder_down = false, trapper_told = false;
  while (!holder_down || !trapper_told) {
    auto m = co_await otp::receive();
    if (auto* d = std::get_if<otp::down_message>(&m); d && d->ref == mon) {
      CHECK(d->reason == otp::exit_reason::shutdown());
      holder_down = true;
    } else if (auto* p = std::get_if<otp::pid>(&m)) {
      CHECK(*p == trapping);
      trapper_told = true;
    }
  }
}

OTP_TEST_CASE_M("a process whose last key is unregistered survives the registry's end", otp::pid) {
  const reg_t reg(any_kind());
  auto r = co_await start(reg);
  REQUIRE(reg.register_self("k", 1).has_value());
  CHECK(reg.unregister_self("k") == 1);
  co_await stop(r, false);
  co_await otp::sleep_for(1s);  // an exit signal would have ended this body
  CHECK_FALSE(reg.running());
}

OTP_TEST_CASE_M("cleanup on crash leaves both indexes empty, however the process ends", otp::pid) {
  const reg_t reg(any_kind());
  auto r = co_await start(reg);
  int how = 0;
  SUBCASE("normal") { how = 0; }
  SUBCASE("exception") { how = -1; }
  SUBCASE("killed") { how = 1; }
  auto h = co_await spawn_holder(reg, "k", 1);
  auto mon = otp::monitor(h);
  if (how == 1)
    otp::exit(h, otp::exit_reason::kill());
  else
    otp::send(h, how);
  (void)co_await down_of(mon);
  CHECK(reg.lookup("k").empty());
  CHECK(reg.keys(h).empty());
  CHECK(reg.count() == 0);
  CHECK_FALSE(reg.whereis("k"));
  co_await stop(r);
}

OTP_TEST_CASE_M("unique registration succeeds even if the holder's cleanup is delayed", otp::pid) {
  // The holder is killed while an Asio operation it waits on cannot be
  // cancelled: it is ending, its entries still there, until that completes.
  const reg_t reg(with_partitions(otp::registry_keys::unique));
  auto r = co_await start(reg);
  auto side = std::make_shared<asio::io_context>();  // not run until we say so
  auto h = otp::spawn([](reg_t reg, std::shared_ptr<asio::io_context> side,
                         otp::handle<otp::pid> back) -> otp::process<int> {
    REQUIRE(reg.register_self("k", 1).has_value());
    otp::send(back, otp::self());
    co_await asio::post(*side, otp::use_process);
  }, reg, side, otp::self_as<otp::pid>());
  CHECK(std::get<otp::pid>(co_await otp::receive()) == h);
  // (Virtual time stands still while an Asio operation is pending: yield.)
  for (int i = 0; i < 3; ++i) co_await otp::yield();  // it waits on the side context now
  auto mon = otp::monitor(h);
  otp::exit(h, otp::exit_reason::kill());
  for (int i = 0; i < 3; ++i) co_await otp::yield();
  CHECK(reg.lookup("k").empty());  // dead to the world: its entries went already
  CHECK_FALSE(reg.whereis("k"));
  REQUIRE(reg.register_self("k", 2).has_value());
  CHECK(reg.whereis("k") == otp::self());
  side->run();  // the operation completes: the holder finishes ending
  CHECK(co_await down_of(mon) == otp::exit_reason::killed());
  // Its late cleanup leaves our entry alone.
  CHECK(reg.whereis("k") == otp::self());
  CHECK(reg.lookup("k")[0].second == 2);
  CHECK(reg.count() == 1);
  co_await stop(r);
}

OTP_TEST_CASE_M("a process ended while its offloaded work runs leaves the registry at once, not when the work returns",
                otp::pid) {
  // Virtual time stands still while work is offloaded: steps go by messages.
  const reg_t reg(any_kind());
  auto r = co_await start(reg);
  bool kill = true;
  SUBCASE("killed") { kill = true; }
  SUBCASE("told to shut down") { kill = false; }
  auto release = std::make_shared<std::atomic<bool>>(false);
  auto h = otp::spawn([](reg_t reg, std::shared_ptr<std::atomic<bool>> release,
                         otp::handle<otp::pid> back) -> otp::process<int> {
    REQUIRE(reg.register_self("k", 1).has_value());
    REQUIRE(reg.register_self("k2", 2).has_value());
    otp::send(back, otp::self());
    co_await otp::offload([&release] {
      while (!release->load()) std::this_thread::sleep_for(100us);
    });
  }, reg, release, otp::self_as<otp::pid>());
  CHECK(std::get<otp::pid>(co_await otp::receive()) == h);
  auto mon = otp::monitor(h);
  otp::exit(h, kill ? otp::exit_reason::kill() : otp::exit_reason::shutdown());
  if (kill) {
    CHECK(co_await down_of(mon) == otp::exit_reason::killed());  // a kill does not wait for the work
  } else {
    for (int i = 0; i < 3; ++i) co_await otp::yield();  // the signal is taken; the work holds the frame
    CHECK_FALSE(otp::is_alive(h));
  }
  CHECK(reg.lookup("k").empty());
  CHECK(reg.keys(h).empty());
  CHECK(reg.count() == 0);
  CHECK_FALSE(reg.whereis("k2"));
  release->store(true);
  if (!kill) CHECK(co_await down_of(mon) == otp::exit_reason::shutdown());
  co_await stop(r);
}

OTP_TEST_CASE_M("listeners are told of every register and unregister, the process's end included", otp::pid) {
  using ev = otp::registry_event<std::string, int>;
  auto got = std::make_shared<std::vector<std::string>>();
  auto listener = otp::spawn([](std::shared_ptr<std::vector<std::string>> got) -> otp::process<ev> {
    for (;;) {
      auto e = std::get<ev>(co_await otp::receive());
      got->push_back((e.what == ev::kind::registered ? "+" : "-") + e.key +
                     (e.value ? "=" + std::to_string(*e.value) : std::string()));
    }
  }, got);
  const reg_t reg(any_kind());
  reg.listen(listener);
  auto r = co_await start(reg);
  REQUIRE(reg.register_self("a", 1).has_value());
  CHECK(reg.unregister_self("a") == 1);
  auto h = co_await spawn_holder(reg, "b", 2);
  auto mon = otp::monitor(h);
  otp::send(h, 0);
  (void)co_await down_of(mon);
  co_await otp::sleep_for(1ms);
  CHECK(*got == std::vector<std::string>{"+a=1", "-a", "+b=2", "-b"});
  co_await stop(r);
  otp::exit(listener, otp::exit_reason::kill());
}

OTP_TEST_CASE_M("meta: values given at start and put later, typed", otp::pid) {
  const reg_t reg(with_partitions(otp::registry_keys::unique));
  reg.with_meta("custom", std::string("value"));
  auto r = co_await start(reg);
  CHECK(reg.meta<std::string>("custom") == std::string("value"));
  CHECK_FALSE(reg.meta<int>("custom"));  // another type
  CHECK_FALSE(reg.meta<int>("absent"));
  REQUIRE(reg.put_meta("answer", 42).has_value());
  CHECK(reg.meta<int>("answer") == 42);
  REQUIRE(reg.put_meta("answer", 43).has_value());
  CHECK(reg.meta<int>("answer") == 43);
  co_await stop(r);
  CHECK_FALSE(reg.meta<int>("answer"));
  CHECK(reg.put_meta("answer", 1).error() == otp::errc::noproc);
}

OTP_TEST_CASE_M("stop: partitions end with shutdown, taking their registrants, then the registry ends with the reason",
                otp::pid) {
  const reg_t reg(any_kind());
  auto r = co_await start(reg);
  auto h = co_await spawn_holder(reg, "k", 1);
  auto hmon = otp::monitor(h);
  auto rmon = otp::monitor(r);
  auto stopped = co_await reg.stop();
  CHECK(stopped.has_value());
  CHECK(co_await down_of(hmon) == otp::exit_reason::shutdown());  // a registrant goes with its partition
  CHECK(co_await down_of(rmon) == otp::exit_reason::normal());
  CHECK_FALSE(reg.running());
  CHECK(reg.lookup("k").empty());
  auto again = co_await reg.stop();
  REQUIRE(again.has_error());
  CHECK(again.error() == otp::errc::noproc);
  // A stopped registry starts again, and stops with another reason.
  r = co_await start(reg);
  CHECK(reg.running());
  otp::trap_exit(true);
  REQUIRE(reg.register_self("mine", 2).has_value());  // the caller is a registrant: it traps exits
  CHECK((co_await reg.stop(otp::exit_reason::shutdown(), 5s)).has_value());
  CHECK_FALSE(reg.running());
}

OTP_TEST_CASE_M("a registry not running finds nothing and refuses registrations with noproc", otp::pid) {
  const reg_t reg;
  CHECK(reg.lookup("k").empty());
  CHECK(reg.count() == 0);
  CHECK(reg.register_self("k", 1).error() == otp::errc::noproc);
  CHECK(reg.unregister_self("k") == 0);
  co_return;
}

OTP_TEST_CASE_M("starting a running registry again fails with already_started", otp::pid) {
  const reg_t reg(with_partitions(otp::registry_keys::unique));
  auto r = co_await start(reg);
  otp::start_options o;
  o.link = false;
  auto again = co_await reg.start(o);
  REQUIRE(again.has_error());
  CHECK(again.error().reason.to_string().find("already_started") != std::string::npos);
  CHECK(reg.running());
  co_await stop(r);
}

OTP_TEST_CASE_M("a registry under a supervisor restarts as a fresh incarnation", otp::pid) {
  const reg_t reg(with_partitions(otp::registry_keys::unique));
  std::vector<otp::child_spec> children;
  children.push_back(reg.child_spec("names"));
  otp::start_options o;
  o.link = false;
  auto sup = (co_await otp::start_supervisor(otp::supervisor_flags(), std::move(children), o)).value();
  REQUIRE(reg.running());
  auto h = co_await spawn_holder(reg, "k", 1);
  auto mon = otp::monitor(h);
  auto first = (co_await otp::which_children(sup)).value().at(0).process;
  otp::exit(first, otp::exit_reason::kill());
  CHECK(co_await down_of(mon) == otp::exit_reason::killed());  // it went with the registry
  co_await otp::sleep_for(1ms);
  REQUIRE(reg.running());
  auto second = (co_await otp::which_children(sup)).value().at(0).process;
  CHECK(second != first);
  CHECK(reg.lookup("k").empty());
  REQUIRE(reg.register_self("k", 2).has_value());
  CHECK(reg.whereis("k") == otp::self());
  otp::trap_exit(true);  // our registration links us to the registry
  auto smon = otp::monitor(sup);
  otp::exit(sup, otp::exit_reason::shutdown());
  (void)co_await down_of(smon);
  CHECK_FALSE(reg.running());
}

TEST_CASE("register outside a process throws; reads work from any thread") {
  const reg_t reg;
  CHECK_THROWS_AS((void)reg.register_self("k", 1), std::logic_error);
  std::thread t([&] { CHECK(reg.lookup("k").empty()); });
  t.join();
}

}  // TEST_SUITE
