#pragma once
// A test-and-test-and-set spinlock for critical sections of a few dozen instructions
// (registry shards, timer heaps, channels). Never held across a context switch except by
// park()'s unlock protocol, which releases it on the scheduler stack right after the switch.

#include <atomic>

#if defined(__x86_64__)
#include <immintrin.h>
#endif
#include <sched.h>

namespace goro::detail {

inline void cpu_relax() {
#if defined(__x86_64__)
  _mm_pause();
#endif
}

class spinlock {
 public:
  void lock() {
    if (!locked_.exchange(true, std::memory_order_acquire)) [[likely]] return;
    lock_contended();
  }
  bool try_lock() {
    return !locked_.load(std::memory_order_relaxed) && !locked_.exchange(true, std::memory_order_acquire);
  }
  void unlock() { locked_.store(false, std::memory_order_release); }

 private:
  // Exponential backoff: each look at a held word is followed by twice as many pause
  // instructions as the last (up to 128), so that two threads contending for a short critical
  // section stop trading the cache line on every iteration; after 16 looks (about 1,000
  // pauses) the thread yields instead (the holder may have been descheduled).
  [[gnu::noinline]] void lock_contended() {
    int looks = 0;
    for (;;) {
      while (locked_.load(std::memory_order_relaxed)) {
        if (looks < 16) {
          for (int i = 0, n = 1 << (looks < 7 ? looks : 7); i < n; i++) cpu_relax();
          looks++;
        } else {
          sched_yield();
        }
      }
      if (!locked_.exchange(true, std::memory_order_acquire)) return;
    }
  }

  std::atomic<bool> locked_{false};
};

}  // namespace goro::detail
