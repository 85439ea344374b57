#pragma once
// The GoogleTest integration of goro's leak check (goro/testing.h), goleak's two ways:
//
// Per test, as goleak.VerifyNone: verify_no_leaks() at the end of a goro::run() body fails the
// current test if goroutines are left behind (or timers armed), and the failure prints them,
// the goroutines in goleak's and Go's format. leak_check_environment does this at the end of
// every goro::run() in the binary:
//
//   int main(int argc, char** argv) {
//     ::testing::InitGoogleTest(&argc, argv);
//     ::testing::AddGlobalTestEnvironment(new goro::testing::leak_check_environment);
//     return RUN_ALL_TESTS();
//   }
//
// Per binary, as goleak.VerifyTestMain: the tests are not failed one by one; if they all
// pass but some goro::run() left goroutines behind, the binary prints
// "goleak: Errors on successful test run: " and the leaks to stderr and exits with 1:
//
//   int main(int argc, char** argv) {
//     ::testing::InitGoogleTest(&argc, argv);
//     return goro::testing::verify_test_main();
//   }
//
// One difference from Go: a goroutine exists only during the goro::run() that started it
// (run() abandons the others when its function returns). So goro cannot look "after all
// tests" as goleak does; both integrations check when the function of each goro::run()
// returns (set_main_exit_check()), and verify_test_main() reports what it found at the end.
// Install one of the two, not both (the later SetUp() wins).
//
// Header-only, so the goro library itself does not depend on GoogleTest.

#include <gtest/gtest.h>

#include <cstdio>
#include <mutex>
#include <string>
#include <utility>

#include "goro/detail/source_location.h"
#include "goro/testing.h"

namespace goro::testing {

// The options leak_check_environment's checks use, and verify_no_leaks()'s default.
inline leak_options& gtest_leak_options() {
  static leak_options opts;
  return opts;
}

// goleak.VerifyNone: fails the current test, non-fatally (as goleak's t.Error), with
// find_leaks()'s message if goroutines other than the caller are still alive, or timers still
// pending, once the grace period has passed; the failure is reported at the caller's line (as
// t.Helper() does). Goroutine only: call it last in the function given to goro::run(). Blocks
// up to opts.grace. Like VerifyNone it cannot tell which test started a goroutine: every
// goroutine of the run() counts.
inline void verify_no_leaks(const leak_options& opts = gtest_leak_options(),
                            detail::source_location where = detail::source_location::current()) {
  if (error e = find_leaks(opts)) ADD_FAILURE_AT(where.file_name(), static_cast<int>(where.line())) << e.message();
}

// The former name of verify_no_leaks().
inline void expect_no_leaks(const leak_options& opts = gtest_leak_options(),
                            detail::source_location where = detail::source_location::current()) {
  verify_no_leaks(opts, where);
}

// Runs verify_no_leaks()'s check with `opts` at the end of every goro::run() function in the
// binary, from SetUp() (before the first test) to TearDown() (after the last). A failure is reported
// at the running test's TEST() line.
class leak_check_environment : public ::testing::Environment {
 public:
  explicit leak_check_environment(leak_options opts = {}) { gtest_leak_options() = std::move(opts); }
  void SetUp() override {
    set_main_exit_check([] {
      error e = find_leaks(gtest_leak_options());
      if (!e) return;
      if (const ::testing::TestInfo* t = ::testing::UnitTest::GetInstance()->current_test_info()) {
        ADD_FAILURE_AT(t->file(), t->line()) << e.message();
      } else {
        ADD_FAILURE() << e.message();
      }
    });
  }
  void TearDown() override { set_main_exit_check(nullptr); }
};

// goleak.VerifyTestMain's check: from SetUp() to TearDown(), the end of every goro::run()
// function runs find_leaks() with `opts` and keeps what it finds, with the name of the test
// it ran in, without failing that test. verify_test_main() installs one and reads it.
class verify_test_main_environment : public ::testing::Environment {
 public:
  explicit verify_test_main_environment(leak_options opts = {}) { state().opts = std::move(opts); }
  void SetUp() override {
    {
      std::lock_guard<std::mutex> lk(state().mu);
      state().found.clear();
    }
    set_main_exit_check([] {
      error e = find_leaks(state().opts);
      if (!e) return;
      const ::testing::TestInfo* t = ::testing::UnitTest::GetInstance()->current_test_info();
      std::string where = t != nullptr ? std::string("test ") + t->test_suite_name() + "." + t->name()
                                       : std::string("no test (a goro::run() outside the tests)");
      std::lock_guard<std::mutex> lk(state().mu);
      if (!state().found.empty()) state().found += "\n\n";
      state().found += e.message() + "\n(left by the goro::run() of " + where + ")";
    });
  }
  void TearDown() override { set_main_exit_check(nullptr); }

  // What the checks found since SetUp(), one entry per leaking goro::run(), separated by an
  // empty line; empty if none leaked.
  std::string found() const {
    std::lock_guard<std::mutex> lk(state().mu);
    return state().found;
  }

 private:
  // One per process, like the main-exit check it serves (a plain function pointer).
  struct shared {
    leak_options opts;
    std::mutex mu;
    std::string found;  // (mu)
  };
  static shared& state() {
    static shared s;
    return s;
  }
};

// goleak.VerifyTestMain: runs every test (RUN_ALL_TESTS()) with a verify_test_main_environment
// installed. If they failed, returns RUN_ALL_TESTS()'s status and reports no leaks, as goleak
// does; if they passed but some goro::run() left goroutines or timers behind, prints
// "goleak: Errors on successful test run: " and the leaks to stderr, and returns 1. Call it
// from main() after ::testing::InitGoogleTest(), and return its result.
inline int verify_test_main(leak_options opts = {}) {
  auto* env = new verify_test_main_environment(std::move(opts));
  ::testing::AddGlobalTestEnvironment(env);  // GoogleTest owns it, and keeps it to the end
  int status = RUN_ALL_TESTS();
  if (status == 0) {
    std::string leaks = env->found();
    if (!leaks.empty()) {
      std::fprintf(stderr, "goleak: Errors on successful test run: %s\n", leaks.c_str());
      status = 1;
    }
  }
  return status;
}

}  // namespace goro::testing
