// Diagnostics cost: a goroutine dump of many parked goroutines (the symbolizer cache is warm
// after the first dump; the first one in a process also loads DWARF), and a goroutine switch
// (yield), whose path carries the dump gate's relaxed load.
//
//   build/default/bench/diag_bench --benchmark_filter=Dump
#include <benchmark/benchmark.h>

#include <goro/debug.h>
#include <goro/goro.h>

#include <chrono>
#include <string>

namespace {

void wait_parked(std::size_t n) {
  for (;;) {
    std::size_t waiting = 0;
    for (const auto& g : goro::goroutines()) waiting += g.state == goro::goroutine_state::waiting;
    if (waiting >= n) return;
    goro::sleep(std::chrono::milliseconds(5));
  }
}

void BM_Dump(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const int level = static_cast<int>(state.range(1));
  goro::options o;
  o.long_running_threshold = std::chrono::milliseconds(-1);
  o.stack_size = 64 * 1024;
  goro::run(o, [&] {
    auto c = goro::make_chan<int>();
    goro::wait_group wg;
    for (std::size_t i = 0; i < n; i++) wg.go([c] { c.recv(); });
    wait_parked(n);
    benchmark::DoNotOptimize(goro::debug::goroutines_text(level));  // warm the symbolizer
    std::size_t bytes = 0;
    for (auto _ : state) {
      std::string s = goro::debug::goroutines_text(level);
      bytes = s.size();
      benchmark::DoNotOptimize(s);
    }
    state.counters["bytes"] = static_cast<double>(bytes);
    c.close();
    wg.wait();
  });
}
BENCHMARK(BM_Dump)->Args({100000, 2})->Args({100000, 1})->Args({1000, 2})->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Yield(benchmark::State& state) {
  goro::options o;
  o.procs = 1;
  goro::run(o, [&] {
    for (auto _ : state) goro::yield();
  });
}
BENCHMARK(BM_Yield)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
