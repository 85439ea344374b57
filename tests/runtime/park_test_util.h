#pragma once
// Waiting primitives for the runtime's own tests, built directly on detail::park() and
// detail::ready(), so that the runtime is tested without the chan and sync modules.
// Each follows park.h's protocol: the waiter publishes itself from the unlock function,
// which runs on the scheduler stack after the switch, so a waker can never ready() a
// goroutine that is still running.

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <unistd.h>

#include "arch/sanitizer.h"
#include "runtime/park.h"

namespace rt_test {

using goro::detail::g;
using goro::detail::wait_reason;

#ifdef GORO_TSAN
inline constexpr bool kTsan = true;
#else
inline constexpr bool kTsan = false;
#endif
#ifdef GORO_ASAN
inline constexpr bool kAsan = true;
#else
inline constexpr bool kAsan = false;
#endif

// How many goroutines a test may keep alive at once: every TSan fiber and every ASan
// stack costs far more memory than a plain goroutine.
inline long max_live(long want) {
  long cap = kTsan ? 2000 : kAsan ? 20000 : want;
  return want < cap ? want : cap;
}

// A one-shot event with at most one waiting goroutine.
class event {
 public:
  // Parks the calling goroutine until set(); returns at once if it is set already.
  void wait() { goro::detail::park(&event::arm, this, wait_reason::semacquire, this); }
  // Sets the event and readies the waiter, if any. Callable from any thread.
  void set() {
    if (state_.exchange(kSet, std::memory_order_acq_rel) == kParked) {
      goro::detail::ready(waiter_.load(std::memory_order_relaxed));
    }
  }
  bool is_set() const { return state_.load(std::memory_order_acquire) == kSet; }

 private:
  static constexpr int kOpen = 0, kParked = 1, kSet = 2;
  static bool arm(g* gp, void* arg) {
    auto* e = static_cast<event*>(arg);
    e->waiter_.store(gp, std::memory_order_relaxed);
    int expect = kOpen;
    // Fails (the park is called off) when set() came first.
    return e->state_.compare_exchange_strong(expect, kParked, std::memory_order_acq_rel);
  }
  std::atomic<int> state_{kOpen};
  std::atomic<g*> waiter_{nullptr};
};

// Waits until `n` arrivals happened (a wait group with a single waiter).
class countdown {
 public:
  explicit countdown(long n) : left_(n) {
    if (n == 0) done_.set();
  }
  void arrive() {
    if (left_.fetch_sub(1, std::memory_order_acq_rel) == 1) done_.set();
  }
  void wait() { done_.wait(); }
  long left() const { return left_.load(std::memory_order_acquire); }

 private:
  std::atomic<long> left_;
  event done_;
};

// A counting semaphore with at most one waiting goroutine.
class sema1 {
 public:
  void acquire() {
    for (;;) {
      long c = state_.load(std::memory_order_acquire);
      if (c > 0) {
        if (state_.compare_exchange_weak(c, c - 1, std::memory_order_acq_rel)) return;
        continue;
      }
      // Either release() readies us after handing over a permit, or the park is called
      // off because a permit arrived meanwhile; both loop to take it.
      goro::detail::park(&sema1::arm, this, wait_reason::semacquire, this);
    }
  }
  void release() {
    for (;;) {
      long c = state_.load(std::memory_order_acquire);
      if (c == kParked) {
        if (state_.compare_exchange_weak(c, 1, std::memory_order_acq_rel)) {
          goro::detail::ready(waiter_.load(std::memory_order_relaxed));
          return;
        }
        continue;
      }
      if (state_.compare_exchange_weak(c, c + 1, std::memory_order_acq_rel)) return;
    }
  }

 private:
  static constexpr long kParked = -1;
  static bool arm(g* gp, void* arg) {
    auto* s = static_cast<sema1*>(arg);
    s->waiter_.store(gp, std::memory_order_relaxed);
    long expect = 0;
    return s->state_.compare_exchange_strong(expect, kParked, std::memory_order_acq_rel);
  }
  std::atomic<long> state_{0};
  std::atomic<g*> waiter_{nullptr};
};

// Parks the calling goroutine for good (Go's `select {}`): only the end of run() ends it.
inline void park_forever() {
  goro::detail::park(nullptr, nullptr, wait_reason::select_no_cases, nullptr);
}

// Resident memory of this process, from /proc/self/statm.
inline long rss_bytes() {
  long pages = 0, resident = 0;
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
  std::fclose(f);
  return resident * sysconf(_SC_PAGESIZE);
}

}  // namespace rt_test
