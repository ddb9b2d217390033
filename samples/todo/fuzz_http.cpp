// SPDX-License-Identifier: MIT
// libFuzzer target: the to-do HTTP interface. Each input goes to the parser
// on its own (split in two at a point the input picks), then over loopback
// to the running system; afterwards the whole tree must still stand, and a
// sentinel list must still answer. Only the connection handler that read the
// input may have died.
#include "../fuzz_support.hpp"
#include "http.hpp"
#include "todo.hpp"

#include <filesystem>
#include <memory>

namespace {
fuzz::background_tree* tree = nullptr;
unsigned short port = 0;

const std::string sentinel = "GET /entries?list=sentinel&date=2026-01-01 HTTP/1.1\r\nConnection: close\r\n\r\n";
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  auto data = std::filesystem::temp_directory_path() / ("otp_fuzz_http_" + std::to_string(::getpid()));
  auto children = todo::system::children(data);
  children.push_back(todo::http::child_spec(0));
  tree = new fuzz::background_tree(std::move(children));
  port = todo::http::bound_port();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  {  // the parser alone
    todo::http::parser p;
    const std::size_t cut = size ? data[0] % (size + 1) : 0;
    if (p.feed(reinterpret_cast<const char*>(data), cut) && p.feed(reinterpret_cast<const char*>(data) + cut, size - cut))
      while (p.next()) {
      }
  }
  (void)fuzz::exchange(port, data, size);
  if (!tree->alive()) {
    std::fprintf(stderr, "fuzz: the to-do system died\n");
    std::abort();
  }
  auto answer = fuzz::exchange(port, reinterpret_cast<const std::uint8_t*>(sentinel.data()), sentinel.size(), 2000);
  if (answer.rfind("HTTP/1.1 200", 0) != 0) {
    std::fprintf(stderr, "fuzz: the system stopped answering: %s\n", answer.c_str());
    std::abort();
  }
  return 0;
}
