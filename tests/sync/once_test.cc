// goro::once: Go's sync.Once semantics (after what sync/once_test.go checks).

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <string>

#include "goro/goro.h"
#include "support/goro_test.h"
#include "sync_helpers.h"

namespace {

class Once : public goro_test::Procs {};
GORO_INSTANTIATE_PROCS(Once);

// Go's TestOnce: many concurrent callers, the function runs once, and every caller sees
// what it wrote (plain data: the once's happens-before edge is all that orders it).
TEST_P(Once, RunsOnceAndPublishesItsEffects) {
  run([] {
    goro::once once;
    int calls = 0;
    std::string value;  // written by the one function, read by every caller
    goro::wait_group wg;
    for (int i = 0; i < 32; i++) {
      wg.go([&] {
        once.call([&] {
          calls++;
          goro::yield();  // let the other callers arrive meanwhile
          value = "initialised";
        });
        EXPECT_EQ(value, "initialised");
      });
    }
    wg.wait();
    EXPECT_EQ(calls, 1);
    once.call([&] { calls++; });
    EXPECT_EQ(calls, 1);
  });
}

// Callers that arrive while the function runs park in "sync.Once.Do" until it finishes.
TEST_P(Once, CallersWaitParkedForTheFirstCall) {
  run([] {
    goro::once once;
    std::atomic<bool> entered{false}, release{false};
    std::atomic<int> returned{0};
    goro::wait_group wg;
    wg.go([&] {
      once.call([&] {
        entered = true;
        EXPECT_TRUE(sync_test::wait_until([&] { return release.load(); }));
      });
      returned++;
    });
    ASSERT_TRUE(sync_test::wait_until([&] { return entered.load(); }));
    for (int i = 0; i < 3; i++) {
      wg.go([&] {
        once.call([] { ADD_FAILURE() << "a second function ran"; });
        returned++;
      });
    }
    ASSERT_TRUE(sync_test::wait_parked(&once, "sync.Once.Do", 3));
    EXPECT_EQ(returned.load(), 0);
    release = true;
    wg.wait();
    EXPECT_EQ(returned.load(), 4);
  });
}

// Go's TestOncePanic: a function that throws still completes the once; the exception goes
// to its caller only, and waiters return normally.
TEST_P(Once, ThrowingFunctionStillCountsAsDone) {
  run([] {
    goro::once once;
    std::atomic<bool> entered{false}, release{false};
    std::atomic<int> waiter_returned{0};
    goro::wait_group wg;
    wg.go([&] {
      EXPECT_THROW(once.call([&] {
        entered = true;
        EXPECT_TRUE(sync_test::wait_until([&] { return release.load(); }));
        throw std::runtime_error("boom");
      }),
                   std::runtime_error);
    });
    wg.go([&] {
      ASSERT_TRUE(sync_test::wait_until([&] { return entered.load(); }));
      once.call([] { ADD_FAILURE() << "ran after a throwing first call"; });
      waiter_returned++;
    });
    ASSERT_TRUE(sync_test::wait_parked(&once, "sync.Once.Do", 1));
    release = true;
    wg.wait();
    EXPECT_EQ(waiter_returned.load(), 1);
    bool ran = false;
    once.call([&] { ran = true; });
    EXPECT_FALSE(ran);
  });
}

TEST(OncePlainThread, FastPathWorksAnywhere) {
  goro::once once;
  EXPECT_THROW(once.call([] {}), std::logic_error);  // running fn needs a goroutine
  goro::run([&] { once.call([] {}); });
  once.call([] { ADD_FAILURE(); });  // done: returns at once, on any thread
}

}  // namespace
