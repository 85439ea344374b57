// The scheduler benchmarks of goro_bench: spawn, yield, switch, timers, mem100k, mem1m.
// Sizes, algorithms and expected answers follow bench/suite/README.md; keep them in step
// with the peers (bench/peers/go/benchmarks.go, bench/peers/boost_fiber/benchmarks.cc).

#include <atomic>
#include <chrono>
#include <cstdint>

#include "common.h"
#include "goro/chan.h"
#include "goro/runtime.h"
#include "goro/wait_group.h"

namespace goro_bench {

using std::int64_t;

// Spawn N goroutines that only count themselves, joined through a wait_group. All N are
// spawned from the root goroutine in one loop, without yielding in between.
result bench_spawn(bool quick) {
  int64_t n = size_for(quick, 1000000, 10000);
  std::atomic<int64_t> ran{0};
  goro::wait_group wg;
  auto t0 = clock::now();
  wg.add(static_cast<int>(n));
  for (int64_t i = 0; i < n; ++i) {
    goro::go([&] {
      ran.fetch_add(1, std::memory_order_relaxed);
      wg.done();
    });
  }
  wg.wait();
  double ms = ms_since(t0);
  return check(ran.load() == n, ms, "ms", "goroutines run", ran.load(), n);
}

// G goroutines yield K times each: a crowded run queue, unlike `switch`.
result bench_yield(bool quick) {
  int64_t g = size_for(quick, 100, 10);
  int64_t k = size_for(quick, 10000, 1000);
  std::atomic<int64_t> yields{0};
  goro::wait_group wg;
  auto t0 = clock::now();
  wg.add(static_cast<int>(g));
  for (int64_t i = 0; i < g; ++i) {
    goro::go([&] {
      int64_t mine = 0;
      for (int64_t j = 0; j < k; ++j) {
        goro::yield();
        ++mine;
      }
      yields.fetch_add(mine);
      wg.done();
    });
  }
  wg.wait();
  double ms = ms_since(t0);
  return check(yields.load() == g * k, ms, "ms", "yields", yields.load(), g * k);
}

// Two goroutines yield to each other; ns per yield over all yields.
result bench_switch(bool quick) {
  int64_t per = size_for(quick, 500000, 5000);
  std::atomic<int64_t> yields{0};
  goro::wait_group wg;
  auto t0 = clock::now();
  wg.add(2);
  for (int f = 0; f < 2; ++f) {
    goro::go([&] {
      for (int64_t j = 0; j < per; ++j) goro::yield();
      yields.fetch_add(per);
      wg.done();
    });
  }
  wg.wait();
  double ns = ms_since(t0) * 1e6 / double(2 * per);
  return check(yields.load() == 2 * per, ns, "ns/switch", "yields", yields.load(), 2 * per);
}

// G goroutines each sleep 1 ms ten times; the wall time of the whole lot. Finishing in
// under 10 ms would mean a sleep returned early: a failure.
result bench_timers(bool quick) {
  int64_t g = size_for(quick, 100000, 1000);
  constexpr int64_t kSleeps = 10;
  std::atomic<int64_t> slept{0};
  goro::wait_group wg;
  auto t0 = clock::now();
  wg.add(static_cast<int>(g));
  for (int64_t i = 0; i < g; ++i) {
    goro::go([&] {
      for (int64_t j = 0; j < kSleeps; ++j) {
        goro::sleep(std::chrono::milliseconds(1));
        slept.fetch_add(1, std::memory_order_relaxed);
      }
      wg.done();
    });
  }
  wg.wait();
  double ms = ms_since(t0);
  if (ms < double(kSleeps)) return fail("timers finished in under 10 ms: sleeps too short");
  return check(slept.load() == g * kSleeps, ms, "ms", "sleeps", slept.load(), g * kSleeps);
}

namespace {

// Parks N goroutines on a receive from one unbuffered channel, takes the RSS growth while
// all of them are parked, then closes the channel to release them. Default stack size and
// allocator, as the README asks.
result park(int64_t n) {
  auto release = goro::make_chan<int>(0);
  std::atomic<int64_t> released{0};
  goro::wait_group started, finished;
  int64_t before = rss_bytes();
  started.add(static_cast<int>(n));
  finished.add(static_cast<int>(n));
  for (int64_t i = 0; i < n; ++i) {
    goro::go([&] {
      started.done();
      if (!release.recv()) released.fetch_add(1, std::memory_order_relaxed);
      finished.done();
    });
  }
  started.wait();
  // Let the last starters reach the receive before measuring.
  for (int i = 0; i < 10; ++i) goro::yield();
  int64_t after = rss_bytes();
  release.close();
  finished.wait();
  double per = double(after - before) / double(n);
  return check(released.load() == n, per, "bytes/goroutine", "released", released.load(), n);
}

}  // namespace

result bench_mem100k(bool quick) { return park(size_for(quick, 100000, 1000)); }
result bench_mem1m(bool quick) { return park(size_for(quick, 1000000, 10000)); }

}  // namespace goro_bench
