// SPDX-License-Identifier: MIT
// Value types: exit reasons, errors, pids, refs, and the link/monitor tables.

#include <otp/error.hpp>
#include <otp/exit_reason.hpp>
#include <otp/pid.hpp>
#include <otp/detail/process_base.hpp>

#include <cxxabi.h>

#include <algorithm>
#include <bit>
#include <atomic>
#include <cstdlib>
#include <memory>
#include <typeinfo>

namespace otp {

namespace detail {
std::string demangle(const char* name) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> d(abi::__cxa_demangle(name, nullptr, nullptr, &status), std::free);
  return status == 0 && d ? std::string(d.get()) : std::string(name);
}
}  // namespace detail

namespace {
using detail::demangle;
}  // namespace

// ---------------------------------------------------------------- exit_reason

struct exit_reason::data {
  mutable std::atomic<std::uint32_t> refs{1};
  std::string type;
  std::string text;
};

exit_reason::exit_reason(exit_kind k, std::string type, std::string text)
    : kind_(k), data_(new data{{1}, std::move(type), std::move(text)}) {}

void exit_reason::retain(const data* d) noexcept { d->refs.fetch_add(1, std::memory_order_relaxed); }

void exit_reason::release(const data* d) noexcept {
  if (d->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete d;
}

exit_reason exit_reason::shutdown(std::string payload) {
  if (payload.empty()) return shutdown();  // {shutdown,} is no term: plain shutdown
  return exit_reason(exit_kind::shutdown, {}, std::move(payload));
}

exit_reason exit_reason::error(std::string type, std::string what) {
  return exit_reason(exit_kind::error, std::move(type), std::move(what));
}

// The atoms Erlang gives a meaning are those reasons, whoever spells them:
// exit(other("normal")) is exit(normal). {shutdown,P} is shutdown(P).
exit_reason exit_reason::other(std::string term) {
  struct reserved {
    std::string_view atom;
    exit_reason (*make)() noexcept;
  };
  static constexpr reserved atoms[] = {{"normal", &normal},   {"shutdown", &shutdown}, {"kill", &kill},
                                       {"killed", &killed},   {"noproc", &noproc},     {"timeout", &timeout}};
  for (const auto& a : atoms)
    if (term == a.atom) return a.make();
  constexpr std::string_view open = "{shutdown,";
  if (term.size() > open.size() && term.starts_with(open) && term.back() == '}')
    return shutdown(term.substr(open.size(), term.size() - open.size() - 1));
  return exit_reason(exit_kind::other, {}, std::move(term));
}

exit_reason exit_reason::from_exception(std::exception_ptr e) {
  if (!e) return error("unknown", "");
  try {
    std::rethrow_exception(e);
  } catch (...) {
    return from_current_exception();
  }
}

exit_reason exit_reason::from_current_exception() {
  try {
    throw;
  } catch (const exit_exception& x) {
    return x.reason();
  } catch (const std::exception& x) {
    return error(demangle(typeid(x).name()), x.what());
  } catch (...) {
    const std::type_info* t = abi::__cxa_current_exception_type();
    return error(t ? demangle(t->name()) : "unknown", "");
  }
}

std::string_view exit_reason::payload() const noexcept { return data_ ? std::string_view(data_->text) : ""; }
std::string_view exit_reason::error_type() const noexcept { return data_ ? std::string_view(data_->type) : ""; }

std::string exit_reason::to_string() const {
  switch (kind_) {
    case exit_kind::normal:
      return "normal";
    case exit_kind::shutdown:
      return data_ ? "{shutdown," + data_->text + "}" : "shutdown";
    case exit_kind::kill:
      return "kill";
    case exit_kind::killed:
      return "killed";
    case exit_kind::noproc:
      return "noproc";
    case exit_kind::timeout:
      return "timeout";
    case exit_kind::error:
      return "{error," + data_->type + ",\"" + data_->text + "\"}";
    case exit_kind::other:
      return data_->text.empty() ? "''" : data_->text;  // the empty atom, as Erlang prints it
  }
  return "?";
}

bool operator==(const exit_reason& a, const exit_reason& b) noexcept {
  return a.kind_ == b.kind_ && a.payload() == b.payload() && a.error_type() == b.error_type();
}

// ---------------------------------------------------------------- errors

namespace {
class otp_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "otp"; }
  std::string message(int c) const override {
    switch (static_cast<errc>(c)) {
      case errc::noproc:
        return "noproc";
      case errc::timeout:
        return "timeout";
      case errc::calling_self:
        return "calling_self";
      case errc::exited:
        return "exited";
      case errc::bad_message_type:
        return "bad_message_type";
      case errc::ignored:
        return "ignored";
      case errc::start_failed:
        return "start_failed";
      case errc::already_started:
        return "already_started";
      case errc::not_found:
        return "not_found";
      case errc::already_present:
        return "already_present";
      case errc::running:
        return "running";
      case errc::restarting:
        return "restarting";
      case errc::max_children:
        return "max_children";
      case errc::invalid_spec:
        return "invalid_spec";
      case errc::already_registered:
        return "already_registered";
      case errc::not_owner:
        return "not_owner";
      case errc::wrong_key_kind:
        return "wrong_key_kind";
    }
    return "otp error " + std::to_string(c);
  }
};
}  // namespace

const std::error_category& category() noexcept {
  static const otp_category c;
  return c;
}

std::string error::message() const {
  std::string m = code.message();
  if (!(reason == exit_reason())) m += ": " + reason.to_string();
  if (process) m += " (" + process.to_string() + ")";
  return m;
}

// ---------------------------------------------------------------- pid, refs

std::string pid::to_string() const {
  if (!p_) return "<undefined>";
  return "<0." + std::to_string(p_->id) + ".0>";
}

std::string monitor_ref::to_string() const {
  return "#Ref<0." + std::to_string(owner_) + "." + std::to_string(slot_) + "." + std::to_string(seq_) + ">";
}

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
