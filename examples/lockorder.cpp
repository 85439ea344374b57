// The lock-order checker (docs/diagnostics.md shows this program's output): two goroutines
// take the same two mutexes in opposite orders, one after the other. They never overlap and
// nothing deadlocks, but run at the same time they could: with the checker on (here through
// options::lock_order; GORO_LOCKORDER=1 does the same), goro reports the inversion on stderr
// the moment the second order is taken. Exits 0.

#include <goro/goro.h>

#include <mutex>

namespace shop {

// Delivery: count the goods in, then pay for them.
void receive_delivery(goro::mutex& stock, goro::mutex& till, int& goods, int& cash) {
  std::lock_guard<goro::mutex> s(stock);
  goods += 10;
  std::lock_guard<goro::mutex> t(till);  // the till under the stock...
  cash -= 50;
}

// Sale: take the money, then hand the goods over.
void sell(goro::mutex& stock, goro::mutex& till, int& goods, int& cash) {
  std::lock_guard<goro::mutex> t(till);
  cash += 8;
  std::lock_guard<goro::mutex> s(stock);  // ...and the stock under the till
  goods -= 1;
}

}  // namespace shop

int main() {
  goro::options opts;
  opts.lock_order = 1;
  return goro::run(opts, [] {
    goro::mutex stock, till;
    int goods = 0, cash = 100;
    goro::wait_group wg;
    wg.go([&] { shop::receive_delivery(stock, till, goods, cash); });
    wg.wait();
    wg.go([&] { shop::sell(stock, till, goods, cash); });  // later: no overlap, no deadlock
    wg.wait();
    return goods == 9 && cash == 58 ? 0 : 1;
  });
}
