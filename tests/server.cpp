// SPDX-License-Identifier: MIT
// otp::server: GenServer's callbacks, call, cast, stop, names, child specs.
#include <otp/server.hpp>

#include <doctest/doctest.h>
#include <otp/registry.hpp>
#include <otp/testing.hpp>

#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <asio/io_context.hpp>

using namespace std::chrono_literals;

namespace {

otp::testing::event_log* events = nullptr;  // the running test's log
void log(std::string e) { (*events)(std::move(e)); }

// The doc example: a stack.
struct stack : otp::server<stack> {
  struct push {
    int value;
  };
  struct pop {
    using reply = std::optional<int>;
  };
  struct size {};  // reply type deduced from the handler: std::size_t

  explicit stack(std::vector<int> initial) : items(std::move(initial)) {}
  std::optional<int> handle_call(pop) {
    if (items.empty()) return std::nullopt;
    int v = items.back();
    items.pop_back();
    return v;
  }
  std::size_t handle_call(size) const { return items.size(); }
  void handle_cast(push p) { items.push_back(p.value); }

  std::vector<int> items;
};

// A server that does what it is told, logging every callback.
struct probe : otp::server<probe> {
  struct echo {
    explicit echo(std::string t) : text(std::move(t)) {}
    std::string text;
  };
  struct crash {
    using reply = int;
  };
  struct slow {
    explicit slow(otp::duration d) : delay(d) {}
    otp::duration delay;
  };
  struct stop_with_reply {};
  struct stop_me {};
  struct wait_idle {
    explicit wait_idle(otp::duration d) : after(d) {}
    otp::duration after;
  };
  struct call_self {};
  struct hold {  // deferred: answered by the next `release`
    using reply = std::string;
  };
  struct release {
    explicit release(std::string v) : value(std::move(v)) {}
    std::string value;
  };
  struct throw_in_terminate {};
  struct tick {
    int n;
  };

  explicit probe(bool trap = false) {
    if (trap) otp::trap_exit(true);
  }
  ~probe() { log("destroyed"); }

  std::string handle_call(echo e) { return e.text; }
  int handle_call(crash) { throw std::runtime_error("crashed in call"); }
  otp::task<std::string> handle_call(slow s) {
    co_await otp::sleep_for(s.delay);
    co_return "slow done";
  }
  std::string handle_call(stop_with_reply) {
    stop(otp::exit_reason::shutdown("asked"));
    return "bye";
  }
  otp::task<otp::result<int>> handle_call(call_self) {
    auto r = co_await otp::call(ref(), echo("me"));
    co_return r ? otp::result<int>(0) : otp::result<int>(r.error());
  }
  otp::noreply_t handle_call(hold, otp::reply_to<std::string> from) {
    held = std::move(from);
    return otp::noreply;
  }
  void handle_cast(release r) { held.send(std::move(r.value)); }
  void handle_cast(stop_me) { stop(otp::exit_reason::other("stopped_by_cast")); }
  void handle_cast(wait_idle w) { idle_timeout(w.after); }
  void handle_cast(throw_in_terminate) { terminate_throws = true; }
  void handle_info(tick t) { log("tick " + std::to_string(t.n)); }
  void handle_info(otp::server_timeout) { log("idle timeout"); }
  void handle_info(const otp::exit_message& m) { log("exit " + m.reason.to_string()); }
  void handle_info(const otp::down_message& m) { log("down " + m.reason.to_string()); }
  void terminate(const otp::exit_reason& r) {
    log("terminate " + r.to_string());
    if (terminate_throws) throw std::logic_error("terminate failed");
  }

  otp::reply_to<std::string> held;
  bool terminate_throws = false;
};

// A process that never ends by itself.
otp::process<> idle_forever() {
  for (;;) co_await otp::receive();
}

}  // namespace

TEST_SUITE("server") {

OTP_TEST_CASE("call: the reply is the handler's return value; casts are handled in order") {
  std::vector<int> initial{1, 2};  // GCC 12: no braced list inside co_await
  auto s = (co_await otp::start_server<stack>(initial)).value();
  otp::cast(s, stack::push{3});
  otp::cast(s, stack::push{4});
  CHECK((co_await otp::call(s, stack::size{})).value() == 4);
  CHECK((co_await otp::call(s, stack::pop{})).value() == 4);
  CHECK((co_await otp::call(s, stack::pop{})).value() == 3);
  auto r = co_await otp::stop(s);
  CHECK(r.has_value());
}

OTP_TEST_CASE("call: to a dead server fails at once with noproc") {
  otp::testing::event_log ev;
  events = &ev;
  auto s = (co_await otp::start_server<probe>()).value();
  otp::unlink(s);
  otp::exit(s, otp::exit_reason::kill());
  co_await otp::sleep_for(1ms);
  auto t0 = otp::now();
  auto r = co_await otp::call(s, probe::echo("x"));
  REQUIRE(r.has_error());
  CHECK(r.error() == otp::errc::noproc);
  CHECK(otp::now() == t0);
  otp::server_ref<probe> none;
  CHECK((co_await otp::call(none, probe::echo("x"))).error() == otp::errc::noproc);
}

OTP_TEST_CASE("call: a crash during the call fails it at once with the server's reason, after terminate") {
  otp::testing::event_log ev;
  events = &ev;
  otp::trap_exit(true);
  auto s = (co_await otp::start_server<probe>()).value();
  auto t0 = otp::now();
  auto r = co_await otp::call(s, probe::crash{});
  REQUIRE(r.has_error());
  CHECK(r.error() == otp::errc::exited);
  CHECK(r.error().reason.to_string() == R"({error,std::runtime_error,"crashed in call"})");
  CHECK(otp::now() == t0);
  auto m = co_await otp::receive();  // the link brings the same reason
  REQUIRE(std::holds_alternative<otp::exit_message>(m));
  CHECK(std::get<otp::exit_message>(m).reason == r.error().reason);
  CHECK(ev.events() == std::vector<std::string>{R"(terminate {error,std::runtime_error,"crashed in call"})",
                                                "destroyed"});
  bool crash_reported = false;
  for (auto& e : otp::testing::logged())
    if (e.what == otp::log_event::kind::crash_report && e.process == s) crash_reported = true;
  CHECK(crash_reported);
}

OTP_TEST_CASE("call: a timeout fails with timeout, and the late reply is dropped") {
  otp::testing::event_log ev;
  events = &ev;
  auto s = (co_await otp::start_server<probe>()).value();
  auto t0 = otp::now();
  auto r = co_await otp::call(s, probe::slow(2s), 1s);
  REQUIRE(r.has_error());
  CHECK(r.error() == otp::errc::timeout);
  CHECK(otp::now() - t0 == 1s);
  // The server answers at 2 s; nothing reaches the caller's mailbox, and the
  // next call gets its own answer.
  CHECK(!(co_await otp::receive(5s)));
  CHECK((co_await otp::call(s, probe::echo("next"))).value() == "next");
  (void)co_await otp::stop(s);
}

OTP_TEST_CASE("call: a call to oneself fails at once with calling_self") {
  otp::testing::event_log ev;
  events = &ev;
  auto s = (co_await otp::start_server<probe>()).value();
  auto r = (co_await otp::call(s, probe::call_self{})).value();
  REQUIRE(r.has_error());
  CHECK(r.error() == otp::errc::calling_self);
  (void)co_await otp::stop(s);
}

OTP_TEST_CASE("deferred reply: a handler keeps the reply handle and another process answers later") {
  otp::testing::event_log ev;
  events = &ev;
  auto s = (co_await otp::start_server<probe>()).value();
  // The answer comes from another process, casting `release` a while later.
  auto helper = [](otp::server_ref<probe> srv) -> otp::process<> {
    co_await otp::sleep_for(3s);
    otp::cast(srv, probe::release("later"));
  };
  otp::spawn(helper, s);
  auto t0 = otp::now();
  auto r = co_await otp::call(s, probe::hold{});
  CHECK(r.value() == "later");
  CHECK(otp::now() - t0 == 3s);
  (void)co_await otp::stop(s);
}

namespace {
struct threaded : otp::server<threaded> {
  struct ask {
    using reply = int;
  };
  explicit threaded(std::thread* t) : worker(t) {}
  otp::noreply_t handle_call(ask, otp::reply_to<int> from) {
    *worker = std::thread([from] {
      std::this_thread::sleep_for(5ms);
      from.send(42);
    });
    return otp::noreply;
  }
  std::thread* worker;
};
}  // namespace

TEST_CASE("deferred reply: the kept reply handle answers from a thread outside the runtime") {
  asio::io_context io;
  otp::runtime rt(io.get_executor());
  std::thread t;
  int got = 0;
  auto s = otp::spawn_server<threaded>(rt, &t);
  otp::spawn(rt, [&got](otp::server_ref<threaded> srv) -> otp::process<> {
    got = (co_await otp::call(srv, threaded::ask{}, otp::duration::max())).value();
    (void)co_await otp::stop(srv);
  }, s);
  io.run();
  t.join();
  CHECK(got == 42);
}

OTP_TEST_CASE("continue: handle_continue runs after init is acknowledged, before the first message") {
  otp::testing::event_log ev;
  events = &ev;
  struct loader : otp::server<loader> {
    struct load {};
    struct get {};
    loader() {
      log("init");
      continue_with(load{});
    }
    otp::task<void> handle_continue(load) {
      co_await otp::sleep_for(1s);  // slow set-up, after the ack
      data = "loaded";
      log("continue");
    }
    std::string handle_call(get) {
      log("call");
      return data;
    }
    std::string data = "empty";
  };
  auto t0 = otp::now();
  auto s = (co_await otp::start_server<loader>()).value();
  CHECK(otp::now() == t0);  // the start did not wait for the continue step
  log("started");
  CHECK((co_await otp::call(s, loader::get{})).value() == "loaded");
  CHECK(ev.events() == std::vector<std::string>{"init", "started", "continue", "call"});
  (void)co_await otp::stop(s);
}

OTP_TEST_CASE("init: stop fails the start with its reason, ignore gives ignored, a throw gives the error") {
  struct refusing : otp::server<refusing> {
    explicit refusing(int h) : how(h) {
      if (how == 0) stop(otp::exit_reason::other("no_config"));
      if (how == 1) otp::init_ignore();
      if (how == 2) throw std::invalid_argument("bad argument");
    }
    void terminate(const otp::exit_reason&) {
      if (how != 3) FAIL("terminate must not run when init fails");
    }
    int how;
  };
  otp::trap_exit(true);
  auto a = co_await otp::start_server<refusing>(0);
  REQUIRE(a.has_error());
  CHECK(a.error() == otp::errc::start_failed);
  CHECK(a.error().reason.to_string() == "no_config");
  auto b = co_await otp::start_server<refusing>(1);
  REQUIRE(b.has_error());
  CHECK(b.error() == otp::errc::ignored);
  auto c = co_await otp::start_server<refusing>(2);
  REQUIRE(c.has_error());
  CHECK(c.error() == otp::errc::start_failed);
  CHECK(c.error().reason.to_string() == R"({error,std::invalid_argument,"bad argument"})");
  auto d = co_await otp::start_server<refusing>(3);
  CHECK(d.has_value());
  (void)co_await otp::stop(d.value());
}

OTP_TEST_CASE("terminate: runs on stop from a callback, with the reason the server ends with") {
  otp::testing::event_log ev;
  events = &ev;
  auto s = (co_await otp::start_server<probe>()).value();
  otp::unlink(s);
  (void)otp::monitor(s);
  otp::cast(s, probe::stop_me{});
  auto m = co_await otp::receive();
  REQUIRE(std::holds_alternative<otp::down_message>(m));
  CHECK(std::get<otp::down_message>(m).reason.to_string() == "stopped_by_cast");
  CHECK(ev.events() == std::vector<std::string>{"terminate stopped_by_cast", "destroyed"});
}

OTP_TEST_CASE("terminate: stop from handle_call replies after terminate has run") {
  otp::testing::event_log ev;
  events = &ev;
  otp::trap_exit(true);
  auto s = (co_await otp::start_server<probe>()).value();
  auto r = co_await otp::call(s, probe::stop_with_reply{});
  CHECK(r.value() == "bye");
  log("replied");
  // The server's frame goes before the caller runs again; the reply waited for terminate.
  CHECK(ev.events() == std::vector<std::string>{"terminate {shutdown,asked}", "destroyed", "replied"});
  auto m = co_await otp::receive();
  REQUIRE(std::holds_alternative<otp::exit_message>(m));
  CHECK(std::get<otp::exit_message>(m).reason.to_string() == "{shutdown,asked}");
}

OTP_TEST_CASE("terminate: runs on the parent's exit signal when trapping exits, and not when not trapping") {
  auto parent_of_server = [](bool trap) -> otp::process<> {
    (void)(co_await otp::start_server<probe>(trap)).value();
    co_await otp::receive();  // until an exit signal ends it
  };
  for (bool trap : {true, false}) {
    otp::testing::event_log ev;
    events = &ev;
    auto parent = otp::spawn(parent_of_server, trap);
    co_await otp::sleep_for(1ms);
    (void)otp::monitor(parent);
    otp::exit(parent, otp::exit_reason::shutdown());  // as its supervisor would
    co_await otp::receive();
    co_await otp::sleep_for(1ms);  // the server ends through its link to the parent
    if (trap)
      CHECK(ev.events() == std::vector<std::string>{"terminate shutdown", "destroyed"});
    else
      CHECK(ev.events() == std::vector<std::string>{"destroyed"});
  }
}

OTP_TEST_CASE("handle_info: exits from linked processes other than the parent arrive as messages when trapping") {
  otp::testing::event_log ev;
  events = &ev;
  struct linker : otp::server<linker> {
    struct link_to {
      otp::pid other;
    };
    linker() { otp::trap_exit(true); }
    otp::task<void> handle_cast(link_to l) {
      otp::link(l.other);
      otp::monitor(l.other);
      co_return;
    }
    void handle_info(const otp::exit_message& m) { log("exit " + m.reason.to_string()); }
    void handle_info(const otp::down_message& m) { log("down " + m.reason.to_string()); }
    void terminate(const otp::exit_reason& r) { log("terminate " + r.to_string()); }
  };
  auto s = (co_await otp::start_server<linker>()).value();
  auto other = otp::spawn(idle_forever);
  otp::cast(s, linker::link_to{other});
  co_await otp::sleep_for(1ms);
  otp::exit(other, otp::exit_reason::other("gone"));
  co_await otp::sleep_for(1ms);
  CHECK(ev.events() == std::vector<std::string>{"exit gone", "down gone"});
  CHECK(otp::is_alive(s));
  otp::unlink(s);
  (void)co_await otp::stop(s, otp::exit_reason::shutdown());
  CHECK(ev.events().back() == "terminate shutdown");
}

OTP_TEST_CASE("handle_info: plain messages and send_after reach handle_info; unknown system messages are logged") {
  otp::testing::event_log ev;
  events = &ev;
  auto s = (co_await otp::start_server<probe>()).value();
  otp::send(s, probe::tick{1});
  auto t0 = otp::now();
  auto timer = otp::send_after(2s, s, probe::tick{2});
  CHECK(timer.pending());
  co_await otp::sleep_for(3s);
  CHECK(ev.events() == std::vector<std::string>{"tick 1", "tick 2"});
  CHECK(otp::now() - t0 == 3s);
  (void)co_await otp::stop(s);

  // A server without handle_info(down_message): the down is logged and dropped.
  struct plain : otp::server<plain> {
    struct watch {
      otp::pid who;
    };
    void handle_cast(watch w) { otp::monitor(w.who); }
    int handle_call(int x) { return x; }
  };
  auto p = (co_await otp::start_server<plain>()).value();
  auto victim = otp::spawn(idle_forever);
  otp::cast(p, plain::watch{victim});
  otp::exit(victim, otp::exit_reason::kill());
  CHECK((co_await otp::call(p, 7)).value() == 7);  // still alive and answering
  bool logged = false;
  for (auto& e : otp::testing::logged())
    if (e.text.find("unexpected message in handle_info: down_message") != std::string::npos) logged = true;
  CHECK(logged);
  (void)co_await otp::stop(p);
}

OTP_TEST_CASE("idle timeout: handle_info(server_timeout) runs when no message arrives in time; a message cancels it") {
  otp::testing::event_log ev;
  events = &ev;
  auto s = (co_await otp::start_server<probe>()).value();
  auto t0 = otp::now();
  otp::cast(s, probe::wait_idle(5s));
  co_await otp::sleep_for(4s);
  otp::send(s, probe::tick{1});  // before the deadline: no timeout (the tick sets none)
  co_await otp::sleep_for(10s);
  CHECK(ev.events() == std::vector<std::string>{"tick 1"});
  otp::cast(s, probe::wait_idle(5s));
  co_await otp::sleep_for(6s);
  CHECK(ev.events() == std::vector<std::string>{"tick 1", "idle timeout"});
  CHECK(otp::now() - t0 == 20s);
  (void)co_await otp::stop(s);
}

OTP_TEST_CASE("stop: ok when the server ends with the reason asked; noproc for a dead one; exited when terminate fails") {
  otp::testing::event_log ev;
  events = &ev;
  otp::trap_exit(true);
  auto s = (co_await otp::start_server<probe>()).value();
  CHECK((co_await otp::stop(s, otp::exit_reason::shutdown())).has_value());
  CHECK(ev.events() == std::vector<std::string>{"terminate shutdown", "destroyed"});
  auto again = co_await otp::stop(s);
  REQUIRE(again.has_error());
  CHECK(again.error() == otp::errc::noproc);

  auto t = (co_await otp::start_server<probe>()).value();
  otp::cast(t, probe::throw_in_terminate{});
  auto r = co_await otp::stop(t);
  REQUIRE(r.has_error());
  CHECK(r.error() == otp::errc::exited);
  CHECK(r.error().reason.to_string() == R"({error,std::logic_error,"terminate failed"})");
}

OTP_TEST_CASE("stop: gives up with timeout while the server is busy; the server still stops") {
  otp::testing::event_log ev;
  events = &ev;
  auto s = (co_await otp::start_server<probe>()).value();
  otp::unlink(s);
  auto busy = [](otp::server_ref<probe> srv) -> otp::process<> { (void)co_await otp::call(srv, probe::slow(10s), 20s); };
  otp::spawn(busy, s);
  co_await otp::sleep_for(1ms);
  auto r = co_await otp::stop(s, otp::exit_reason::normal(), 1s);
  REQUIRE(r.has_error());
  CHECK(r.error() == otp::errc::timeout);
  (void)otp::monitor(s);
  auto m = co_await otp::receive();
  REQUIRE(std::holds_alternative<otp::down_message>(m));
  CHECK(std::get<otp::down_message>(m).reason == otp::exit_reason::normal());
}

OTP_TEST_CASE("names: a server started under a local or via name is called by name; a taken name is already_started") {
  otp::testing::event_log ev;
  events = &ev;
  otp::start_options o;
  o.spawn.name = otp::local("the_stack");
  std::vector<int> seven{7};
  auto s = (co_await otp::start_server_opt<stack>(o, seven)).value();
  CHECK((co_await otp::call<stack>(otp::local("the_stack"), stack::size{})).value() == 1);
  CHECK(otp::cast<stack>(otp::local("the_stack"), stack::push{8}).value() == otp::send_status::delivered);
  CHECK((co_await otp::call<stack>(otp::local("the_stack"), stack::pop{})).value() == 8);
  auto dup = co_await otp::start_server_opt<stack>(o, std::vector<int>());
  REQUIRE(dup.has_error());
  CHECK(dup.error() == otp::errc::already_started);
  CHECK(dup.error().process == s);
  // Wrong server type under the name, and nobody under it.
  auto wrong = co_await otp::call<probe>(otp::local("the_stack"), probe::echo("x"));
  CHECK(wrong.error() == otp::errc::bad_message_type);
  auto nobody = co_await otp::call<stack>(otp::local("nobody"), stack::size{});
  CHECK(nobody.error() == otp::errc::noproc);
  CHECK(otp::cast<stack>(otp::local("nobody"), stack::push{1}).error() == otp::errc::noproc);
  (void)co_await otp::stop(s);

  otp::registry<std::string> reg;
  auto r = (co_await reg.start()).value();
  otp::start_options v;
  v.spawn.name = otp::via(reg, std::string("stack:1"));
  std::vector<int> three{1, 2, 3};
  auto vs = (co_await otp::start_server_opt<stack>(v, three)).value();
  CHECK((co_await otp::call<stack>(otp::via(reg, std::string("stack:1")), stack::size{})).value() == 3);
  CHECK(reg.whereis(std::string("stack:1")) == vs);
  (void)co_await otp::stop(vs);
  otp::unlink(r);
  otp::exit(r, otp::exit_reason::shutdown());
}

}  // TEST_SUITE

namespace spec_type {
using otp::child_spec;
// Inside a server class, child_spec still names the type: the base's
// default spec is default_child_spec, which hides nothing.
struct planner : otp::server<planner> {
  static std::vector<child_spec> plan() {
    std::vector<child_spec> kids;
    kids.push_back(child_spec("w", otp::start_fn([]() -> otp::process<int> {
      otp::init_ack();
      co_await otp::receive();
    })));
    return kids;
  }
  std::size_t handle_call(int) const { return plan().size(); }
};
}  // namespace spec_type

TEST_SUITE("server") {

OTP_TEST_CASE("call, cast and send take a string literal for a handler of std::string, as by value") {
  struct texts : otp::server<texts> {
    std::string handle_call(std::string s) { return s + "!"; }
    void handle_cast(std::string s) { seen += s; }
    void handle_info(std::string s) { seen += s; }
    std::size_t handle_call(int) { return seen.size(); }
    std::string seen;
  };
  auto s = (co_await otp::start_server<texts>()).value();
  CHECK((co_await otp::call(s, "ping")).value() == "ping!");
  otp::cast(s, "ab");
  otp::send(s, "cd");
  CHECK((co_await otp::call(s, 0)).value() == 4);
  CHECK((co_await otp::stop(s)).has_value());
}

OTP_TEST_CASE("inside a server class, child_spec names otp::child_spec, not an inherited function") {
  auto s = (co_await otp::start_server<spec_type::planner>()).value();
  CHECK((co_await otp::call(s, 0)).value() == 1);
  CHECK(otp::child<spec_type::planner>().id.find("planner") != std::string::npos);
  CHECK((co_await otp::stop(s)).has_value());
}

OTP_TEST_CASE("child spec: a supervisor starts a server from its default child spec, init acknowledged in order") {
  otp::testing::event_log ev;
  events = &ev;
  struct worker : otp::server<worker> {
    explicit worker(std::string n) : name(std::move(n)) { log("init " + name); }
    std::string handle_call(int) { return name; }
    std::string name;
  };
  // A server type with its own spec.
  struct custom : otp::server<custom> {
    static otp::child_spec child_spec(std::string n) {
      return default_child_spec(std::move(n)).with(otp::restart_type::transient);
    }
    explicit custom(std::string n) { log("init " + n); }
  };
  std::vector<otp::child_spec> kids;
  kids.push_back(otp::child<worker>(std::string("a")));
  kids.back().id = "a";
  kids.push_back(otp::child<worker>(std::string("b")).with(otp::local("worker_b")));
  kids.back().id = "b";
  kids.push_back(otp::child<custom>(std::string("c")));
  CHECK(kids[2].restart == otp::restart_type::transient);
  CHECK(otp::child<worker>(std::string("x")).id.find("worker") != std::string::npos);
  auto sup = (co_await otp::start_supervisor(otp::supervisor_flags(), std::move(kids))).value();
  CHECK(ev.events() == std::vector<std::string>{"init a", "init b", "init c"});
  CHECK((co_await otp::call<worker>(otp::local("worker_b"), 0)).value() == "b");
  auto which = (co_await otp::which_children(sup)).value();
  REQUIRE(which.size() == 3);
  // Crash b: the supervisor restarts it under its name.
  auto old_b = which[1].process;
  otp::exit(old_b, otp::exit_reason::other("boom"));
  co_await otp::sleep_for(1ms);
  CHECK((co_await otp::call<worker>(otp::local("worker_b"), 0)).value() == "b");
  CHECK(otp::local("worker_b").whereis() != old_b);
  otp::unlink(sup);
  otp::exit(sup, otp::exit_reason::shutdown());
}

}  // TEST_SUITE

namespace {
// Counts what its clients add; a `later` call is answered by a helper
// process on the other shard (a deferred reply crossing threads).
struct tally : otp::server<tally> {
  struct add {
    int n;
  };
  struct add_call {
    int n;
  };
  struct later {
    using reply = int;
    int n;
  };
  struct total {};
  int handle_call(add_call a) { return sum += a.n; }
  otp::noreply_t handle_call(later l, otp::reply_to<int> from) {
    sum += l.n;
    otp::spawn_options there;
    there.shard = 0;
    otp::spawn_opt(there, [](otp::reply_to<int> r, int v) -> otp::process<> {
      r.send(v);
      co_return;
    }, from, l.n);
    return otp::noreply;
  }
  void handle_cast(add a) { sum += a.n; }
  long handle_call(total) const { return sum; }
  long sum = 0;
};
}  // namespace

TEST_CASE("two threads: calls, casts and deferred replies from both shards are each answered once") {
  otp::testing::options o;
  o.threads = 2;
  std::atomic<long> seen{-1};
  auto r = otp::testing::run([&seen]() -> otp::process<> {
    constexpr int clients = 20, rounds = 200;
    otp::start_options far;
    far.spawn.shard = 1;
    auto srv = (co_await otp::start_server_opt<tally>(far)).value();
    auto client = [](otp::server_ref<tally> s) -> otp::process<> {
      for (int i = 0; i < rounds; ++i) {
        otp::cast(s, tally::add{1});
        if ((co_await otp::call(s, tally::add_call{1})).value() <= 0) FAIL("a total went backwards");
        if ((co_await otp::call(s, tally::later{1})).value() != 1) FAIL("a deferred reply was wrong");
      }
    };
    std::vector<otp::monitor_ref> refs;
    for (int i = 0; i < clients; ++i) {
      otp::spawn_options opt;
      opt.shard = i % 2;
      opt.monitor = true;
      refs.push_back(otp::spawn_opt(opt, client, srv).monitor);
    }
    for (int i = 0; i < clients; ++i) {
      auto m = co_await otp::receive();
      if (std::get<otp::down_message>(m).reason != otp::exit_reason::normal()) FAIL("a client failed");
    }
    seen = (co_await otp::call(srv, tally::total{})).value();
    (void)co_await otp::stop(srv);
  }, o);
  for (auto& f : r.failures) MESSAGE(f);
  CHECK(r.ok());
  CHECK(seen == 20L * 200 * 3);
}
