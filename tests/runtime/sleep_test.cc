// sleep() and the per-P timers behind it. Timing is asserted only one way: a sleep never
// returns early. Order is asserted semantically: with one P, a timer never fires while one
// with an earlier deadline is still pending.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <random>
#include <vector>

#include "goro/goro.h"
#include "park_test_util.h"
#include "support/goro_test.h"

namespace {

using goro_test::Procs;
using goro_test::run_checked;
using rt_test::countdown;
using namespace std::chrono_literals;
using clk = std::chrono::steady_clock;

class SleepTest : public Procs {};
GORO_INSTANTIATE_PROCS(SleepTest);

// A 1 ms sleep never returns before 1 ms has passed, alone or among other sleepers.
TEST_P(SleepTest, SleepIsNeverEarly) {
  std::atomic<int> early{0};
  run([&] {
    countdown done(20);
    for (int i = 0; i < 20; i++) {
      goro::go([&, i] {
        for (int k = 0; k < 20; k++) {
          auto d = std::chrono::microseconds(1000 + 37 * ((i + k) % 5));
          auto t0 = clk::now();
          goro::sleep(d);
          if (clk::now() - t0 < d) early.fetch_add(1);
        }
        done.arrive();
      });
    }
    auto t0 = clk::now();
    goro::sleep(1ms);
    EXPECT_GE(clk::now() - t0, 1ms);
    done.wait();
  });
  EXPECT_EQ(early.load(), 0);
}

// sleep_until() parks until the deadline; a deadline in the past, and zero or negative
// durations, just yield.
TEST_P(SleepTest, SleepUntilAndNonPositiveDurations) {
  run([&] {
    auto deadline = clk::now() + 2ms;
    goro::sleep_until(deadline);
    EXPECT_GE(clk::now(), deadline);
    goro::sleep_until(clk::now() - 1s);
    goro::sleep_until(clk::time_point::min());
    goro::sleep(0ns);
    goro::sleep(-5ms);
    goro::sleep(std::chrono::duration<double, std::milli>(0.5));
    goro::sleep(-std::chrono::hours::max());  // saturates to zero: yields
    goro::sleep(std::chrono::hours::min());
  });
}

// 100,000 goroutines sleep at once, each for its own random duration; all wake, none early.
TEST_P(SleepTest, HundredThousandSleepers) {
  const long n = rt_test::max_live(goro_test::scaled(100'000, 10));
  std::atomic<long> woke{0}, early{0};
  run([&] {
    countdown done(n);
    std::mt19937 rng(42);
    for (long i = 0; i < n; i++) {
      auto d = std::chrono::microseconds(1000 + rng() % 50'000);
      goro::go([&, d] {
        auto t0 = clk::now();
        goro::sleep(d);
        if (clk::now() - t0 < d) early.fetch_add(1);
        woke.fetch_add(1);
        done.arrive();
      });
    }
    done.wait();
  });
  EXPECT_EQ(woke.load(), n);
  EXPECT_EQ(early.load(), 0);
}

// Timers fire in deadline order. With one P there is one timer heap, so when a sleeper
// wakes, no goroutine with an earlier deadline may still be asleep (it may not have run yet:
// goroutines readied together run in runnext order, as in Go). Checked with the registry:
// each woken goroutine looks at every goroutine still waiting in "sleep". sleep_until()
// arms the timer at the deadline itself, so deadlines 100 us apart keep their order.
TEST(SleepOrder, TimersFireInDeadlineOrderOnOneProc) {
  constexpr int kN = 400;
  std::atomic<int> violations{0};
  std::atomic<int> woke{0};
  run_checked(1, [&] {
    std::vector<int> order(kN);
    for (int i = 0; i < kN; i++) order[static_cast<std::size_t>(i)] = i;
    std::shuffle(order.begin(), order.end(), std::mt19937(7));
    countdown done(kN);
    auto base = clk::now() + 20ms;
    std::map<std::uint64_t, clk::time_point> deadlines;  // by goroutine id
    std::atomic<bool> published{false};
    for (int i : order) {
      // Deadlines 100 us apart, created in shuffled order; several fall due together.
      auto when = base + std::chrono::microseconds(100 * i);
      goro::go([&, when] {
        goro::sleep_until(when);
        EXPECT_TRUE(published.load(std::memory_order_acquire));
        for (const auto& info : goro::goroutines()) {
          if (info.wait_reason != "sleep") continue;
          auto it = deadlines.find(info.id);
          if (it != deadlines.end() && it->second < when) violations.fetch_add(1);
        }
        woke.fetch_add(1);
        done.arrive();
      });
    }
    // The sleepers were created in `order` by this goroutine on its one P, so their ids
    // count up in that order. Main keeps the only P until done.wait(): none has run yet.
    std::vector<std::uint64_t> ids;
    for (const auto& info : goro::goroutines()) {
      if (info.id != 1) ids.push_back(info.id);
    }
    ASSERT_EQ(ids.size(), static_cast<std::size_t>(kN));
    for (std::size_t k = 0; k < ids.size(); k++) deadlines[ids[k]] = base + std::chrono::microseconds(100 * order[k]);
    published.store(true, std::memory_order_release);
    done.wait();
  });
  EXPECT_EQ(woke.load(), kN);
  EXPECT_EQ(violations.load(), 0) << "a timer fired while one with an earlier deadline was pending";
}

// Each goroutine's own sleeps, of different lengths, wake in sequence and never early, on
// every P count (timers move between P's as the goroutine migrates).
TEST_P(SleepTest, SequentialSleepsOfDifferentLengths) {
  std::atomic<int> early{0};
  run([&] {
    countdown done(50);
    for (int i = 0; i < 50; i++) {
      goro::go([&, i] {
        auto start = clk::now();
        auto total = clk::duration::zero();
        for (int k = 0; k < 10; k++) {
          auto d = std::chrono::microseconds(200 * ((i * 7 + k * 3) % 11));
          goro::sleep(d);
          total += d;
          if (clk::now() - start < total) early.fetch_add(1);
        }
        done.arrive();
      });
    }
    done.wait();
  });
  EXPECT_EQ(early.load(), 0);
}

}  // namespace
