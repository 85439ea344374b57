// goro::ticker: Go's time.Ticker tests (time/tick_test.go), written anew.

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "goro/goro.h"
#include "support/goro_test.h"

namespace {

using namespace std::chrono_literals;
using clk = std::chrono::steady_clock;
using goro_test::Procs;

class TickerTest : public Procs {};
GORO_INSTANTIATE_PROCS(TickerTest);

// Receives one tick, failing the test if none comes within 5 s.
goro::time_point tick(const goro::ticker& t) {
  goro::time_point v{};
  bool timed_out = false;
  auto guard = goro::new_timer(5s);
  goro::select(goro::recv(t.c(), [&](goro::time_point x) { v = x; }), goro::recv(guard.c(), [&] { timed_out = true; }));
  guard.stop();
  EXPECT_FALSE(timed_out) << "no tick within 5 s";
  return v;
}

TEST_P(TickerTest, TicksRepeatedlyNotEarly) {
  run([] {
    auto start = clk::now();
    goro::ticker t = goro::new_ticker(5ms);
    goro::time_point prev = start + 5ms;
    for (int i = 0; i < 5; i++) {
      goro::time_point v = tick(t);
      EXPECT_GE(v, prev) << "tick " << i << " early or out of order";
      prev = v;
    }
    t.stop();
  });
}

// A slow receiver gets at most one stale tick: the channel holds one, later ticks are
// dropped rather than queued.
TEST_P(TickerTest, DropsTicksForSlowReceiver) {
  run([] {
    goro::ticker t = goro::new_ticker(20ms);
    goro::sleep(200ms);  // ten periods
    EXPECT_LE(t.c().len(), 1u);
    int available = 0;
    while (t.c().try_recv()) available++;
    EXPECT_EQ(available, 1) << "ticks queued up for a slow receiver";
    // The ticker still runs.
    (void)tick(t);
    t.stop();
  });
}

TEST_P(TickerTest, StopStopsTicks) {
  run([] {
    goro::ticker t = goro::new_ticker(2ms);
    (void)tick(t);
    t.stop();
    EXPECT_EQ(t.c().try_recv().status, goro::chan_status::would_block) << "stop leaves no stale tick";
    goro::sleep(20ms);
    EXPECT_EQ(t.c().try_recv().status, goro::chan_status::would_block) << "ticked after stop";
    t.stop();  // idempotent
  });
}

TEST_P(TickerTest, ResetChangesPeriod) {
  run([] {
    goro::ticker t = goro::new_ticker(1h);
    auto deadline = clk::now() + 5ms;
    t.reset(5ms);
    goro::time_point first = tick(t);
    EXPECT_GE(first, deadline);
    EXPECT_GE(tick(t), first);
    // Back to a long period: no tick for a while (only the one that may sit in the channel
    // was drained by reset).
    t.reset(1h);
    goro::sleep(20ms);
    EXPECT_EQ(t.c().try_recv().status, goro::chan_status::would_block);
    t.stop();
  });
}

TEST_P(TickerTest, ResetRestartsStoppedTicker) {
  run([] {
    goro::ticker t = goro::new_ticker(1h);
    t.stop();
    t.reset(2ms);
    (void)tick(t);
    (void)tick(t);
    t.stop();
  });
}

TEST_P(TickerTest, NonPositiveIntervalPanics) {
  run([] {
    for (auto d : {0ns, -1ns, std::chrono::nanoseconds(-1s)}) {
      try {
        (void)goro::new_ticker(d);
        ADD_FAILURE() << "new_ticker(" << d.count() << "ns) did not panic";
      } catch (const goro::panic& p) {
        EXPECT_EQ(std::string(p.what()), "non-positive interval for NewTicker");
      }
    }
    goro::ticker t = goro::new_ticker(1h);
    try {
      t.reset(0ns);
      ADD_FAILURE() << "reset(0) did not panic";
    } catch (const goro::panic& p) {
      EXPECT_EQ(std::string(p.what()), "non-positive interval for Ticker.Reset");
    }
    t.stop();
  });
}

TEST_P(TickerTest, ReceiveParksWithChanReceive) {
  run([] {
    goro::ticker t = goro::new_ticker(1h);
    auto done = goro::make_chan<>(1);
    goro::go([t, done] {
      (void)t.c().recv();
      done.send();
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
    t.reset(1ms);
    done.recv();
    t.stop();
  });
}

}  // namespace
