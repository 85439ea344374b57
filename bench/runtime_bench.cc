// Micro-benchmarks of the runtime's hot paths: the context switch (alone, and as a park/ready
// hand-off between goroutines), spawning, yield, and many sleepers. Each benchmark starts the
// runtime once per run of its function (goro::run around the timed loop) and reports the
// time per operation.
//
//   cmake -S . -B build/rt-rel -G Ninja -DCMAKE_BUILD_TYPE=Release
//   cmake --build build/rt-rel --target runtime_bench && build/rt-rel/bench/runtime_bench

#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <vector>

#include "arch/context.h"
#include "goro/goro.h"
#include "runtime/park.h"

namespace {

using goro::detail::g;
using goro::detail::park;
using goro::detail::ready;
using goro::detail::wait_reason;

goro::options procs(int n) {
  goro::options o;
  o.procs = n;
  o.detect_deadlock = -1;  // a benchmark may wait on a plain thread (benchmark's own)
  return o;
}

// Waits until `n` goroutines arrived; single waiter, built on park/ready like the tests'.
class countdown {
 public:
  explicit countdown(long n) : left_(n) {}
  void arrive() {
    if (left_.fetch_sub(1, std::memory_order_acq_rel) == 1 && state_.exchange(2, std::memory_order_acq_rel) == 1) {
      ready(waiter_.load(std::memory_order_relaxed));
    }
  }
  void wait() {
    park(
        [](g* gp, void* arg) {
          auto* c = static_cast<countdown*>(arg);
          c->waiter_.store(gp, std::memory_order_relaxed);
          int open = 0;
          return c->state_.compare_exchange_strong(open, 1, std::memory_order_acq_rel);
        },
        this, wait_reason::semacquire, this);
  }

 private:
  std::atomic<long> left_;
  std::atomic<int> state_{0};  // 0 open, 1 waiter parked, 2 done
  std::atomic<g*> waiter_{nullptr};
};

// The floor: arch::switch_to between a thread's context and one other context, no
// scheduler. One iteration is a round trip (two switches).
struct floor_pair {
  goro::arch::context main_ctx, fiber_ctx;
};

[[noreturn]] void floor_entry(void* arg) {
  goro::arch::on_first_entry();
  auto* pair = static_cast<floor_pair*>(arg);
  for (;;) goro::arch::switch_to(pair->fiber_ctx, pair->main_ctx);
}

void BM_SwitchFloor(benchmark::State& state) {
  constexpr std::size_t kStack = 64 * 1024;
  void* stack = std::aligned_alloc(4096, kStack);
  floor_pair pair;
  goro::arch::init_thread_context(pair.main_ctx);
  goro::arch::init_fiber(pair.fiber_ctx);
  goro::arch::prepare(pair.fiber_ctx, stack, kStack, &floor_entry, &pair);
  for (auto _ : state) goro::arch::switch_to(pair.main_ctx, pair.fiber_ctx);
  state.SetItemsProcessed(2 * state.iterations());  // switches
  // The fiber stays suspended in its loop; it is simply never resumed.
  goro::arch::destroy(pair.fiber_ctx);
  std::free(stack);
}
BENCHMARK(BM_SwitchFloor);

// Two goroutines on one P handing control to each other with park/ready. One iteration is a
// round trip: two hand-offs (ready the other, park self), each two switches (to the
// scheduler context, then to the readied goroutine); items are hand-offs. With one P
// the readied goroutine runs only after the readier has parked, so a null unlock function
// is safe here.
void BM_ParkReadyHandoff(benchmark::State& state) {
  goro::run(procs(1), [&] {
    std::atomic<bool> stop{false};
    g* self = goro::detail::current_g();
    std::atomic<g*> partner{nullptr};
    countdown exited(1);
    goro::go([&] {
      partner.store(goro::detail::current_g());
      for (;;) {
        park(nullptr, nullptr, wait_reason::semacquire, nullptr);
        if (stop.load(std::memory_order_relaxed)) break;
        ready(self);
      }
      exited.arrive();
    });
    goro::yield();  // let the partner start and park
    g* other = partner.load();
    for (auto _ : state) {
      ready(other);
      park(nullptr, nullptr, wait_reason::semacquire, nullptr);
    }
    stop.store(true);
    ready(other);
    exited.wait();
  });
  state.SetItemsProcessed(2 * state.iterations());
}
BENCHMARK(BM_ParkReadyHandoff)->UseRealTime();

// go(), run and exit of an empty goroutine, in batches of 1024 (then wait for the batch).
void BM_SpawnRunExit(benchmark::State& state) {
  const int nprocs = static_cast<int>(state.range(0));
  goro::run(procs(nprocs), [&] {
    constexpr long kBatch = 1024;
    auto* done = new countdown(kBatch);
    long in_batch = 0;
    for (auto _ : state) {
      goro::go([done] { done->arrive(); });
      if (++in_batch == kBatch) {
        done->wait();
        delete done;
        done = new countdown(kBatch);
        in_batch = 0;
      }
    }
    // Finish the last partial batch.
    for (long i = in_batch; i < kBatch; i++) done->arrive();
    done->wait();
    delete done;
  });
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SpawnRunExit)->Arg(1)->Arg(2)->UseRealTime();

// yield() round trip: alone on one P (switch to the scheduler and straight back), and with
// a second goroutine yielding too (each yield runs the other).
void BM_Yield(benchmark::State& state) {
  const bool pair = state.range(0) == 2;
  goro::run(procs(1), [&] {
    std::atomic<bool> stop{false};
    countdown exited(pair ? 1 : 0);
    if (pair) {
      goro::go([&] {
        while (!stop.load(std::memory_order_relaxed)) goro::yield();
        exited.arrive();
      });
    }
    for (auto _ : state) goro::yield();
    stop.store(true);
    if (pair) exited.wait();
  });
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Yield)->Arg(1)->Arg(2)->UseRealTime()->ArgName("goroutines");

// 10,000 goroutines each sleeping 1 ms, all at once: one iteration spawns them and waits
// until all have woken. Reported per sleeper; the 1 ms itself is part of each iteration.
void BM_Sleepers(benchmark::State& state) {
  constexpr long kSleepers = 10'000;
  const int nprocs = static_cast<int>(state.range(0));
  goro::run(procs(nprocs), [&] {
    for (auto _ : state) {
      countdown done(kSleepers);
      for (long i = 0; i < kSleepers; i++) {
        goro::go([&done] {
          goro::sleep(std::chrono::milliseconds(1));
          done.arrive();
        });
      }
      done.wait();
    }
  });
  state.SetItemsProcessed(state.iterations() * kSleepers);
}
BENCHMARK(BM_Sleepers)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
