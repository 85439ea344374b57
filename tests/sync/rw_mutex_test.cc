// goro::rw_mutex: Go's sync.RWMutex semantics (after what sync/rwmutex_test.go checks).

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <shared_mutex>

#include "goro/goro.h"
#include "support/goro_test.h"
#include "sync_helpers.h"

namespace {

class RwMutex : public goro_test::Procs {};
GORO_INSTANTIATE_PROCS(RwMutex);

// Go's TestParallelReaders: every reader holds the lock until all readers hold it, which
// only terminates if readers really share it.
TEST_P(RwMutex, ReadersShareTheLock) {
  run([] {
    const int kReaders = 16;
    goro::rw_mutex rw;
    std::atomic<int> inside{0};
    goro::wait_group wg;
    for (int i = 0; i < kReaders; i++) {
      wg.go([&] {
        std::shared_lock<goro::rw_mutex> lk(rw);
        inside++;
        EXPECT_TRUE(sync_test::wait_until([&] { return inside.load() == kReaders; }));
      });
    }
    wg.wait();
  });
}

// Go's HammerRWMutex: readers and writers interleave; a writer is always alone and readers
// never overlap a writer. The plain pair (a, b) is only consistent if that holds.
TEST_P(RwMutex, WriterIsExclusive) {
  run([] {
    const int kIterations = static_cast<int>(goro_test::scaled(1000, 10));
    goro::rw_mutex rw;
    std::atomic<int> activity{0};
    long a = 0, b = 0;  // plain: written by writers, read by readers
    goro::wait_group wg;
    for (int w = 0; w < 3; w++) {
      wg.go([&] {
        for (int i = 0; i < kIterations; i++) {
          std::lock_guard<goro::rw_mutex> lk(rw);
          EXPECT_EQ(activity.fetch_add(10000) + 10000, 10000);
          a++;
          if (i % 4 == 0) goro::yield();
          b++;
          activity.fetch_sub(10000);
        }
      });
    }
    for (int r = 0; r < 10; r++) {
      wg.go([&] {
        for (int i = 0; i < kIterations; i++) {
          std::shared_lock<goro::rw_mutex> lk(rw);
          int n = activity.fetch_add(1) + 1;
          EXPECT_TRUE(n >= 1 && n < 10000) << n;
          EXPECT_EQ(a, b);
          if (i % 4 == 0) goro::yield();
          activity.fetch_sub(1);
        }
      });
    }
    wg.wait();
    EXPECT_EQ(a, 3L * kIterations);
    EXPECT_EQ(b, a);
  });
}

// Writer preference: while a writer waits for a reader to leave, a new reader waits behind
// the writer, and gets the lock only after the writer has had it.
TEST_P(RwMutex, PendingWriterBlocksNewReaders) {
  run([] {
    goro::rw_mutex rw;
    int written = 0;  // plain: the writer writes it, the second reader reads it
    std::atomic<int> second_reader_saw{-1};
    rw.lock_shared();  // the first reader: this goroutine
    goro::wait_group wg;
    wg.go([&] {
      rw.lock();
      written = 1;
      rw.unlock();
    });
    ASSERT_TRUE(sync_test::wait_parked(&rw, "sync.RWMutex.Lock"));
    EXPECT_FALSE(rw.try_lock_shared());  // a writer is pending
    EXPECT_FALSE(rw.try_lock());
    wg.go([&] {
      rw.lock_shared();
      second_reader_saw = written;
      rw.unlock_shared();
    });
    ASSERT_TRUE(sync_test::wait_parked(&rw, "sync.RWMutex.RLock"));
    EXPECT_EQ(second_reader_saw.load(), -1);
    rw.unlock_shared();  // the writer goes first, then the second reader
    wg.wait();
    EXPECT_EQ(second_reader_saw.load(), 1);
  });
}

TEST_P(RwMutex, WritersQueueOnTheWriterLock) {
  run([] {
    goro::rw_mutex rw;
    rw.lock();
    EXPECT_EQ(goro::detail::rw_mutex_writer(rw).goroutine, goro::this_goroutine::id());
    goro::wait_group wg;
    long n = 0;
    for (int i = 0; i < 3; i++) {
      wg.go([&] {
        std::unique_lock<goro::rw_mutex> lk(rw);
        n++;
      });
    }
    ASSERT_TRUE(sync_test::wait_parked(&rw, "sync.RWMutex.Lock", 3));
    rw.unlock();
    wg.wait();
    EXPECT_EQ(n, 3);
    EXPECT_EQ(goro::detail::rw_mutex_writer(rw).goroutine, 0u);
  });
}

TEST_P(RwMutex, TryLockAndTryLockShared) {
  run([] {
    goro::rw_mutex rw;
    ASSERT_TRUE(rw.try_lock_shared());
    ASSERT_TRUE(rw.try_lock_shared());
    EXPECT_FALSE(rw.try_lock());
    rw.unlock_shared();
    EXPECT_FALSE(rw.try_lock());
    rw.unlock_shared();
    ASSERT_TRUE(rw.try_lock());
    EXPECT_FALSE(rw.try_lock());
    EXPECT_FALSE(rw.try_lock_shared());
    rw.unlock();
    std::shared_lock<goro::rw_mutex> lk(rw, std::try_to_lock);
    EXPECT_TRUE(lk.owns_lock());
  });
}

TEST(RwMutexDeathTest, MisuseIsFatal) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(goro::run([] {
                goro::rw_mutex rw;
                rw.unlock_shared();
              }),
              ::testing::ExitedWithCode(2), "fatal error: sync: RUnlock of unlocked RWMutex");
  EXPECT_EXIT(goro::run([] {
                goro::rw_mutex rw;
                rw.lock();
                rw.unlock_shared();
              }),
              ::testing::ExitedWithCode(2), "fatal error: sync: RUnlock of unlocked RWMutex");
  EXPECT_EXIT(goro::run([] {
                goro::rw_mutex rw;
                rw.unlock();
              }),
              ::testing::ExitedWithCode(2), "fatal error: sync: Unlock of unlocked RWMutex");
  EXPECT_EXIT(goro::run([] {
                goro::rw_mutex rw;
                rw.lock_shared();
                rw.unlock();
              }),
              ::testing::ExitedWithCode(2), "fatal error: sync: Unlock of unlocked RWMutex");
  EXPECT_EXIT(goro::run([] {
                goro::rw_mutex rw;
                rw.lock();
                rw.unlock();
                rw.unlock();
              }),
              ::testing::ExitedWithCode(2), "fatal error: sync: Unlock of unlocked RWMutex");
  EXPECT_EXIT(goro::run([] {
                goro::rw_mutex rw;
                rw.lock_shared();
                rw.unlock_shared();
                rw.unlock_shared();
              }),
              ::testing::ExitedWithCode(2), "fatal error: sync: RUnlock of unlocked RWMutex");
}

}  // namespace
