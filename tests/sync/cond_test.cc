// goro::cond: Go's sync.Cond semantics (after what sync/cond_test.go checks).

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <vector>

#include "goro/goro.h"
#include "support/goro_test.h"
#include "sync_helpers.h"

namespace {

class Cond : public goro_test::Procs {};
GORO_INSTANTIATE_PROCS(Cond);

// Go's TestCondSignal / TestCondFIFO: signal() wakes the waiters one at a time, in the
// order they started waiting.
TEST_P(Cond, SignalWakesWaitersInFifoOrder) {
  run([] {
    goro::mutex mu;
    goro::cond c(mu);
    std::vector<int> order;  // (mu)
    goro::wait_group wg;
    const int n = 8;
    for (int i = 0; i < n; i++) {
      wg.go([&, i] {
        std::unique_lock<goro::mutex> lk(mu);
        c.wait();
        order.push_back(i);
      });
      ASSERT_TRUE(sync_test::wait_parked(&c, "sync.Cond.Wait", i + 1));  // fixes the order
    }
    for (int i = 0; i < n; i++) {
      c.signal();
      ASSERT_TRUE(sync_test::wait_until([&] {
        std::lock_guard<goro::mutex> lk(mu);
        return order.size() == static_cast<std::size_t>(i + 1);
      }));
    }
    wg.wait();
    std::vector<int> want;
    for (int i = 0; i < n; i++) want.push_back(i);
    EXPECT_EQ(order, want);
    c.signal();  // no waiter: nothing happens, nothing is remembered
  });
}

// Go's TestCondBroadcast: broadcast() wakes every waiter.
TEST_P(Cond, BroadcastWakesEveryone) {
  run([] {
    goro::mutex mu;
    goro::cond c(mu);
    int generation = 0;  // (mu)
    int woken = 0;       // (mu)
    goro::wait_group wg;
    const int n = 10;
    for (int i = 0; i < n; i++) {
      wg.go([&] {
        std::unique_lock<goro::mutex> lk(mu);
        while (generation == 0) c.wait();
        woken++;
      });
    }
    ASSERT_TRUE(sync_test::wait_parked(&c, "sync.Cond.Wait", n));
    {
      std::lock_guard<goro::mutex> lk(mu);
      generation = 1;
      c.broadcast();
    }
    wg.wait();
    EXPECT_EQ(woken, n);
  });
}

// A signal is meant for the oldest waiter: a goroutine that starts waiting after the
// signal() cannot take it. Here the signaller itself waits right after signalling, still
// holding the mutex the first waiter needs; it must not return before the first waiter.
TEST_P(Cond, LaterWaiterCannotStealASignal) {
  run([] {
    goro::mutex mu;
    goro::cond c(mu);
    bool first_woke = false;  // (mu)
    goro::wait_group wg;
    wg.go([&] {
      std::unique_lock<goro::mutex> lk(mu);
      c.wait();
      first_woke = true;
      c.signal();  // now wake the later waiter
    });
    ASSERT_TRUE(sync_test::wait_parked(&c, "sync.Cond.Wait"));
    std::unique_lock<goro::mutex> lk(mu);
    c.signal();
    c.wait();  // a later ticket than the signal just sent
    EXPECT_TRUE(first_woke);
    lk.unlock();
    wg.wait();
  });
}

// Go's TestCondSignalStealing: a broadcast racing with a new waiter must still wake the
// waiter that was already waiting.
TEST_P(Cond, BroadcastRacingWithNewWaiterWakesTheOldOne) {
  run([] {
    const int kIterations = static_cast<int>(goro_test::scaled(500, 10));
    for (int it = 0; it < kIterations; it++) {
      goro::mutex mu;
      goro::cond c(mu);
      std::atomic<bool> first_done{false};
      bool stop = false;  // (mu)
      goro::wait_group wg;
      wg.go([&] {
        std::unique_lock<goro::mutex> lk(mu);
        c.wait();
        first_done = true;
      });
      ASSERT_TRUE(sync_test::wait_parked(&c, "sync.Cond.Wait"));
      wg.go([&] { c.broadcast(); });
      wg.go([&] {
        std::unique_lock<goro::mutex> lk(mu);
        while (!stop) c.wait();
      });
      ASSERT_TRUE(sync_test::wait_until([&] { return first_done.load(); }));
      {
        std::lock_guard<goro::mutex> lk(mu);
        stop = true;
      }
      c.broadcast();
      wg.wait();
    }
  });
}

// The classic bounded buffer: producers and consumers with two conditions over one
// mutex; plain data only.
TEST_P(Cond, BoundedBuffer) {
  run([] {
    const int kItems = static_cast<int>(goro_test::scaled(5000, 10));
    goro::mutex mu;
    goro::cond not_full(mu), not_empty(mu);
    std::vector<int> buf;  // (mu), at most 4 items
    long sum = 0;          // (mu)
    int taken = 0;         // (mu)
    goro::wait_group wg;
    for (int p = 0; p < 2; p++) {
      wg.go([&] {
        for (int i = 1; i <= kItems; i++) {
          std::unique_lock<goro::mutex> lk(mu);
          while (buf.size() == 4) not_full.wait();
          buf.push_back(i);
          not_empty.signal();
        }
      });
    }
    for (int k = 0; k < 3; k++) {
      wg.go([&] {
        for (;;) {
          std::unique_lock<goro::mutex> lk(mu);
          while (buf.empty() && taken < 2 * kItems) not_empty.wait();
          if (taken == 2 * kItems) {
            not_empty.broadcast();
            return;
          }
          sum += buf.back();
          buf.pop_back();
          taken++;
          not_full.signal();
          if (taken == 2 * kItems) not_empty.broadcast();
        }
      });
    }
    wg.wait();
    EXPECT_EQ(sum, 2L * kItems * (kItems + 1) / 2);
  });
}

}  // namespace
