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
    for (int spins = 0;; ++spins) {
      if (!locked_.exchange(true, std::memory_order_acquire)) return;
      while (locked_.load(std::memory_order_relaxed)) {
        if (spins++ < 64) {
          cpu_relax();
        } else {
          sched_yield();  // the holder may have been descheduled
        }
      }
    }
  }
  bool try_lock() {
    return !locked_.load(std::memory_order_relaxed) && !locked_.exchange(true, std::memory_order_acquire);
  }
  void unlock() { locked_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> locked_{false};
};

}  // namespace goro::detail
