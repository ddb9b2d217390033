// SPDX-License-Identifier: MIT
// detail::intrusive_ref and detail::ref_count: the reference counting every
// shared object of the library goes through (pids, exit reasons, reply
// slots, registry incarnations, delayed sends).
#include <otp/detail/intrusive_ref.hpp>

#include <doctest/doctest.h>

#include <utility>

namespace {

struct counted {
  otp::detail::ref_count refs;
  int* freed;
  explicit counted(int* f) noexcept : freed(f) {}
  void retain() noexcept { refs.add(); }
  void release() noexcept {
    if (refs.drop()) {
      ++*freed;
      delete this;
    }
  }
};
using ref = otp::detail::intrusive_ref<counted>;

}  // namespace

TEST_SUITE("intrusive_ref") {

TEST_CASE("intrusive_ref: the object is freed once, when its last holder lets go") {
  int freed = 0;
  {
    ref a = ref::adopt(new counted(&freed));  // the creator's reference, not one more
    {
      ref b = a;      // a copy adds one
      ref c = b;
      CHECK(c.get() == a.get());
    }
    CHECK(freed == 0);
  }
  CHECK(freed == 1);
}

TEST_CASE("intrusive_ref: a move hands the reference over and leaves the source empty") {
  int freed = 0;
  ref a = ref::adopt(new counted(&freed));
  counted* p = a.get();
  ref b = std::move(a);
  CHECK_FALSE(a);
  CHECK(b.get() == p);
  a = std::move(b);  // assignment drops what a held (nothing) and takes b's
  CHECK(a.get() == p);
  CHECK(freed == 0);
  a = ref();  // assigning empty drops the last reference
  CHECK(freed == 1);
}

TEST_CASE("intrusive_ref: share adds a reference, detach gives one up without dropping it") {
  int freed = 0;
  auto* p = new counted(&freed);  // the count starts at one: ours
  {
    ref shared = ref::share(p);
    CHECK_FALSE(p->refs.only());
  }
  CHECK(freed == 0);  // ours is still there
  CHECK(p->refs.only());
  ref owner = ref::adopt(p);
  counted* raw = owner.detach();
  CHECK_FALSE(owner);
  CHECK(freed == 0);
  raw->release();
  CHECK(freed == 1);
  CHECK_FALSE(ref::share(nullptr));  // sharing null is null
}

TEST_CASE("ref_count: reset hands n references out at once") {
  int freed = 0;
  auto* p = new counted(&freed);
  p->refs.reset(3);
  p->release();
  p->release();
  CHECK(freed == 0);
  p->release();
  CHECK(freed == 1);
}

}  // TEST_SUITE
