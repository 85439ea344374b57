// goro's diagnostics as a user sees them (docs/diagnostics.md shows this program's output).
//
//   diagnostics            starts goroutines that block in different ways (a channel receive,
//                          a sleep, a mutex), prints the dump in Go's traceback format
//                          (level 2) and grouped format (level 1), unblocks them, exits 0
//   diagnostics deadlock   two goroutines each wait for the other: Go's deadlock report, exit 2
//   diagnostics wedge      blocks for good (with a sleeping main, so no deadlock): try
//                          `kill -QUIT <pid>`, or `gdb -p <pid> -x tools/goro-gdb.py`
#include <goro/debug.h>
#include <goro/goro.h>

#include <unistd.h>

#include <chrono>
#include <cstring>
#include <iostream>

using namespace std::chrono_literals;

namespace shop {

void consume(goro::chan<int> orders) {
  while (auto o = orders.recv()) {  // parks: "chan receive"
    std::cout << "order " << *o << "\n";
  }
}

void restock(goro::mutex& mu, int& stock) {
  mu.lock();  // parks: "sync.Mutex.Lock"
  stock++;
  mu.unlock();
}

void relay(goro::chan<int> in, goro::chan<int> out) {
  auto v = in.recv();  // in "deadlock" mode nobody ever sends first
  out.send(v ? *v : 0);
}

}  // namespace shop

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "";
  return goro::run([mode] {
    if (std::strcmp(mode, "deadlock") == 0) {
      auto a = goro::make_chan<int>(), b = goro::make_chan<int>();
      goro::wait_group wg;
      wg.go([a, b] { shop::relay(a, b); });
      wg.go([a, b] { shop::relay(b, a); });
      wg.wait();
      return 0;
    }

    auto orders = goro::make_chan<int>();
    goro::mutex mu;
    int stock = 0;
    goro::wait_group wg;
    for (int i = 0; i < 3; i++) wg.go([orders] { shop::consume(orders); });
    mu.lock();
    wg.go([&] { shop::restock(mu, stock); });
    goro::sleep(50ms);  // let them all block

    if (std::strcmp(mode, "wedge") == 0) {
      std::cout << "pid " << getpid() << std::endl;
      for (;;) goro::sleep(1s);
    }

    std::cout << "=== goro::debug::write_goroutines(std::cout, 2) ===\n";
    goro::debug::write_goroutines(std::cout, 2);
    std::cout << "\n=== goro::debug::write_goroutines(std::cout, 1) ===\n";
    goro::debug::write_goroutines(std::cout, 1);

    mu.unlock();
    orders.close();
    wg.wait();
    return stock == 1 ? 0 : 1;
  });
}
