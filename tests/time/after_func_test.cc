// goro::after_func: Go's time.AfterFunc tests, written anew. f runs in a goroutine of its
// own, created "by" the after_func call site.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "goro/goro.h"
#include "support/goro_test.h"

namespace {

using namespace std::chrono_literals;
using clk = std::chrono::steady_clock;
using goro_test::Procs;

class AfterFuncTest : public Procs {};
GORO_INSTANTIATE_PROCS(AfterFuncTest);

// Receives from c, failing the test if nothing comes within 5 s.
template <class T>
void recv_bounded(const goro::chan<T>& c) {
  bool timed_out = false;
  auto guard = goro::new_timer(5s);
  goro::select(goro::recv(c), goro::recv(guard.c(), [&] { timed_out = true; }));
  guard.stop();
  EXPECT_FALSE(timed_out) << "nothing within 5 s";
}

TEST_P(AfterFuncTest, RunsInNewGoroutineNotEarly) {
  run([] {
    auto done = goro::make_chan<std::uint64_t>(1);
    auto deadline = clk::now() + 10ms;
    clk::time_point ran{};
    goro::timer t = goro::after_func(10ms, [&, done] {
      ran = clk::now();
      done.send(goro::this_goroutine::id());
    });
    EXPECT_TRUE(t.c().is_nil()) << "after_func timers have no channel (Go: C is nil)";
    std::uint64_t id = *done.recv();
    EXPECT_NE(id, goro::this_goroutine::id());
    EXPECT_NE(id, 0u);
    EXPECT_GE(ran, deadline);
    EXPECT_FALSE(t.stop()) << "stop after f started";
  });
}

TEST_P(AfterFuncTest, StopBeforeFirePreventsRun) {
  run([] {
    std::atomic<int> runs{0};
    goro::timer t = goro::after_func(20ms, [&] { runs++; });
    EXPECT_TRUE(t.stop());
    EXPECT_FALSE(t.stop());
    goro::sleep(50ms);
    EXPECT_EQ(runs.load(), 0);
  });
}

TEST_P(AfterFuncTest, ResetReschedules) {
  run([] {
    auto done = goro::make_chan<>(2);
    goro::timer t = goro::after_func(1h, [done] { done.send(); });
    EXPECT_TRUE(t.reset(1ms));
    recv_bounded(done);
    EXPECT_FALSE(t.reset(1ms)) << "f already ran";
    recv_bounded(done);
    goro::sleep(10ms);
    EXPECT_EQ(done.try_recv(), goro::chan_status::would_block) << "f ran more than once per arming";
  });
}

// The goroutine that runs f is "created by" the after_func call, as Go reports
// "created by time.goFunc" at the AfterFunc site's timer.
TEST_P(AfterFuncTest, CreatedBySiteIsTheCall) {
  run([] {
    auto done = goro::make_chan<goro::goroutine_info>(1);
    auto f = [done] {
      for (const auto& g : goro::goroutines()) {
        if (g.id == goro::this_goroutine::id()) done.send(g);
      }
    };
    const unsigned line = __LINE__ + 1;
    goro::timer t = goro::after_func(1ms, f);
    goro::goroutine_info info = *done.recv();
    ASSERT_NE(info.created_file, nullptr);
    EXPECT_STREQ(info.created_file, __FILE__);
    EXPECT_EQ(info.created_line, line);
  });
}

// Many after_func timers, some stopped: each unstopped f runs exactly once, stopped ones never.
TEST_P(AfterFuncTest, ManyEachRunOnceOrNever) {
  run([] {
    const int n = static_cast<int>(goro_test::scaled(10000, 10));
    std::mt19937 rng(3);
    auto counts = std::make_shared<std::vector<std::atomic<int>>>(static_cast<std::size_t>(n));
    auto finished = goro::make_chan<>(static_cast<std::size_t>(n));
    std::vector<goro::timer> timers;
    for (int i = 0; i < n; i++) {
      timers.push_back(goro::after_func(std::chrono::microseconds(rng() % 20000), [counts, finished, i] {
        (*counts)[static_cast<std::size_t>(i)]++;
        finished.send();
      }));
    }
    int expected = 0;
    std::vector<bool> stopped(static_cast<std::size_t>(n));
    for (int i = 0; i < n; i++) {
      if (i % 4 == 0) {
        stopped[static_cast<std::size_t>(i)] = timers[static_cast<std::size_t>(i)].stop();
      }
      if (!stopped[static_cast<std::size_t>(i)]) expected++;
    }
    for (int i = 0; i < expected; i++) recv_bounded(finished);
    goro::sleep(30ms);
    EXPECT_EQ(finished.try_recv(), goro::chan_status::would_block) << "a stopped f ran";
    for (int i = 0; i < n; i++) {
      EXPECT_EQ((*counts)[static_cast<std::size_t>(i)].load(), stopped[static_cast<std::size_t>(i)] ? 0 : 1)
          << "timer " << i;
    }
  });
}

TEST_P(AfterFuncTest, FromPlainThread) {
  run([] {
    auto done = goro::make_chan<std::uint64_t>(1);
    goro::timer t;
    std::thread th([&] { t = goro::after_func(2ms, [done] { done.send(goro::this_goroutine::id()); }); });
    goro::blocking([&] { th.join(); });
    EXPECT_NE(*done.recv(), 0u) << "f runs on a goroutine even when armed from a plain thread";
  });
}

}  // namespace
