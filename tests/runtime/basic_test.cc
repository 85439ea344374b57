#include <gtest/gtest.h>

#include <atomic>

#include "goro/goro.h"

TEST(Basic, RunReturnsValue) {
  int v = goro::run([] { return 42; });
  EXPECT_EQ(v, 42);
}
