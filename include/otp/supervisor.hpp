// SPDX-License-Identifier: MIT
#pragma once
// Supervisors: OTP's supervisor, as a structured-concurrency scope.
//
// A supervisor is a process that traps exits and owns its children: it starts
// them in order, restarts them by its strategy when they end, and stops them
// (in reverse order) before it ends itself, so no child outlives it.
//
//   otp::process<> app() {
//     std::vector<otp::child_spec> children;
//     children.emplace_back("cache", otp::start_fn(cache, 1000));       // acks with init_ack
//     children.emplace_back("clock", otp::spawn_fn(ticker));           // ready once spawned
//     auto sup = (co_await otp::start_supervisor(otp::supervisor_flags(), std::move(children))).value();
//     auto kids = (co_await otp::which_children(sup)).value();
//     ...
//   }
//
// Semantics (OTP's supervisor module, exactly):
//
// Start. Children start one by one in spec order; child N+1 starts only once
// child N acknowledged its init (a body started with start_fn calls
// otp::init_ack; code after init_ack is its *continue* step, which runs while
// the supervisor goes on). A child that answers init_ignore is not running:
// its spec is kept (pid undefined), or dropped for a temporary child. A child
// that fails makes the whole start fail with errc::start_failed and the
// reason {shutdown,{failed_to_start_child,Id,Reason}}, after the children
// already started were stopped in reverse order.
//
// Restart. When a child ends: `permanent` is restarted always, `transient`
// only after an abnormal reason (not normal, shutdown or {shutdown,_}),
// `temporary` never (its spec is dropped). one_for_one restarts the child;
// one_for_all stops every other child (reverse order) and starts them all
// again (in order); rest_for_one does that for the children started after
// it. More than `intensity` restarts within `period` (a sliding window) and
// the supervisor stops all its children and exits with `shutdown`, so the
// failure goes up to its own supervisor. A restart whose start fails is
// reported, and retried through a message the supervisor sends itself, each
// try counting toward the intensity; meanwhile the supervisor answers its API
// (the child shows as `restarting`).
//
// Shutdown of a child, per its spec: brutal_kill is exit(child, kill);
// a timeout sends exit(child, shutdown) and kill when it expires; infinity
// waits. The supervisor monitors the child for this, so a child that unlinked
// itself cannot hang it. A child that ended on its own meanwhile keeps its
// own reason. The supervisor itself stops when its parent sends it an exit
// signal (exit(sup, shutdown), or the parent's own end through the link), or
// when the intensity is exceeded: all children stop in reverse start order
// before it ends.
//
// Errors are values: every call below returns otp::result. A dead supervisor
// gives errc::noproc (errc::exited if it dies during the call). Calls wait
// without a deadline by default, as OTP's do; pass a timeout to bound them.
// Cancellation: if the caller ends while waiting, the call is abandoned; the
// supervisor still carries out what was asked.
// Thread safety: the calls are awaited inside a process (outside one: a
// broken contract, OTP_ASSERT); child specs and supervisor_refs are values,
// to be copied to any thread.
//
// Reports go through the runtime's logging hook (log_event::kind::
// supervisor_report): context start_error, child_terminated, shutdown_error,
// or shutdown (intensity reached), with the child's id, pid and reason.
//
// GCC 12 destroys a braced aggregate temporary inside co_await twice
// (otp/detail/temporaries.hpp); child_spec, start_fn and the flags all have
// constructors, so `co_await otp::start_child(sup, otp::child_spec("id",
// otp::start_fn(f)))` is fine. Arguments given to start_fn are not checked:
// give their types constructors too.

#include <otp/request.hpp>
#include <otp/start.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <tuple>
#include <string>
#include <variant>
#include <vector>

namespace otp {

enum class restart_type : std::uint8_t {
  permanent,  ///< always restarted
  transient,  ///< restarted after an abnormal exit only
  temporary,  ///< never restarted; its spec is dropped when it ends
};

enum class child_type : std::uint8_t { worker, supervisor };

enum class restart_strategy : std::uint8_t { one_for_one, one_for_all, rest_for_one };

/// When a supervisor ends by itself because significant children ended.
enum class auto_shutdown : std::uint8_t {
  never,            ///< significant children are not allowed
  any_significant,  ///< when any significant child ends by itself
  all_significant,  ///< when the last significant child ends by itself
};

/// How a child is stopped.
class shutdown_policy {
 public:
  enum class kind : std::uint8_t { brutal_kill, timeout, infinity };
  /// exit(child, kill).
  static shutdown_policy brutal_kill() noexcept { return shutdown_policy(kind::brutal_kill, duration::zero()); }
  /// exit(child, shutdown), then kill after `d` (must not be negative).
  static shutdown_policy timeout(duration d) noexcept { return shutdown_policy(kind::timeout, d); }
  template <class Rep, class Period>
  static shutdown_policy timeout(std::chrono::duration<Rep, Period> d) noexcept {
    return timeout(std::chrono::duration_cast<duration>(d));
  }
  /// exit(child, shutdown), and wait as long as it takes (the default for supervisors).
  static shutdown_policy infinity() noexcept { return shutdown_policy(kind::infinity, duration::max()); }

  kind what() const noexcept { return kind_; }
  duration after() const noexcept { return after_; }
  /// "brutal_kill", "5000" (milliseconds, as OTP writes it), "infinity".
  std::string to_string() const;
  friend bool operator==(const shutdown_policy&, const shutdown_policy&) noexcept = default;

 private:
  shutdown_policy(kind k, duration d) noexcept : kind_(k), after_(d) {}
  kind kind_;
  duration after_;
};

/// Arguments a dynamic supervisor prepends to every child's start arguments
/// (DynamicSupervisor's extra_arguments). Make with otp::extra_arguments(a...);
/// a child takes them when its start function was built with otp::with_extra<T...>.
class extra_args {
 public:
  extra_args() noexcept = default;
  bool empty() const noexcept { return values_ == nullptr; }
  detail::type_tag tag() const noexcept { return tag_; }
  const void* values() const noexcept { return values_.get(); }
  const char* type_name() const noexcept { return tag_ ? tag_->name() : "none"; }

  template <class... T>
  friend extra_args extra_arguments(T... v);

 private:
  detail::type_tag tag_ = nullptr;
  std::shared_ptr<const void> values_;
};

/// The extra arguments of a dynamic supervisor, stored once, copied into each start.
template <class... T>
extra_args extra_arguments(T... v) {
  extra_args e;
  e.tag_ = detail::tag_of<std::tuple<T...>>();
  e.values_ = std::make_shared<const std::tuple<T...>>(std::move(v)...);
  return e;
}

/// Declares the types of the extra arguments a child's start function takes
/// first: otp::start_fn(otp::with_extra<db_ref>{}, conn, socket) starts
/// conn(db, socket) under a dynamic supervisor started with
/// otp::extra_arguments(db).
template <class... T>
struct with_extra {};

class child_start;
namespace detail {
struct child_starter;  // detail/child_start.hpp
template <class Extra, class F, class... A>
class child_start_of;
/// Makes a child_start from a starter, and reads its starter (the library only).
struct child_start_access {
  static child_start make(std::shared_ptr<const child_starter> s) noexcept;
  static const child_starter* starter(const child_start& c) noexcept;
};
}  // namespace detail

/// How a supervisor starts a child: a copyable, type-erased start function.
/// Make one with start_fn (the child acknowledges its init) or spawn_fn (the
/// child is ready as soon as it exists); the default one starts nothing (a
/// child spec with it is an invalid_spec).
class child_start {
 public:
  child_start() noexcept = default;
  explicit operator bool() const noexcept { return starter_ != nullptr; }

 private:
  friend struct detail::child_start_access;
  explicit child_start(std::shared_ptr<const detail::child_starter> s) noexcept : starter_(std::move(s)) {}
  std::shared_ptr<const detail::child_starter> starter_;
};

/// A child started as with start_link: the supervisor waits until the child
/// calls init_ack (or init_ignore / init_fail, or ends). Servers and
/// supervisors acknowledge by themselves. `f` and `args` are copied for each
/// start.
template <class F, class... A>
child_start start_fn(F&& f, A&&... args) {
  using impl = detail::child_start_of<std::tuple<>, std::decay_t<F>, std::decay_t<A>...>;
  return detail::child_start_access::make(std::make_shared<const impl>(true, std::forward<F>(f), std::forward<A>(args)...));
}
/// start_fn for a child of a dynamic supervisor with extra arguments: they
/// come first, then `args`.
template <class... E, class F, class... A>
child_start start_fn(with_extra<E...>, F&& f, A&&... args) {
  using impl = detail::child_start_of<std::tuple<E...>, std::decay_t<F>, std::decay_t<A>...>;
  return detail::child_start_access::make(std::make_shared<const impl>(true, std::forward<F>(f), std::forward<A>(args)...));
}

/// A child that needs no acknowledgement (a plain process, as spawn_link):
/// it counts as started once spawned.
template <class F, class... A>
child_start spawn_fn(F&& f, A&&... args) {
  using impl = detail::child_start_of<std::tuple<>, std::decay_t<F>, std::decay_t<A>...>;
  return detail::child_start_access::make(std::make_shared<const impl>(false, std::forward<F>(f), std::forward<A>(args)...));
}
template <class... E, class F, class... A>
child_start spawn_fn(with_extra<E...>, F&& f, A&&... args) {
  using impl = detail::child_start_of<std::tuple<E...>, std::decay_t<F>, std::decay_t<A>...>;
  return detail::child_start_access::make(std::make_shared<const impl>(false, std::forward<F>(f), std::forward<A>(args)...));
}

/// A child specification (OTP's child_spec map).
struct child_spec {
  child_spec(std::string id, child_start start, restart_type restart = restart_type::permanent,
             child_type type = child_type::worker)
      : id(std::move(id)), start(std::move(start)), restart(restart), type(type) {}

  std::string id;  ///< unique within its supervisor; not empty
  child_start start;
  restart_type restart;
  child_type type;
  /// Unset: 5 s for a worker, infinity for a supervisor.
  std::optional<shutdown_policy> shutdown;
  /// Unset: no name.
  otp::name name;
  /// Its own exit may end the supervisor (see auto_shutdown); not with permanent.
  bool significant = false;
  /// Where each start puts it (otp/process.hpp, "Shards"). Unset: the
  /// supervisor's default, placement::local for a supervisor, and
  /// dynamic_supervisor_options::place for a dynamic one.
  std::optional<otp::placement> place;

  // Chainable setters: child_spec("db", otp::start_fn(db)).with(restart_type::transient)
  child_spec&& with(restart_type r) && {
    restart = r;
    return std::move(*this);
  }
  child_spec&& with(child_type t) && {
    type = t;
    return std::move(*this);
  }
  child_spec&& with(shutdown_policy s) && {
    shutdown = s;
    return std::move(*this);
  }
  /// Starts the child under a name (otp::local, otp::via), registered
  /// before its body runs, at every restart too. A taken name fails the
  /// start with errc::already_started and the holder.
  child_spec&& with(otp::name n) && {
    name = std::move(n);
    return std::move(*this);
  }
  child_spec&& with(otp::placement p) && {
    place = p;
    return std::move(*this);
  }
  child_spec&& make_significant(bool yes = true) && {
    significant = yes;
    return std::move(*this);
  }
  /// The shutdown that applies: the one set, or the default for the type.
  shutdown_policy effective_shutdown() const noexcept {
    if (shutdown) return *shutdown;
    return type == child_type::supervisor ? shutdown_policy::infinity()
                                          : shutdown_policy::timeout(config::default_shutdown_timeout);
  }
};

/// The child spec of a type that knows its own (what `use GenServer` gives
/// Elixir modules): T's `static otp::child_spec child_spec(args...)` if it
/// declares one, else its `default_child_spec(args...)` (every otp::server
/// has one).
template <class T, class... A>
child_spec child(A&&... args) {
  if constexpr (requires { T::child_spec(std::forward<A>(args)...); })
    return T::child_spec(std::forward<A>(args)...);
  else
    return T::default_child_spec(std::forward<A>(args)...);
}

/// Supervisor flags (OTP's sup_flags). Defaults: one_for_one, 3 restarts in 5 s.
struct supervisor_flags {
  supervisor_flags(restart_strategy s = restart_strategy::one_for_one, int intensity = 3,
                   duration period = std::chrono::seconds(5),
                   otp::auto_shutdown a = otp::auto_shutdown::never) noexcept
      : strategy(s), intensity(intensity), period(period), auto_shutdown(a) {}
  restart_strategy strategy;
  int intensity;  ///< restarts allowed within `period`; >= 0
  duration period;  ///< > 0
  otp::auto_shutdown auto_shutdown;
};

/// Checks flags and children as a supervisor's start does: errc::invalid_spec
/// with a reason naming the problem (an empty id or start, a duplicate id, a
/// negative shutdown timeout, a bad enum value, significant with permanent or
/// with auto_shutdown never, a negative intensity, a period that is not
/// positive).
result<void> validate(const supervisor_flags& flags, const std::vector<child_spec>& children);
/// One child spec on its own (start_child checks this).
result<void> validate(const child_spec& spec, otp::auto_shutdown mode = otp::auto_shutdown::any_significant);

/// What which_children reports per child, in start order.
struct child_info {
  enum class status : std::uint8_t { running, restarting, undefined };
  std::string id;
  pid process;  ///< null unless running
  status state;
  child_type type;
  std::uint64_t restarts;  ///< times this child was restarted by the supervisor
  child_info(std::string i, pid p, status s, child_type t, std::uint64_t r)
      : id(std::move(i)), process(std::move(p)), state(s), type(t), restarts(r) {}
};

/// count_children: specs, running children, and specs by type.
struct child_counts {
  std::size_t specs = 0;
  std::size_t active = 0;
  std::size_t supervisors = 0;
  std::size_t workers = 0;
};

/// The messages a supervisor takes: its API calls (use the functions below).
struct supervisor_msg {
  struct start_child {
    child_spec spec;
    reply_to<result<pid>> reply;
  };
  struct terminate_child {
    std::string id;
    reply_to<result<void>> reply;
  };
  struct terminate_pid {  // dynamic supervisors: children are named by pid
    pid child;
    reply_to<result<void>> reply;
  };
  struct restart_child {
    std::string id;
    reply_to<result<pid>> reply;
  };
  struct delete_child {
    std::string id;
    reply_to<result<void>> reply;
  };
  struct which_children {
    reply_to<std::vector<child_info>> reply;
  };
  struct count_children {
    reply_to<child_counts> reply;
  };
  struct try_again {  // sent by the supervisor to itself after a failed restart
    std::uint64_t child;
  };
  using request = std::variant<start_child, terminate_child, terminate_pid, restart_child, delete_child,
                               which_children, count_children, try_again>;
  request what;
  template <class T>
  explicit supervisor_msg(T t) : what(std::move(t)) {}
};

using supervisor_ref = handle<supervisor_msg>;

namespace detail {
/// What the supervisor process is started with.
struct supervisor_config {
  supervisor_flags flags;
  std::vector<child_spec> children;
  /// Callback style: run in the supervisor, returns flags and children.
  std::function<std::pair<supervisor_flags, std::vector<child_spec>>()> init;
  bool dynamic = false;
  std::size_t max_children = 0;  ///< dynamic only; 0: no limit
  extra_args extra;              ///< dynamic only
  placement place = placement::local;  ///< children whose spec does not say
};
process<supervisor_msg> supervisor_main(supervisor_config cfg);

/// request<result<R>> whose two failures (the call's, the supervisor's) are one.
template <class R>
class flat_request {
 public:
  explicit flat_request(request_awaiter<result<R>> inner) noexcept : inner_(std::move(inner)) {}
  void bind(process_base& p) noexcept { inner_.bind(p); }
  bool await_ready() { return inner_.await_ready(); }
  void await_suspend(std::coroutine_handle<> h) { inner_.await_suspend(h); }
  result<R> await_resume() {
    auto r = inner_.await_resume();
    if (!r) return r.error();
    return std::move(r).value();
  }

 private:
  request_awaiter<result<R>> inner_;
};

/// start_supervisor's awaiter: an invalid spec fails at once, before any spawn.
template <class Ref>
class supervisor_start_of {
 public:
  using inner_t = start_awaiter<process<supervisor_msg> (*)(supervisor_config), supervisor_config>;
  supervisor_start_of(error e) : failed_(std::move(e)) {}
  supervisor_start_of(inner_t s) : inner_(std::move(s)) {}
  void bind(process_base& p) noexcept {
    if (inner_) inner_->bind(p);
  }
  bool await_ready() noexcept { return !inner_; }
  void await_suspend(std::coroutine_handle<> h) { inner_->await_suspend(h); }
  result<Ref> await_resume() {
    if (!inner_) return *failed_;
    auto r = inner_->await_resume();
    if (!r) return r.error();
    return Ref(std::move(r).value());
  }

 private:
  std::optional<inner_t> inner_;
  std::optional<error> failed_;
};
using supervisor_start = supervisor_start_of<supervisor_ref>;
}  // namespace detail

/// Starts a supervisor linked to the caller (inside a process) with these
/// flags and children, and waits until all children have started. Returns its
/// handle; errc::invalid_spec at once for bad flags or specs (nothing is
/// spawned); errc::start_failed (reason {shutdown,{failed_to_start_child,Id,R}})
/// when a child fails to start. `o` sets a start timeout, an unlinked start or
/// a shard; a mailbox bound is ignored (a supervisor's retries go through its
/// mailbox, so it is never bounded).
detail::supervisor_start start_supervisor(supervisor_flags flags, std::vector<child_spec> children,
                                          start_options o = {});

/// Callback style (seed 4.5): `init(args...)` runs inside the new supervisor
/// and returns its flags and children (a std::pair); it may call init_ignore()
/// or throw (the start then fails with start_failed and that reason). Invalid
/// returned specs fail the start with start_failed, reason {invalid_spec,...}.
/// GCC 12: `init` or an argument given as a braced aggregate or capturing
/// lambda temporary inside co_await does not compile there
/// (otp/detail/temporaries.hpp).
template <class Init, class... A>
detail::guarded<detail::supervisor_start, Init, A...> start_supervisor_with(Init&& init, A&&... args) {
  detail::supervisor_config c;
  c.init = [init = std::decay_t<Init>(std::forward<Init>(init)),
            ... args = std::decay_t<A>(std::forward<A>(args))]() mutable { return init(args...); };
  start_options o;  // linked, no timeout, unbounded mailbox
  return detail::guarded<detail::supervisor_start, Init, A...>(
      detail::supervisor_start(detail::start_unguarded(o, &detail::supervisor_main, std::move(c))));
}

/// A child spec that runs a supervisor (type supervisor, shutdown infinity).
child_spec supervisor_child(std::string id, supervisor_flags flags, std::vector<child_spec> children,
                            restart_type restart = restart_type::permanent);

/// Adds a child and starts it. Returns its pid (null if it answered ignore; the
/// spec is then kept, unless temporary). Errors: already_started (error::process
/// is the running child), already_present (a stopped child has that id),
/// invalid_spec, start_failed (nothing is kept).
detail::flat_request<pid> start_child(const supervisor_ref& sup, child_spec spec,
                                      duration timeout = duration::max());
/// Stops a child; its spec is kept (dropped for a temporary child).
/// Idempotent; errc::not_found for an unknown id.
detail::flat_request<void> terminate_child(const supervisor_ref& sup, std::string id,
                                           duration timeout = duration::max());
/// Starts a stopped child again (it does not count toward the intensity).
/// Errors: running, restarting, not_found, start_failed.
detail::flat_request<pid> restart_child(const supervisor_ref& sup, std::string id,
                                        duration timeout = duration::max());
/// Removes a stopped child's spec. Errors: running, restarting, not_found.
detail::flat_request<void> delete_child(const supervisor_ref& sup, std::string id,
                                        duration timeout = duration::max());
/// Every child, in start order.
detail::request_awaiter<std::vector<child_info>> which_children(const supervisor_ref& sup,
                                                                 duration timeout = duration::max());
detail::request_awaiter<child_counts> count_children(const supervisor_ref& sup,
                                                      duration timeout = duration::max());

const char* to_string(child_info::status s) noexcept;
const char* to_string(child_type t) noexcept;
const char* to_string(restart_type r) noexcept;

}  // namespace otp

// How the start functions above spawn a child, declared above.
#include <otp/detail/child_start.hpp>
