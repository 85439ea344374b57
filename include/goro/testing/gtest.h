#pragma once
// The GoogleTest integration of goro's leak check: a test whose goro::run() leaves
// goroutines behind (or timers armed: find_leaks()) fails, and the failure prints them, the
// goroutines in Go's format.
//
//   int main(int argc, char** argv) {
//     ::testing::InitGoogleTest(&argc, argv);
//     ::testing::AddGlobalTestEnvironment(new goro::testing::leak_check_environment);
//     return RUN_ALL_TESTS();
//   }
//
// Header-only, so the goro library itself does not depend on GoogleTest.

#include <gtest/gtest.h>

#include "goro/testing.h"

namespace goro::testing {

inline leak_options& gtest_leak_options() {
  static leak_options opts;
  return opts;
}

// Fails the current test if goroutines other than the caller are still alive, or timers
// still pending (see find_leaks()), after the grace period.
inline void expect_no_leaks(const leak_options& opts = gtest_leak_options()) {
  if (error e = find_leaks(opts)) ADD_FAILURE() << e.message();
}

// Runs expect_no_leaks() at the end of every goro::run() main function in the binary.
class leak_check_environment : public ::testing::Environment {
 public:
  explicit leak_check_environment(leak_options opts = {}) { gtest_leak_options() = std::move(opts); }
  void SetUp() override {
    set_main_exit_check([] { expect_no_leaks(); });
  }
  void TearDown() override { set_main_exit_check(nullptr); }
};

}  // namespace goro::testing
