// A tour of goro: goroutines, sleeping, yielding and waiting, the Go way.
// Build and run it with `make demo`.

#include <goro/goro.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

using namespace std::chrono_literals;

int main() {
  int total = goro::run([] {
    std::printf("goroutine %llu runs main on %d processors\n",
                static_cast<unsigned long long>(goro::this_goroutine::id()), goro::procs());

    // Spawn workers; each sleeps (parking the goroutine, not the thread) and reports back.
    std::atomic<int> done{0}, sum{0};
    for (int i = 1; i <= 5; i++) {
      goro::go([i, &done, &sum] {
        goro::sleep(std::chrono::milliseconds(10 * i));
        sum += i * i;
        std::printf("  worker %d (goroutine %llu) woke after %d ms\n", i,
                    static_cast<unsigned long long>(goro::this_goroutine::id()), 10 * i);
        done++;
      });
    }

    // A thousand goroutines that yield to each other while they count.
    std::atomic<int> counted{0};
    for (int i = 0; i < 1000; i++) {
      goro::go([&counted] {
        for (int k = 0; k < 10; k++) goro::yield();
        counted++;
      });
    }

    // A blocking call (here: a real thread sleep) hands its processor to other goroutines.
    goro::go([&done] {
      goro::blocking([] { std::this_thread::sleep_for(20ms); });
      std::printf("  a blocking call returned without stalling anyone\n");
      done++;
    });

    while (done < 6 || counted < 1000) goro::sleep(1ms);
    std::printf("%zu goroutine(s) left; sum of squares = %d\n", goro::num_goroutine(), sum.load());
    return sum.load();
  });
  std::printf("run() returned %d\n", total);
  return total == 55 ? 0 : 1;
}
