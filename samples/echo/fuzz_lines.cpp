// SPDX-License-Identifier: MIT
// libFuzzer target: the echo server's line protocol over loopback. Inputs
// may crash their own connection handler (/crash), overflow a line, join
// rooms and say things; afterwards the tree and the acceptor must stand and
// a fresh client must get its echo.
#include "../fuzz_support.hpp"
#include "echo.hpp"

namespace {
fuzz::background_tree* tree = nullptr;
unsigned short port = 0;
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  echo::options o;
  o.port = 0;
  std::vector<otp::child_spec> children;
  children.push_back(echo::child_spec(o));
  tree = new fuzz::background_tree(std::move(children));
  port = echo::bound_port();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)fuzz::exchange(port, data, size);
  if (!tree->alive() || !otp::is_alive(echo::acceptor_name().whereis(tree->rt()))) {
    std::fprintf(stderr, "fuzz: the echo server's tree died\n");
    std::abort();
  }
  const std::string ping = "ping\n";
  auto answer = fuzz::exchange(port, reinterpret_cast<const std::uint8_t*>(ping.data()), ping.size(), 2000);
  if (answer.find("\nping\n") == std::string::npos) {
    std::fprintf(stderr, "fuzz: the echo server stopped answering: %s\n", answer.c_str());
    std::abort();
  }
  return 0;
}
