// SPDX-License-Identifier: MIT
// A process's link set, monitor table and watcher list (see
// include/otp/detail/process_base.hpp).
#include <otp/detail/process_base.hpp>

#include <algorithm>
#include <atomic>
#include <bit>

namespace otp {
namespace detail {

// ---------------------------------------------------------------- link_set

std::size_t pid_table::find(const pid& p) const noexcept {
  if (slots_.empty()) return 0;
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = home(p);; i = (i + 1) & mask) {
    if (!slots_[i]) return slots_.size();
    if (slots_[i] == p) return i;
  }
}

bool pid_table::contains(const pid& p) const noexcept { return find(p) < slots_.size(); }

void pid_table::grow() {
  std::vector<pid> old(slots_.empty() ? 8 : slots_.size() * 2);
  old.swap(slots_);
  shift_ = 64 - static_cast<unsigned>(std::countr_zero(slots_.size()));
  const std::size_t mask = slots_.size() - 1;
  for (auto& p : old) {
    if (!p) continue;
    std::size_t i = home(p);
    while (slots_[i]) i = (i + 1) & mask;
    slots_[i] = std::move(p);
  }
}

bool pid_table::insert(const pid& p) {
  if ((count_ + 1) * 2 > slots_.size()) grow();  // at most half full
  const std::size_t mask = slots_.size() - 1;
  std::size_t i = home(p);
  for (; slots_[i]; i = (i + 1) & mask)
    if (slots_[i] == p) return false;
  slots_[i] = p;
  ++count_;
  return true;
}

bool pid_table::erase(const pid& p) {
  std::size_t i = find(p);
  if (i >= slots_.size()) return false;
  const std::size_t mask = slots_.size() - 1;
  slots_[i] = pid();
  // Backward shift: pull up every entry of the run after i that may live at i.
  for (std::size_t j = (i + 1) & mask; slots_[j]; j = (j + 1) & mask) {
    const std::size_t h = home(slots_[j]);
    // Can slots_[j] move to i? Only if its home is not in (i, j] (cyclically).
    const bool between = i <= j ? (i < h && h <= j) : (i < h || h <= j);
    if (between) continue;
    slots_[i] = std::move(slots_[j]);
    i = j;
  }
  --count_;
  return true;
}

bool link_set::add(const pid& p) {
  if (big_) return big_->insert(p);
  for (std::uint32_t i = 0; i < n_; ++i)
    if (inline_[i] == p) return false;
  if (n_ < inline_max) {
    inline_[n_++] = p;
    return true;
  }
  auto t = std::make_unique<pid_table>();
  for (std::uint32_t i = 0; i < n_; ++i) t->insert(inline_[i]);
  t->insert(p);
  big_ = std::move(t);
  for (std::uint32_t i = 0; i < n_; ++i) inline_[i] = pid();
  n_ = 0;
  return true;
}

bool link_set::contains(const pid& p) const {
  if (big_) return big_->contains(p);
  for (std::uint32_t i = 0; i < n_; ++i)
    if (inline_[i] == p) return true;
  return false;
}

bool link_set::remove(const pid& p) {
  if (big_) return big_->erase(p);
  for (std::uint32_t i = 0; i < n_; ++i) {
    if (inline_[i] != p) continue;
    --n_;
    inline_[i] = i == n_ ? pid() : std::move(inline_[n_]);  // the moved-from last one is left null
    return true;
  }
  return false;
}

// ---------------------------------------------------------------- monitor_table

void monitor_table::clear() noexcept {
  for (std::uint32_t i = 0; i < used_; ++i) at(i).~slot();
  for (slot* c : chunks_) deallocate(c, sizeof(slot) * chunk_slots);
  chunks_.clear();
  used_ = 0;
  free_ = none;
  active_ = 0;
}

monitor_ref monitor_table::add(std::uint64_t owner, pid target) {
  std::uint32_t i;
  if (free_ != none) {
    i = free_;
    free_ = at(i).next_free;
  } else {
    if (used_ % chunk_slots == 0) {
      if (chunks_.size() == chunks_.capacity())  // may throw: nothing changed yet
        chunks_.reserve(chunks_.empty() ? 4 : 2 * chunks_.size());
      chunks_.push_back(static_cast<slot*>(allocate(sizeof(slot) * chunk_slots)));
    }
    i = used_++;
    new (&at(i)) slot();
  }
  slot& s = at(i);
  ++s.seq;
  s.target = std::move(target);
  ++active_;
  return monitor_ref(owner, i, s.seq);
}

bool monitor_table::remove(const monitor_ref& r, pid* target) {
  if (r.slot() >= used_) return false;
  slot& s = at(r.slot());
  if (!(s.seq & 1) || s.seq != r.seq()) return false;
  ++s.seq;
  --active_;
  if (target) *target = std::move(s.target);
  s.target = pid();
  s.next_free = free_;
  free_ = r.slot();
  return true;
}

// ---------------------------------------------------------------- watcher_list

void watcher_list::remove(const monitor_ref& r) noexcept {
  if (first_w_ && first_r_ == r) {
    if (rest_.empty()) {
      first_w_ = pid();
    } else {
      first_r_ = rest_.back().first;
      first_w_ = std::move(rest_.back().second);
      rest_.pop_back();
    }
    return;
  }
  for (std::size_t i = rest_.size(); i-- > 0;) {
    if (rest_[i].first == r) {
      rest_[i] = std::move(rest_.back());
      rest_.pop_back();
      return;
    }
  }
}

}  // namespace detail
}  // namespace otp
