// SPDX-License-Identifier: MIT
#include <otp/inspect.hpp>

#include "runtime_core.hpp"

#include <cstdio>

namespace otp {

const char* to_string(process_info::status s) noexcept {
  switch (s) {
    case process_info::status::running:
      return "running";
    case process_info::status::runnable:
      return "runnable";
    case process_info::status::waiting:
      return "waiting";
    case process_info::status::exited:
      break;
  }
  return "exited";
}

namespace detail {

struct info_slot final : reply_slot {
  process_info value;
};

namespace {
/// On the target's own shard: nothing of it changes while this runs.
process_info snapshot(const pid& target, const process_base* caller) {
  process_info i;
  i.process = target;
  process_core* c = as_core(target);
  if (!c) return i;
  i.message_type = demangle(c->message_type->name());
  i.shard = c->home.load(std::memory_order_acquire)->index;
  process_base* p = c->body;
  if (!p || c->exiting.load(std::memory_order_acquire)) return i;
  const auto word = c->inbox.load(std::memory_order_acquire);
  i.state = p == caller                          ? process_info::status::running
            : word == process_core::inbox_blocked ? process_info::status::waiting
                                                  : process_info::status::runnable;
  auto receivable = [](const node* n) {
    return n->kind == node_kind::message || n->kind == node_kind::exit_message || n->kind == node_kind::down_message;
  };
  for (const node* n = p->first; n; n = n->next) i.mailbox += receivable(n);
  // Not yet merged: user messages count; signals are not messages yet.
  if (word > process_core::inbox_closed)
    for (const node* n = reinterpret_cast<const node*>(word); n; n = n->next) i.mailbox += n->kind == node_kind::message;
  i.links = p->links.size();
  std::size_t mons = 0, watchers = 0;
  p->monitors.for_each(p->id, [&](const monitor_ref&, const pid&) { ++mons; });
  p->watchers.for_each([&](const monitor_ref&, const pid&) { ++watchers; });
  i.monitors = mons;
  i.monitored_by = watchers;
  i.trap_exit = p->trap_exit;
  i.parent = p->parent;
  return i;
}
}  // namespace

inspect_awaiter::inspect_awaiter(inspect_awaiter&& o) noexcept
    : p_(o.p_), target_(std::move(o.target_)), slot_(std::exchange(o.slot_, nullptr)), out_(std::move(o.out_)) {}

inspect_awaiter::~inspect_awaiter() {
  if (slot_) {
    slot_->abandon();
    slot_->release();
  }
}

bool inspect_awaiter::await_ready() {
  process_core* c = as_core(target_);
  if (!c || c->home.load(std::memory_order_acquire) == p_->home()) {  // its shard is ours: read it now
    out_.emplace(snapshot(target_, p_));
    return true;
  }
  return false;
}

void inspect_awaiter::await_suspend(std::coroutine_handle<>) {
  slot_ = new info_slot;
  slot_->waiter = pid_of(*p_);
  slot_->retain();  // the job's reference
  on_owner(target_, [s = slot_, t = target_](shard&, process_base*) {
    if (s->claim()) {
      try {
        s->value = snapshot(t, nullptr);
      } catch (...) {  // no memory for the type name: answer what is known
        s->value.process = t;
      }
      s->publish();
    }
    s->release();
  });
  p_->wait = this;
}

bool inspect_awaiter::ready(process_base&) noexcept {
  if (out_) return true;
  if (!slot_->written()) return false;
  out_.emplace(std::move(static_cast<info_slot*>(slot_)->value));
  return true;
}

process_info inspect_awaiter::await_resume() { return std::move(*out_); }

}  // namespace detail

// ---------------------------------------------------------------- shards

namespace {
std::vector<shard_info> shards_of(const detail::runtime_core& core) {
  std::vector<shard_info> out;
  out.reserve(core.shards.size());
  for (auto& s : core.shards) {
    shard_info i;
    i.index = s->index;
    i.live = s->live.load(std::memory_order_acquire);
    i.spawned = s->spawned.load(std::memory_order_relaxed);
    i.immigrated = s->immigrated.load(std::memory_order_relaxed);
    i.emigrated = s->emigrated.load(std::memory_order_relaxed);
    i.steals = s->steals.load(std::memory_order_relaxed);
    out.push_back(i);
  }
  return out;
}
}  // namespace

std::vector<shard_info> inspect_shards(runtime& rt) { return shards_of(detail::core_of(rt)); }
std::vector<shard_info> inspect_shards() {
  return shards_of(detail::current_or_throw("otp::inspect_shards").home()->core);
}

// ---------------------------------------------------------------- the tree

otp::task<tree_node> inspect_tree(supervisor_ref root) {
  tree_node t;
  t.info = co_await inspect(root);
  auto kids = co_await which_children(root);
  if (!kids) {
    t.error = kids.error().message();
    co_return t;
  }
  for (auto& k : kids.value()) {
    tree_node c;
    c.id = k.id;
    c.type = k.type;
    c.state = k.state;
    c.restarts = k.restarts;
    if (k.process && k.type == child_type::supervisor) {
      auto sub = handle<supervisor_msg>::from(k.process);
      if (sub) {
        tree_node below = co_await inspect_tree(sub.value());
        c.info = std::move(below.info);
        c.children = std::move(below.children);
        c.error = std::move(below.error);
      } else {
        c.info = co_await inspect(k.process);  // a supervisor of another kind: shown, not walked
      }
    } else if (k.process) {
      c.info = co_await inspect(k.process);
    }
    t.children.push_back(std::move(c));
  }
  co_return t;
}

namespace {
void text_of(const tree_node& t, int depth, std::string& out) {
  out.append(static_cast<std::size_t>(depth) * 2, ' ');
  out += t.id.empty() ? (depth == 0 ? "supervisor" : "child") : t.id;
  out += ' ';
  out += t.info.process ? t.info.process.to_string() : std::string("undefined");
  out += ' ';
  out += to_string(t.type);
  out += ' ';
  out += t.info.process && t.state == child_info::status::running ? to_string(t.info.state) : to_string(t.state);
  if (depth > 0) out += " restarts=" + std::to_string(t.restarts);
  if (t.info.process) out += " mailbox=" + std::to_string(t.info.mailbox);
  if (!t.error.empty()) out += " error=\"" + t.error + "\"";
  out += '\n';
  for (auto& c : t.children) text_of(c, depth + 1, out);
}

void json_string(std::string_view s, std::string& out) {
  out += '"';
  for (char ch : s) {
    const auto u = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (u < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", u);
      out += buf;
    } else {
      out += ch;
    }
  }
  out += '"';
}

void info_fields(const process_info& i, std::string& out) {
  out += "\"pid\":";
  json_string(i.process ? i.process.to_string() : "undefined", out);
  out += ",\"status\":";
  json_string(to_string(i.state), out);
  out += ",\"message_type\":";
  json_string(i.message_type, out);
  out += ",\"mailbox\":" + std::to_string(i.mailbox);
  out += ",\"links\":" + std::to_string(i.links);
  out += ",\"monitors\":" + std::to_string(i.monitors);
  out += ",\"monitored_by\":" + std::to_string(i.monitored_by);
  out += ",\"trap_exit\":";
  out += i.trap_exit ? "true" : "false";
  out += ",\"parent\":";
  json_string(i.parent ? i.parent.to_string() : "undefined", out);
  out += ",\"shard\":" + std::to_string(i.shard);
}

void json_of(const tree_node& t, std::string& out) {
  out += "{\"id\":";
  json_string(t.id, out);
  out += ",\"type\":";
  json_string(to_string(t.type), out);
  out += ",\"child_status\":";
  json_string(to_string(t.state), out);
  out += ",\"restarts\":" + std::to_string(t.restarts) + ",";
  info_fields(t.info, out);
  if (!t.error.empty()) {
    out += ",\"error\":";
    json_string(t.error, out);
  }
  if (t.type == child_type::supervisor) {
    out += ",\"children\":[";
    for (std::size_t k = 0; k < t.children.size(); ++k) {
      if (k) out += ',';
      json_of(t.children[k], out);
    }
    out += ']';
  }
  out += '}';
}
}  // namespace

std::string to_text(const tree_node& t) {
  std::string out;
  text_of(t, 0, out);
  return out;
}

std::string to_json(const tree_node& t) {
  std::string out;
  json_of(t, out);
  return out;
}

std::string to_json(const process_info& i) {
  std::string out = "{";
  info_fields(i, out);
  out += '}';
  return out;
}

}  // namespace otp
