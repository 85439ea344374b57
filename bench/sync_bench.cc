// Micro-benchmarks for goro's sync module: the mutex fast path, a contended mutex at one
// and two processors, and wait_group fan-out. Each benchmark runs its timed loop inside
// goro::run (the primitives need a goroutine); runtime start-up is outside the timing.
//
//   build/sync-rel/bench/sync_bench --benchmark_min_time=0.5

#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <mutex>

#include "goro/goro.h"

namespace {

goro::options procs(int n) {
  goro::options o;
  o.procs = n;
  // The timed loops are long stretches without a scheduling point, by design: do not let
  // the long-running-goroutine report write to stderr in the middle of a measurement.
  o.long_running_threshold = std::chrono::milliseconds(-1);
  return o;
}

// lock() + unlock() with nobody else around: the fast path (one CAS each way, plus the
// owner bookkeeping for diagnostics).
void BM_MutexUncontended(benchmark::State& state) {
  goro::run(procs(1), [&] {
    goro::mutex mu;
    long n = 0;
    for (auto _ : state) {
      mu.lock();
      n++;
      mu.unlock();
    }
    benchmark::DoNotOptimize(n);
  });
}
BENCHMARK(BM_MutexUncontended);

// The same with std::mutex on the same goroutine, for reference.
void BM_StdMutexUncontended(benchmark::State& state) {
  goro::run(procs(1), [&] {
    std::mutex mu;
    long n = 0;
    for (auto _ : state) {
      mu.lock();
      n++;
      mu.unlock();
    }
    benchmark::DoNotOptimize(n);
  });
}
BENCHMARK(BM_StdMutexUncontended);

void BM_RwMutexReadUncontended(benchmark::State& state) {
  goro::run(procs(1), [&] {
    goro::rw_mutex rw;
    long n = 0;
    for (auto _ : state) {
      rw.lock_shared();
      n++;
      rw.unlock_shared();
    }
    benchmark::DoNotOptimize(n);
  });
}
BENCHMARK(BM_RwMutexReadUncontended);

// 1,000 goroutines x 1,000 increments of one counter under one mutex, at range(0)
// processors. Reported per lock/unlock pair (items).
void BM_MutexContended(benchmark::State& state) {
  const int kGoroutines = 1000, kIncrements = 1000;
  goro::run(procs(static_cast<int>(state.range(0))), [&] {
    for (auto _ : state) {
      goro::mutex mu;
      long counter = 0;
      goro::wait_group wg;
      for (int i = 0; i < kGoroutines; i++) {
        wg.go([&] {
          for (int j = 0; j < kIncrements; j++) {
            mu.lock();
            counter++;
            mu.unlock();
          }
        });
      }
      wg.wait();
      if (counter != long{kGoroutines} * kIncrements) state.SkipWithError("lost increments");
    }
  });
  state.SetItemsProcessed(state.iterations() * kGoroutines * kIncrements);
}
BENCHMARK(BM_MutexContended)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

// wait_group fan-out: start range(0) goroutines with wg.go() and wait for all of them.
// Reported per goroutine (items).
void BM_WaitGroupFanOut(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  goro::run(procs(static_cast<int>(state.range(1))), [&] {
    for (auto _ : state) {
      goro::wait_group wg;
      std::atomic<int> ran{0};
      for (int i = 0; i < n; i++) wg.go([&ran] { ran.fetch_add(1, std::memory_order_relaxed); });
      wg.wait();
      benchmark::DoNotOptimize(ran.load());
    }
  });
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_WaitGroupFanOut)->Args({1000, 1})->Args({1000, 2})->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
