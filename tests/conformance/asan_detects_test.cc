// AddressSanitizer understands goroutine stacks (the fiber annotations of src/arch): real
// memory errors made inside goroutines are reported, with the goroutine's own frames, and a
// program that switches stacks all the time gives no false report (the whole suite runs
// under ASan). These tests only exist in ASan builds.

#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>

#include "goro/goro.h"

#if defined(__SANITIZE_ADDRESS__)
#define GORO_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GORO_TEST_ASAN 1
#endif
#endif

namespace {

#ifdef GORO_TEST_ASAN

// Keeps the compiler from proving the errors below away.
template <class T>
T launder(T v) {
  asm volatile("" : "+r"(v));
  return v;
}

[[gnu::noinline]] int read_after_free() {
  auto* p = new int[4]{1, 2, 3, 4};
  delete[] launder(p);
  return launder(p)[1];
}

[[gnu::noinline]] int overflow_goroutine_stack(int i) {
  volatile int local[8] = {};
  volatile int* p = launder(&local[0]);  // through a pointer: ASan's check, not UBSan's bounds
  return p[i];                            // i == 8: one past the end, on the goroutine's stack
}

class AsanDeathTest : public ::testing::Test {
 protected:
  void SetUp() override { ::testing::FLAGS_gtest_death_test_style = "threadsafe"; }
};

void in_a_goroutine(int (*bad)()) {
  goro::options opts;
  opts.procs = 2;
  goro::run(opts, [bad] {
    auto done = goro::make_chan<int>(1);
    goro::go([done, bad] {
      goro::yield();  // after a switch or two: the report must still be right
      done.send(bad());
    });
    (void)done.recv();
  });
  std::exit(0);
}

TEST_F(AsanDeathTest, HeapUseAfterFreeInAGoroutine) {
  EXPECT_DEATH(in_a_goroutine(&read_after_free), "heap-use-after-free(.|\n)*read_after_free");
}

TEST_F(AsanDeathTest, StackOverflowOfALocalOnAGoroutineStack) {
  EXPECT_DEATH(in_a_goroutine([] { return overflow_goroutine_stack(8); }),
               "stack-buffer-overflow(.|\n)*overflow_goroutine_stack");
}

#else

TEST(AsanDetects, OnlyInAddressSanitizerBuilds) { GTEST_SKIP() << "not an AddressSanitizer build"; }

#endif

}  // namespace
