#pragma once
// Test support: run a test body on the goro runtime at 1, 2 and N processors, and check
// that no goroutine is left behind when the body returns.

#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "goro/goro.h"

namespace goro_test {

// True in sanitizer builds, where goroutines cost far more memory: big counts scale down.
bool sanitized();
// n, or n/divisor under sanitizers.
long scaled(long n, long divisor = 100);

// Runs body as goroutine 1 with `procs` processors, then waits (up to a grace period) for
// every other goroutine to finish and fails the test if any remain.
void run_checked(int procs, const std::function<void()>& body);

// A fixture parameterized by the number of processors: 1, 2 and 4.
class Procs : public ::testing::TestWithParam<int> {
 protected:
  void run(const std::function<void()>& body) { run_checked(GetParam(), body); }
};

}  // namespace goro_test

#define GORO_INSTANTIATE_PROCS(suite) \
  INSTANTIATE_TEST_SUITE_P(P, suite, ::testing::Values(1, 2, 4), [](const auto& i) { return "procs" + std::to_string(i.param); })
