// goro::timer: Go's time.Timer tests (time/sleep_test.go), written anew, with Go 1.23's
// synchronous timer channels: after stop() or reset() returns, no value of the old arming
// can be received, and a value that fired but was not received counts as still pending.
//
// Timing is never a pass/fail threshold except "not early": a timer's value is never before
// its deadline.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "goro/goro.h"
#include "support/goro_test.h"

namespace {

using namespace std::chrono_literals;
using clk = std::chrono::steady_clock;
using goro_test::Procs;

class TimerTest : public Procs {};
GORO_INSTANTIATE_PROCS(TimerTest);

// Waits up to 5 s for a value on c; fails the test (and returns nullopt) if none came.
std::optional<goro::time_point> recv_bounded(const goro::recv_chan<goro::time_point>& c) {
  std::optional<goro::time_point> got;
  bool timed_out = false;
  auto guard = goro::new_timer(5s);
  goro::select(goro::recv(c, [&](std::optional<goro::time_point> v) { got = v; }),
               goro::recv(guard.c(), [&] { timed_out = true; }));
  guard.stop();
  EXPECT_FALSE(timed_out) << "no value within 5 s";
  return got;
}

TEST_P(TimerTest, FiresOnceNotEarly) {
  run([] {
    auto deadline = clk::now() + 20ms;
    goro::timer t = goro::new_timer(20ms);
    auto v = recv_bounded(t.c());
    ASSERT_TRUE(v.has_value());
    EXPECT_GE(*v, deadline);
    goro::sleep(30ms);
    EXPECT_EQ(t.c().try_recv().status, goro::chan_status::would_block) << "a timer fired twice";
    EXPECT_FALSE(t.stop()) << "stop after the value was received";
  });
}

// Misuse of zero handles, with Go's messages (a zero Ticker's Stop stays harmless).
TEST_P(TimerTest, DefaultHandles) {
  run([] {
    goro::timer t;
    EXPECT_FALSE(static_cast<bool>(t));
    EXPECT_TRUE(t.c().is_nil());
    auto panics = [](const std::function<void()>& f) -> std::string {
      try {
        f();
      } catch (const goro::panic& p) {
        return p.what();
      }
      return "no panic";
    };
    EXPECT_EQ(panics([&] { (void)t.stop(); }), "time: Stop called on uninitialized Timer");
    EXPECT_EQ(panics([&] { (void)t.reset(1ms); }), "time: Reset called on uninitialized Timer");
    goro::ticker tk;
    EXPECT_TRUE(tk.c().is_nil());
    tk.stop();
    EXPECT_EQ(panics([&] { tk.reset(1ms); }), "time: Reset called on uninitialized Ticker");
  });
}

TEST_P(TimerTest, NonPositiveDurationFiresAtOnce) {
  run([] {
    for (auto d : {0ns, -5ns, std::chrono::nanoseconds(-1s)}) {
      auto before = clk::now();
      auto v = recv_bounded(goro::new_timer(d).c());
      ASSERT_TRUE(v.has_value());
      EXPECT_GE(*v, before);
    }
  });
}

TEST_P(TimerTest, StopBeforeFire) {
  run([] {
    goro::timer t = goro::new_timer(30ms);
    EXPECT_TRUE(t.stop());
    EXPECT_FALSE(t.stop()) << "second stop";
    goro::sleep(60ms);
    EXPECT_EQ(t.c().try_recv().status, goro::chan_status::would_block);
  });
}

// Go 1.23: the channel is synchronous. A timer that fired while nobody received has not
// delivered yet, so stop() stops it (true) and the value can never be received.
TEST_P(TimerTest, StopAfterFireBeforeReceiveDrains) {
  run([] {
    goro::timer t = goro::new_timer(1ms);
    goro::sleep(20ms);
    EXPECT_TRUE(t.stop());
    EXPECT_EQ(t.c().try_recv().status, goro::chan_status::would_block) << "stale value after stop";
    EXPECT_FALSE(t.stop());
  });
}

// Nobody ever receives, so whenever stop() runs (before, during or after the fire) it
// returns true and nothing can be received afterwards.
TEST_P(TimerTest, StopRacingFireAlwaysStops) {
  run([] {
    std::mt19937 rng(42);
    const int n = static_cast<int>(goro_test::scaled(2000, 4));
    std::vector<goro::timer> timers;
    for (int i = 0; i < n; i++) {
      timers.push_back(goro::new_timer(std::chrono::microseconds(rng() % 500)));
      if (i % 7 == 0) goro::sleep(std::chrono::microseconds(rng() % 300));
      if (i % 3 == 0) {
        auto& t = timers[static_cast<std::size_t>(rng() % timers.size())];
        (void)t.stop();
      }
    }
    for (auto& t : timers) (void)t.stop();
    goro::sleep(5ms);
    for (auto& t : timers) {
      EXPECT_EQ(t.c().try_recv().status, goro::chan_status::would_block) << "a stopped timer delivered";
    }
    // Fresh timers: the first stop() always reports true.
    for (int i = 0; i < n; i++) {
      auto t = goro::new_timer(std::chrono::microseconds(rng() % 200));
      if (i % 5 == 0) goro::sleep(std::chrono::microseconds(rng() % 300));
      EXPECT_TRUE(t.stop()) << "iteration " << i;
      EXPECT_EQ(t.c().try_recv().status, goro::chan_status::would_block);
    }
  });
}

TEST_P(TimerTest, ResetPendingTimer) {
  run([] {
    goro::timer t = goro::new_timer(1h);
    auto deadline = clk::now() + 10ms;
    EXPECT_TRUE(t.reset(10ms));
    auto v = recv_bounded(t.c());
    ASSERT_TRUE(v.has_value());
    EXPECT_GE(*v, deadline);
    goro::sleep(20ms);
    EXPECT_EQ(t.c().try_recv().status, goro::chan_status::would_block) << "reset delivered twice";
  });
}

TEST_P(TimerTest, ResetFiredAndReceivedTimer) {
  run([] {
    goro::timer t = goro::new_timer(1ms);
    ASSERT_TRUE(recv_bounded(t.c()).has_value());
    auto deadline = clk::now() + 5ms;
    EXPECT_FALSE(t.reset(5ms)) << "the timer had fired and delivered";
    auto v = recv_bounded(t.c());
    ASSERT_TRUE(v.has_value());
    EXPECT_GE(*v, deadline);
  });
}

// The stale value of the first arming is drained: the only value received is the new one.
TEST_P(TimerTest, ResetAfterFireBeforeReceiveDrains) {
  run([] {
    goro::timer t = goro::new_timer(1ms);
    goro::sleep(20ms);
    auto deadline = clk::now() + 15ms;
    EXPECT_TRUE(t.reset(15ms)) << "Go 1.23: an unreceived value means still pending";
    auto v = recv_bounded(t.c());
    ASSERT_TRUE(v.has_value());
    EXPECT_GE(*v, deadline) << "received the stale value of the first arming";
  });
}

TEST_P(TimerTest, ResetStoppedTimer) {
  run([] {
    goro::timer t = goro::new_timer(1h);
    EXPECT_TRUE(t.stop());
    auto deadline = clk::now() + 5ms;
    EXPECT_FALSE(t.reset(5ms));
    auto v = recv_bounded(t.c());
    ASSERT_TRUE(v.has_value());
    EXPECT_GE(*v, deadline);
    goro::sleep(15ms);
    EXPECT_EQ(t.c().try_recv().status, goro::chan_status::would_block);
  });
}

// Resets racing with fires of the previous arming: only the last arming delivers, exactly
// once, and never before its own deadline.
TEST_P(TimerTest, ResetRacingFireDeliversOnlyTheNewArming) {
  run([] {
    std::mt19937 rng(7);
    const int rounds = static_cast<int>(goro_test::scaled(300, 5));
    for (int r = 0; r < rounds; r++) {
      goro::timer t = goro::new_timer(std::chrono::microseconds(rng() % 100));
      for (int k = 0; k < 5; k++) {
        goro::sleep(std::chrono::microseconds(rng() % 100));
        EXPECT_TRUE(t.reset(std::chrono::microseconds(rng() % 100))) << "nobody received: still pending";
      }
      auto deadline = clk::now() + 300us;
      EXPECT_TRUE(t.reset(300us));
      auto v = recv_bounded(t.c());
      ASSERT_TRUE(v.has_value());
      EXPECT_GE(*v, deadline) << "round " << r << ": a value of an older arming arrived";
      goro::sleep(500us);
      EXPECT_EQ(t.c().try_recv().status, goro::chan_status::would_block) << "round " << r;
    }
  });
}

TEST_P(TimerTest, AfterInSelectAsTimeout) {
  run([] {
    auto never = goro::make_chan<int>();
    auto deadline = clk::now() + 10ms;
    goro::time_point fired{};
    int chosen = goro::select(goro::recv(never), goro::recv(goro::after(10ms), [&](goro::time_point v) { fired = v; }));
    EXPECT_EQ(chosen, 1);
    EXPECT_GE(fired, deadline);
  });
}

TEST_P(TimerTest, ReceiveParksWithChanReceive) {
  run([] {
    goro::timer t = goro::new_timer(1h);
    auto got = goro::make_chan<std::uint64_t>(1);
    goro::go([t, got] {
      (void)t.c().recv();
      got.send(goro::this_goroutine::id());
    });
    std::string reason;
    for (int i = 0; i < 5000 && reason.empty(); i++) {
      for (const auto& g : goro::goroutines()) {
        if (g.id != goro::this_goroutine::id() && g.state == goro::goroutine_state::waiting) {
          reason = std::string(g.wait_reason);
        }
      }
      if (reason.empty()) goro::sleep(1ms);
    }
    EXPECT_EQ(reason, "chan receive");
    EXPECT_TRUE(t.reset(0ns));
    EXPECT_NE(*got.recv(), goro::this_goroutine::id());
  });
}

// Ten thousand timers with random durations: each fires exactly once, none early.
TEST_P(TimerTest, ManyTimersEachFireOnce) {
  run([] {
    const int n = static_cast<int>(goro_test::scaled(10000, 10));
    std::mt19937 rng(1);
    std::vector<goro::timer> timers;
    std::vector<clk::time_point> deadlines;
    for (int i = 0; i < n; i++) {
      auto d = std::chrono::microseconds(rng() % 50000);
      deadlines.push_back(clk::now() + d);
      timers.push_back(goro::new_timer(d));
    }
    for (int i = 0; i < n; i++) {
      auto v = recv_bounded(timers[static_cast<std::size_t>(i)].c());
      ASSERT_TRUE(v.has_value());
      EXPECT_GE(*v, deadlines[static_cast<std::size_t>(i)]) << "timer " << i << " fired early";
    }
    goro::sleep(5ms);
    for (auto& t : timers) EXPECT_EQ(t.c().try_recv().status, goro::chan_status::would_block);
  });
}

// Timers may be created, stopped and reset from a plain thread while the runtime runs.
TEST_P(TimerTest, PlainThreadCreatesTimers) {
  run([] {
    goro::timer fires, stopped;
    bool stop_result = false;
    auto deadline = clk::now();
    std::thread th([&] {
      deadline = clk::now() + 5ms;
      fires = goro::new_timer(5ms);
      stopped = goro::new_timer(10ms);
      stop_result = stopped.stop();
    });
    goro::blocking([&] { th.join(); });
    EXPECT_TRUE(stop_result);
    auto v = recv_bounded(fires.c());
    ASSERT_TRUE(v.has_value());
    EXPECT_GE(*v, deadline);
    goro::sleep(20ms);
    EXPECT_EQ(stopped.c().try_recv().status, goro::chan_status::would_block);
  });
}

// Timers still armed when run() returns are abandoned with the runtime's heaps, like
// goroutines: they never fire. In the ASan build LeakSanitizer checks at exit that their
// state is still reachable (abandoned, not leaked).
TEST_P(TimerTest, ArmedAtShutdownIsAbandoned) {
  run([] {
    auto never = goro::make_chan<int>();
    int chosen = goro::select(goro::recv(never), goro::recv(goro::after(1ms)), goro::recv(goro::after(1h)));
    EXPECT_EQ(chosen, 1);
    goro::timer t = goro::new_timer(1h);
    (void)goro::after_func(1h, [] {});
    (void)t;
  });
}

}  // namespace
