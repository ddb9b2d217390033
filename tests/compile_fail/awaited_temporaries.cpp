// SPDX-License-Identifier: MIT
// Must not compile: each line whose comment starts with "refused" co_awaits
// a temporary that GCC 12 destroys twice (otp/detail/temporaries.hpp).
// check_refused.cmake builds this file and checks that every such line, and
// nothing else, is refused with the guard's message. Each case has types of its own, so that
// each is a separate instantiation, reported on its own.
//
// Built with OTP_GUARD_AWAITED_TEMPORARIES=1 on every compiler, so that the
// guard is checked on clang too. The spellings that stay open run in
// tests/toolchain.cpp.
#include <otp/otp.hpp>

#include <asio/awaitable.hpp>
#include <asio/use_awaitable.hpp>

#include <string>
#include <variant>

namespace {

template <int N>
struct agg {  // an aggregate with a member that has a destructor
  std::string text;
};
template <int N>
struct other {};
using choice = std::variant<agg<2>, other<2>>;

struct srv : otp::server<srv> {
  std::string handle_call(agg<4> r) { return r.text; }
  std::string handle_call(agg<5> r) { return r.text; }
  std::string handle_call(agg<13> r) { return r.text; }
  std::string handle_call(agg<14> r) { return r.text; }
  void handle_cast(agg<6>) {}
  void handle_info(agg<7>) {}
};
struct srv10 : otp::server<srv10> {
  explicit srv10(agg<10> a) : text(std::move(a.text)) {}
  std::string text;
};

otp::process<agg<9>> body9(agg<9>) {
  otp::init_ack();
  co_await otp::receive();
}

otp::process<> cases(otp::handle<agg<1>> h1, otp::handle<choice> h2, otp::handle<std::variant<agg<3>>> h3,
                     otp::server_ref<srv> s, otp::agent<int> a, otp::handle<int> h12,
                     otp::dynamic_supervisor_ref tasks) {
  const std::string t = "some text long enough to be on the heap";
  co_await otp::send(h1, agg<1>{t});                                       // refused: an aggregate message
  co_await otp::send(h2, agg<2>{t});                                       // refused: an aggregate alternative
  co_await otp::send(h3, std::in_place, agg<3>{t});                        // refused: an aggregate argument
  (void)co_await otp::call(s, agg<4>{t});                                  // refused: an aggregate request
  (void)co_await otp::call<srv>(otp::local("srv"), agg<5>{t});             // refused: the same, by name
  co_await otp::cast(s, agg<6>{t});                                        // refused: an aggregate cast
  co_await otp::send(s, agg<7>{t});                                        // refused: an aggregate info message
  (void)co_await otp::offload([t] { return t.size(); });                   // refused: a lambda capturing a string
  (void)co_await otp::start_link(body9, agg<9>{t});                        // refused: an aggregate start argument
  (void)co_await otp::start_server<srv10>(agg<10>{t});                     // refused: an aggregate init argument
  (void)co_await a.get([t](const int& v) { return v + int(t.size()); });   // refused: an agent's lambda
  (void)co_await otp::request<int>(h12, [t](otp::reply_to<int>) { return int(t.size()); });  // refused
  agg<13> named{t};
  (void)co_await otp::call(s, std::move(named));                           // refused: an rvalue, moved
  (void)co_await otp::start_agent([t] { return int(t.size()); });          // refused: an agent's init lambda
  (void)co_await otp::async_nolink(tasks, [t] { return t.size(); });       // refused: a task's lambda
  auto no_children = [] { return std::make_pair(otp::supervisor_flags(), std::vector<otp::child_spec>()); };
  (void)co_await otp::start_supervisor_with([t, no_children] { return no_children(); });  // refused: an init lambda
}

asio::awaitable<void> from_asio(otp::server_ref<srv> s) {
  const std::string t = "some text long enough to be on the heap";
  (void)co_await otp::async_call(s, agg<14>{t}, asio::use_awaitable);   // refused: awaited through Asio
}

}  // namespace

int main() {
  (void)&cases;
  (void)&from_asio;
}
