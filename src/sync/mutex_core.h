#pragma once
// The mutex algorithm behind goro::mutex, for the sync primitives built on it (rw_mutex's
// writer lock, once, cond's re-lock). They call it with their own wait reason and wait
// object, so that a goroutine parked inside rw_mutex::lock() says "sync.RWMutex.Lock" and
// names the rw_mutex, and with the return address their own caller should be recorded with.

#include <cstdint>

#include "goro/mutex.h"
#include "runtime/flag.h"
#include "runtime/wait_reason.h"

namespace goro::detail {
struct g;
}

namespace goro::detail {

struct mutex_core {
  static constexpr std::int32_t kLocked = 1;
  static constexpr std::int32_t kWoken = 2;
  static constexpr std::int32_t kStarving = 4;
  static constexpr int kWaiterShift = 3;
  static constexpr std::int32_t kWaiter = 1 << kWaiterShift;
  // A waiter that has waited longer than this switches the mutex to starvation mode.
  static constexpr std::int64_t kStarvationThresholdNs = 1'000'000;

  // Locks m (fast path, then lock_slow), records pc as the lock site, annotates for TSan.
  // These three leave the lock-order checker out: each caller decides whether the lock
  // takes part in it, and as which object (rw_mutex's w_ does as the rw_mutex, once's
  // internal mutex not at all).
  static void lock(mutex& m, const void* pc, wait_reason reason, const void* wait_obj);
  static bool try_lock(mutex& m, const void* pc) noexcept;
  static void unlock(mutex& m) noexcept;

  // goro::mutex::lock(): lock() as "sync.Mutex.Lock", plus the lock-order checker's hooks
  // when it is on (src/diag/lockorder.h). Also cond::wait()'s re-lock. Inline, so that with
  // the checker off it costs its callers one load and one predictable branch.
  static void lock_mutex(mutex& m, const void* pc) {
    if (flag_on(g_lockorder_on)) [[unlikely]] {
      lock_mutex_checked(m, pc);
      return;
    }
    lock(m, pc, wait_reason::mutex_lock, &m);
  }

  // Diagnostics and tests: the recorded holder (none while the state word says unlocked:
  // unlock() leaves the record, see record_owner()), and the state word.
  static mutex_owner_info owner(const mutex& m) noexcept {
    mutex_owner_info o{m.owner_.load(std::memory_order_relaxed), m.owner_pc_.load(std::memory_order_relaxed)};
    if ((m.state_.load(std::memory_order_relaxed) & kLocked) == 0) return {};
    return o;
  }
  static std::int32_t state(const mutex& m) noexcept;

 private:
  [[gnu::noinline]] static void lock_contended(mutex& m, const void* pc, wait_reason reason, const void* wait_obj);
  static void lock_slow(mutex& m, wait_reason reason, const void* wait_obj);
  static void unlock_slow(mutex& m, std::int32_t new_state) noexcept;
  static void record_owner(mutex& m, const g* gp, const void* pc) noexcept;
  [[noreturn, gnu::cold]] static void lock_outside_goroutine(mutex& m);
  [[gnu::cold]] static void lock_mutex_checked(mutex& m, const void* pc);
};

}  // namespace goro::detail
