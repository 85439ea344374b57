// Micro-benchmarks for goro's time package: many sleeping goroutines, and the cost of
// timer operations. Each benchmark runs inside one goro::run; the argument is the number
// of processors.
//
//   build/ctx-rel/bench/time_bench --benchmark_min_time=0.5

#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>

#include "goro/goro.h"

namespace {

using namespace std::chrono_literals;

goro::options procs_opts(const benchmark::State& state) {
  goro::options o;
  o.procs = static_cast<int>(state.range(0));
  o.stack_size = 64 * 1024;
  return o;
}

// 100,000 goroutines each sleep 1 ms ten times. Wall time of the whole lot (ideal ~10 ms:
// all of them sleep at once); one iteration is one such wave.
void BM_SleepMany(benchmark::State& state) {
  const int n = 100000;
  goro::run(procs_opts(state), [&] {
    for (auto _ : state) {
      goro::wait_group wg;
      for (int i = 0; i < n; i++) {
        wg.go([] {
          for (int k = 0; k < 10; k++) goro::sleep(1ms);
        });
      }
      wg.wait();
    }
  });
  state.counters["goroutines"] = n;
}
BENCHMARK(BM_SleepMany)->Arg(1)->Arg(2)->Arg(4)->Arg(8)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(5);

// new_timer + stop of a timer that never fires: heap insert, heap delete, state alloc.
void BM_TimerCreateStop(benchmark::State& state) {
  goro::run(procs_opts(state), [&] {
    for (auto _ : state) {
      goro::timer t = goro::new_timer(1h);
      benchmark::DoNotOptimize(t.stop());
    }
  });
}
BENCHMARK(BM_TimerCreateStop)->Arg(1)->UseRealTime();

// reset of one pending timer (delete + insert, no allocation).
void BM_TimerReset(benchmark::State& state) {
  goro::run(procs_opts(state), [&] {
    goro::timer t = goro::new_timer(1h);
    for (auto _ : state) benchmark::DoNotOptimize(t.reset(1h));
    t.stop();
  });
}
BENCHMARK(BM_TimerReset)->Arg(1)->UseRealTime();

// A timer that fires, received: ns per fire/receive round trip at 0 delay.
void BM_TimerFireReceive(benchmark::State& state) {
  goro::run(procs_opts(state), [&] {
    goro::timer t = goro::new_timer(1h);
    for (auto _ : state) {
      t.reset(0ns);
      benchmark::DoNotOptimize(t.c().recv());
    }
  });
}
BENCHMARK(BM_TimerFireReceive)->Arg(1)->Arg(2)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
