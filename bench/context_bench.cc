// Micro-benchmarks for goro::context: cancelling a tree of parked goroutines, and the cost
// of creating and cancelling contexts. The argument is the number of processors.
//
//   build/ctx-rel/bench/context_bench --benchmark_min_time=0.5

#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <vector>

#include "goro/goro.h"

namespace {

using namespace std::chrono_literals;
using clk = std::chrono::steady_clock;

goro::options procs_opts(const benchmark::State& state) {
  goro::options o;
  o.procs = static_cast<int>(state.range(0));
  o.stack_size = 64 * 1024;
  return o;
}

// 10,000 goroutines, each parked on its own leaf context (root -> 100 mids -> 10,000
// leaves). Timed: from cancel of the root until every goroutine has observed it (and
// finished).
void BM_CancelTree10k(benchmark::State& state) {
  const int fan = 100, leaves = 10000;
  double walk_s = 0;
  goro::run(procs_opts(state), [&] {
    for (auto _ : state) {
      auto [root, cancel_root] = goro::with_cancel(goro::background());
      std::vector<goro::cancel_func> mids;
      goro::wait_group started, observed;
      for (int m = 0; m < fan; m++) {
        auto [mid, cancel_mid] = goro::with_cancel(root);
        mids.push_back(cancel_mid);
        for (int i = 0; i < leaves / fan; i++) {
          started.add(1);
          observed.go([&started, mid = mid] {  // init-capture: clang 14 cannot capture a binding
            auto [leaf, cancel_leaf] = goro::with_cancel(mid);
            started.done();
            leaf.done().recv();
            cancel_leaf();
          });
        }
      }
      started.wait();
      auto t0 = clk::now();
      cancel_root();
      auto t1 = clk::now();
      observed.wait();
      state.SetIterationTime(std::chrono::duration<double>(clk::now() - t0).count());
      walk_s += std::chrono::duration<double>(t1 - t0).count();
      for (auto& f : mids) f();
    }
  });
  state.counters["goroutines"] = leaves;
  // The part spent inside cancel_root(): walking the tree and closing 10,100 done channels.
  state.counters["cancel_call_ms"] = benchmark::Counter(walk_s * 1e3 / static_cast<double>(state.iterations()));
}
BENCHMARK(BM_CancelTree10k)->Arg(1)->Arg(2)->Arg(4)->Arg(8)->UseManualTime()->Unit(benchmark::kMillisecond);

// with_cancel on a long-lived parent, then cancel: allocation, registration, removal.
void BM_WithCancelCancel(benchmark::State& state) {
  goro::run(procs_opts(state), [&] {
    auto [parent, cancel_parent] = goro::with_cancel(goro::background());
    for (auto _ : state) {
      auto [c, cancel] = goro::with_cancel(parent);
      cancel();
    }
    cancel_parent();
  });
}
BENCHMARK(BM_WithCancelCancel)->Arg(1)->UseRealTime();

// with_timeout + cancel: the above plus a timer armed and stopped.
void BM_WithTimeoutCancel(benchmark::State& state) {
  goro::run(procs_opts(state), [&] {
    for (auto _ : state) {
      auto [c, cancel] = goro::with_timeout(goro::background(), 1h);
      cancel();
    }
  });
}
BENCHMARK(BM_WithTimeoutCancel)->Arg(1)->UseRealTime();

// value() lookup through 10 layers of with_value.
void BM_ValueDepth10(benchmark::State& state) {
  static const goro::context_key<int> keys[10];
  goro::run(procs_opts(state), [&] {
    goro::context c = goro::background();
    for (int i = 0; i < 10; i++) c = goro::with_value(c, keys[i], i);
    for (auto _ : state) benchmark::DoNotOptimize(c.value(keys[0]));
  });
}
BENCHMARK(BM_ValueDepth10)->Arg(1)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
