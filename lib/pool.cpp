// SPDX-License-Identifier: MIT
// Small-block allocation for message nodes, control blocks and frames.
//
// A per-thread cache of free blocks in 16-byte size classes in front of
// malloc. A block freed on another thread than the one that allocated it
// simply joins the freeing thread's cache (or goes back to malloc when that
// cache is full), so frees are safe from any thread and never synchronise.
// Each cache is capped, so memory that migrates from producer threads to a
// consumer thread returns to malloc instead of piling up. With OTP_NO_POOLS
// every block is a plain malloc/free, so AddressSanitizer sees every
// use-after-free.

#include <otp/detail/process_base.hpp>

#include <cstdlib>
#include <new>

namespace otp::detail {

#ifdef OTP_NO_POOLS

void* allocate(std::size_t n) {
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void deallocate(void* p, std::size_t) noexcept { std::free(p); }

#else

namespace {
constexpr std::size_t granule = 16;
constexpr std::size_t classes = 64;  // blocks up to 1 KiB
constexpr std::size_t cache_cap = 8192;

struct free_block {
  free_block* next;
};

// Trivially destructible, so access needs no guard; a second object with a
// destructor returns the cached blocks to malloc when the thread ends.
struct cache {
  free_block* head[classes];
  std::uint32_t count[classes];
  bool registered;
};
thread_local cache tl_cache{};

struct cache_release {
  ~cache_release() {
    for (std::size_t c = 0; c < classes; ++c) {
      while (free_block* b = tl_cache.head[c]) {
        tl_cache.head[c] = b->next;
        std::free(b);
      }
      tl_cache.count[c] = 0;
    }
  }
};

[[gnu::noinline]] void register_release() {
  thread_local cache_release r;
  (void)r;
  tl_cache.registered = true;
}
}  // namespace

void* allocate(std::size_t n) {
  const std::size_t c = (n + granule - 1) / granule;
  if (c < classes) {
    cache& k = tl_cache;
    if (free_block* b = k.head[c]) {
      k.head[c] = b->next;
      --k.count[c];
      return b;
    }
    if (void* p = std::malloc(c * granule)) return p;
    throw std::bad_alloc();
  }
  if (void* p = std::malloc(n)) return p;
  throw std::bad_alloc();
}

void deallocate(void* p, std::size_t n) noexcept {
  if (!p) return;
  const std::size_t c = (n + granule - 1) / granule;
  if (c < classes) {
    cache& k = tl_cache;
    if (k.count[c] < cache_cap) {
      if (!k.registered) register_release();
      auto* b = static_cast<free_block*>(p);
      b->next = k.head[c];
      k.head[c] = b;
      ++k.count[c];
      return;
    }
  }
  std::free(p);
}

#endif

}  // namespace otp::detail
