// SPDX-License-Identifier: MIT
// The bodies behind include/otp/process.hpp: spawning (a control block, pid
// numbers, the closure, the first run), the calling process's own
// operations (self, link, monitor, exit, ...), and a send that waits for
// room in a bounded mailbox.
#include "runtime_core.hpp"

#include <otp/asio.hpp>

#include <stdexcept>
#include <string>

namespace otp::detail {

// ---------------------------------------------------------------- spawn

namespace {
std::atomic<std::uint64_t> next_pid_number{1};  // one sequence for the program: pids are never reused
constexpr std::uint64_t pid_block = 1024;

// A shard takes pid numbers from the sequence in blocks, so a spawn costs no
// atomic increment; a spawn from outside any process takes one directly.
std::uint64_t take_pid_number(shard* s) noexcept {
  if (!s) return next_pid_number.fetch_add(1, std::memory_order_relaxed);
  if (s->id_next == s->id_end) {
    s->id_next = next_pid_number.fetch_add(pid_block, std::memory_order_relaxed);
    s->id_end = s->id_next + pid_block;
  }
  return s->id_next++;
}
}

namespace {
/// The shard spawn_options asks for, when it is not simply the spawner's.
[[gnu::noinline]] shard& placed(runtime_core& core, shard* near, const spawn_options& o) {
  if (o.shard) {
    if (*o.shard >= core.shards.size())
      throw std::out_of_range("otp::spawn: spawn_options::shard is " + std::to_string(*o.shard) +
                              ", but the runtime has " + std::to_string(core.shards.size()) + " shards");
    return *core.shards[*o.shard];
  }
  if (o.place == placement::balanced) return core.balanced_shard(near);
  return *core.shards[core.round_robin.fetch_add(1, std::memory_order_relaxed) % core.shards.size()];
}
}  // namespace

process_base* new_process(runtime* rt, process_base* parent, const spawn_options& o, type_tag tag) {
  shard* const near = parent ? parent->home() : nullptr;  // the spawner's shard (it runs there now)
  runtime_core& core = rt ? core_of(*rt) : near->core;
  OTP_ASSERT(parent || !(o.link || o.monitor), "otp::spawn_opt: link and monitor need a calling process");
  const bool local = near && !o.shard && o.place == placement::local;
  shard* const home = local ? near : &placed(core, near, o);
  auto* c = new process_core;
  c->id = take_pid_number(near && current_shard() == near ? near : nullptr);
  c->message_type = tag;
  c->home.store(home, std::memory_order_relaxed);  // published by the queue that hands the body over
  c->bound = o.mailbox_bound;
  c->policy = o.on_full;
  process_base* p;
  try {
    p = new process_base(*c);
  } catch (...) {
    delete c;
    throw;
  }
  c->body = p;
  p->reductions = home->reductions;
  p->trap_exit = o.trap_exit;
  p->pinned = o.shard || o.pin;
  if (parent) p->parent = pid_of(*parent);
  return p;
}

void start_process(process_base& p, process_base* parent, const spawn_options& o, monitor_ref* mon,
                   bool may_run_inline) {
  if (o.link) {
    parent->links.add(pid_of(p));
    p.links.add(pid_of(*parent));
  }
  if (o.monitor) {
    *mon = parent->monitors.add(parent->id, pid_of(p));
    p.watchers.add(*mon, pid_of(*parent));
  }
  shard& s = *p.home();
  if (parent && parent->home() == &s && current_shard() == &s) {
    s.adopt(p, true);
    if (++parent->spawn_streak >= config::spawn_batch && may_run_inline && parent->in_body && !s.nested) {
      // A spawn loop: run what it spawned so far before it goes on.
      parent->spawn_streak = 0;
      s.nested = true;
      for (unsigned k = 1; process_base* c = s.fresh_head; ++k) {
        s.fresh_head = c->run_next;
        s.run(*c);
        // A long spawn loop is one long turn of the spawner: let an idle
        // shard take some of what it has made, as the drain would.
        if (s.core.migration && k % 16 == 0) s.give_away();
      }
      s.nested = false;
    }
  } else {
    s.incoming.fetch_add(1, std::memory_order_relaxed);  // its load until it adopts p (balanced_shard)
    s.push_remote(p);
  }
}

bool name_spawned(process_base& p, const name& n, error* refused) {
  result<void> named = ok();
  try {
    named = register_spawned(p, n);
  } catch (...) {
    abandon_process(p);
    throw;
  }
  if (named) return true;
  abandon_process(p);
  if (!refused) throw name_refused(std::move(named).error());
  *refused = std::move(named).error();
  return false;
}

void abandon_process(process_base& p) noexcept {
  if (p.frame) {
    auto f = std::exchange(p.frame, {});
    p.resume_point = {};
    f.destroy();  // created, never run
  }
  end_exit_hooks(p, false);
  p.links.clear();
  p.drop_closure();
  process_core* c = p.core;
  c->body = nullptr;
  delete &p;
  intrusive_release(c);
}

void promise_base::unhandled_exception() noexcept {
  // One rethrow: a throw costs about a microsecond, and a crash storm is
  // made of them.
  try {
    self->reason = exit_reason::from_current_exception();
  } catch (...) {  // no memory for the reason's text
    self->reason = exit_reason::other("out_of_memory");
  }
}

void unlink_from(process_base& p, const pid& t) {
  if (!t || !p.links.remove(t)) return;
  send_signal(*as_core(t), new signal_node(node_kind::unlink, pid_of(p)));
}

monitor_ref monitor_from(process_base& p, const pid& t) {
  monitor_ref r = p.monitors.add(p.id, t);
  if (!t)  // the null pid behaves as a dead one
    send_signal(p, new signal_node(node_kind::down_signal, t, exit_reason::noproc(), r));
  else
    send_signal(*as_core(t), new signal_node(node_kind::monitor, pid_of(p), {}, r));
  return r;
}

bool demonitor_from(process_base& p, const monitor_ref& r, bool flush) {
  pid target;
  const bool was_active = p.monitors.remove(r, &target);
  if (target) send_signal(*as_core(target), new signal_node(node_kind::demonitor, pid_of(p), {}, r));
  if (flush) {
    if (node* n = p.remove_first([&](node* x) {
          return x->kind == node_kind::down_message && static_cast<signal_node*>(x)->ref == r;
        }))
      delete n;
  }
  return was_active;
}

void flush_exit_message(process_base& p, const pid& from) noexcept {
  if (node* n = p.remove_first([&](node* x) {
        return x->kind == node_kind::exit_message && static_cast<signal_node*>(x)->from == from;
      }))
    delete n;
}

void reply_slot::publish(int final_state) noexcept {
  state.store(final_state, std::memory_order_seq_cst);
  if (auto* w = as_core(waiter)) {
    if (w->try_unblock()) schedule(*w);
  } else {
    woken();
  }
}

}  // namespace otp::detail

namespace otp {

// ---------------------------------------------------------------- public API

using namespace otp::detail;

pid self() { return pid_of(current_or_throw("otp::self")); }

time_point now() { return detail::now(current_or_throw("otp::now")); }

asio::any_io_executor executor() {
  process_base& p = current_or_throw("otp::executor");
  p.pinned = true;  // its handlers will be bound to this strand
  return shard_executor(p);
}

pid parent() { return current_or_throw("otp::parent").parent; }

std::size_t current_shard() { return current_or_throw("otp::current_shard").home()->index; }

std::size_t shard_count() { return current_or_throw("otp::shard_count").home()->core.shards.size(); }

bool is_alive(const pid& p) noexcept { return p && !as_core(p)->exiting.load(std::memory_order_acquire); }

void link(const pid& t) {
  auto& p = current_or_throw("otp::link");
  if (t.id() == p.id) return;
  if (!p.links.add(t)) return;  // idempotent
  if (!t) {  // the null pid behaves as a dead one: noproc, at the next suspension
    send_signal(p, new signal_node(node_kind::link_exit, t, exit_reason::noproc()));
    return;
  }
  send_signal(*as_core(t), new signal_node(node_kind::link, pid_of(p)));
}

void unlink(const pid& t) { unlink_from(current_or_throw("otp::unlink"), t); }

monitor_ref monitor(const pid& t) { return monitor_from(current_or_throw("otp::monitor"), t); }

bool demonitor(const monitor_ref& r, demonitor_option opt) {
  return demonitor_from(current_or_throw("otp::demonitor"), r, opt == demonitor_option::flush);
}

bool trap_exit(bool on) { return std::exchange(current_or_throw("otp::trap_exit").trap_exit, on); }

void exit(const pid& t, exit_reason reason) {
  if (!t) return;
  process_base* me = current();
  send_signal(*as_core(t), new signal_node(node_kind::exit_signal, me ? pid_of(*me) : pid(), std::move(reason)));
}

void exit(exit_reason reason) { throw exit_exception(std::move(reason)); }

// ---------------------------------------------------------------- sent

namespace detail {

// Overflow::wait. No wake-up comes when room appears in the target's
// mailbox, so the sender polls it with a growing back-off on its timer queue.
class room_waiter final : public waiter, public timer_entry {
 public:
  room_waiter(process_base& p, node* n, pid target) noexcept : p_(p), n_(n), target_(std::move(target)) {
    woken_from_outside = false;
  }
  ~room_waiter() {
    if (armed()) timer_remove(p_, *this);
    delete n_;
  }
  bool ready(process_base& p) noexcept override {
    if (!n_) return true;
    auto* t = as_core(target_);
    if (t->exiting.load(std::memory_order_acquire)) {
      delete std::exchange(n_, nullptr);
      status = send_status::dropped;
    } else if (t->queued.fetch_add(1, std::memory_order_relaxed) < t->bound) {
      status = deliver(*t, std::exchange(n_, nullptr));
    } else {
      t->queued.fetch_sub(1, std::memory_order_relaxed);
      if (!armed()) {
        backoff_ = backoff_ == duration{} ? std::chrono::microseconds(20)
                                          : std::min<duration>(backoff_ * 2, std::chrono::milliseconds(1));
        timer_add(p, *this, backoff_);
      }
      return false;
    }
    if (armed()) timer_remove(p, *this);
    return true;
  }
  timer_entry* own_timer() noexcept override { return this; }
  void fire() noexcept override {
    if (p_.try_unblock()) schedule(p_);
  }
  send_status status = send_status::full;

 private:
  process_base& p_;
  node* n_;
  pid target_;
  duration backoff_{};
};

room_waiter* wait_for_room(process_base& p, node* n, pid target) {
  auto* w = new room_waiter(p, n, std::move(target));
  p.wait = w;
  return w;
}
send_status room_status(room_waiter* w) noexcept { return w->status; }
void drop_room_waiter(room_waiter* w) noexcept { delete w; }

}  // namespace detail

void sent::release() noexcept {
  delete pending_;
  if (room_) detail::drop_room_waiter(room_);
}

}  // namespace otp
