// SPDX-License-Identifier: MIT
#pragma once
// How a child_start (otp/supervisor.hpp) spawns its child: the type-erased
// starter a supervisor calls, and the one start_fn and spawn_fn make.
// Included at the end of otp/supervisor.hpp.

#include <otp/supervisor.hpp>

#include <memory>
#include <tuple>
#include <utility>

namespace otp::detail {

struct child_starter {
  virtual ~child_starter() = default;
  /// Spawns the child from the calling process `sup`, linked, with the
  /// acknowledgement slot `ack` (nullptr for spawn_fn children), and the
  /// supervisor's extra arguments. Throws std::invalid_argument when the
  /// extra arguments are not those the start function takes.
  /// Returns the child's pid, or the error of a name it could not take
  /// (errc::already_started with the holder; errc::noproc for a registry
  /// that is not running): the child then never ran.
  virtual result<pid> spawn(reply_slot* ack, process_base& sup, const spawn_options& o,
                            const extra_args& extra) const = 0;
  bool acks = true;  ///< start_fn: the supervisor waits for init_ack
};

inline child_start child_start_access::make(std::shared_ptr<const child_starter> s) noexcept {
  return child_start(std::move(s));
}
inline const child_starter* child_start_access::starter(const child_start& c) noexcept { return c.starter_.get(); }

}  // namespace otp::detail

namespace otp {
namespace detail {
[[noreturn]] void wrong_extra_arguments(const extra_args& given, const char* expected);

template <class... E, class F, class... A>
class child_start_of<std::tuple<E...>, F, A...> final : public child_starter {
 public:
  child_start_of(bool acks, F f, A... a) : f_(std::move(f)), args_(std::move(a)...) { this->acks = acks; }
  result<pid> spawn(reply_slot* ack, process_base& sup, const spawn_options& o,
                    const extra_args& extra) const override {
    using want = std::tuple<E...>;
    if (sizeof...(E) == 0 ? !extra.empty() : extra.tag() != tag_of<want>())
      wrong_extra_arguments(extra, sizeof...(E) == 0 ? "none" : type_name_of<want>());
    // Each start gets fresh copies: the spec outlives any one child.
    error refused;
    pid child = std::apply(
        [&](const auto&... a) {
          if constexpr (sizeof...(E) == 0) {
            return pid(spawn_with_ack(ack, &refused, nullptr, &sup, o, F(f_), a...).pid);
          } else {
            return std::apply(
                [&](const auto&... x) {
                  return pid(spawn_with_ack(ack, &refused, nullptr, &sup, o, F(f_), x..., a...).pid);
                },
                *static_cast<const want*>(extra.values()));
          }
        },
        args_);
    if (!child) return refused;
    return child;
  }

 private:
  F f_;
  std::tuple<A...> args_;
};
}  // namespace detail

}  // namespace otp
