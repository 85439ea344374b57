// The guide's leak and misuse patterns, and what goro says about each. Run it and read the
// reports on stderr (docs/diagnostics.md explains every one). It is also a test (ctest
// example.leaks): it counts what goro reported and exits with 1 if a case went unreported.

#include <goro/goro.h>
#include <goro/leak.h>
#include <goro/mutex.h>
#include <goro/testing.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <mutex>
#include <string>

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

// 7. A listener on a channel whose last sending handle is dropped: nobody can ever send on
//    the channel or close it, so the listener can never wake.
void listen(goro::recv_chan<int> events) {
  for (int e : events) (void)e;
}

void start_listener() {
  auto events = goro::make_chan<int>();
  goro::go(listen, goro::recv_chan<int>(events));
}  // `events`, the only handle able to send, dies here

// What goro reported, by kind ("leak" split by the side that waits).
std::mutex g_seen_mu;
std::map<std::string, int> g_seen;

void count(const std::string& what, int n = 1) {
  std::lock_guard<std::mutex> lk(g_seen_mu);
  g_seen[what] += n;
}

int seen(const std::string& what) {
  std::lock_guard<std::mutex> lk(g_seen_mu);
  return g_seen[what];
}

// Cases 3 and 4 go on until the monitor has reported them (or, should it never, for 30 s),
// however long its passes take on a loaded machine.
bool keep_misbehaving(const char* kind, std::chrono::steady_clock::time_point since) {
  return seen(kind) == 0 && std::chrono::steady_clock::now() - since < 30s;
}

int occurrences(const std::string& text, const std::string& part) {
  int n = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + part.size())) n++;
  return n;
}

int main() {
  // Short thresholds so the demo is quick (docs/configuration.md has the defaults).
  setenv("GORO_DIAG_INTERVAL_MS", "20", 0);
  setenv("GORO_LOCKHOLD_MS", "100", 0);
  setenv("GORO_CTXIGNORE_MS", "100", 0);
  // Print the reports as the default sink does, and count them.
  goro::set_report_handler([](const goro::report& r) {
    std::cerr << "goro: " << r.text << "\n";
    if (r.kind == "leak") {
      count(r.text.find("[chan send]") != std::string::npos ? "leak [chan send]" : "leak [chan receive]");
    } else {
      count(r.kind);
    }
  });
  goro::run([] {
    auto jobs = goro::make_chan<int>();
    start_consumer(jobs);
    jobs.send(1);  // ...and never closed

    query_with_timeout();

    const auto start = std::chrono::steady_clock::now();
    goro::wait_group done;  // the goroutines of cases 3 and 4, which do finish
    // 3. Sleeping (think: doing I/O) while holding a mutex others wait for.
    static goro::mutex mu;
    done.go([start] {
      std::lock_guard<goro::mutex> lk(mu);
      while (keep_misbehaving("lock-held-while-blocked", start)) goro::sleep(300ms);
    });
    goro::sleep(5ms);
    done.go([] { std::lock_guard<goro::mutex> lk(mu); });

    // 4. A goroutine that ignores its context's cancellation.
    auto [ctx, cancel] = goro::with_cancel(goro::background());
    done.add(1);
    goro::go(ctx, [&done, start] {
      while (keep_misbehaving("context-ignored", start)) goro::sleep(100ms);
      done.done();
    });
    cancel();

    // 5. A cancel function dropped without being called ("lostcancel").
    { auto [c2, forgotten] = goro::with_timeout(goro::background(), 1h); }

    schedule_retry();
    start_listener();

    done.wait();  // the monitor reports cases 3 and 4 meanwhile
    std::cerr << "\n--- leak report (goroutines blocked > 100 ms, grouped) ---\n"
              << goro::debug::leak_report(100ms);
    goro::testing::leak_options opts;
    opts.grace = 10ms;
    if (goro::error e = goro::testing::find_leaks(opts)) {
      std::cerr << "\n--- goro::testing::find_leaks ---\n" << e.message() << "\n\n";
      count("find_leaks: chan receive", occurrences(e.message(), " in state chan receive, with "));
      count("find_leaks: chan send", occurrences(e.message(), " in state chan send, with "));
      count("find_leaks: after_func timer", occurrences(e.message(), "\nafter_func timer [fires in "));
    }
  });  // `jobs` dies here: case 1's consumer is reported as leaked too

  // Every case, and what it must have produced.
  const std::map<std::string, int> expected = {
      {"leak [chan receive]", 2},           // cases 7 and 1
      {"leak [chan send]", 1},              // case 2
      {"lock-held-while-blocked", 1},       // case 3
      {"context-ignored", 1},               // case 4
      {"lostcancel", 1},                    // case 5
      {"find_leaks: chan receive", 2},      // cases 1 and 7
      {"find_leaks: chan send", 1},         // case 2
      {"find_leaks: after_func timer", 1},  // case 6
  };
  goro::set_report_handler(nullptr);
  int missing = 0;
  std::lock_guard<std::mutex> lk(g_seen_mu);
  for (const auto& [what, n] : expected) {
    if (g_seen[what] >= n) continue;
    std::fprintf(stderr, "leaks: expected %d x %s, got %d\n", n, what.c_str(), g_seen[what]);
    missing++;
  }
  if (missing != 0) return 1;
  std::fprintf(stderr, "leaks: every case was reported\n");
  return 0;
}
