#pragma once
// Shared helpers of goro_bench, the goro side of the side-by-side benchmark suite.
// The protocol (arguments, sizes, expected answers, the JSON line) is bench/suite/README.md;
// the algorithms follow the Go peer (bench/peers/go/benchmarks.go) line for line.

#include <chrono>
#include <cstdint>
#include <string>

namespace goro_bench {

// What one benchmark measured.
struct result {
  double value = 0;         // the timed section, in `unit`
  const char* unit = "ms";  // fixed per benchmark: "ms", "ns/switch" or "bytes/goroutine"
  bool ok = true;           // the answer check passed
  std::string error;        // why ok == false: "<what>: got X, want Y"
};

// Picks the full or the quick size.
inline std::int64_t size_for(bool quick, std::int64_t full, std::int64_t small) {
  return quick ? small : full;
}

using clock = std::chrono::steady_clock;

inline double ms_since(clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(clock::now() - t0).count();
}

// Resident set size of this process in bytes: /proc/self/statm's second field times the
// page size.
std::int64_t rss_bytes();

// A failed result carrying `why`.
result fail(std::string why);

// `value` in `unit` if good, else a failure "what: got X, want Y".
result check(bool good, double value, const char* unit, const char* what, std::int64_t got,
             std::int64_t want);

// One function per benchmark. Each runs on the root goroutine (the function passed to
// goro::run), with the runtime already started; only the work itself is timed.
// chan_benchmarks.cc:
result bench_skynet(bool quick);
result bench_pingpong(bool quick);
result bench_spsc(bool quick);
result bench_mpmc(bool quick);
result bench_select2(bool quick);
// sync_benchmarks.cc:
result bench_mutex(bool quick);
// sched_benchmarks.cc:
result bench_spawn(bool quick);
result bench_yield(bool quick);
result bench_timers(bool quick);
result bench_mem100k(bool quick);
result bench_mem1m(bool quick);
result bench_switch(bool quick);

}  // namespace goro_bench
