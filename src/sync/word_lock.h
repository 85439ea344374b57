#pragma once
// A spinlock on a std::atomic<bool> that lives in a public header (cond, semaphore), which
// cannot name detail::spinlock. The same test-and-test-and-set as runtime/spinlock.h: hold
// it for a few dozen instructions only, never across a context switch except by park()'s
// unlock protocol (unlock_word below), and never call ready() while holding it.

#include <sched.h>

#include <atomic>

#include "runtime/g.h"
#include "runtime/spinlock.h"

namespace goro::detail {

inline void word_lock(std::atomic<bool>& w) {
  for (int spins = 0;; ++spins) {
    // Acquire: pairs with word_unlock()'s release store.
    if (!w.exchange(true, std::memory_order_acquire)) return;
    while (w.load(std::memory_order_relaxed)) {
      if (spins++ < 64) {
        cpu_relax();
      } else {
        sched_yield();  // the holder may have been descheduled
      }
    }
  }
}

inline void word_unlock(std::atomic<bool>& w) { w.store(false, std::memory_order_release); }

// park()'s unlock function for a word lock: arg is the std::atomic<bool>.
inline bool unlock_word(g*, void* arg) {
  word_unlock(*static_cast<std::atomic<bool>*>(arg));
  return true;
}

}  // namespace goro::detail
