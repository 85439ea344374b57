// goro::mutex: Go's sync.Mutex semantics (ported anew from what sync/mutex_test.go checks).

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <shared_mutex>
#include <stdexcept>
#include <string>

#include "goro/goro.h"
#include "support/goro_test.h"
#include "sync/mutex_core.h"
#include "sync_helpers.h"

namespace {

using namespace std::chrono_literals;
using goro::detail::mutex_core;

// Constant-initialised, so usable as globals without static-initialisation-order issues.
constinit goro::mutex g_mutex;
constinit goro::once g_once;
constinit goro::wait_group g_wait_group;
constinit goro::rw_mutex g_rw_mutex;

TEST(SyncGlobals, ConstantInitialisedPrimitivesWork) {
  goro_test::run_checked(2, [] {
    int n = 0;
    for (int i = 0; i < 4; i++) {
      g_wait_group.go([&] {
        {
          std::lock_guard<goro::mutex> lk(g_mutex);
          n++;
        }
        g_once.call([] {});
        std::shared_lock<goro::rw_mutex> rl(g_rw_mutex);
      });
    }
    g_wait_group.wait();
    std::lock_guard<goro::mutex> lk(g_mutex);
    EXPECT_EQ(n, 4);
  });
}

class Mutex : public goro_test::Procs {};
GORO_INSTANTIATE_PROCS(Mutex);

// Many goroutines increment a plain counter under the mutex, yielding inside the critical
// section so that others pile up on it: no increment is lost.
TEST_P(Mutex, MutualExclusion) {
  run([] {
    const int kGoroutines = static_cast<int>(goro_test::scaled(200, 4));
    const int kIncrements = static_cast<int>(goro_test::scaled(1000, 10));
    goro::mutex mu;
    long counter = 0;  // plain: only the mutex orders the increments
    goro::wait_group wg;
    for (int i = 0; i < kGoroutines; i++) {
      wg.go([&] {
        for (int j = 0; j < kIncrements; j++) {
          std::lock_guard<goro::mutex> lk(mu);
          long v = counter;
          if (j % 16 == 0) goro::yield();
          counter = v + 1;
        }
      });
    }
    wg.wait();
    EXPECT_EQ(counter, long{kGoroutines} * kIncrements);
    EXPECT_EQ(mutex_core::state(mu), 0);
  });
}

TEST_P(Mutex, TryLock) {
  run([] {
    goro::mutex mu;
    ASSERT_TRUE(mu.try_lock());
    EXPECT_FALSE(mu.try_lock());
    std::atomic<int> other{-1};
    goro::wait_group wg;
    wg.go([&] { other = mu.try_lock() ? 1 : 0; });
    wg.wait();
    EXPECT_EQ(other.load(), 0);
    mu.unlock();
    EXPECT_TRUE(mu.try_lock());
    mu.unlock();
    std::unique_lock<goro::mutex> lk(mu, std::try_to_lock);
    EXPECT_TRUE(lk.owns_lock());
  });
}

// std::scoped_lock (std::lock's avoidance algorithm over lock/try_lock/unlock) taking two
// mutexes in opposite orders from many goroutines: no deadlock, no lost update.
TEST_P(Mutex, StdLockTwoMutexes) {
  run([] {
    const int kRounds = static_cast<int>(goro_test::scaled(2000, 10));
    goro::mutex a, b;
    long x = 0, y = 0;
    goro::wait_group wg;
    for (int i = 0; i < 8; i++) {
      wg.go([&, i] {
        for (int j = 0; j < kRounds; j++) {
          if (i % 2 == 0) {
            std::scoped_lock lk(a, b);
            x++;
            if (j % 8 == 0) goro::yield();
            y++;
          } else {
            std::scoped_lock lk(b, a);
            y++;
            if (j % 8 == 0) goro::yield();
            x++;
          }
        }
      });
    }
    wg.wait();
    EXPECT_EQ(x, 8L * kRounds);
    EXPECT_EQ(y, 8L * kRounds);
    std::unique_lock<goro::mutex> la(a, std::defer_lock);
    la.lock();
    EXPECT_TRUE(la.owns_lock());
  });
}

// Go's TestMutexFairness: a goroutine that re-takes the mutex right after each unlock (and
// holds it across a sleep) cannot keep another goroutine out for long: after 1 ms the
// waiter switches the mutex to starvation mode and gets it handed over. Counted in the
// hog's rounds (each at least 100us), not in wall-clock time.
TEST_P(Mutex, FairnessStarvationMode) {
  const int procs = GetParam();
  run([procs] {
    goro::mutex mu;
    std::atomic<bool> stop{false};
    std::atomic<long> hog_rounds{0};
    std::atomic<bool> saw_starving{false};
    goro::wait_group wg;
    wg.go([&] {
      // Bounded, so that a mutex without starvation mode fails the test instead of hanging.
      while (!stop.load() && hog_rounds.load() < 2000) {
        mu.lock();
        goro::sleep(100us);
        if ((mutex_core::state(mu) & mutex_core::kStarving) != 0) saw_starving = true;
        mu.unlock();
        hog_rounds++;
      }
    });
    long worst = 0;
    for (int i = 0; i < 10; i++) {
      goro::sleep(100us);
      long before = hog_rounds.load();
      mu.lock();
      mu.unlock();
      worst = std::max(worst, hog_rounds.load() - before);
    }
    stop = true;
    wg.wait();
    // About 1 ms / 100 us = 10 rounds; without starvation mode the waiter would never win
    // at one processor.
    EXPECT_LT(worst, 200) << "a waiter was passed over " << worst << " times";
    // At one processor the waiter can only ever get the mutex by a starvation handoff.
    if (procs == 1) {
      EXPECT_TRUE(saw_starving.load());
    }
  });
}

TEST_P(Mutex, ParksWithWaitReasonAndRecordsOwner) {
  run([] {
    goro::mutex mu;
    EXPECT_EQ(goro::detail::mutex_owner(mu).goroutine, 0u);
    mu.lock();
    auto owner = goro::detail::mutex_owner(mu);
    EXPECT_EQ(owner.goroutine, goro::this_goroutine::id());
    EXPECT_NE(owner.pc, nullptr);
    std::atomic<std::uint64_t> waiter{0};
    goro::wait_group wg;
    wg.go([&] {
      waiter = goro::this_goroutine::id();
      mu.lock();
      EXPECT_EQ(goro::detail::mutex_owner(mu).goroutine, goro::this_goroutine::id());
      mu.unlock();
    });
    ASSERT_TRUE(sync_test::wait_parked(&mu, "sync.Mutex.Lock"));
    mu.unlock();
    wg.wait();
    EXPECT_EQ(goro::detail::mutex_owner(mu).goroutine, 0u);
    EXPECT_EQ(goro::detail::mutex_owner(mu).pc, nullptr);
  });
}

TEST_P(Mutex, LockSitesDiffer) {
  run([] {
    goro::mutex mu;
    mu.lock();
    const void* first = goro::detail::mutex_owner(mu).pc;
    mu.unlock();
    ASSERT_TRUE(mu.try_lock());
    const void* second = goro::detail::mutex_owner(mu).pc;
    mu.unlock();
    EXPECT_NE(first, nullptr);
    EXPECT_NE(second, nullptr);
    EXPECT_NE(first, second);
  });
}

// Plain data (an int and a heap string) handed between goroutines on two processors only
// through the mutex. Meant for the TSan build: any missing happens-before edge in lock or
// unlock (fast path, slow path, starvation handoff) is reported as a data race there.
TEST(MutexTsan, ProtectedPlainDataOnTwoProcs) {
  goro_test::run_checked(2, [] {
    goro::mutex mu;
    int n = 0;
    std::string log;
    goro::wait_group wg;
    const int kRounds = static_cast<int>(goro_test::scaled(2000, 4));
    for (int i = 0; i < 8; i++) {
      wg.go([&, i] {
        for (int j = 0; j < kRounds; j++) {
          mu.lock();
          n++;
          log.push_back(static_cast<char>('a' + i));
          if (log.size() > 64) log.clear();
          if (j % 32 == 0) goro::sleep(10us);  // long holds push waiters into starvation mode
          mu.unlock();
        }
      });
    }
    wg.wait();
    mu.lock();
    EXPECT_EQ(n, 8 * kRounds);
    mu.unlock();
  });
}

TEST(MutexPlainThread, LockOutsideAGoroutineThrows) {
  goro::mutex mu;
  EXPECT_THROW(mu.lock(), std::logic_error);
  EXPECT_EQ(mutex_core::state(mu), 0);
  EXPECT_TRUE(mu.try_lock());
  mu.unlock();
}

TEST(MutexDeathTest, UnlockOfUnlockedMutexIsFatal) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(goro::run([] {
                goro::mutex mu;
                mu.unlock();
              }),
              ::testing::ExitedWithCode(2), "fatal error: sync: unlock of unlocked mutex");
  EXPECT_EXIT(goro::run([] {
                goro::mutex mu;
                mu.lock();
                mu.unlock();
                mu.unlock();
              }),
              ::testing::ExitedWithCode(2), "fatal error: sync: unlock of unlocked mutex");
}

}  // namespace
