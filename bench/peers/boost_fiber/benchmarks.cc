// The benchmarks of the suite written with Boost.Fiber. Sizes, algorithms and
// expected answers follow bench/suite/README.md; keep them in step with the Go
// peer (bench/peers/go/benchmarks.go).
#include <cstdio>
#include <fstream>
#include <unistd.h>

#include "common.hpp"

using std::int64_t;

int64_t rss_bytes() {
  std::ifstream f("/proc/self/statm");
  int64_t total = 0, resident = 0;
  f >> total >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

Result fail(std::string why) {
  Result r;
  r.ok = false;
  r.error = std::move(why);
  return r;
}

static Result check(bool good, double value, const char* unit, const char* what,
                    int64_t got, int64_t want) {
  if (!good) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "%s: got %lld, want %lld", what, (long long)got,
                  (long long)want);
    return fail(buf);
  }
  Result r;
  r.value = value;
  r.unit = unit;
  return r;
}

// ---------------------------------------------------------------- skynet
// Every node with size > 1 spawns 10 children and sums what they send back on
// a fresh unbuffered channel; a leaf sends its own number.
static void skynet(const Options& o, bf::unbuffered_channel<int64_t>& out, int64_t num,
                   int64_t size) {
  if (size == 1) {
    out.push(num);
    return;
  }
  // The parent outlives every push into rc: it pops all 10 values before it
  // returns, and a resumed pusher touches only its own stack afterwards.
  bf::unbuffered_channel<int64_t> rc;
  int64_t sub = size / 10;
  for (int64_t i = 0; i < 10; ++i) {
    int64_t child = num + i * sub;
    go(o, [&o, &rc, child, sub] { skynet(o, rc, child, sub); });
  }
  int64_t sum = 0;
  for (int i = 0; i < 10; ++i) sum += rc.value_pop();
  out.push(sum);
}

Result bench_skynet(const Options& o) {
  int64_t leaves = size_for(o, 1000000, 10000);
  int64_t want = leaves * (leaves - 1) / 2;
  auto t0 = Clock::now();
  bf::unbuffered_channel<int64_t> c;
  go(o, [&o, &c, leaves] { skynet(o, c, 0, leaves); });
  int64_t got = c.value_pop();
  double ms = ms_since(t0);
  return check(got == want, ms, "ms", "skynet sum", got, want);
}

// ---------------------------------------------------------------- spawn
// Spawn N empty fibers, joined through a WaitGroup.
Result bench_spawn(const Options& o) {
  int64_t n = size_for(o, 1000000, 10000);
  std::atomic<int64_t> ran{0};
  WaitGroup wg;
  auto t0 = Clock::now();
  wg.add(n);
  for (int64_t i = 0; i < n; ++i) {
    go(o, [&] {
      ran.fetch_add(1, std::memory_order_relaxed);
      wg.done();
    });
  }
  wg.wait();
  double ms = ms_since(t0);
  return check(ran.load() == n, ms, "ms", "fibers run", ran.load(), n);
}

// ---------------------------------------------------------------- pingpong
// The main fiber sends i on `ping`; the peer answers i+1 on `pong`.
Result bench_pingpong(const Options& o) {
  int64_t n = size_for(o, 1000000, 10000);
  int64_t want = n * (n + 1) / 2;
  bf::unbuffered_channel<int64_t> ping, pong;
  WaitGroup wg;
  auto t0 = Clock::now();
  wg.add(1);
  go(o, [&] {
    for (int64_t i = 0; i < n; ++i) pong.push(ping.value_pop() + 1);
    wg.done();
  });
  int64_t sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    ping.push(i);
    sum += pong.value_pop();
  }
  wg.wait();
  double ms = ms_since(t0);
  return check(sum == want, ms, "ms", "pingpong sum", sum, want);
}

// ---------------------------------------------------------------- spsc
// One producer fiber sends 0..N-1 into a buffered channel of capacity 1024;
// the main fiber receives exactly N values, then joins the producer.
// (Boost's ring keeps one slot free: at most 1023 values are in flight.)
Result bench_spsc(const Options& o) {
  int64_t n = size_for(o, 10000000, 100000);
  int64_t want = n * (n - 1) / 2;
  bf::buffered_channel<int64_t> ch(1024);
  WaitGroup wg;  // the producer must be out of push() before `ch` dies
  auto t0 = Clock::now();
  wg.add(1);
  go(o, [&] {
    for (int64_t i = 0; i < n; ++i) ch.push(i);
    wg.done();
  });
  int64_t sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += ch.value_pop();
  wg.wait();
  double ms = ms_since(t0);
  return check(sum == want, ms, "ms", "spsc sum", sum, want);
}

// ---------------------------------------------------------------- mpmc
// 4 producers send disjoint ranges covering 0..N-1; 4 consumers receive N/4
// values each and add their partial sums.
Result bench_mpmc(const Options& o) {
  const int64_t kSide = 4;
  int64_t n = size_for(o, 10000000, 100000);
  int64_t per = n / kSide;
  int64_t want = n * (n - 1) / 2;
  bf::buffered_channel<int64_t> ch(1024);
  std::atomic<int64_t> total{0};
  WaitGroup wg;
  auto t0 = Clock::now();
  wg.add(2 * kSide);
  for (int64_t p = 0; p < kSide; ++p) {
    go(o, [&, p] {
      for (int64_t i = p * per; i < (p + 1) * per; ++i) ch.push(i);
      wg.done();
    });
  }
  for (int64_t c = 0; c < kSide; ++c) {
    go(o, [&] {
      int64_t sum = 0;
      for (int64_t i = 0; i < per; ++i) sum += ch.value_pop();
      total.fetch_add(sum);
      wg.done();
    });
  }
  wg.wait();
  double ms = ms_since(t0);
  return check(total.load() == want, ms, "ms", "mpmc sum", total.load(), want);
}

// ---------------------------------------------------------------- select2
// Boost.Fiber has no select over channels.
Result bench_select2(const Options&) {
  Result r;
  r.absent = true;
  return r;
}

// ---------------------------------------------------------------- mutex
// G fibers each take the mutex K times to increment one shared counter.
Result bench_mutex(const Options& o) {
  int64_t g = size_for(o, 1000, 100);
  int64_t k = size_for(o, 1000, 100);
  bf::mutex mu;
  int64_t counter = 0;
  WaitGroup wg;
  auto t0 = Clock::now();
  wg.add(g);
  for (int64_t i = 0; i < g; ++i) {
    go(o, [&] {
      for (int64_t j = 0; j < k; ++j) {
        std::lock_guard<bf::mutex> lk(mu);
        ++counter;
      }
      wg.done();
    });
  }
  wg.wait();
  double ms = ms_since(t0);
  std::lock_guard<bf::mutex> lk(mu);
  return check(counter == g * k, ms, "ms", "counter", counter, g * k);
}

// ---------------------------------------------------------------- yield
// G fibers yield K times each (a crowded run queue, unlike `switch`).
Result bench_yield(const Options& o) {
  int64_t g = size_for(o, 100, 10);
  int64_t k = size_for(o, 10000, 1000);
  std::atomic<int64_t> yields{0};
  WaitGroup wg;
  auto t0 = Clock::now();
  wg.add(g);
  for (int64_t i = 0; i < g; ++i) {
    go(o, [&] {
      int64_t mine = 0;
      for (int64_t j = 0; j < k; ++j) {
        boost::this_fiber::yield();
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

// ---------------------------------------------------------------- timers
// G fibers each sleep 1 ms ten times; wall time of the whole lot.
Result bench_timers(const Options& o) {
  int64_t g = size_for(o, 100000, 1000);
  const int64_t kSleeps = 10;
  std::atomic<int64_t> slept{0};
  WaitGroup wg;
  auto t0 = Clock::now();
  wg.add(g);
  for (int64_t i = 0; i < g; ++i) {
    go(o, [&] {
      for (int64_t j = 0; j < kSleeps; ++j) {
        boost::this_fiber::sleep_for(std::chrono::milliseconds(1));
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

// ---------------------------------------------------------------- mem100k / mem1m
// Park N fibers on a receive from one unbuffered channel, take the RSS growth
// while all of them are parked, then close the channel to release them.
static Result park(const Options& o, int64_t n) {
  bf::unbuffered_channel<int> release;
  std::atomic<int64_t> released{0};
  WaitGroup started, finished;
  int64_t before = rss_bytes();
  started.add(n);
  finished.add(n);
  for (int64_t i = 0; i < n; ++i) {
    go(o, [&] {
      started.done();
      int v;
      if (release.pop(v) == bf::channel_op_status::closed) {
        released.fetch_add(1, std::memory_order_relaxed);
      }
      finished.done();
    });
  }
  started.wait();
  // Let the last starters reach the receive before measuring.
  for (int i = 0; i < 10; ++i) boost::this_fiber::yield();
  int64_t after = rss_bytes();
  release.close();
  finished.wait();
  double per = double(after - before) / double(n);
  return check(released.load() == n, per, "bytes/goroutine", "released", released.load(), n);
}

Result bench_mem100k(const Options& o) { return park(o, size_for(o, 100000, 1000)); }
Result bench_mem1m(const Options& o) { return park(o, size_for(o, 1000000, 10000)); }

// ---------------------------------------------------------------- switch
// Two fibers yield to each other; ns per yield over all yields.
Result bench_switch(const Options& o) {
  int64_t per = size_for(o, 500000, 5000);
  std::atomic<int64_t> yields{0};
  WaitGroup wg;
  auto t0 = Clock::now();
  wg.add(2);
  for (int f = 0; f < 2; ++f) {
    go(o, [&] {
      for (int64_t j = 0; j < per; ++j) boost::this_fiber::yield();
      yields.fetch_add(per);
      wg.done();
    });
  }
  wg.wait();
  double ns = ms_since(t0) * 1e6 / double(2 * per);
  return check(yields.load() == 2 * per, ns, "ns/switch", "yields", yields.load(), 2 * per);
}
