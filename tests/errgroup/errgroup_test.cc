#include <gtest/gtest.h>

#include <atomic>
#include <chrono>

#include "support/goro_test.h"

using namespace std::chrono_literals;

class Errgroup : public goro_test::Procs {};
GORO_INSTANTIATE_PROCS(Errgroup);

TEST_P(Errgroup, ZeroGroupWaitsForAllAndReturnsNil) {
  run([] {
    goro::errgroup g;
    std::atomic<int> ran{0};
    for (int i = 0; i < 100; i++) {
      g.go([&]() -> goro::error {
        goro::yield();
        ran++;
        return {};
      });
    }
    EXPECT_FALSE(g.wait());
    EXPECT_EQ(ran.load(), 100);
  });
}

TEST_P(Errgroup, WaitReturnsFirstError) {
  run([] {
    goro::error first("first");
    goro::errgroup g(goro::background());
    g.go([&]() -> goro::error { return first; });
    g.go([&]() -> goro::error {
      // The group cancels its context once it has recorded the first error, so this one
      // returns its own error after that, whatever order the two ran in.
      g.ctx().done().recv();
      return goro::error("second");
    });
    goro::error err = g.wait();
    EXPECT_TRUE(err == first) << err.message();
  });
}

// The same without a context, Go's TestZeroGroup way: wait() between the calls orders them.
TEST_P(Errgroup, ZeroGroupKeepsTheFirstErrorAcrossWaits) {
  run([] {
    goro::error first("first");
    goro::errgroup g;
    g.go([]() -> goro::error { return {}; });
    EXPECT_FALSE(g.wait());
    g.go([&]() -> goro::error { return first; });
    EXPECT_TRUE(g.wait() == first);
    g.go([]() -> goro::error { return goro::error("second"); });
    goro::error err = g.wait();
    EXPECT_TRUE(err == first) << err.message();
  });
}

TEST_P(Errgroup, ContextCancelledOnFirstErrorWithCause) {
  run([] {
    goro::error boom("boom");
    goro::errgroup g(goro::background());
    goro::context ctx = g.ctx();
    std::atomic<bool> saw_cancel{false};
    g.go([&]() -> goro::error {
      ctx.done().recv();
      saw_cancel = goro::is(ctx.err(), goro::canceled);
      return {};
    });
    g.go([&]() -> goro::error { return boom; });
    EXPECT_TRUE(g.wait() == boom);
    EXPECT_TRUE(saw_cancel.load());
    EXPECT_TRUE(goro::cause(ctx) == boom);
  });
}

TEST_P(Errgroup, ContextCancelledByWaitEvenWithoutError) {
  run([] {
    goro::errgroup g(goro::background());
    g.go([]() -> goro::error { return {}; });
    EXPECT_FALSE(g.wait());
    EXPECT_TRUE(g.ctx().err() == goro::canceled);
  });
}

TEST_P(Errgroup, LimitBoundsConcurrency) {
  run([] {
    goro::errgroup g;
    g.set_limit(3);
    std::atomic<int> active{0}, peak{0};
    for (int i = 0; i < 50; i++) {
      g.go([&]() -> goro::error {
        int now = ++active;
        int p = peak.load();
        while (now > p && !peak.compare_exchange_weak(p, now)) {
        }
        goro::sleep(100us);
        active--;
        return {};
      });
    }
    EXPECT_FALSE(g.wait());
    EXPECT_LE(peak.load(), 3);
    EXPECT_GE(peak.load(), 1);
  });
}

TEST_P(Errgroup, TryGoRespectsLimitAndSetLimitWhileActivePanics) {
  run([] {
    goro::errgroup g;
    g.set_limit(1);
    auto release = goro::make_chan<>();
    EXPECT_TRUE(g.try_go([&]() -> goro::error {
      release.recv();
      return {};
    }));
    EXPECT_FALSE(g.try_go([]() -> goro::error { return {}; }));
    try {
      g.set_limit(2);
      ADD_FAILURE() << "set_limit while active must panic";
    } catch (const goro::panic& p) {
      EXPECT_STREQ(p.what(), "errgroup: modify limit while 1 goroutines in the group are still active");
    }
    release.close();
    EXPECT_FALSE(g.wait());
    EXPECT_TRUE(g.try_go([]() -> goro::error { return {}; }));
    EXPECT_FALSE(g.wait());
  });
}
