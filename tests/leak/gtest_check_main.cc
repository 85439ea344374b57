// A GoogleTest program with a main() of its own, as a user's test binary has, which
// leak_test.cc runs to see goro/testing/gtest.h's two integrations end to end: argv[1]
// picks the one main() installs, GoogleTest flags (--gtest_filter) pick the tests.
//
//   leak_gtest_check env  [gtest flags]   leak_check_environment (goleak.VerifyNone per run())
//   leak_gtest_check main [gtest flags]   verify_test_main()     (goleak.VerifyTestMain)

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "goro/goro.h"
#include "goro/testing/gtest.h"

using namespace std::chrono_literals;

namespace {

// The guide's first leak: a receiver ranging over a channel nobody closes. Its creation site
// (this function) is what leak_test.cc looks for in the failure.
void leave_a_receiver_behind(goro::chan<int> ch) {
  goro::go([in = goro::recv_chan<int>(ch)] {
    for (int v : in) (void)v;
  });
  ch.send(1);
}

}  // namespace

TEST(Clean, FinishesItsGoroutines) {
  goro::run([] {
    goro::wait_group wg;
    for (int i = 0; i < 4; i++) wg.go([] { goro::sleep(1ms); });
    wg.wait();
  });
}

TEST(Leaky, LeavesAReceiverBehind) {
  goro::chan<int> ch;  // outlives run(): the receiver is abandoned, not reported as orphaned
  goro::run([&] {
    ch = goro::make_chan<int>();
    leave_a_receiver_behind(ch);
  });
}

TEST(Failing, FailsOnItsOwn) { ADD_FAILURE() << "this test fails whatever goro finds"; }

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  ::testing::InitGoogleTest(&argc, argv);
  goro::testing::leak_options opts;
  opts.grace = 20ms;
  if (mode == "env") {
    ::testing::AddGlobalTestEnvironment(new goro::testing::leak_check_environment(opts));
    return RUN_ALL_TESTS();
  }
  if (mode == "main") return goro::testing::verify_test_main(opts);
  std::fprintf(stderr, "usage: %s env|main [gtest flags]\n", argv[0]);
  return 2;
}
