// SPDX-License-Identifier: MIT
// The runtime: shards, the drain loop, the per-process run loop, signals and
// exits. See runtime_core.hpp and detail/process_base.hpp for the protocol.

#include "runtime_core.hpp"

#include <otp/asio.hpp>
#include <otp/timer.hpp>

#include <asio/bind_executor.hpp>
#include <asio/execution/outstanding_work.hpp>
#include <asio/post.hpp>
#include <asio/prefer.hpp>

#include <cstdio>
#include <stdexcept>
#include <thread>

namespace otp::detail {

// ---------------------------------------------------------------- per-thread state
// Read only through these non-inline functions (docs/toolchain.md section 6).
namespace {
thread_local process_base* tl_process = nullptr;
thread_local shard* tl_shard = nullptr;
}  // namespace

process_base* current() noexcept { return tl_process; }
shard* current_shard() noexcept { return tl_shard; }

process_base& current_or_throw(const char* what) {
  if (auto* p = tl_process) [[likely]]
    return *p;
  contract_violated(std::string(what) + " called outside a process");
}

namespace {
struct process_scope {
  explicit process_scope(process_base* p) noexcept : prev(tl_process) { tl_process = p; }
  ~process_scope() { tl_process = prev; }
  process_base* prev;
};
struct shard_scope {
  explicit shard_scope(shard* s) noexcept : prev(tl_shard) { tl_shard = s; }
  ~shard_scope() { tl_shard = prev; }
  shard* prev;
};

node* reverse(node* n) noexcept {
  node* out = nullptr;
  while (n) {
    node* next = n->next;
    n->next = out;
    out = n;
    n = next;
  }
  return out;
}
}  // namespace

// ---------------------------------------------------------------- scheduling

void schedule(process_core& c) noexcept {
  process_base& p = *c.body;  // the caller won the wake-up: the process is blocked and alive
  shard& s = *c.home.load(std::memory_order_acquire);  // it cannot move while blocked
  if (tl_shard == &s) {
    s.push_local(p);
    s.schedule_drain();
  } else {
    s.push_remote(p);
  }
}

void shard::schedule_drain() noexcept {
  if (scheduled.load(std::memory_order_relaxed)) return;
  if (scheduled.exchange(true, std::memory_order_seq_cst)) return;
  core.busy.fetch_add(1, std::memory_order_seq_cst);
  asio::post(strand, [this] { drain(); });
}

void shard::push_remote(process_base& p) noexcept { push_remote_chain(p, p); }

void shard::post_task(shard_job* t) noexcept {
  auto* h = remote_tasks.load(std::memory_order_relaxed);
  do {
    t->next = h;
  } while (!remote_tasks.compare_exchange_weak(h, t, std::memory_order_release, std::memory_order_relaxed));
  schedule_drain();
}

process_base* shard::pop_next() noexcept {
  // Fresh spawns first, depth-first (a tree of short-lived processes stays
  // small), but never more than fresh_streak_max in a row while woken
  // processes wait: those run in FIFO order.
  if (fresh_head && (fresh_streak < config::fresh_streak_max || !run_head)) {
    ++fresh_streak;
    process_base* p = fresh_head;
    fresh_head = p->run_next;
    return p;
  }
  fresh_streak = 0;
  process_base* p = run_head;
  if (p) {
    run_head = p->run_next;
    if (!run_head) run_tail = nullptr;
  }
  return p;
}

void shard::enter_live(process_base& p) noexcept {
  p.all_prev = all_tail;
  p.all_next = nullptr;
  (all_tail ? all_tail->all_next : all_head) = &p;
  all_tail = &p;
  const std::size_t n = live.load(std::memory_order_relaxed);
  live.store(n + 1, std::memory_order_relaxed);
  if (n == 0) work = asio::prefer(core.executor, asio::execution::outstanding_work.tracked);
}

void shard::leave_live(process_base& p) noexcept {
  (p.all_prev ? p.all_prev->all_next : all_head) = p.all_next;
  (p.all_next ? p.all_next->all_prev : all_tail) = p.all_prev;
  p.all_prev = p.all_next = nullptr;
}

void shard::adopt(process_base& p, bool fresh) noexcept {
  p.started = true;
  spawned.store(spawned.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  enter_live(p);
  if (fresh) {
    p.run_next = fresh_head;
    fresh_head = &p;
  } else {
    push_local(p);
  }
}

namespace {
/// How often a drain looks for a hungry shard while it has work queued (a
/// power of two).
constexpr int resumes_between_steal_checks = 16;
}  // namespace

void shard::drain() noexcept {
  shard_scope scope(this);
  if (hungry.load(std::memory_order_relaxed)) hungry.store(false, std::memory_order_relaxed);
  for (;;) {
    // Processes first, so that a job (shutdown's, say) finds every process
    // that reached this shard before it.
    if (remote_procs.load(std::memory_order_relaxed)) {
      process_base* p = remote_procs.exchange(nullptr, std::memory_order_acquire);
      process_base* fifo = nullptr;
      while (p) {
        process_base* n = p->remote_next.load(std::memory_order_relaxed);
        p->remote_next.store(fifo, std::memory_order_relaxed);
        fifo = p;
        p = n;
      }
      std::size_t spawned_here = 0;
      while (fifo) {
        process_base* n = fifo->remote_next.load(std::memory_order_relaxed);
        if (fifo->emigrant) {
          adopt_immigrant(*fifo);
        } else if (fifo->started) {
          push_local(*fifo);
        } else {
          adopt(*fifo, false);
          ++spawned_here;
        }
        fifo = n;
      }
      if (spawned_here) incoming.fetch_sub(spawned_here, std::memory_order_relaxed);
    }
    if (remote_tasks.load(std::memory_order_relaxed)) {
      shard_job* t = remote_tasks.exchange(nullptr, std::memory_order_acquire);
      shard_job* fifo = nullptr;
      while (t) {
        shard_job* n = t->next;
        t->next = fifo;
        fifo = t;
        t = n;
      }
      while (fifo) {
        shard_job* n = fifo->next;
        if (fifo->run(*this)) delete fifo;
        fifo = n;
      }
    }
    if (core.virtual_clock && !heap.empty()) fire_due();

    int budget = drain_budget;
    while (budget-- > 0) {
      process_base* p = pop_next();
      if (!p) break;
      run(*p);
      // Now and then, while a burst of wake-ups lasts: share it.
      if ((budget & (resumes_between_steal_checks - 1)) == 0 && core.migration && (run_head || fresh_head))
        give_away();
    }
    soon_flush();
    if (run_head || fresh_head) {  // budget spent: let other handlers run, then continue
      if (core.migration) give_away();
      arm();
      asio::post(strand, [this] { drain(); });
      return;
    }
    if (remote_procs.load(std::memory_order_relaxed) || remote_tasks.load(std::memory_order_relaxed)) continue;
    arm();
    if (core.migration) hungry.store(true, std::memory_order_relaxed);
    scheduled.store(false, std::memory_order_seq_cst);
    if ((remote_procs.load(std::memory_order_seq_cst) || remote_tasks.load(std::memory_order_seq_cst)) &&
        !scheduled.exchange(true, std::memory_order_seq_cst))
      continue;
    break;
  }
  if (core.busy.fetch_sub(1, std::memory_order_seq_cst) == 1) core.on_idle();
}

// ---------------------------------------------------------------- moving processes
// See docs/scheduling.md. A shard hands processes over only at the end of a
// drain whose budget ran out with work left, and only to a shard that said
// it is hungry; the receiver adopts them in its own drain. Between the two,
// the process is in no run list and no live list, and only the receiver
// will touch it.

bool shard::movable(const process_base& p) noexcept {
  // Messages waiting: it is talking with others, likely on this shard (a
  // consumer fed by producers here). Moved away, each exchange would cost a
  // wake-up across threads, and its new shard would sleep between batches.
  if (p.first || p.inbox_pending()) return false;
  return !p.pinned && !p.exit_pending && !p.dying && !(p.wait && p.wait->holds_shard);
}

void shard::give_away() noexcept {
  // Two queued to run again at least, or there is nothing to share.
  const bool two = run_head && run_head->run_next;
  if (!two || core.stopping.load(std::memory_order_relaxed)) return;
  if (steal_skip) {  // the last hand-overs found nothing that may move
    --steal_skip;
    return;
  }
  const std::size_t n = core.shards.size();
  for (std::size_t k = 1; k < n; ++k) {
    shard& t = *core.shards[(index + k) % n];
    if (!t.hungry.load(std::memory_order_relaxed) || !t.hungry.exchange(false, std::memory_order_relaxed)) continue;
    soon_flush();  // a timer that travels needs its absolute deadline
    if (hand_over(t)) {
      steals.store(steals.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
      fruitless = 0;
    } else {
      // Everything queued here is pinned or waiting on its Asio operation
      // (a server's connections, say), and a shard that keeps going idle
      // for a moment would have us walk the run lists each time: wait
      // twice as long after each fruitless try, up to 1024 looks.
      fruitless = std::min(fruitless + 1, 10u);
      t.hungry.store(true, std::memory_order_relaxed);  // still hungry: another may feed it
      steal_skip = (1u << fruitless) - 1;
    }
    return;  // one at a time: the next drain may feed another
  }
}

std::size_t shard::hand_over(shard& to) noexcept {
  process_base* head = nullptr;  // what goes, chained by remote_next
  process_base* tail = nullptr;
  std::size_t moved = 0;
  // Keeps the first half (rounded up) of a run list and every process that
  // may not move; the rest goes. Returns the last process kept.
  auto split = [&](process_base*& first) -> process_base* {
    std::size_t len = 0;
    for (process_base* p = first; p; p = p->run_next) ++len;
    process_base* kept = nullptr;
    process_base* p = first;
    for (std::size_t i = 0; i < (len + 1) / 2; ++i) {
      kept = p;
      p = p->run_next;
    }
    while (p) {
      process_base* next = p->run_next;
      if (!movable(*p)) {
        (kept ? kept->run_next : first) = p;
        kept = p;
        p = next;
        continue;
      }
      // Out of the live list; its timer comes out of the heap with it.
      leave_live(*p);
      if (p->wait)
        if (timer_entry* e = p->wait->own_timer(); e && e->armed()) {
          heap_erase(*e);  // soon_flush ran: it is in the heap, its deadline absolute
          p->carries_timer = true;
        }
      p->emigrant = true;
      p->kills_seen = kills_done;
      p->remote_next.store(nullptr, std::memory_order_relaxed);
      if (tail)
        tail->remote_next.store(p, std::memory_order_relaxed);
      else
        head = p;
      tail = p;
      ++moved;
      p = next;
    }
    (kept ? kept->run_next : first) = nullptr;
    return kept;
  };
  // Only processes that have run and want to run again: a fresh one may end
  // at once (a spawn loop's short-lived children), and moving it would cost
  // more than running it, its end signals crossing back to its parent.
  run_tail = split(run_head);
  if (!moved) return 0;
  core.in_transit.fetch_add(moved, std::memory_order_relaxed);
  live.store(live.load(std::memory_order_relaxed) - moved, std::memory_order_release);
  emigrated.store(emigrated.load(std::memory_order_relaxed) + moved, std::memory_order_relaxed);
  // The new owner is published before the hand-over: from here on only `to`
  // touches these bodies (the queue's release orders our writes before it).
  for (process_base* p = head; p; p = p->remote_next.load(std::memory_order_relaxed))
    p->core->home.store(&to, std::memory_order_release);
  to.push_remote_chain(*head, *tail);
  return moved;
}

void shard::adopt_immigrant(process_base& p) noexcept {
  p.emigrant = false;
  enter_live(p);
  core.in_transit.fetch_sub(1, std::memory_order_relaxed);
  immigrated.store(immigrated.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  if (p.carries_timer) {
    p.carries_timer = false;
    timer_entry& e = *p.wait->own_timer();
    heap_push(e, e.deadline);
  }
  push_local(p);
  // A kill_all() or shutdown() that went round while it was on its way: a
  // kill this shard has done and the one it came from had not.
  if (p.kills_seen < kills_done) {
    p.kills_seen = kills_done;
    otp::exit(pid_of(p), exit_reason::kill());
  }
  if (core.stopping.load(std::memory_order_acquire)) shutdown_root(p);
}

void shard::push_remote_chain(process_base& first, process_base& last) noexcept {
  auto* h = remote_procs.load(std::memory_order_relaxed);
  do {
    last.remote_next.store(h, std::memory_order_relaxed);
  } while (!remote_procs.compare_exchange_weak(h, &first, std::memory_order_release, std::memory_order_relaxed));
  schedule_drain();
}

shard& runtime_core::balanced_shard(shard* near) noexcept {
  const std::size_t n = shards.size();
  if (n == 1) return *shards[0];
  // splitmix64 of a shared counter: two distinct shards, cheaply, from any thread.
  std::uint64_t x = round_robin.fetch_add(1, std::memory_order_relaxed) + 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  x ^= x >> 31;
  shard& a = *shards[x % n];
  shard& b = *shards[(x % n + 1 + (x >> 32) % (n - 1)) % n];
  auto load = [](const shard& s) {
    return s.live.load(std::memory_order_relaxed) + s.incoming.load(std::memory_order_relaxed);
  };
  const std::size_t la = load(a), lb = load(b);
  if (la != lb) return la < lb ? a : b;
  return &b == near ? b : a;
}

// The per-process loop: merge the inbox, ask the wait whether to resume,
// block if not; resume; repeat while the process keeps finding work.
void shard::run(process_base& p) noexcept {
  int resumes = 0;
  for (;;) {
    merge(p);
    if (p.exit_pending && !p.dying && !p.finished) {
      if (!begin_exit(p)) return;  // ended (p may be gone): nothing more to do
    }
    if (p.wait) {
      if (!p.wait->ready(p)) {
        if (!p.try_block()) continue;  // something arrived meanwhile
        // Asleep; a waker schedules it. A condition set from outside (an Asio
        // completion, a reply) may have landed just before the block: re-check.
        if (!p.wait->woken_from_outside || !p.wait->ready(p)) return;
        if (!p.try_unblock()) return;  // a waker got there first and scheduled it
      }
      p.wait = nullptr;
    }
    if (p.dying) {
      destroy_frame(p);
      finish(p);
      return;
    }
    if (++resumes > drain_budget) {  // keep the shard fair
      push_local(p);
      return;
    }
    {
      process_scope scope(&p);
      p.spawn_streak = 0;
      p.in_body = true;
      p.resume_point.resume();
      p.in_body = false;
    }
    if (p.frame.done()) {
      p.core->exiting.store(true, std::memory_order_release);
      destroy_frame(p);
      finish(p);
      return;
    }
    if (p.yield_requested) {
      p.yield_requested = false;
      p.reductions = reductions;
      push_local(p);
      return;
    }
  }
}

// ---------------------------------------------------------------- signals

namespace {
/// Takes an exit signal. True when it is a kill for a process that is
/// already ending but held by an operation (p.dying): it is killed now, and
/// the caller fires its links and monitors at once, as for any kill.
bool on_exit_signal(process_base& p, signal_node* n, bool via_link) noexcept {
  const exit_reason& r = n->reason;
  if (p.exit_pending) {
    const bool kill = !via_link && r.is(exit_kind::kill);
    const bool kill_now = kill && p.dying && !p.links_fired;
    if (kill_now) p.reason = exit_reason::killed();
    if (kill && !p.dying) p.kill_pending = true;  // begin_exit decides, once it knows whether it must wait
    delete n;
    return kill_now;
  }
  if (!via_link && r.is(exit_kind::kill)) {
    p.reason = exit_reason::killed();
    p.exit_pending = true;
    delete n;
    return false;
  }
  if (p.trap_exit) {
    n->kind = node_kind::exit_message;
    p.append(n);
    return false;
  }
  if (r.is(exit_kind::normal)) {
    if (!via_link && n->from.id() == p.id) {
      p.reason = exit_reason::normal();
      p.exit_pending = true;
    }
    delete n;
    return false;
  }
  p.reason = r;
  p.exit_pending = true;
  delete n;
  return false;
}
}  // namespace

/// Empties p's exit hooks: each runs (`ran`: the process ended) or is
/// discarded (it never ran, or the runtime is torn down with it stranded).
void end_exit_hooks(process_base& p, bool ran) noexcept {
  for (exit_hook* h = std::exchange(p.exit_hooks, nullptr); h;) {
    exit_hook* next = h->next_hook;
    if (ran)
      h->on_exit(p);
    else
      h->discard();
    h = next;
  }
}

/// p is dead to the world but its frame must wait (an Asio operation or
/// offloaded work still refers to it): the hooks that make it findable (a
/// registry's entries, a local name) run now; the others wait for finish.
static void end_name_hooks(process_base& p) noexcept {
  for (exit_hook** at = &p.exit_hooks; *at;) {
    exit_hook* h = *at;
    if (h->at_death) {
      *at = h->next_hook;
      h->on_exit(p);
    } else {
      at = &h->next_hook;
    }
  }
}

void release_answered(process_base& p) noexcept {
  while (p.watching && !p.watching->open()) {
    reply_slot* done = std::exchange(p.watching, p.watching->watch_next);
    done->release();
    --p.watch_count;
  }
}

namespace {
/// A request taken into p's mailbox: p answers it with its exit reason if it
/// ends before anyone replies. This is the request's monitor of p, without
/// the monitor and demonitor signals: the list is p's alone, and slots that
/// were answered (or given up) leave it lazily. The front goes at once when
/// it is closed (the usual case: one call at a time, answered before the
/// next arrives); the whole list is swept when it doubles, so its length
/// stays within twice the requests really open. Takes the slot's reference.
void watch(process_base& p, reply_slot* s) noexcept {
  release_answered(p);
  s->watch_next = std::exchange(p.watching, s);
  if (++p.watch_count < p.watch_prune_at) return;
  for (reply_slot** at = &p.watching; *at;) {
    reply_slot* x = *at;
    if (x->open()) {
      at = &x->watch_next;
    } else {
      *at = x->watch_next;
      x->release();
      --p.watch_count;
    }
  }
  p.watch_prune_at = std::max<std::uint32_t>(8, p.watch_count * 2);
}

/// p ended: every request still open fails with p's reason (`answer`), or is
/// simply let go (the runtime is being torn down).
void drop_watches(process_base& p, const exit_reason* answer) noexcept {
  for (reply_slot* x = std::exchange(p.watching, nullptr); x;) {
    reply_slot* next = x->watch_next;
    if (answer) x->end(*answer);
    x->release();
    x = next;
  }
  p.watch_count = 0;
}
}  // namespace

namespace {
/// A request that reached an ended process: link and monitor expect an
/// answer, `why` (noproc when it had ended before the request arrived, its
/// exit reason when the request was already in its mailbox as it ended);
/// anything else is dropped. Consumes `n`.
void answer_ended(process_core& dead, node* n, const exit_reason& why) noexcept {
  auto* s = static_cast<signal_node*>(n);
  if ((s->kind == node_kind::link || s->kind == node_kind::monitor) && s->from) {
    const bool link = s->kind == node_kind::link;
    send_signal(*as_core(s->from), new signal_node(link ? node_kind::link_exit : node_kind::down_signal,
                                                      pid::share(&dead), why, link ? monitor_ref() : s->ref));
  }
  delete n;
}
void answer_noproc(process_core& dead, node* n) noexcept { answer_ended(dead, n, exit_reason::noproc()); }
}  // namespace

void shard::merge(process_base& p) noexcept {
  if (!p.inbox_pending()) return;
  node* n = reverse(reinterpret_cast<node*>(p.core->inbox.exchange(process_core::inbox_empty, std::memory_order_seq_cst)));
  int messages = 0;
  while (n) {
    node* next = n->next;
    if (n->kind == node_kind::message) {
      if (n->request) [[unlikely]]
        watch(p, n->take_slot());
      p.append(n);
      ++messages;
      n = next;
      continue;
    }
    auto* s = static_cast<signal_node*>(n);
    switch (s->kind) {
      case node_kind::exit_signal:
        if (on_exit_signal(p, s, false)) {
          // A kill does not wait for the operation that holds the frame.
          end_exit_hooks(p, true);
          fire_links_and_monitors(p);
        }
        break;
      case node_kind::link_exit:
        if (p.links.remove(s->from))
          on_exit_signal(p, s, true);
        else
          delete s;
        break;
      case node_kind::down_signal:
        if (p.monitors.remove(s->ref)) {
          s->kind = node_kind::down_message;
          p.append(s);
        } else {
          delete s;
        }
        break;
      case node_kind::link:
        if (p.links_fired) {  // killed, its frame still held: dead to the asker
          answer_noproc(*p.core, s);
          break;
        }
        if (s->from.id() != p.id) p.links.add(s->from);
        delete s;
        break;
      case node_kind::unlink:
        p.links.remove(s->from);
        delete s;
        break;
      case node_kind::monitor:
        if (p.links_fired) {
          answer_noproc(*p.core, s);
          break;
        }
        p.watchers.add(s->ref, std::move(s->from));
        delete s;
        break;
      case node_kind::demonitor:
        p.watchers.remove(s->ref);
        delete s;
        break;
      default:  // exit_message / down_message never travel through the inbox
        delete s;
        break;
    }
    n = next;
  }
  // A receiver may take, in this turn, as many messages as arrived since its
  // last one: with many senders it keeps up instead of being buried.
  if (messages) p.reductions = std::min(p.reductions + messages, config::max_reductions);
}


void send_signal(process_core& to, node* n) noexcept {
  switch (to.push(n)) {
    case process_core::push_result::woke:
      schedule(to);
      return;
    case process_core::push_result::ok:
      return;
    case process_core::push_result::closed:
      answer_noproc(to, n);
      return;
  }
}

// ---------------------------------------------------------------- ends

bool shard::begin_exit(process_base& p) noexcept {
  p.core->exiting.store(true, std::memory_order_release);
  if (p.wait && p.wait->cancel(p)) {
    // An Asio operation still refers to the frame: wait for its handler.
    // Its names go now; a kill does not wait for the handler either.
    p.dying = true;
    if (p.kill_pending) p.reason = exit_reason::killed();  // a kill came right behind: it does not wait
    if (p.reason.is(exit_kind::killed)) {
      end_exit_hooks(p, true);
      fire_links_and_monitors(p);
    } else {
      end_name_hooks(p);
    }
    return true;
  }
  p.wait = nullptr;
  destroy_frame(p);
  finish(p);  // may free p
  return false;
}

void shard::destroy_frame(process_base& p) noexcept {
  if (p.frame) {
    process_scope scope(&p);
    auto f = std::exchange(p.frame, {});
    p.resume_point = {};
    f.destroy();  // the body's frame owns the tasks it awaits: they go with it
  }
  p.wait = nullptr;
  p.drop_closure();
}

void shard::fire_links_and_monitors(process_base& p) noexcept {
  if (p.links_fired) return;
  p.links_fired = true;
  // Each signal takes its own reference to the core: no temporary pid (every
  // pid copy is an atomic increment).
  p.links.for_each([&](const pid& l) {
    send_signal(*as_core(l), new signal_node(node_kind::link_exit, pid_of(p), p.reason));
  });
  p.links.clear();
  p.watchers.for_each([&](const monitor_ref& r, const pid& w) {
    send_signal(*as_core(w), new signal_node(node_kind::down_signal, pid_of(p), p.reason, r));
  });
  p.watchers.clear();
}

void shard::finish(process_base& p) noexcept {
  if (p.finished) return;
  p.finished = true;
  p.core->exiting.store(true, std::memory_order_release);
  // Close the mailbox; answer what still waits in it.
  auto h = p.core->inbox.exchange(process_core::inbox_closed, std::memory_order_seq_cst);
  node* n = h > process_core::inbox_closed ? reverse(reinterpret_cast<node*>(h)) : nullptr;
  while (n) {
    node* next = n->next;
    if (n->kind != node_kind::message) {
      answer_ended(*p.core, n, p.reason);  // it was alive when these were sent
    } else {
      if (n->request) [[unlikely]]
        watch(p, n->take_slot());
      delete n;
    }
    n = next;
  }
  while (node* m = p.pop_front()) delete m;
  end_exit_hooks(p, true);
  fire_links_and_monitors(p);
  drop_watches(p, &p.reason);  // after the links, as a monitor's down
  // Ended without acknowledging ready: tell the starter, after the links
  // fired, so that an exit message it flushes is already on its way.
  if (reply_slot* a = std::exchange(p.ack, nullptr)) {
    a->owner_ended(p.reason);
    a->release();
  }
  p.monitors.for_each(p.id, [&](const monitor_ref& r, const pid& target) {
    send_signal(*as_core(target), new signal_node(node_kind::demonitor, pid_of(p), {}, r));
  });
  // A crash report, as proc_lib writes one: the process itself ended with an
  // abnormal reason (an escaped exception, exit(R)); not when an exit signal
  // ended it, which runs none of its code.
  if (!p.reason.clean() && !p.exit_pending && core.options.log) {
    log_event e;
    e.what = log_event::kind::crash_report;
    e.process = pid_of(p);
    e.reason = p.reason;
    e.text = "process " + e.process.to_string() + " crashed: " + p.reason.to_string();
    core.log(e);
  }
  leave_live(p);
  process_core* c = p.core;
  c->body = nullptr;
  delete &p;  // the owner state goes now, while its memory is hot; pids keep the core
  const std::size_t left = live.load(std::memory_order_relaxed) - 1;
  live.store(left, std::memory_order_relaxed);
  if (left == 0) {
    // What is left in the timer queue is for processes that ended, or that
    // moved to another shard: those entries follow them.
    soon_flush();
    for (auto* e : heap) e->heap_index = timer_entry::not_armed;
    std::vector<timer_entry*> stale;
    stale.swap(heap);
    for (auto* e : stale) follow_or_fire(*e);
    arm();
    work = asio::any_io_executor();
  }
  intrusive_release(c);  // the runtime's own reference
}

void destroy_process(process_header* h) noexcept { delete static_cast<process_core*>(h); }

// ---------------------------------------------------------------- timers

void shard::sift_up(std::size_t i) noexcept {
  auto less = [](timer_entry* a, timer_entry* b) {
    return a->deadline < b->deadline || (a->deadline == b->deadline && a->seq < b->seq);
  };
  timer_entry* e = heap[i];
  while (i > 0) {
    std::size_t parent = (i - 1) / 2;
    if (!less(e, heap[parent])) break;
    heap[i] = heap[parent];
    heap[i]->heap_index = i;
    i = parent;
  }
  heap[i] = e;
  e->heap_index = i;
}

void shard::sift_down(std::size_t i) noexcept {
  auto less = [](timer_entry* a, timer_entry* b) {
    return a->deadline < b->deadline || (a->deadline == b->deadline && a->seq < b->seq);
  };
  timer_entry* e = heap[i];
  const std::size_t n = heap.size();
  for (;;) {
    std::size_t c = 2 * i + 1;
    if (c >= n) break;
    if (c + 1 < n && less(heap[c + 1], heap[c])) ++c;
    if (!less(heap[c], e)) break;
    heap[i] = heap[c];
    heap[i]->heap_index = i;
    i = c;
  }
  heap[i] = e;
  e->heap_index = i;
}

void shard::heap_push(timer_entry& e, time_point deadline) noexcept {
  if (e.armed()) heap_erase(e);
  e.deadline = deadline;
  e.seq = timer_seq++;
  heap.push_back(&e);
  sift_up(heap.size() - 1);
}

void shard::heap_erase(timer_entry& e) noexcept {
  std::size_t i = e.heap_index;
  if (i == timer_entry::not_armed) return;
  e.heap_index = timer_entry::not_armed;
  if (i >= timer_entry::in_soon) {
    timer_entry* moved = soon.back();
    soon[i - timer_entry::in_soon] = moved;
    moved->heap_index = moved == &e ? timer_entry::not_armed : i;
    soon.pop_back();
    return;
  }
  timer_entry* last = heap.back();
  heap.pop_back();
  if (last == &e) return;
  heap[i] = last;
  last->heap_index = i;
  sift_up(i);
  sift_down(last->heap_index);
}

void shard::fire_due() noexcept {
  if (heap.empty()) return;
  const time_point now = core.clk->now();
  while (!heap.empty() && heap.front()->deadline <= now) {
    timer_entry* e = heap.front();
    heap_erase(*e);
    e->fire();
  }
}

void shard::arm() noexcept {
  const auto top = heap.empty() ? time_point::max() : heap.front()->deadline;
  next_deadline.store(heap.empty() ? INT64_MAX : top.time_since_epoch().count(), std::memory_order_release);
  if (core.virtual_clock) return;
  if (heap.empty()) {
    if (timer_armed) {
      timer_armed = false;
      armed_at = time_point::max();
      timer.cancel();
    }
    return;
  }
  if (timer_armed && top >= armed_at) return;
  timer_armed = true;
  armed_at = top;
  timer.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(top - core.clk->now()));
  timer.async_wait([this, at = top](const std::error_code& ec) {
    if (ec || armed_at != at) return;
    shard_scope scope(this);
    timer_armed = false;
    armed_at = time_point::max();
    fire_due();
    arm();
  });
}

void timer_add(process_base& p, timer_entry& e, duration after) noexcept {
  shard& s = *p.home();
  if (e.armed()) s.heap_erase(e);
  if (tl_shard == &s) {  // inside the drain: soon_flush() runs before it ends
    e.deadline = time_point(after);
    e.heap_index = timer_entry::in_soon + s.soon.size();
    s.soon.push_back(&e);
    return;
  }
  s.heap_push(e, s.core.clk->now() + after);
  if (s.heap.front() == &e) s.arm();
}

void shard::follow_or_fire(timer_entry& e) noexcept {
  process_core* c = e.follows();
  if (!c || c->exiting.load(std::memory_order_acquire)) {
    e.fire();  // for nobody now: a delayed send to an ended process releases itself
    return;
  }
  shard* h = c->home.load(std::memory_order_acquire);
  if (h == this) {  // on its way here
    heap_push(e, e.deadline);
    return;
  }
  core.post_to(*h, [&e](shard& t) {
    if (t.live.load(std::memory_order_relaxed) == 0)
      t.follow_or_fire(e);  // it moved on again, or ended
    else
      t.heap_push(e, e.deadline);
  });
}

void shard::soon_flush() noexcept {
  if (soon.empty()) return;
  const time_point now = core.clk->now();
  for (timer_entry* e : soon) {
    e->heap_index = timer_entry::not_armed;
    heap_push(*e, now + e->deadline.time_since_epoch());
  }
  soon.clear();
}

void timer_remove(process_base& p, timer_entry& e) noexcept { p.home()->heap_erase(e); }

time_point now(process_base& p) noexcept { return p.home()->core.clk->now(); }

// ---------------------------------------------------------------- the core

shard::shard(runtime_core& c, std::size_t idx)
    : core(c),
      index(idx),
      drain_budget(c.options.drain_budget),
      reductions(c.options.reductions),
      strand(asio::make_strand(c.executor)),
      timer(strand) {}

shard::~shard() = default;

runtime_core::runtime_core(asio::any_io_executor ex, runtime_options o)
    : executor(std::move(ex)), options(std::move(o)) {
  names.reset(make_local_names());
  clk = options.clock ? options.clock : std::make_shared<steady_clock_source>();
  virtual_clock = clk->is_virtual();
  std::size_t n = options.shards ? options.shards : std::max(1u, std::thread::hardware_concurrency());
  if (n > 255) throw std::invalid_argument("otp::runtime: at most 255 shards");
  if (options.drain_budget < 1 || options.reductions < 1)
    throw std::invalid_argument("otp::runtime: drain_budget and reductions must be at least 1");
  for (std::size_t i = 0; i < n; ++i) shards.push_back(std::make_unique<shard>(*this, i));
  migration = options.migration && n > 1;
  for (auto& s : shards) s->hungry.store(migration, std::memory_order_relaxed);  // nothing to run yet
}

void runtime_core::on_idle() noexcept {
  // Nothing runnable, no Asio operation of a process in flight.
  std::int64_t earliest = INT64_MAX;
  for (auto& s : shards) earliest = std::min(earliest, s->next_deadline.load(std::memory_order_acquire));
  if (earliest != INT64_MAX) {
    if (!virtual_clock) return;  // idle, waiting on time
    clk->advance_to(time_point(duration(earliest)));
    const std::int64_t now_ns = clk->now().time_since_epoch().count();
    for (auto& s : shards)
      if (s->next_deadline.load(std::memory_order_acquire) <= now_ns) s->schedule_drain();
    return;
  }
  if (live_count() > 0 && options.on_deadlock) options.on_deadlock();
}

std::size_t runtime_core::live_count() const noexcept {
  std::size_t n = 0;
  for (auto& s : shards) n += s->live.load(std::memory_order_acquire);
  return n;
}

void runtime_core::log(const log_event& e) const noexcept {
  if (!options.log) return;
  try {
    options.log(e);
  } catch (...) {
  }
}

void op_started(process_base& p) noexcept { p.home()->core.busy.fetch_add(1, std::memory_order_seq_cst); }
void op_finished(process_base& p) noexcept {
  if (p.home()->core.busy.fetch_sub(1, std::memory_order_seq_cst) == 1) p.home()->core.on_idle();
}

asio::any_io_executor shard_executor(process_base& p) { return p.home()->strand; }
const asio::strand<asio::any_io_executor>& shard_strand(process_base& p) noexcept { return p.home()->strand; }

void op_completed(process_base& p) noexcept {
  shard& s = *p.home();
  {
    shard_scope scope(&s);  // the handler runs on the shard's strand
    if (p.try_unblock()) schedule(p);
  }
  op_finished(p);  // after the wake-up, so the runtime never looks idle in between
}

}  // namespace otp::detail

namespace otp {
using namespace otp::detail;

// ---------------------------------------------------------------- runtime

runtime_core& detail::core_of(runtime& rt) noexcept { return *rt.core_; }

runtime::runtime(asio::any_io_executor ex, runtime_options options)
    : core_(std::make_unique<detail::runtime_core>(std::move(ex), std::move(options))) {}

runtime::~runtime() {
  // Offloaded work may write into a frame destroyed below: let it finish.
  if (core_->offload_pool) core_->offload_pool->join();
  // Processes still alive here were stranded by io_context::stop(): destroy
  // their frames (their destructors run) without firing links or monitors.
  for (auto& s : core_->shards) {
    shard_scope scope(s.get());
    std::vector<process_base*> stranded;
    for (auto* p = s->all_head; p; p = p->all_next) stranded.push_back(p);
    for (auto* p = s->remote_procs.exchange(nullptr); p; p = p->remote_next.load())
      if (!p->started || p->emigrant) stranded.push_back(p);  // not in any live list
    for (auto* p : stranded) {
      p->core->exiting.store(true);
      s->destroy_frame(*p);
    }
    for (auto* p : stranded) {
      auto h = p->core->inbox.exchange(process_core::inbox_closed);
      for (node* n = h > process_core::inbox_closed ? reinterpret_cast<node*>(h) : nullptr; n;) {
        node* next = n->next;
        delete n;
        n = next;
      }
      while (node* m = p->pop_front()) delete m;
      if (p->ack) std::exchange(p->ack, nullptr)->release();
      drop_watches(*p, nullptr);
      end_exit_hooks(*p, false);
      p->links.clear();
      p->watchers.clear();
      p->monitors.clear();
      p->parent = pid();
    }
    for (auto* p : stranded) {
      process_core* c = p->core;
      c->body = nullptr;
      delete p;
      intrusive_release(c);
    }
    for (auto* t = s->remote_tasks.exchange(nullptr); t;) {
      auto* n = t->next;
      delete t;
      t = n;
    }
    s->soon_flush();
    std::vector<timer_entry*> rest;
    rest.swap(s->heap);
    for (auto* e : rest) e->heap_index = timer_entry::not_armed;
    for (auto* e : rest) e->fire();  // delayed sends to ended processes release themselves
    s->work = asio::any_io_executor();
  }
}

namespace detail {
void shard::shutdown_root(process_base& p) noexcept {
  if (std::exchange(p.shutdown_seen, true)) return;
  // Only a root: a process linked to a live parent is stopped by it (a
  // supervisor stops its children in reverse start order, per their
  // shutdown specs) or goes down with it through the link.
  const pid& parent = p.parent;
  const bool under_parent =
      parent && !as_core(parent)->exiting.load(std::memory_order_acquire) && p.links.contains(parent);
  if (!under_parent) otp::exit(pid_of(p), exit_reason::shutdown());
  if (kill_timer_set) return;
  struct kill_timer final : timer_entry {
    explicit kill_timer(shard& sh) : s(sh) {}
    shard& s;
    void fire() noexcept override {
      s.kill_timer_set = false;
      for (auto* q = s.all_tail; q; q = q->all_prev) otp::exit(pid_of(*q), exit_reason::kill());
      delete this;
    }
  };
  kill_timer_set = true;
  heap_push(*new kill_timer(*this), time_point(duration(core.kill_at.load(std::memory_order_relaxed))));
}
}  // namespace detail

void runtime::shutdown() {
  // The first call sets the deadline; `stopping` publishes it.
  std::int64_t unset = INT64_MAX;
  const auto at = core_->clk->now() + core_->options.shutdown_timeout;
  core_->kill_at.compare_exchange_strong(unset, at.time_since_epoch().count(), std::memory_order_relaxed);
  if (core_->stopping.exchange(true)) return;
  core_->post_all([](shard& s) {
    for (auto* p = s.all_tail; p; p = p->all_prev) s.shutdown_root(*p);
  });
}

void runtime::kill_all() {
  const std::uint32_t g = core_->kill_generation.fetch_add(1, std::memory_order_relaxed) + 1;
  core_->post_all([g](shard& s) {
    s.kills_done = std::max(s.kills_done, g);
    for (auto* p = s.all_tail; p; p = p->all_prev) otp::exit(pid_of(*p), exit_reason::kill());
  });
}

std::size_t runtime::live() const noexcept {
  return core_->live_count();
}

runtime::activity runtime::state() const noexcept {
  if (core_->live_count() == 0) return activity::stopped;
  if (core_->busy.load() > 0) return activity::busy;
  for (auto& s : core_->shards)
    if (s->next_deadline.load() != INT64_MAX) return activity::idle_waiting;
  return activity::deadlocked;
}

otp::clock& runtime::clock() const noexcept { return *core_->clk; }
const asio::any_io_executor& runtime::executor() const noexcept { return core_->executor; }
std::size_t runtime::shard_count() const noexcept { return core_->shards.size(); }
void runtime::log(const log_event& e) const { core_->log(e); }

void log_to_stderr(const log_event& e) {
  std::string line = "otp: " + e.text + "\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace otp
