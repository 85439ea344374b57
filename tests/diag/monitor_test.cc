// The diagnostics monitor's pace (diag/monitor.h): it backs off to stay under ~2% of a core
// when its passes stay expensive, and a single expensive pass (the symbolizer's warm-up) does
// not hold the next one back. The detectors themselves: tests/leak/misuse_test.cc.

#include <gtest/gtest.h>

#include <chrono>

#include "diag/monitor.h"

using namespace std::chrono_literals;
using goro::detail::monitor_wait;

namespace {

TEST(MonitorPace, CheapPassesKeepTheInterval) {
  EXPECT_EQ(monitor_wait(500ms, 0ns, 0ns), 500ms);
  EXPECT_EQ(monitor_wait(500ms, 2ms, 3ms), 500ms);
  EXPECT_EQ(monitor_wait(5ms, 50us, 80us), 5ms);
}

TEST(MonitorPace, AFirstExpensivePassDoesNotSetThePace) {
  // The first pass has no pass before it.
  EXPECT_EQ(monitor_wait(20ms, 100ms, 0ns), 20ms);
  EXPECT_EQ(monitor_wait(20ms, 3s, 0ns), 20ms);  // a warm-up under TSan
}

TEST(MonitorPace, AOneOffExpensivePassDoesNotSetThePace) {
  EXPECT_EQ(monitor_wait(20ms, 100ms, 200us), 20ms);  // the expensive pass
  EXPECT_EQ(monitor_wait(20ms, 200us, 100ms), 20ms);  // the one after it
}

TEST(MonitorPace, PassesThatStayExpensiveBackOffToTwoPercent) {
  EXPECT_EQ(monitor_wait(20ms, 100ms, 100ms), 5s);
  EXPECT_EQ(monitor_wait(20ms, 100ms, 40ms), 2s);  // the cheaper of the two
  EXPECT_EQ(monitor_wait(20ms, 40ms, 100ms), 2s);
  EXPECT_EQ(monitor_wait(500ms, 8ms, 8ms), 500ms);  // 50 x 8 ms is less than the interval
}

}  // namespace
