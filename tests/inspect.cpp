// SPDX-License-Identifier: MIT
// Introspection: process snapshots and supervision-tree dumps.
#include <otp/inspect.hpp>

#include "supervision.hpp"

namespace {
otp::process<int> idle_worker() {
  otp::init_ack();
  for (;;) co_await otp::receive();
}
// Busy elsewhere: its messages wait.
otp::process<int> sleeper() {
  otp::init_ack();
  co_await otp::sleep_for(1h);
}
}  // namespace

TEST_SUITE("inspect") {

OTP_TEST_CASE("inspect reports a waiting process's mailbox, links, monitors and parent") {
  auto me = otp::self();
  auto p = otp::spawn([]() -> otp::process<int> {
    otp::trap_exit(true);
    co_await otp::sleep_for(1h);
  });
  otp::link(p);
  auto mon = otp::monitor(p);
  for (int i = 0; i < 3; ++i) otp::send(p, i);
  co_await otp::yield();
  auto i = co_await otp::inspect(p);
  CHECK(i.process == p);
  CHECK(i.state == otp::process_info::status::waiting);
  CHECK(i.message_type == "int");
  CHECK(i.mailbox == 3);
  CHECK(i.links == 1);
  CHECK(i.monitored_by == 1);
  CHECK(i.trap_exit);
  CHECK(i.parent == me);
  otp::demonitor(mon);
  otp::unlink(p);
  otp::exit(p, otp::exit_reason::kill());
}

OTP_TEST_CASE("inspect of the caller says running; of a dead or null pid, exited") {
  auto self = co_await otp::inspect(otp::self());
  CHECK(self.state == otp::process_info::status::running);
  auto [p, mon] = otp::spawn_monitor([]() -> otp::process<> { co_return; });
  (void)co_await otp::receive();
  CHECK((co_await otp::inspect(p)).state == otp::process_info::status::exited);
  CHECK((co_await otp::inspect(otp::pid())).state == otp::process_info::status::exited);
}

OTP_TEST_CASE("the tree dump lists every supervisor and child with status, restarts and mailbox") {
  std::vector<child_spec> sub;
  sub.emplace_back("leaf", otp::start_fn(idle_worker));
  std::vector<child_spec> cs;
  cs.emplace_back("cache", otp::start_fn(sleeper));
  cs.push_back(otp::supervisor_child("pool", supervisor_flags(), std::move(sub)));
  cs.push_back(spec("gone", std::make_shared<otp::testing::event_log>(), restart_type::transient));
  auto root = (co_await start_sup(supervisor_flags(), std::move(cs))).value();
  (void)co_await kill_child(co_await pid_of(root, "cache"));                 // restarted once
  (void)co_await end_child(co_await pid_of(root, "gone"), end_normal);        // transient, normal: stays down
  otp::send(otp::handle<int>::from(co_await pid_of(root, "cache")).value(), 7);  // one message waiting

  auto tree = co_await otp::inspect_tree(root);
  REQUIRE(tree.children.size() == 3);
  CHECK(tree.info.process == root);
  CHECK(tree.children[0].id == "cache");
  CHECK(tree.children[0].restarts == 1);
  CHECK(tree.children[0].info.mailbox == 1);
  CHECK(tree.children[1].type == otp::child_type::supervisor);
  REQUIRE(tree.children[1].children.size() == 1);
  CHECK(tree.children[1].children[0].id == "leaf");
  CHECK(tree.children[2].state == otp::child_info::status::undefined);

  auto text = otp::to_text(tree);
  CHECK(text.find("cache " + tree.children[0].info.process.to_string() + " worker") != std::string::npos);
  CHECK(text.find("restarts=1 mailbox=1") != std::string::npos);
  CHECK(text.find("\n    leaf ") != std::string::npos);  // indented under pool
  CHECK(text.find("gone undefined worker undefined") != std::string::npos);

  auto json = otp::to_json(tree);
  CHECK(json.rfind("{\"id\":\"\",\"type\":\"supervisor\"", 0) == 0);
  CHECK(json.find("\"id\":\"leaf\"") != std::string::npos);
  CHECK(json.find("\"mailbox\":1") != std::string::npos);
  CHECK(json.find("\"restarts\":1") != std::string::npos);
  (void)co_await stop_sup(root);
}

TEST_CASE("JSON output escapes quotes, backslashes and control characters in ids") {
  otp::tree_node t;
  t.id = "a\"b\\c\nd";
  t.type = otp::child_type::worker;
  auto json = otp::to_json(t);
  CHECK(json.find(R"("id":"a\"b\\c\u000ad")") != std::string::npos);
}

OTP_TEST_CASE("a dead supervisor's tree says why its children could not be listed") {
  auto root = (co_await start_sup(supervisor_flags(), {})).value();
  (void)co_await stop_sup(root);
  auto tree = co_await otp::inspect_tree(root);
  CHECK(tree.children.empty());
  CHECK(tree.error.find("noproc") != std::string::npos);
}

TEST_CASE("inspect reads a process on another shard through that shard, answering the caller") {
  otp::testing::options o;
  o.threads = 2;
  auto body = []() -> otp::process<> {
    const std::size_t mine = otp::current_shard();
    CHECK((co_await otp::inspect(otp::self())).shard == mine);
    CHECK(otp::shard_count() == 2);
    otp::spawn_options far;
    far.shard = 1 - mine;  // the other shard: the snapshot is posted there
    far.monitor = true;
    auto [p, mon] = otp::spawn_opt(far, []() -> otp::process<int> { co_await otp::sleep_for(1h); });
    for (int i = 0; i < 5; ++i) otp::send(p, i);
    co_await otp::sleep_for(1ms);  // let the messages land
    auto i = co_await otp::inspect(p);
    CHECK(i.process == p);
    CHECK(i.shard == 1 - mine);
    CHECK(i.state == otp::process_info::status::waiting);
    CHECK(i.mailbox == 5);
    CHECK(i.message_type == "int");
    otp::exit(p, otp::exit_reason::kill());
    auto d = std::get<otp::down_message>(co_await otp::receive());
    CHECK(d.ref == mon);
    CHECK((co_await otp::inspect(p)).state == otp::process_info::status::exited);
  };
  auto r = otp::testing::run(body, o);
  for (auto& f : r.failures) FAIL_CHECK(f);
}
}
