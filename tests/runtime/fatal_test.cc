// How goro dies, checked in child processes (death tests): an exception escaping a
// goroutine is an unrecovered panic, a stack overflow and misuse of blocking() are fatal
// errors. Each prints Go's words on stderr and exits with status 2.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <thread>

#include "goro/goro.h"
#include "park_test_util.h"

namespace {

using ::testing::ExitedWithCode;

class FatalDeathTest : public ::testing::Test {
 protected:
  void SetUp() override { ::testing::FLAGS_gtest_death_test_style = "threadsafe"; }
};

// Recursion that cannot be turned into a loop: each frame keeps a buffer live across the
// call.
[[gnu::noinline]] int recurse(int depth) {
  volatile char frame[256];
  frame[0] = static_cast<char>(depth);
  if (depth == 1 << 30) return 0;  // never: a 256-byte frame overflows long before
  int below = recurse(depth + 1);
  return below + frame[0];
}

void run_with_one(void (*body)()) {
  goro::options opts;
  opts.procs = 2;
  goro::run(opts, [body] {
    rt_test::event forever;
    goro::go(body);  // the goroutine that dies: goroutine 2
    forever.wait();
  });
}

TEST_F(FatalDeathTest, StackOverflowIsReported) {
  EXPECT_EXIT(run_with_one([] { std::printf("%d\n", recurse(0)); }), ExitedWithCode(2),
              "runtime: goroutine stack exceeds [0-9]+-byte limit\n"
              "fatal error: stack overflow\n"
              ".*goroutine 2 \\[running\\]:\n"
              "created by .* in goroutine 1\n"
              "\t.*fatal_test.cc:[0-9]+\n");
}

TEST_F(FatalDeathTest, StackOverflowOnASmallStack) {
  EXPECT_EXIT(
      {
        goro::options opts;
        opts.stack_size = 32 * 1024;
        goro::run(opts, [] {
          rt_test::event forever;
          goro::go([] { std::printf("%d\n", recurse(0)); });
          forever.wait();
        });
      },
      ExitedWithCode(2), "goroutine stack exceeds 32768-byte limit\nfatal error: stack overflow\n.*goroutine 2 ");
}

TEST_F(FatalDeathTest, EscapingExceptionIsAPanic) {
  EXPECT_EXIT(run_with_one([] { throw std::runtime_error("boom"); }), ExitedWithCode(2),
              "^panic: boom \\[std::runtime_error\\]\n\ngoroutine 2 \\[running\\]:\ncreated by .* in goroutine 1\n");
}

template <class F>
void spawn_from_template(F body) {
  goro::go(body);  // created by a function whose source_location name has GCC's [with F = ...]
}

// "created by" names the function as Go does: no return type, parameters or template
// arguments (GCC's source_location spelling is "void {anonymous}::spawn_from_template(F)
// [with F = ...]").
TEST_F(FatalDeathTest, PanicNamesTheCreatorAsGoDoes) {
  EXPECT_EXIT(
      {
        goro::run([] {
          rt_test::event forever;
          spawn_from_template([] { throw std::runtime_error("boom"); });
          forever.wait();
        });
      },
      ExitedWithCode(2), "goroutine 2 \\[running\\]:\ncreated by [^ ]*spawn_from_template in goroutine 1\n");
}

TEST_F(FatalDeathTest, GoroPanicPrintsItsMessageExactly) {
  EXPECT_EXIT(run_with_one([] { throw goro::panic("send on closed channel"); }), ExitedWithCode(2),
              "^panic: send on closed channel\n\ngoroutine 2 \\[running\\]:\n");
}

TEST_F(FatalDeathTest, NonStandardExceptionIsAPanic) {
  EXPECT_EXIT(run_with_one([] { throw 42; }), ExitedWithCode(2),
              "^panic: unknown exception \\(not derived from std::exception\\)\n\ngoroutine 2 \\[running\\]:\n");
}

TEST_F(FatalDeathTest, PanicInGoroutineOne) {
  EXPECT_EXIT(goro::run([] { throw goro::panic("main failed"); }), ExitedWithCode(2),
              "^panic: main failed\n\ngoroutine 1 \\[running\\]:\nexit status 2\n");
}

TEST_F(FatalDeathTest, PanicHandlerIsCalledInstead) {
  EXPECT_EXIT(
      {
        goro::set_panic_handler([](std::exception_ptr e, unsigned long long id) {
          try {
            std::rethrow_exception(e);
          } catch (const std::exception& ex) {
            std::fprintf(stderr, "handled %s in goroutine %llu\n", ex.what(), id);
          }
        });
        run_with_one([] { throw std::runtime_error("oops"); });
      },
      ExitedWithCode(2), "^handled oops in goroutine 2\n");
}

TEST_F(FatalDeathTest, ParkingInsideBlockingIsFatal) {
  EXPECT_EXIT(run_with_one([] { goro::blocking([] { goro::yield(); }); }), ExitedWithCode(2),
              "fatal error: a goroutine tried to park, yield or sleep inside goro::blocking\\(\\).*\n\n"
              "goroutine 2 \\[running\\]:\n");
}

TEST_F(FatalDeathTest, BlockingInsideBlockingIsFatal) {
  EXPECT_EXIT(run_with_one([] { goro::blocking([] { goro::blocking([] {}); }); }), ExitedWithCode(2),
              "fatal error: goro::blocking\\(\\) called inside goro::blocking\\(\\)");
}

}  // namespace
