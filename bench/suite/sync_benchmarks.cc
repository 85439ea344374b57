// The sync benchmark of goro_bench: mutex. Sizes, algorithm and expected answer follow
// bench/suite/README.md; keep it in step with the peers (bench/peers/go/benchmarks.go,
// bench/peers/boost_fiber/benchmarks.cc).

#include <cstdint>
#include <mutex>

#include "common.h"
#include "goro/mutex.h"
#include "goro/runtime.h"
#include "goro/wait_group.h"

namespace goro_bench {

using std::int64_t;

// G goroutines each take the mutex K times to increment one plain shared counter.
result bench_mutex(bool quick) {
  int64_t g = size_for(quick, 1000, 100);
  int64_t k = size_for(quick, 1000, 100);
  goro::mutex mu;
  int64_t counter = 0;  // guarded by mu
  goro::wait_group wg;
  auto t0 = clock::now();
  wg.add(static_cast<int>(g));
  for (int64_t i = 0; i < g; ++i) {
    goro::go([&] {
      for (int64_t j = 0; j < k; ++j) {
        std::lock_guard<goro::mutex> lk(mu);
        ++counter;
      }
      wg.done();
    });
  }
  wg.wait();
  double ms = ms_since(t0);
  std::lock_guard<goro::mutex> lk(mu);
  return check(counter == g * k, ms, "ms", "counter", counter, g * k);
}

}  // namespace goro_bench
