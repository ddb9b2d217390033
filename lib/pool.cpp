// SPDX-License-Identifier: MIT
// Small-block allocation for message nodes, control blocks and frames.
//
// Blocks of up to 1 KiB come in 16-byte size classes. Each thread keeps a
// free list per class; an empty list is refilled from the shared depot, or
// else by carving a 64 KiB slab into blocks, so a burst of allocations (100k
// processes spawned before any runs) costs a pointer pop each, not a malloc.
// A block may be freed on any thread: it joins that thread's list. When a
// list grows past a high-water mark (memory migrating from producer threads
// to a consumer thread), the list moves to the depot in one batch, where
// other threads take it back. The depot's lock is taken once per batch of
// thousands of blocks, never per message. Slabs are kept for the life of the
// program, as BEAM keeps its carriers.
//
// With OTP_NO_POOLS every block is a plain malloc/free, so AddressSanitizer
// sees every use-after-free.

#include <otp/detail/process_base.hpp>

#include <cstdlib>
#include <mutex>
#if defined(__linux__)
#include <sys/mman.h>
#endif
#include <new>
#include <vector>

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
constexpr std::size_t classes = 65;  // classes 1..64: blocks of 16 B .. 1 KiB
constexpr std::size_t slab_bytes = 64 * 1024;
constexpr std::uint32_t high_water = 32768;  // blocks per class per thread before the list moves to the depot

struct free_block {
  free_block* next;
};

// A batch of blocks of one class, linked through their first word.
struct batch {
  free_block* head = nullptr;
  free_block* tail = nullptr;
  std::uint32_t count = 0;
};

class depot {
 public:
  void put(std::size_t c, batch b) {
    std::lock_guard<std::mutex> g(m_);
    lists_[c].push_back(b);
  }
  bool take(std::size_t c, batch& out) {
    std::lock_guard<std::mutex> g(m_);
    if (lists_[c].empty()) return false;
    out = lists_[c].back();
    lists_[c].pop_back();
    return true;
  }

 private:
  std::mutex m_;
  std::vector<batch> lists_[classes];
};

// Slabs are cut from 1 MiB chunks that the kernel fills in one call
// (MAP_POPULATE) instead of one page fault per 4 KiB page at first touch:
// in a burst that needs fresh memory (100k processes whose down messages are
// all pending at once) the faults were a fifth of the time. Taken once per
// slab, under a lock.
class slab_source {
 public:
  char* take() {
    std::lock_guard<std::mutex> g(m_);
    if (left_ < slab_bytes) {
      next_ = static_cast<char*>(fresh_chunk());
      left_ = chunk_bytes;
    }
    char* s = next_;
    next_ += slab_bytes;
    left_ -= slab_bytes;
    return s;
  }

 private:
  static constexpr std::size_t chunk_bytes = 1024 * 1024;
  static void* fresh_chunk() {
#if defined(__linux__) && defined(MAP_POPULATE)
    void* c = ::mmap(nullptr, chunk_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (c != MAP_FAILED) return c;
#endif
    if (void* c = std::malloc(chunk_bytes)) return c;
    throw std::bad_alloc();
  }
  std::mutex m_;
  char* next_ = nullptr;
  std::size_t left_ = 0;
};

slab_source& the_slabs() {
  static slab_source* s = new slab_source;  // never destroyed, like the slabs
  return *s;
}

depot& the_depot() {
  static depot* d = new depot;  // never destroyed: threads may exit after static destruction
  return *d;
}

// Trivially destructible, so access needs no guard; a second object with a
// destructor hands the cached blocks to the depot when the thread ends.
struct cache {
  free_block* head[classes];
  free_block* tail[classes];
  std::uint32_t count[classes];
  bool registered;
};
thread_local cache tl_cache{};

struct cache_release {
  ~cache_release() {
    for (std::size_t c = 1; c < classes; ++c) {
      if (tl_cache.count[c] == 0) continue;
      the_depot().put(c, batch{tl_cache.head[c], tl_cache.tail[c], tl_cache.count[c]});
      tl_cache.head[c] = tl_cache.tail[c] = nullptr;
      tl_cache.count[c] = 0;
    }
  }
};

[[gnu::noinline]] void register_release() {
  thread_local cache_release r;
  (void)r;
  tl_cache.registered = true;
}

[[gnu::noinline]] void refill(cache& k, std::size_t c) {
  if (!k.registered) register_release();
  batch b;
  if (!the_depot().take(c, b)) {
    const std::size_t size = c * granule;
    const std::size_t n = slab_bytes / size;
    char* slab = the_slabs().take();
    for (std::size_t i = 0; i < n; ++i) {
      auto* blk = reinterpret_cast<free_block*>(slab + i * size);
      blk->next = b.head;
      if (!b.head) b.tail = blk;
      b.head = blk;
    }
    b.count = static_cast<std::uint32_t>(n);
  }
  b.tail->next = k.head[c];
  if (!k.head[c]) k.tail[c] = b.tail;
  k.head[c] = b.head;
  k.count[c] += b.count;
}

[[gnu::noinline]] void spill(cache& k, std::size_t c) {
  // The whole list goes to the depot in O(1): its tail is known.
  the_depot().put(c, batch{k.head[c], k.tail[c], k.count[c]});
  k.head[c] = k.tail[c] = nullptr;
  k.count[c] = 0;
}
}  // namespace

void* allocate(std::size_t n) {
  const std::size_t c = (n + granule - 1) / granule;
  if (c >= classes || c == 0) {
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
  }
  cache& k = tl_cache;
  if (!k.head[c]) refill(k, c);
  free_block* b = k.head[c];
  k.head[c] = b->next;
  --k.count[c];
  return b;
}

void deallocate(void* p, std::size_t n) noexcept {
  if (!p) return;
  const std::size_t c = (n + granule - 1) / granule;
  if (c >= classes || c == 0) {
    std::free(p);
    return;
  }
  cache& k = tl_cache;
  auto* b = static_cast<free_block*>(p);
  b->next = k.head[c];
  if (!k.head[c]) k.tail[c] = b;
  k.head[c] = b;
  if (++k.count[c] > high_water) {
    try {
      spill(k, c);
    } catch (...) {  // the depot could not grow: keep the blocks here
    }
  }
}

#endif

}  // namespace otp::detail
