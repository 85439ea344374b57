// Micro-benchmarks for goro's channels and select. Each benchmark runs inside one goro::run
// around its timing loop; the argument is the number of processors (1 and 2). Times are
// wall-clock (UseRealTime): the timing loop runs on a goroutine, which may change threads.
//
//   cmake -S . -B build/chan-rel -G Ninja -DCMAKE_BUILD_TYPE=Release
//   cmake --build build/chan-rel --target chan_bench
//   build/chan-rel/bench/chan_bench --benchmark_min_time=0.5
//
// What each one measures (one iteration):
//   PingPong        an unbuffered round trip: send to an echo goroutine, receive its reply
//                   (two hand-offs, two park/ready pairs when the peer is not yet waiting)
//   SPSC            one value through a buffered channel (capacity 1024), one producer and
//                   one consumer
//   MPMC            one value through a buffered channel (capacity 1024), four producers
//                   and four consumers
//   Select2         one receive by a select over two unbuffered channels, each fed by its
//                   own producer
//   BufferedNoPark  a send and a receive on a buffered channel by one goroutine: the
//                   channel's own cost, without the scheduler
//   TryRecvEmpty    a failed non-blocking receive (try_recv on an empty channel)
//   SelectDefault   a failed non-blocking select (one receive case and default)

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>

#include "goro/goro.h"

namespace {

goro::options procs_opts(const benchmark::State& state) {
  goro::options o;
  o.procs = static_cast<int>(state.range(0));
  // The timing loops never park; that is intended, so silence the long-running report.
  o.long_running_threshold = std::chrono::milliseconds(-1);
  return o;
}

// Waits for n goroutines that each send once on done.
void wait_n(const goro::chan<>& done, int n) {
  for (int i = 0; i < n; i++) done.recv();
}

void BM_PingPong(benchmark::State& state) {
  goro::run(procs_opts(state), [&] {
    auto ping = goro::make_chan<std::int64_t>();
    auto pong = goro::make_chan<std::int64_t>();
    goro::go([ping, pong] {
      for (std::int64_t v : ping) pong.send(v + 1);
      pong.close();
    });
    std::int64_t v = 0;
    for (auto _ : state) {
      ping.send(v);
      v = *pong.recv();
    }
    ping.close();
    pong.recv();
    if (v != static_cast<std::int64_t>(state.iterations())) state.SkipWithError("lost a value");
  });
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PingPong)->Arg(1)->Arg(2)->UseRealTime();

void BM_SPSC(benchmark::State& state) {
  goro::run(procs_opts(state), [&] {
    auto c = goro::make_chan<std::int64_t>(1024);
    const auto n = static_cast<std::int64_t>(state.max_iterations);
    goro::go([c, n] {
      for (std::int64_t i = 0; i < n; i++) c.send(i);
    });
    std::int64_t sum = 0;
    for (auto _ : state) sum += *c.recv();
    if (sum != n * (n - 1) / 2) state.SkipWithError("lost a value");
  });
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SPSC)->Arg(1)->Arg(2)->UseRealTime();

void BM_MPMC(benchmark::State& state) {
  constexpr int kSide = 4;
  goro::run(procs_opts(state), [&] {
    const auto total = static_cast<std::int64_t>(state.max_iterations);
    auto c = goro::make_chan<std::int64_t>(1024);
    auto done = goro::make_chan<>(2 * kSide);
    auto sums = goro::make_chan<std::int64_t>(kSide);
    while (state.KeepRunningBatch(state.max_iterations)) {
      for (int p = 0; p < kSide; p++) {
        std::int64_t share = total / kSide + (p < total % kSide ? 1 : 0);
        goro::go([c, done, share] {
          for (std::int64_t i = 0; i < share; i++) c.send(1);
          done.send();
        });
      }
      for (int q = 0; q < kSide; q++) {
        std::int64_t share = total / kSide + (q < total % kSide ? 1 : 0);
        goro::go([c, done, sums, share] {
          std::int64_t s = 0;
          for (std::int64_t i = 0; i < share; i++) s += *c.recv();
          sums.send(s);
          done.send();
        });
      }
      wait_n(done, 2 * kSide);
    }
    std::int64_t sum = 0;
    for (int q = 0; q < kSide; q++) sum += *sums.recv();
    if (sum != total) state.SkipWithError("lost a value");
  });
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MPMC)->Arg(1)->Arg(2)->UseRealTime();

void BM_Select2(benchmark::State& state) {
  goro::run(procs_opts(state), [&] {
    const auto n = static_cast<std::int64_t>(state.max_iterations);
    auto a = goro::make_chan<std::int64_t>();
    auto b = goro::make_chan<std::int64_t>();
    goro::go([a, n] {
      for (std::int64_t i = 0; i < (n + 1) / 2; i++) a.send(1);
    });
    goro::go([b, n] {
      for (std::int64_t i = 0; i < n / 2; i++) b.send(1);
    });
    std::int64_t got = 0;
    for (auto _ : state) {
      goro::select(goro::recv(a, [&](std::int64_t v) { got += v; }), goro::recv(b, [&](std::int64_t v) { got += v; }));
    }
    if (got != n) state.SkipWithError("lost a value");
  });
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Select2)->Arg(1)->Arg(2)->UseRealTime();

void BM_BufferedNoPark(benchmark::State& state) {
  goro::run(procs_opts(state), [&] {
    auto c = goro::make_chan<std::int64_t>(1024);
    std::int64_t v = 0;
    for (auto _ : state) {
      c.send(v);
      v = *c.recv() + 1;
    }
    benchmark::DoNotOptimize(v);
  });
}
BENCHMARK(BM_BufferedNoPark)->Arg(1)->Arg(2)->UseRealTime();

void BM_TryRecvEmpty(benchmark::State& state) {
  goro::run(procs_opts(state), [&] {
    auto unbuffered = goro::make_chan<std::int64_t>();
    auto buffered = goro::make_chan<std::int64_t>(16);
    for (auto _ : state) {
      benchmark::DoNotOptimize(unbuffered.try_recv());
      benchmark::DoNotOptimize(buffered.try_recv());
    }
  });
  state.SetItemsProcessed(2 * state.iterations());
}
BENCHMARK(BM_TryRecvEmpty)->Arg(1)->Arg(2)->UseRealTime();

void BM_SelectDefault(benchmark::State& state) {
  goro::run(procs_opts(state), [&] {
    auto c = goro::make_chan<std::int64_t>();
    int defaults = 0;
    for (auto _ : state) defaults += goro::select(goro::recv(c), goro::default_case());
    benchmark::DoNotOptimize(defaults);
  });
}
BENCHMARK(BM_SelectDefault)->Arg(1)->Arg(2)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
