// SPDX-License-Identifier: MIT
#pragma once
// The part of a process control block a pid refers to, and message type tags
// (see otp/pid.hpp; the rest of the block is in detail/process_base.hpp).

#include <otp/detail/intrusive_ref.hpp>

#include <cstdint>
#include <typeinfo>

namespace otp::detail {

/// Identifies a message type at run time: one address per type, which also
/// knows the type's (mangled) name for error messages.
struct type_desc {
  const char* (*name)() noexcept;
};
using type_tag = const type_desc*;
template <class T>
const char* type_name_of() noexcept {
  return typeid(T).name();
}
template <class T>
inline constexpr type_desc type_desc_of{&type_name_of<T>};
template <class T>
constexpr type_tag tag_of() noexcept {
  return &type_desc_of<T>;
}

/// The part of a process control block a pid needs; the rest is in
/// detail/process_base.hpp.
struct process_header {
  ref_count refs;  ///< the pids naming it, and the process itself
  std::uint64_t id = 0;
  type_tag message_type = nullptr;
};

void destroy_process(process_header* p) noexcept;

inline void intrusive_retain(process_header* p) noexcept { p->refs.add(); }
inline void intrusive_release(process_header* p) noexcept {
  if (p->refs.drop()) destroy_process(p);
}

}  // namespace otp::detail
