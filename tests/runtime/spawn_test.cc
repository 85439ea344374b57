// go(): creating goroutines, their ids, their arguments, and the go-happens-before-start edge.

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "goro/goro.h"
#include "park_test_util.h"
#include "support/goro_test.h"

namespace {

using goro_test::Procs;
using rt_test::countdown;

class SpawnTest : public Procs {};
GORO_INSTANTIATE_PROCS(SpawnTest);

// A million goroutines are created and all of them run to completion. Under sanitizers the
// count is scaled down and the goroutines are created in waves, to bound the live ones.
TEST_P(SpawnTest, MillionGoroutinesRunToCompletion) {
  const long total = goro_test::scaled(1'000'000);
  const long wave = rt_test::max_live(total);
  std::atomic<long> ran{0};
  std::vector<std::uint64_t> ids(static_cast<std::size_t>(total));
  run([&] {
    for (long start = 0; start < total; start += wave) {
      long n = std::min(wave, total - start);
      countdown done(n);
      for (long i = start; i < start + n; i++) {
        goro::go([&, i] {
          ids[static_cast<std::size_t>(i)] = goro::this_goroutine::id();
          ran.fetch_add(1, std::memory_order_relaxed);
          done.arrive();
        });
      }
      done.wait();
    }
  });
  EXPECT_EQ(ran.load(), total);
  // Every goroutine had its own id, and none of them is goroutine 1 (main).
  std::sort(ids.begin(), ids.end());
  EXPECT_GT(ids.front(), 1u);
  EXPECT_EQ(std::adjacent_find(ids.begin(), ids.end()), ids.end()) << "two goroutines shared an id";
}

// Goroutines spawned by goroutines on every P also all run (spawn away from P 0, and
// the per-P id batches stay unique).
TEST_P(SpawnTest, NestedSpawnsRunToCompletion) {
  const long fan = 64, per = goro_test::scaled(2000, 20);
  std::atomic<long> ran{0};
  run([&] {
    countdown done(fan * per);
    for (long i = 0; i < fan; i++) {
      goro::go([&] {
        for (long j = 0; j < per; j++) {
          goro::go([&] {
            ran.fetch_add(1, std::memory_order_relaxed);
            done.arrive();
          });
          if (j % 64 == 0) goro::yield();
        }
      });
    }
    done.wait();
  });
  EXPECT_EQ(ran.load(), fan * per);
}

// go() happens before the goroutine starts: plain (non-atomic) writes made before go() are
// visible to it. Under TSan this also checks the annotation of the edge.
TEST_P(SpawnTest, GoHappensBeforeStart) {
  constexpr int kN = 200;
  std::vector<int> data(kN * 16);
  std::vector<int> seen(kN);
  run([&] {
    countdown done(kN);
    for (int i = 0; i < kN; i++) {
      for (int k = 0; k < 16; k++) data[static_cast<std::size_t>(i * 16 + k)] = i * 100 + k;
      goro::go([&, i] {
        int sum = 0;
        for (int k = 0; k < 16; k++) sum += data[static_cast<std::size_t>(i * 16 + k)] - i * 100;
        seen[static_cast<std::size_t>(i)] = sum;
        done.arrive();
      });
    }
    done.wait();
  });
  for (int i = 0; i < kN; i++) EXPECT_EQ(seen[static_cast<std::size_t>(i)], 120) << "goroutine " << i;
}

// go(fn, args...) decay-copies its arguments (moving rvalues), like std::thread.
TEST_P(SpawnTest, GoWithArguments) {
  run([&] {
    countdown done(3);
    std::string out1;
    int out2 = 0;
    int out3 = 0;
    std::string lvalue = "copied";
    goro::go(
        [&](std::string s, int n, std::unique_ptr<int> p) {
          out1 = s + "/" + std::to_string(n);
          out2 = *p;
          done.arrive();
        },
        lvalue, 7, std::make_unique<int>(42));
    // A move-only function object, and an argument the goroutine modifies (its own copy).
    auto owned = std::make_unique<int>(5);
    goro::go([p = std::move(owned), &out3, &done]() mutable {
      out3 = *p;
      p.reset();
      done.arrive();
    });
    goro::go(
        [&](std::string copy) {
          copy += "!";
          done.arrive();
        },
        lvalue);
    done.wait();
    EXPECT_EQ(out1, "copied/7");
    EXPECT_EQ(out2, 42);
    EXPECT_EQ(out3, 5);
    EXPECT_EQ(lvalue, "copied");
  });
}

// A function object too big for the goroutine's inline storage is heap-allocated, and freed.
TEST_P(SpawnTest, LargeFunctionObject) {
  auto token = std::make_shared<int>(1);
  run([&] {
    countdown done(100);
    for (int i = 0; i < 100; i++) {
      std::array<char, 512> big{};
      big[0] = static_cast<char>(i);
      goro::go([big, token, &done] {
        EXPECT_EQ(*token, 1);
        (void)big;
        done.arrive();
      });
    }
    done.wait();
  });
  EXPECT_EQ(token.use_count(), 1) << "a goroutine's function object was not destroyed";
}

// Goroutine ids count from 1 (the goroutine running run()'s function), then up.
TEST_P(SpawnTest, IdsCountFromOne) {
  EXPECT_EQ(goro::this_goroutine::id(), 0u) << "outside any goroutine";
  std::atomic<std::uint64_t> child_ids[3] = {};
  run([&] {
    EXPECT_EQ(goro::this_goroutine::id(), 1u);
    countdown done(3);
    for (auto& slot : child_ids) {
      goro::go([&] {
        slot.store(goro::this_goroutine::id());
        done.arrive();
      });
    }
    done.wait();
  });
  // Spawned one after another by goroutine 1 on one P: 2, 3, 4.
  EXPECT_EQ(child_ids[0].load(), 2u);
  EXPECT_EQ(child_ids[1].load(), 3u);
  EXPECT_EQ(child_ids[2].load(), 4u);
}

// A throwing copy of an argument leaves no goroutine behind and reaches the caller.
TEST_P(SpawnTest, ThrowingCopyPropagatesToCaller) {
  struct bomb {
    bomb() = default;
    bomb(const bomb&) { throw std::runtime_error("copy failed"); }
    void operator()() const {}
  };
  run([&] {
    bomb b;
    std::size_t before = goro::num_goroutine();
    EXPECT_THROW(goro::go(b), std::runtime_error);
    EXPECT_EQ(goro::num_goroutine(), before);
    // The runtime is still healthy.
    countdown done(1);
    goro::go([&] { done.arrive(); });
    done.wait();
  });
}

// num_goroutine() counts live goroutines; procs() is the configured processor count.
TEST_P(SpawnTest, NumGoroutineAndProcs) {
  EXPECT_EQ(goro::num_goroutine(), 0u);
  EXPECT_EQ(goro::procs(), 0);
  run([&] {
    EXPECT_EQ(goro::procs(), GetParam());
    EXPECT_EQ(goro::num_goroutine(), 1u);
    rt_test::event release[10];
    countdown started(10), finished(10);
    for (auto& ev : release) {
      goro::go([&] {
        started.arrive();
        ev.wait();
        finished.arrive();
      });
    }
    started.wait();
    EXPECT_EQ(goro::num_goroutine(), 11u);
    for (auto& ev : release) ev.set();
    finished.wait();
  });
}

}  // namespace
