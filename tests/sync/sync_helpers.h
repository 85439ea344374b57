#pragma once
// Helpers shared by the sync tests: waiting, without timing assumptions, until goroutines
// have parked in a given wait. They poll the registry (goro::goroutines()) and yield in
// between, so they work at any number of processors.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string_view>

#include "goro/goro.h"

namespace sync_test {

// Goroutines now parked with `reason` on `obj`.
inline int parked_on(const void* obj, std::string_view reason) {
  int n = 0;
  for (const auto& g : goro::goroutines()) {
    if (g.state == goro::goroutine_state::waiting && g.wait_reason == reason && g.wait_object == obj) n++;
  }
  return n;
}

// Waits until exactly `n` goroutines are parked with `reason` on `obj`. The deadline only
// turns a hang (a bug) into a failure; passing never depends on it.
inline ::testing::AssertionResult wait_parked(const void* obj, std::string_view reason, int n = 1) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  int seen = 0;
  while ((seen = parked_on(obj, reason)) != n) {
    if (std::chrono::steady_clock::now() > deadline) {
      return ::testing::AssertionFailure() << seen << " goroutines parked on \"" << reason << "\", want " << n;
    }
    goro::sleep(std::chrono::microseconds(20));
  }
  return ::testing::AssertionSuccess();
}

// Yields until pred() holds (for progress made by other goroutines).
template <class Pred>
::testing::AssertionResult wait_until(Pred pred) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return ::testing::AssertionFailure() << "condition never held";
    goro::yield();
  }
  return ::testing::AssertionSuccess();
}

}  // namespace sync_test
