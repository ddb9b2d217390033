// SPDX-License-Identifier: MIT
#pragma once
// The GCC 12 guard: a co_await that GCC before 13 would compile into a
// double free does not compile at all.
//
// GCC 12 miscompiles a co_await expression that holds a braced aggregate
// temporary whose members have destructors, or a lambda temporary that
// captures such a member by value:
//
//   struct echo { std::string text; };
//   co_await otp::call(s, echo{"hello"});        // GCC 12: text freed twice
//   co_await otp::offload([s] { return f(s); }); // likewise the captured s
//
// The temporary belongs to the awaiting coroutine's frame, so no callee can
// repair it. What otp can do is refuse it: each awaitable entry point looks
// at the arguments it was given as rvalues, and when one has such a type it
// returns its awaitable wrapped in `refused_temporary`; a process's (or
// task's) await_transform refuses to co_await that wrapper as a temporary.
// The spellings GCC 12 compiles correctly stay open:
//
//   - a message type with a constructor (not an aggregate):
//       struct echo { explicit echo(std::string t) : text(std::move(t)) {} std::string text; };
//   - construction in place, where the arguments are not aggregates:
//       co_await otp::send(h, std::in_place, "hello");
//       co_await otp::call(s, std::in_place_type<echo>, "hello");
//   - the awaitable named first, so the temporary dies in its own statement:
//       auto op = otp::call(s, echo{"hello"});
//       auto r = co_await op;
//   - lvalues: a named message or lambda is copied, never a temporary there.
//
// The guard sees types and value categories, not temporaries: an rvalue of
// such a type is refused even when it is a named value moved in
// (`co_await call(s, std::move(req))`), which GCC 12 compiles correctly;
// give the type a constructor. And it sees only what otp's own entry points
// are given: the arguments of your own task<T> coroutines (`co_await
// helper(Agg{...})`) are as exposed, and are not checked.
//
// Aggregates whose members have no destructor (struct pop {}; struct add {
// int n; }) are unaffected, and so are lambdas capturing by reference.
// What the guard cannot see: a temporary nested inside another argument
// (Msg{Agg{...}} where Msg has a constructor, std::function(lambda)); give
// such inner types constructors too.
//
// OTP_GUARD_AWAITED_TEMPORARIES (otp/config.hpp) turns the guard on or off.

#include <otp/config.hpp>

#include <coroutine>
#include <string_view>
#include <type_traits>
#include <utility>

namespace otp::detail {

/// Whether T is a lambda's closure type, read from the compiler's own
/// spelling of it: GCC's ends with `<lambda(...)>`, clang's is `(lambda at
/// file:line:col)`. A type declared inside a lambda, or a template of a
/// closure (std::optional<closure>), is not one.
template <class T>
consteval bool is_closure() {
  constexpr std::string_view f = __PRETTY_FUNCTION__;  // "... [with T = <spelling>]" or "... [T = <spelling>]"
  std::string_view t = f.substr(f.find("T = ") + 4);
  t = t.substr(0, t.rfind(']'));
  if (t.starts_with("(lambda at ")) return t.back() == ')' && t.find(")::") == std::string_view::npos;
  const std::size_t at = t.rfind("<lambda");
  if (at == std::string_view::npos || t.back() != '>') return false;
  if (at != 0 && (at < 2 || t.substr(at - 2, 2) != "::")) return false;
  int depth = 0;  // the bracket opened at `at` must close at the very end
  for (std::size_t i = at; i < t.size(); ++i) {
    if (t[i] == '<') ++depth;
    if (t[i] == '>' && --depth == 0) return i + 1 == t.size();
  }
  return false;
}

/// T, as a temporary inside co_await, is destroyed twice by GCC 12.
template <class T>
inline constexpr bool destroyed_twice = OTP_GUARD_AWAITED_TEMPORARIES && std::is_class_v<T> &&
                                        !std::is_trivially_destructible_v<T> &&
                                        (std::is_aggregate_v<T> || is_closure<T>());

/// Some argument, as forwarded (an rvalue: possibly a temporary), is of
/// such a type.
template <class... A>
inline constexpr bool holds_refused_temporary =
    ((!std::is_lvalue_reference_v<A> && destroyed_twice<std::remove_cvref_t<A>>) || ...);

/// An awaitable made from such a temporary: the same awaitable, which a
/// process co_awaits only by name (see the top of this header). `Args` are
/// the arguments it was made from, so that the compiler's message names the
/// offending type.
template <class Awaitable, class... Args>
class refused_temporary {
 public:
  explicit refused_temporary(Awaitable a) noexcept(std::is_nothrow_move_constructible_v<Awaitable>)
      : a_(std::move(a)) {}
  template <class P>
  void bind(P& p) noexcept {
    a_.bind(p);
  }
  decltype(auto) await_ready() { return a_.await_ready(); }
  decltype(auto) await_suspend(std::coroutine_handle<> h) { return a_.await_suspend(h); }
  decltype(auto) await_resume() { return a_.await_resume(); }
  /// A send's outcome (otp::sent) stays readable without awaiting it.
  decltype(auto) status() const noexcept
    requires requires(const Awaitable& a) { a.status(); }
  {
    return a_.status();
  }
  template <class S>
    requires std::is_enum_v<S> && std::is_convertible_v<const Awaitable&, S>
  operator S() const noexcept {
    return a_;
  }

 private:
  Awaitable a_;
};

template <class T>
inline constexpr bool is_refused_temporary = false;
template <class A, class... Args>
inline constexpr bool is_refused_temporary<refused_temporary<A, Args...>> = true;

/// What an entry point returns: its awaitable, wrapped when one of `Args`
/// is a refused temporary. Built as guarded<A, Args...>(A(...)), it is the
/// awaitable itself, with no extra move, in every other case.
template <class Awaitable, class... Args>
using guarded =
    std::conditional_t<holds_refused_temporary<Args...>, refused_temporary<Awaitable, std::remove_cvref_t<Args>...>,
                       Awaitable>;

}  // namespace otp::detail
