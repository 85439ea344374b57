// Instruction-count driver for the cost of hook sites and of the always-on diagnostics on the
// hot paths (docs/performance.md, "Execution-tracer hooks" and "What the always-on
// diagnostics cost"): yields, channel ping-pong, spawns and uncontended mutex at 1 P.
// Built as bench target `hook_cost`; run under callgrind, see those sections.
//
//   hook_cost OP N            runs OP N times (callgrind: instructions per op from two N's)
//   hook_cost OP N time       the same, and prints the wall time per op in ns
#include <goro/goro.h>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
int main(int argc, char** argv) {
  const char* what = argc > 1 ? argv[1] : "yield";
  long n = argc > 2 ? std::atol(argv[2]) : 100000;
  const bool timed = argc > 3 && !std::strcmp(argv[3], "time");
  goro::options o;
  o.procs = 1;
  return goro::run(o, [&] {
    auto t0 = std::chrono::steady_clock::now();
    if (!std::strcmp(what, "yield")) {
      goro::wait_group wg;
      for (int k = 0; k < 2; k++) wg.go([&] { for (long i = 0; i < n; i++) goro::yield(); });
      wg.wait();
    } else if (!std::strcmp(what, "pingpong")) {
      auto a = goro::make_chan<long>(), b = goro::make_chan<long>();
      goro::go([&] { for (long i = 0; i < n; i++) b.send(*a.recv()); });
      for (long i = 0; i < n; i++) { a.send(i); b.recv(); }
    } else if (!std::strcmp(what, "spawn")) {
      goro::wait_group wg;
      for (long i = 0; i < n; i++) wg.go([] {});
      wg.wait();
    } else if (!std::strcmp(what, "mutex")) {
      goro::mutex m; long x = 0;
      for (long i = 0; i < n; i++) { m.lock(); x++; m.unlock(); }
      if (x != n) std::abort();
    }
    if (timed) {
      std::chrono::duration<double, std::nano> d = std::chrono::steady_clock::now() - t0;
      std::printf("%s %.2f ns/op\n", what, d.count() / static_cast<double>(n));
    }
    return 0;
  });
}
