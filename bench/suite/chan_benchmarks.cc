// The channel benchmarks of goro_bench: skynet, pingpong, spsc, mpmc, select2. Sizes,
// algorithms and expected answers follow bench/suite/README.md; keep them in step with the
// peers (bench/peers/go/benchmarks.go, bench/peers/boost_fiber/benchmarks.cc).

#include <atomic>
#include <cstdint>

#include "common.h"
#include "goro/chan.h"
#include "goro/runtime.h"
#include "goro/select.h"
#include "goro/wait_group.h"

namespace goro_bench {

using std::int64_t;

namespace {

constexpr std::size_t kBuffered = 1024;  // capacity of the buffered channels

// Every node with size > 1 spawns 10 children and sums what they send back on a fresh
// unbuffered channel; a leaf sends its own number. The channel handle is passed by value,
// as Go passes its channel pointer: a child keeps `out` alive on its own, whatever the
// parent does after its last receive.
void skynet(goro::chan<int64_t> out, int64_t num, int64_t size) {
  if (size == 1) {
    out.send(num);
    return;
  }
  auto rc = goro::make_chan<int64_t>(0);
  int64_t sub = size / 10;
  for (int64_t i = 0; i < 10; ++i) {
    int64_t child = num + i * sub;
    goro::go([rc, child, sub] { skynet(rc, child, sub); });
  }
  int64_t sum = 0;
  for (int i = 0; i < 10; ++i) sum += *rc.recv();
  out.send(sum);
}

}  // namespace

result bench_skynet(bool quick) {
  int64_t leaves = size_for(quick, 1000000, 10000);
  int64_t want = leaves * (leaves - 1) / 2;
  auto t0 = clock::now();
  auto c = goro::make_chan<int64_t>(0);
  goro::go([c, leaves] { skynet(c, 0, leaves); });
  int64_t got = *c.recv();
  double ms = ms_since(t0);
  return check(got == want, ms, "ms", "skynet sum", got, want);
}

// The root goroutine sends i on `ping`; the peer answers i+1 on `pong`.
result bench_pingpong(bool quick) {
  int64_t n = size_for(quick, 1000000, 10000);
  int64_t want = n * (n + 1) / 2;
  auto ping = goro::make_chan<int64_t>(0);
  auto pong = goro::make_chan<int64_t>(0);
  goro::wait_group wg;
  auto t0 = clock::now();
  wg.add(1);
  goro::go([&] {
    for (int64_t i = 0; i < n; ++i) pong.send(*ping.recv() + 1);
    wg.done();
  });
  int64_t sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    ping.send(i);
    sum += *pong.recv();
  }
  wg.wait();
  double ms = ms_since(t0);
  return check(sum == want, ms, "ms", "pingpong sum", sum, want);
}

// One producer sends 0..N-1 into a channel of capacity 1024; the root goroutine receives
// exactly N values (no close), then joins the producer.
result bench_spsc(bool quick) {
  int64_t n = size_for(quick, 10000000, 100000);
  int64_t want = n * (n - 1) / 2;
  auto ch = goro::make_chan<int64_t>(kBuffered);
  goro::wait_group wg;
  auto t0 = clock::now();
  wg.add(1);
  goro::go([&] {
    for (int64_t i = 0; i < n; ++i) ch.send(i);
    wg.done();
  });
  int64_t sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += *ch.recv();
  wg.wait();
  double ms = ms_since(t0);
  return check(sum == want, ms, "ms", "spsc sum", sum, want);
}

// 4 producers send disjoint ranges covering 0..N-1; 4 consumers receive N/4 values each
// and add their partial sums.
result bench_mpmc(bool quick) {
  constexpr int64_t kSide = 4;
  int64_t n = size_for(quick, 10000000, 100000);
  int64_t per = n / kSide;
  int64_t want = n * (n - 1) / 2;
  auto ch = goro::make_chan<int64_t>(kBuffered);
  std::atomic<int64_t> total{0};
  goro::wait_group wg;
  auto t0 = clock::now();
  wg.add(2 * kSide);
  for (int64_t p = 0; p < kSide; ++p) {
    goro::go([&, p] {
      for (int64_t i = p * per; i < (p + 1) * per; ++i) ch.send(i);
      wg.done();
    });
  }
  for (int64_t c = 0; c < kSide; ++c) {
    goro::go([&] {
      int64_t sum = 0;
      for (int64_t i = 0; i < per; ++i) sum += *ch.recv();
      total.fetch_add(sum);
      wg.done();
    });
  }
  wg.wait();
  double ms = ms_since(t0);
  return check(total.load() == want, ms, "ms", "mpmc sum", total.load(), want);
}

// Two senders on two unbuffered channels, sending 0..N/2-1 and N/2..N-1; the root
// goroutine selects over both for N receives, then joins the senders.
result bench_select2(bool quick) {
  int64_t n = size_for(quick, 1000000, 10000);
  int64_t half = n / 2;
  int64_t want = n * (n - 1) / 2;
  auto a = goro::make_chan<int64_t>(0);
  auto b = goro::make_chan<int64_t>(0);
  goro::wait_group wg;
  auto sender = [&wg](goro::chan<int64_t> ch, int64_t from, int64_t to) {
    for (int64_t i = from; i < to; ++i) ch.send(i);
    wg.done();
  };
  auto t0 = clock::now();
  wg.add(2);
  goro::go([&] { sender(a, 0, half); });
  goro::go([&] { sender(b, half, n); });
  int64_t sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    goro::select(goro::recv(a, [&](int64_t v) { sum += v; }),
                 goro::recv(b, [&](int64_t v) { sum += v; }));
  }
  wg.wait();
  double ms = ms_since(t0);
  return check(sum == want, ms, "ms", "select2 sum", sum, want);
}

}  // namespace goro_bench
