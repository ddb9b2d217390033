// SPDX-License-Identifier: MIT
// otp::exit_reason (see include/otp/exit_reason.hpp), and the demangled type
// names it and the crash reports carry.
#include <otp/exit_reason.hpp>


#include <cxxabi.h>

#include <cstdlib>
#include <exception>
#include <memory>
#include <string>
#include <typeinfo>

namespace otp {

namespace detail {
// Declared for the rest of the library in lib/runtime_core.hpp.
std::string demangle(const char* name) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> d(abi::__cxa_demangle(name, nullptr, nullptr, &status), std::free);
  return status == 0 && d ? std::string(d.get()) : std::string(name);
}
}  // namespace detail

using detail::demangle;


// ---------------------------------------------------------------- exit_reason

struct exit_reason::data {
  data(std::string ty, std::string te) : type(std::move(ty)), text(std::move(te)) {}
  detail::ref_count refs;
  std::string type;
  std::string text;
};

exit_reason::exit_reason(exit_kind k, std::string type, std::string text)
    : kind_(k), data_(detail::intrusive_ref<const data>::adopt(new data(std::move(type), std::move(text)))) {}

void intrusive_retain(const exit_reason::data* d) noexcept { d->refs.add(); }

void intrusive_release(const exit_reason::data* d) noexcept {
  if (d->refs.drop()) delete d;
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

}  // namespace otp
