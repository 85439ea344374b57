// Shared helpers for the Boost.Fiber peer of the goro benchmark suite.
// The protocol (arguments, sizes, expected answers, JSON line) is defined in
// bench/suite/README.md; this peer and the Go peer follow it exactly.
#pragma once

#include <boost/fiber/all.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <utility>

namespace bf = boost::fibers;

struct Options {
  bool quick = false;
  int procs = 1;
  bf::launch policy = bf::launch::post;
};

struct Result {
  double value = 0;      // the timed section, in `unit`
  const char* unit = "ms";
  bool ok = true;
  std::string error;     // why ok == false
  bool absent = false;   // benchmark not expressible with Boost.Fiber
};

// Picks the full or the quick count.
inline std::int64_t size_for(const Options& o, std::int64_t full, std::int64_t quick) {
  return o.quick ? quick : full;
}

// Starts a detached fiber with the selected launch policy (Go's `go f()`).
template <class F>
void go(const Options& o, F&& f) {
  bf::fiber(o.policy, std::forward<F>(f)).detach();
}

// Go's sync.WaitGroup: counts outstanding fibers; wait() parks the calling fiber
// (not the thread) until the count drops to zero. Safe across scheduler threads.
// add() must come before wait(). The waiter returns only after the last done()
// has released the mutex, so the group may live on the waiter's stack.
class WaitGroup {
 public:
  void add(std::int64_t n) { count_.fetch_add(n, std::memory_order_relaxed); }
  void done() {
    if (count_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::unique_lock<bf::mutex> lk(mu_);
      zero_ = true;
      cv_.notify_all();
    }
  }
  void wait() {
    std::unique_lock<bf::mutex> lk(mu_);
    cv_.wait(lk, [this] { return zero_; });
  }

 private:
  std::atomic<std::int64_t> count_{0};
  bf::mutex mu_;
  bf::condition_variable cv_;
  bool zero_ = false;  // guarded by mu_
};

using Clock = std::chrono::steady_clock;

inline double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// Resident set size of this process in bytes, from /proc/self/statm.
std::int64_t rss_bytes();

Result fail(std::string why);

// One function per benchmark, all in benchmarks.cc. Each runs inside the main
// fiber of the main thread, with the scheduler already installed.
Result bench_skynet(const Options&);
Result bench_spawn(const Options&);
Result bench_pingpong(const Options&);
Result bench_spsc(const Options&);
Result bench_mpmc(const Options&);
Result bench_select2(const Options&);
Result bench_mutex(const Options&);
Result bench_yield(const Options&);
Result bench_timers(const Options&);
Result bench_mem100k(const Options&);
Result bench_mem1m(const Options&);
Result bench_switch(const Options&);
