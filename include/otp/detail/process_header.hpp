// SPDX-License-Identifier: MIT
#pragma once
// The part of a process control block a pid refers to, and message type tags
// (see otp/pid.hpp; the rest of the block is in detail/process_base.hpp).

#include <atomic>
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
  std::atomic<std::uint32_t> refs{1};
  std::uint64_t id = 0;
  type_tag message_type = nullptr;
};

void destroy_process(process_header* p) noexcept;

inline void retain(process_header* p) noexcept {
  if (p) p->refs.fetch_add(1, std::memory_order_relaxed);
}
inline void release(process_header* p) noexcept {
  if (p && p->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) destroy_process(p);
}

}  // namespace otp::detail
