// The example from README.md, compiled and run by the test suite so it stays correct.
#include <goro/goro.h>
#include <chrono>
#include <cstdio>

int main() {
  return goro::run([] {
    auto jobs = goro::make_chan<int>(16);
    auto results = goro::make_chan<int>();
    for (int w = 0; w < 4; w++) {
      goro::go([jobs, results] {
        for (int j : jobs) results.send(j * j);  // ends when jobs is closed and drained
      });
    }
    goro::go([jobs] { for (int i = 1; i <= 100; i++) jobs.send(i); jobs.close(); });
    long sum = 0;
    for (int i = 0; i < 100; i++) {
      goro::select(goro::recv(results, [&](int v) { sum += v; }),
                   goro::recv(goro::after(std::chrono::seconds(1)), [] { std::puts("timeout"); }));
    }
    std::printf("sum of squares: %ld\n", sum);
    return 0;
  });
}
