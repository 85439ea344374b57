// goro::wait_group: Go's sync.WaitGroup semantics (after what sync/waitgroup_test.go checks).

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <vector>

#include "goro/goro.h"
#include "support/goro_test.h"
#include "sync_helpers.h"

namespace {

class WaitGroup : public goro_test::Procs {};
GORO_INSTANTIATE_PROCS(WaitGroup);

// Go's TestWaitGroup: wait() returns only after every done(), and the goroutines' plain
// writes are visible after it (the done -> wait edge). Two rounds on the same wait_group.
TEST_P(WaitGroup, WaitReturnsAfterAllDoneAndCanBeReused) {
  run([] {
    goro::wait_group wg;
    const int n = 64;
    for (int round = 0; round < 2; round++) {
      std::vector<int> slots(n, 0);  // plain: each written by one goroutine
      std::atomic<int> finished{0};
      wg.add(n);
      for (int i = 0; i < n; i++) {
        goro::go([&, i] {
          if (i % 3 == 0) goro::yield();
          slots[static_cast<std::size_t>(i)] = i + 1;
          finished++;
          wg.done();
        });
      }
      wg.wait();
      EXPECT_EQ(finished.load(), n);
      for (int i = 0; i < n; i++) EXPECT_EQ(slots[static_cast<std::size_t>(i)], i + 1);
    }
  });
}

TEST_P(WaitGroup, EveryWaiterIsReleased) {
  run([] {
    goro::wait_group wg, waiters;
    std::atomic<int> released{0};
    wg.add(1);
    for (int i = 0; i < 5; i++) {
      waiters.go([&] {
        wg.wait();
        released++;
      });
    }
    ASSERT_TRUE(sync_test::wait_parked(&wg, "sync.WaitGroup.Wait", 5));
    EXPECT_EQ(released.load(), 0);
    wg.done();
    waiters.wait();
    EXPECT_EQ(released.load(), 5);
    wg.wait();  // zero counter: returns at once
  });
}

TEST_P(WaitGroup, GoRunsTheFunctionAndCountsIt) {
  run([] {
    goro::wait_group wg;
    std::atomic<int> sum{0};
    std::string text;  // plain: written by the goroutine, read after wait()
    for (int i = 1; i <= 10; i++) wg.go([&sum, i] { sum += i; });
    wg.go([&text] { text = "written"; });
    wg.wait();
    EXPECT_EQ(sum.load(), 55);
    EXPECT_EQ(text, "written");
  });
}

TEST_P(WaitGroup, GoRecordsTheCallerAsCreationSite) {
  run([] {
    goro::wait_group wg;
    std::atomic<bool> release{false};
    std::atomic<std::uint64_t> id{0};
    wg.go([&] {
      id = goro::this_goroutine::id();
      EXPECT_TRUE(sync_test::wait_until([&] { return release.load(); }));
    });
    ASSERT_TRUE(sync_test::wait_until([&] { return id.load() != 0; }));
    bool found = false;
    for (const auto& g : goro::goroutines()) {
      if (g.id != id.load()) continue;
      found = true;
      ASSERT_NE(g.created_file, nullptr);
      EXPECT_NE(std::string(g.created_file).find("wait_group_test.cc"), std::string::npos) << g.created_file;
    }
    EXPECT_TRUE(found);
    release = true;
    wg.wait();
  });
}

// Go's TestWaitGroupMisuse: the counter must not go negative.
TEST_P(WaitGroup, NegativeCounterPanics) {
  run([] {
    goro::wait_group wg;
    wg.add(1);
    wg.done();
    try {
      wg.done();
      ADD_FAILURE() << "no panic";
    } catch (const goro::panic& p) {
      EXPECT_STREQ(p.what(), "sync: negative WaitGroup counter");
    }
    goro::wait_group wg2;
    EXPECT_THROW(wg2.add(-1), goro::panic);
  });
}

// Go's TestWaitGroupMisuse2/3, made deterministic with one processor: the done() that
// releases a waiter is immediately followed by an add() for a new round, before the waiter
// has run; the waiter notices when it resumes.
TEST(WaitGroupMisuse, ReuseBeforeWaitReturnedPanicsInTheWaiter) {
  goro_test::run_checked(1, [] {
    goro::wait_group wg, done;
    std::string message;
    wg.add(1);
    done.go([&] {
      try {
        wg.wait();
      } catch (const goro::panic& p) {
        message = p.what();
      }
    });
    ASSERT_TRUE(sync_test::wait_parked(&wg, "sync.WaitGroup.Wait"));
    wg.done();  // readies the waiter, which cannot run before this goroutine yields
    wg.add(1);  // a new round before the old wait() returned
    done.wait();
    EXPECT_EQ(message, "sync: WaitGroup is reused before previous Wait has returned");
    wg.done();
  });
}

TEST(WaitGroupPlainThread, AddAndDoneWorkAnywhereWaitNeedsAGoroutine) {
  goro::wait_group wg;
  wg.add(2);
  wg.done();
  EXPECT_THROW(wg.wait(), std::logic_error);
  wg.done();
  wg.wait();  // zero: returns at once
}

}  // namespace
