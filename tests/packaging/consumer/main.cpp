// A program outside the goro tree: built against an installed goro (find_package or
// pkg-config) or a goro source tree (add_subdirectory) by tests/packaging/check.sh.
#include <goro/goro.h>

#include <cstdio>

int main() {
  return goro::run([] {
    auto results = goro::make_chan<int>(10);
    goro::wait_group wg;
    for (int i = 1; i <= 10; i++) wg.go([results, i] { results.send(i * i); });
    wg.wait();
    results.close();
    int sum = 0;
    for (int v : results) sum += v;
    std::printf("sum of squares 1..10 = %d\n", sum);
    return sum == 385 ? 0 : 1;
  });
}
