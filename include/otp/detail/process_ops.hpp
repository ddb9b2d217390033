// SPDX-License-Identifier: MIT
#pragma once
// How otp/process.hpp's send and spawn do it: delivering a message node
// (bounded mailboxes out of the common path), and making a process from a
// body (its closure kept in the control block, its name registered before
// anything can run it). Included at the end of otp/process.hpp, whose
// declarations it completes.

#include <otp/process.hpp>

#include <functional>
#include <type_traits>
#include <utility>

namespace otp {

namespace detail {
/// Pushes a message node, waking the target if it slept.
inline send_status deliver(process_core& to, node* n) noexcept {
  switch (to.push(n)) {
    case process_core::push_result::woke:
      schedule(to);
      return send_status::delivered;
    case process_core::push_result::ok:
      return send_status::delivered;
    case process_core::push_result::closed:
      break;
  }
  if (to.bound) to.queued.fetch_sub(1, std::memory_order_relaxed);
  delete n;
  return send_status::dropped;
}
}  // namespace detail

namespace detail {
// A bounded mailbox: the rare case, kept out of the common path.
template <class M, class Make>
[[gnu::noinline]] sent send_bounded(process_core& p, const handle<M>& to, Make& make) {
  if (p.queued.fetch_add(1, std::memory_order_relaxed) >= p.bound) {
    p.queued.fetch_sub(1, std::memory_order_relaxed);
    switch (p.policy) {
      case overflow::drop:
        return sent(send_status::dropped);
      case overflow::fail:
        return sent(send_status::full);
      case overflow::wait:
        return sent(make(), to);
    }
  }
  return sent(deliver(p, make()));
}

template <class M, class Make>
sent send_with(const handle<M>& to, Make make) {
  auto* p = as_core(to);
  if (!p || p->exiting.load(std::memory_order_relaxed)) return sent(send_status::dropped);
  if (p->bound) [[unlikely]]
    return send_bounded(*p, to, make);
  return sent(deliver(*p, make()));
}
}  // namespace detail

namespace detail {

process_base* new_process(runtime* rt, process_base* parent, const spawn_options& o, type_tag tag);
/// may_run_inline: whether this spawn may run the caller's fresh processes
/// inline (config::spawn_batch).
void start_process(process_base& p, process_base* parent, const spawn_options& o, monitor_ref* mon,
                   bool may_run_inline);
void abandon_process(process_base& p) noexcept;
/// Registers a process being spawned under its name, before anything can
/// run it. When the name cannot be taken, or registering throws, the process
/// is abandoned; then false with the error in *refused, or, when `refused`
/// is null, name_refused is thrown (an exception from registering is
/// rethrown either way). Out of line: the rare path stays out of every
/// spawn's inlined code.
bool name_spawned(process_base& p, const name& n, error* refused);

template <class Fn>
std::decay_t<Fn>& store_closure(process_base& p, Fn&& f) {
  using D = std::decay_t<Fn>;
  if constexpr (sizeof(D) <= config::inline_closure_size && alignof(D) <= alignof(std::max_align_t)) {
    auto* c = ::new (static_cast<void*>(p.closure_buf)) D(std::forward<Fn>(f));
    p.closure = c;
    p.closure_destroy = [](process_base& q) noexcept { static_cast<D*>(q.closure)->~D(); };
    return *c;
  } else {
    auto* c = new D(std::forward<Fn>(f));
    p.closure = c;
    p.closure_destroy = [](process_base& q) noexcept { delete static_cast<D*>(q.closure); };
    return *c;
  }
}

template <class F, class... A>
using body_t = std::invoke_result_t<std::decay_t<F>&, A...>;
template <class F, class... A>
using body_message_t = typename body_t<F, A...>::message_type;

/// spawn_impl, handing the new process a start acknowledgement slot (see
/// start.hpp) before anything can run it. A name that cannot be taken
/// (o.name) throws name_refused when `refused` is null; otherwise the error
/// goes into *refused and the result holds the null pid: synchronous starts
/// answer it as a value, without an exception.
template <class F, class... A>
auto spawn_with_ack(reply_slot* ack, error* refused, runtime* rt, process_base* parent, const spawn_options& o,
                    F&& f, A&&... a) -> spawned<body_message_t<F, A...>> {
  using P = body_t<F, A...>;
  static_assert(is_process_v<P>, "a process body must return otp::process<M>");
  using M = typename P::message_type;
  process_base* p = new_process(rt, parent, o, tag_of<M>());
  try {
    auto& fn = store_closure(*p, std::forward<F>(f));
    P proc = std::invoke(fn, std::forward<A>(a)...);
    auto h = proc.release();
    h.promise().self = p;
    p->frame = h;
    p->resume_point = h;
  } catch (...) {
    abandon_process(*p);
    throw;
  }
  if (o.name && !name_spawned(*p, o.name, refused)) [[unlikely]]
    return {};
  spawned<M> r{handle<M>::unchecked(pid_of(*p)), {}};
  if (ack) {
    ack->retain();  // the child's reference, dropped when it acknowledges or ends
    p->ack = ack;
  }
  // A synchronous start wires its wait only after this returns: not a point
  // to run the new child inline.
  start_process(*p, parent, o, &r.monitor, ack == nullptr);
  return r;
}

template <class F, class... A>
auto spawn_impl(runtime* rt, process_base* parent, const spawn_options& o, F&& f, A&&... a) {
  return spawn_with_ack(nullptr, nullptr, rt, parent, o, std::forward<F>(f), std::forward<A>(a)...);
}

}  // namespace detail

}  // namespace otp
