// The scheduler: work spreads over the P's (stealing), yield() gives the processor away,
// and blocking() hands the P over while the thread is blocked (sysmon's retake).

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "goro/goro.h"
#include "park_test_util.h"
#include "runtime/spinlock.h"
#include "support/goro_test.h"

namespace {

using goro_test::Procs;
using goro_test::run_checked;
using rt_test::countdown;
using namespace std::chrono_literals;

class SchedTest : public Procs {};
GORO_INSTANTIATE_PROCS(SchedTest);

// Spins for about `d` of thread time without any scheduling point.
void busy_for(std::chrono::microseconds d) {
  auto end = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < end) goro::detail::cpu_relax();
}

// Work spawned on one P spreads to the other: goroutines record the thread they run on and
// do busy work (no scheduling point) until both threads have taken part. Whether stealing
// happens is semantic; only the time it may take is bounded, generously.
TEST(SchedSpread, WorkSpreadsOverTwoProcs) {
  std::mutex mu;
  std::set<std::thread::id> threads;
  std::atomic<bool> both{false};
  std::atomic<long> ran{0};
  run_checked(2, [&] {
    constexpr int kN = 64;
    countdown done(kN);
    for (int i = 0; i < kN; i++) {
      goro::go([&] {
        {
          std::lock_guard<std::mutex> lk(mu);
          threads.insert(std::this_thread::get_id());
          if (threads.size() >= 2) both.store(true);
        }
        // Keep this P busy until the other thread has stolen something (at most 30 s).
        auto deadline = std::chrono::steady_clock::now() + 30s;
        while (!both.load() && std::chrono::steady_clock::now() < deadline) busy_for(100us);
        busy_for(200us);
        ran.fetch_add(1);
        done.arrive();
      });
    }
    done.wait();
  });
  EXPECT_EQ(ran.load(), 64);
  EXPECT_GE(threads.size(), 2u) << "every goroutine ran on one thread: no work stealing";
}

// yield() lets the other runnable goroutine run before returning: with one P, two yielding
// goroutines strictly alternate. (yield() is not synchronisation, as in Go: the shared
// vector needs its lock even though the two never run at once.)
TEST(SchedYield, YieldAlternatesOnOneProc) {
  std::mutex mu;
  std::vector<int> order;
  run_checked(1, [&] {
    countdown done(2);
    for (int who = 0; who < 2; who++) {
      goro::go([&, who] {
        for (int i = 0; i < 1000; i++) {
          {
            std::lock_guard<std::mutex> lk(mu);
            order.push_back(who);
          }
          goro::yield();
        }
        done.arrive();
      });
    }
    done.wait();
  });
  ASSERT_EQ(order.size(), 2000u);
  for (std::size_t i = 1; i < order.size(); i++) {
    ASSERT_NE(order[i], order[i - 1]) << "at " << i << ": yield did not let the other goroutine run";
  }
}

// Many goroutines yielding on every P all finish (yield with stealing in between).
TEST_P(SchedTest, ManyYielders) {
  const int n = 100, rounds = static_cast<int>(goro_test::scaled(2000, 20));
  std::atomic<long> total{0};
  run([&] {
    countdown done(n);
    for (int i = 0; i < n; i++) {
      goro::go([&] {
        for (int r = 0; r < rounds; r++) {
          total.fetch_add(1, std::memory_order_relaxed);
          goro::yield();
        }
        done.arrive();
      });
    }
    done.wait();
  });
  EXPECT_EQ(total.load(), static_cast<long>(n) * rounds);
}

// With a single P, a goroutine inside blocking() does not stop the others: sysmon takes the
// P back and hands it to another thread while the call sleeps. Progress made by the other
// goroutines during the call is the assertion; the 300 ms sleep is extended (up to 20 s) only
// if the machine is so loaded that no progress was seen yet.
TEST(SchedBlocking, BlockingCallDoesNotStopOthersOnOneProc) {
  std::atomic<long> progress{0};
  std::atomic<bool> stop{false};
  long during = 0;
  run_checked(1, [&] {
    countdown done(3);
    for (int k = 0; k < 2; k++) {
      goro::go([&] {
        while (!stop.load()) {
          progress.fetch_add(1);
          goro::sleep(100us);
        }
        done.arrive();
      });
    }
    goro::go([&] {
      during = goro::blocking([&] {
        long before = progress.load();
        std::this_thread::sleep_for(300ms);
        for (int i = 0; i < 2000 && progress.load() == before; i++) std::this_thread::sleep_for(10ms);
        return progress.load() - before;
      });
      stop.store(true);
      done.arrive();
    });
    done.wait();
  });
  EXPECT_GT(during, 0) << "no goroutine ran while the only P's thread was blocked";
}

// Same with busy (never sleeping) goroutines: the P comes back to them through the global
// queue, and the goroutine leaving blocking() gets a P again although the others never park.
TEST(SchedBlocking, BlockingCallReturnsWhileOthersYield) {
  std::atomic<long> progress{0};
  std::atomic<bool> stop{false};
  long during = 0;
  run_checked(1, [&] {
    countdown done(2);
    goro::go([&] {
      while (!stop.load()) {
        progress.fetch_add(1);
        goro::yield();
      }
      done.arrive();
    });
    goro::go([&] {
      during = goro::blocking([&] {
        long before = progress.load();
        std::this_thread::sleep_for(50ms);
        for (int i = 0; i < 2000 && progress.load() == before; i++) std::this_thread::sleep_for(10ms);
        return progress.load() - before;
      });
      // Back on a P: scheduling points work again.
      goro::yield();
      stop.store(true);
      done.arrive();
    });
    done.wait();
  });
  EXPECT_GT(during, 0);
}

// blocking() returns fn's value, propagates its exception, and may be used many times in a
// row and from many goroutines at once; go() works inside it.
TEST_P(SchedTest, BlockingValuesExceptionsAndSpawns) {
  std::atomic<long> sum{0};
  run([&] {
    EXPECT_EQ(goro::blocking([] { return 7; }), 7);
    EXPECT_THROW(goro::blocking([]() -> int { throw std::runtime_error("io failed"); }), std::runtime_error);
    const int n = 50;
    countdown done(2 * n);
    for (int i = 0; i < n; i++) {
      goro::go([&, i] {
        for (int k = 0; k < 20; k++) {
          sum.fetch_add(goro::blocking([&] {
            if (k % 5 == 0) std::this_thread::sleep_for(100us);
            return 1;
          }));
        }
        // go() from inside blocking(): queued globally, still runs.
        goro::blocking([&] { goro::go([&] { done.arrive(); }); });
        (void)i;
        done.arrive();
      });
    }
    done.wait();
  });
  EXPECT_EQ(sum.load(), 50 * 20);
}

}  // namespace
