// The runtime semaphore under the sync primitives (src/sync/sema.h): FIFO wake-up order,
// LIFO re-queueing at the front, and the starvation-mode handoff.

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <vector>

#include "goro/goro.h"
#include "support/goro_test.h"
#include "sync/sema.h"
#include "sync_helpers.h"

namespace {

using goro::detail::semacquire;
using goro::detail::semrelease;
using goro::detail::semtryacquire;
using goro::detail::semwaiters;
using goro::detail::wait_reason;

class Sema : public goro_test::Procs {};
GORO_INSTANTIATE_PROCS(Sema);

// Starts a goroutine that waits on s (at the front if lifo) and then appends `tag` to
// order; returns once it is queued.
void start_waiter(goro::wait_group& wg, std::atomic<std::uint32_t>& s, bool lifo, int tag, goro::mutex& mu,
                  std::vector<int>& order) {
  int before = semwaiters(&s);
  wg.go([&s, &mu, &order, lifo, tag] {
    semacquire(&s, lifo, wait_reason::semacquire, &s);
    std::lock_guard<goro::mutex> lk(mu);
    order.push_back(tag);
  });
  ASSERT_TRUE(sync_test::wait_until([&] { return semwaiters(&s) == before + 1; }));
}

// Releases one count and waits until a waiter has consumed it.
void release_one(std::atomic<std::uint32_t>& s, goro::mutex& mu, std::vector<int>& order) {
  std::size_t before;
  {
    std::lock_guard<goro::mutex> lk(mu);
    before = order.size();
  }
  semrelease(&s, false);
  ASSERT_TRUE(sync_test::wait_until([&] {
    std::lock_guard<goro::mutex> lk(mu);
    return order.size() == before + 1;
  }));
}

TEST_P(Sema, WakesInFifoOrderAndLifoQueuesAtTheFront) {
  run([] {
    std::atomic<std::uint32_t> s{0};
    goro::mutex mu;
    std::vector<int> order;
    goro::wait_group wg;
    for (int i = 0; i < 5; i++) start_waiter(wg, s, false, i, mu, order);
    start_waiter(wg, s, true, 100, mu, order);  // a woken waiter that lost: back to the front
    for (int i = 0; i < 6; i++) release_one(s, mu, order);
    wg.wait();
    EXPECT_EQ(order, (std::vector<int>{100, 0, 1, 2, 3, 4}));
    EXPECT_EQ(s.load(), 0u);
  });
}

TEST_P(Sema, CountsAreNotLost) {
  run([] {
    std::atomic<std::uint32_t> s{1};  // a binary semaphore used as a lock
    long counter = 0;
    goro::wait_group wg;
    const int kRounds = static_cast<int>(goro_test::scaled(2000, 10));
    for (int i = 0; i < 16; i++) {
      wg.go([&] {
        for (int j = 0; j < kRounds; j++) {
          semacquire(&s, false, wait_reason::semacquire, &s);
          long v = counter;
          if (j % 4 == 0) goro::yield();
          counter = v + 1;
          semrelease(&s, j % 3 == 0);
        }
      });
    }
    wg.wait();
    EXPECT_EQ(counter, 16L * kRounds);
    EXPECT_EQ(s.load(), 1u);
    EXPECT_EQ(semwaiters(&s), 0);
  });
}

// With handoff, the count goes to the waiter even though the releaser could take it back
// at once; without it, a running goroutine can take the count first (one processor makes
// the order deterministic: the woken waiter cannot run before the releaser yields).
TEST(SemaHandoff, HandoffGivesTheCountToTheWaiter) {
  goro_test::run_checked(1, [] {
    std::atomic<std::uint32_t> s{0};
    std::atomic<int> woke{0};
    goro::wait_group wg;
    wg.go([&] {
      semacquire(&s, false, wait_reason::semacquire, &s);
      woke++;
    });
    ASSERT_TRUE(sync_test::wait_parked(&s, "semacquire"));
    semrelease(&s, true);
    EXPECT_FALSE(semtryacquire(&s));  // the count went to the waiter
    wg.wait();
    EXPECT_EQ(woke.load(), 1);

    // Without handoff the releaser (still running) can take the count back first; the
    // woken waiter then finds nothing and waits again.
    wg.go([&] {
      semacquire(&s, false, wait_reason::semacquire, &s);
      woke++;
    });
    ASSERT_TRUE(sync_test::wait_parked(&s, "semacquire"));
    semrelease(&s, false);
    EXPECT_TRUE(semtryacquire(&s));
    ASSERT_TRUE(sync_test::wait_until([&] { return semwaiters(&s) == 1; }));
    EXPECT_EQ(woke.load(), 1);
    semrelease(&s, false);
    wg.wait();
    EXPECT_EQ(woke.load(), 2);
  });
}

TEST(SemaPlainThread, WaitingOutsideAGoroutineThrows) {
  std::atomic<std::uint32_t> s{0};
  EXPECT_THROW(semacquire(&s, false, wait_reason::semacquire, &s), std::logic_error);
  EXPECT_EQ(semwaiters(&s), 0);
  s = 1;
  semacquire(&s, false, wait_reason::semacquire, &s);  // no wait needed: works anywhere
  EXPECT_EQ(s.load(), 0u);
}

}  // namespace
