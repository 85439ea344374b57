// The guide's leak and misuse patterns, and what goro says about each. Run it and read the
// reports on stderr (docs/diagnostics.md explains every one).

#include <goro/goro.h>
#include <goro/leak.h>
#include <goro/mutex.h>
#include <goro/testing.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>

using namespace std::chrono_literals;

// 1. A receiver ranging over a channel its sender never closes.
void start_consumer(goro::recv_chan<int> in) {
  goro::go([in] {
    for (int v : in) (void)v;
  });
}

// 2. The result channel nobody reads after a timeout.
void query_with_timeout() {
  auto result = goro::make_chan<int>();
  goro::go([out = goro::send_chan<int>(result)] {
    goro::sleep(20ms);  // a slow backend
    out.send(1);        // blocks forever: the caller gave up
  });
  goro::select(goro::recv(result), goro::recv(goro::after(5ms)));
}

// 6. An after_func timer never stopped: the retry it schedules will start a goroutine long
//    after the request it belonged to is gone. The handle is dropped, so nothing can stop it.
void schedule_retry() {
  goro::timer retry = goro::after_func(1h, [] { std::cerr << "retrying a request nobody waits for\n"; });
}

int main() {
  // Short thresholds so the demo is quick (docs/configuration.md has the defaults).
  setenv("GORO_DIAG_INTERVAL_MS", "20", 0);
  setenv("GORO_LOCKHOLD_MS", "100", 0);
  setenv("GORO_CTXIGNORE_MS", "100", 0);
  goro::run([] {
    auto jobs = goro::make_chan<int>();
    start_consumer(jobs);
    jobs.send(1);  // ...and never closed

    query_with_timeout();

    // 3. Sleeping (think: doing I/O) while holding a mutex others wait for.
    static goro::mutex mu;
    goro::go([] {
      std::lock_guard<goro::mutex> lk(mu);
      goro::sleep(300ms);
    });
    goro::sleep(5ms);
    goro::go([] { std::lock_guard<goro::mutex> lk(mu); });

    // 4. A goroutine that ignores its context's cancellation.
    auto [ctx, cancel] = goro::with_cancel(goro::background());
    goro::go(ctx, [] { goro::sleep(400ms); });
    cancel();

    // 5. A cancel function dropped without being called ("lostcancel").
    { auto [c2, forgotten] = goro::with_timeout(goro::background(), 1h); }

    schedule_retry();

    goro::sleep(350ms);
    std::cerr << "\n--- leak report (goroutines blocked > 100 ms, grouped) ---\n"
              << goro::debug::leak_report(100ms);
    goro::testing::leak_options opts;
    opts.grace = 10ms;
    if (goro::error e = goro::testing::find_leaks(opts)) {
      std::cerr << "\n--- goro::testing::find_leaks ---\n" << e.message() << "\n";
    }
  });
  return 0;
}
