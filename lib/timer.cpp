// SPDX-License-Identifier: MIT
// The body behind include/otp/timer.hpp: a delayed message goes into its
// target's shard's timer queue (the queue itself is the shard's, in
// lib/runtime.cpp).
#include "runtime_core.hpp"

#include <otp/timer.hpp>

namespace otp::detail {

void schedule_delayed(process_core& target, delayed_send* e, duration delay) {
  shard& s = *target.home.load(std::memory_order_acquire);  // if it moves, the entry follows (follow_or_fire)
  if (current_shard() == &s) {
    s.heap_push(*e, s.core.clk->now() + delay);
    if (current() == nullptr) s.arm();  // in a timer or completion handler, not the drain
    return;
  }
  s.core.post_to(s, [e, delay](shard& sh) { sh.heap_push(*e, sh.core.clk->now() + delay); });
}

}  // namespace otp::detail
