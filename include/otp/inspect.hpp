// SPDX-License-Identifier: MIT
#pragma once
// Introspection for a user debugging a live system: what one process is
// doing (Erlang's process_info), the whole supervision tree below a
// supervisor, as text for a terminal and as JSON for tools, and how the
// runtime's shards share the work.
//
//   auto info = (co_await otp::inspect(some_pid));          // one process
//   auto tree = co_await otp::inspect_tree(root_sup);       // a task
//   std::puts(otp::to_text(tree).c_str());
//
// Both are read on the inspected process's own shard, so the numbers are a
// consistent snapshot of that process, never a torn read; a tree is a set of
// such snapshots taken one after the other while the system runs.
// Cancellation: if the caller ends while waiting, the answer is dropped.
// Thread safety: inspect and inspect_tree are awaited inside a process;
// to_text and to_json are plain functions of their argument; inspect_shards
// may be called from any thread.

#include <otp/supervisor.hpp>
#include <otp/task.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace otp {

/// A snapshot of one process.
struct process_info {
  enum class status : std::uint8_t {
    running,   ///< it is the caller
    runnable,  ///< ready to run, waiting for its turn
    waiting,   ///< suspended: in receive, a call, a timer or an Asio operation
    exited,    ///< it has ended (the other fields are empty)
  };
  pid process;
  status state = status::exited;
  std::string message_type;         ///< the type its mailbox takes, demangled
  std::size_t mailbox = 0;          ///< messages waiting to be received (its own type, exit and down messages)
  std::size_t links = 0;
  std::size_t monitors = 0;         ///< monitors it holds on others
  std::size_t monitored_by = 0;     ///< monitors others hold on it
  bool trap_exit = false;
  pid parent;
  std::size_t shard = 0;
};

const char* to_string(process_info::status s) noexcept;

/// One shard's share of the work (inspect_shards). The counters only grow.
struct shard_info {
  std::size_t index = 0;
  std::size_t live = 0;          ///< processes whose shard it is now
  std::uint64_t spawned = 0;     ///< processes placed here at their spawn
  std::uint64_t immigrated = 0;  ///< processes it took from busy shards
  std::uint64_t emigrated = 0;   ///< processes it handed to idle shards
  std::uint64_t steals = 0;      ///< hand-overs: times an idle shard took from this one
};

/// Each shard's figures, in index order. Each figure is exact when read;
/// together they are a snapshot only while no process runs. Never fails.
std::vector<shard_info> inspect_shards(runtime& rt);
/// The same for the calling process's runtime (outside a process: a broken
/// contract, OTP_ASSERT).
std::vector<shard_info> inspect_shards();

namespace detail {
struct info_slot;
class inspect_awaiter final : waiter {
 public:
  explicit inspect_awaiter(pid target) noexcept : target_(std::move(target)) {}
  inspect_awaiter(inspect_awaiter&& o) noexcept;
  ~inspect_awaiter();
  void bind(process_base& p) noexcept { p_ = &p; }
  bool await_ready();
  void await_suspend(std::coroutine_handle<>);
  process_info await_resume();
  bool ready(process_base& p) noexcept override;

 private:
  process_base* p_ = nullptr;
  pid target_;
  info_slot* slot_ = nullptr;
  std::optional<process_info> out_;
};
}  // namespace detail

/// Inside a process: a snapshot of `p` (status exited for a dead or null pid).
inline detail::inspect_awaiter inspect(pid p) noexcept { return detail::inspect_awaiter(std::move(p)); }

/// One supervisor or child in a tree snapshot.
struct tree_node {
  std::string id;        ///< the child id in its supervisor ("" for the root and dynamic children)
  child_type type = child_type::supervisor;
  child_info::status state = child_info::status::running;
  std::uint64_t restarts = 0;
  process_info info;     ///< of the process, when it runs
  std::vector<tree_node> children;  ///< for supervisors, in their start order
  std::string error;     ///< why the children of a supervisor could not be listed, if so
};

/// Inside a process: walks the tree below `root` (which_children on each
/// supervisor, inspect on each process), depth first.
otp::task<tree_node> inspect_tree(supervisor_ref root);

/// One line per process, indented by depth:
///   cache <0.12.0> worker running restarts=2 mailbox=0
std::string to_text(const tree_node& t);
/// {"id":"cache","type":"worker","child_status":"running","restarts":2,"pid":"<0.12.0>",
///  "status":"waiting","message_type":"int","mailbox":0,"links":1,"monitors":0,
///  "monitored_by":0,"trap_exit":false,"parent":"<0.9.0>","shard":0}; supervisors add
///  "children":[...] (and "error" when their children could not be listed).
std::string to_json(const tree_node& t);
std::string to_json(const process_info& i);

}  // namespace otp
