#pragma once
// The mutex algorithm behind goro::mutex, for the sync primitives built on it (rw_mutex's
// writer lock, once, cond's re-lock). They call it with their own wait reason and wait
// object, so that a goroutine parked inside rw_mutex::lock() says "sync.RWMutex.Lock" and
// names the rw_mutex, and with the return address their own caller should be recorded with.

#include <cstdint>

#include "goro/mutex.h"
#include "arch/sanitizer.h"
#include "runtime/park.h"
#include "runtime/wait_reason.h"


namespace goro::detail {

// The constants of goro::mutex::lock()'s and unlock()'s fast paths, as variables that send
// every call to the slow path, where the lock-order checker's hooks are, while the checker
// is on (lockorder_start() and stop() set them). The fast paths load them where Go's have
// immediates, once per call, so that a call sees one state of the checker even while stop()
// runs beside goroutines that still unlock: no instruction more than Go's on lock(), one on
// unlock() (a flag test would cost two or three per call). Hidden, so that each load is one
// instruction.
//  - g_mutex_free_token: what lock()'s CAS expects, 0 (unlocked); -1 (a value the state
//    word never holds) while the checker is on.
//  - g_mutex_unlock_add: what unlock()'s fetch_add adds, -kLocked; 0 while the checker is on.
//    The fast path is done when the word is 0 after the add (it was exactly kLocked: held,
//    nobody waiting); with 0 added a held mutex never is, and the slow path calls the hook
//    before it releases the mutex for real.
[[gnu::visibility("hidden")]] extern std::atomic<std::int32_t> g_mutex_free_token;
[[gnu::visibility("hidden")]] extern std::atomic<std::int32_t> g_mutex_unlock_add;

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

  // The uncontended lock shared by lock() and goro::mutex::lock(): takes m if its state
  // word holds `free_value`, records the owner (see record_owner()); false if the caller
  // must take its slow path. The owner's site is stored first, while it is still in a
  // register, so that only m lives across the call below.
  [[gnu::always_inline]] static bool lock_fast(mutex& m, std::int32_t free_value, const void* pc) {
    // Acquire pairs with unlock()'s release fetch_sub.
    if (!m.state_.compare_exchange_strong(free_value, kLocked, std::memory_order_acquire, std::memory_order_relaxed)) {
      return false;
    }
    m.owner_pc_.store(pc, std::memory_order_relaxed);
    g* gp = current_g();
    // Goroutine only: a plain thread gives the mutex back and gets the error (it never
    // counted as a waiter).
    if (gp == nullptr) [[unlikely]] lock_outside_goroutine(m);
    m.owner_.store(gp->id.get(), std::memory_order_relaxed);
    arch::hb_acquire(&m);
    return true;
  }

  // goro::mutex::lock() and unlock() past their fast paths (see g_mutex_free_token), and
  // cond::wait()'s re-lock: as lock() and unlock(), plus the lock-order checker's hooks
  // when it is on (src/diag/lockorder.h).
  static void lock_mutex(mutex& m, const void* pc);
  // unlock()'s slow path: new_state is the state word after its fetch_add of `added`
  // (g_mutex_unlock_add, as that call loaded it).
  static void unlock_mutex(mutex& m, std::int32_t new_state, std::int32_t added) noexcept;

  // Diagnostics and tests: the recorded holder (none while the state word says unlocked:
  // unlock() leaves the record, see record_owner()), and the state word.
  static mutex_owner_info owner(const mutex& m) noexcept {
    mutex_owner_info o{m.owner_.load(std::memory_order_relaxed), m.owner_pc_.load(std::memory_order_relaxed)};
    if ((m.state_.load(std::memory_order_relaxed) & kLocked) == 0) return {};
    return o;
  }
  static std::int32_t state(const mutex& m) noexcept;

 private:
  static void lock_slow(mutex& m, wait_reason reason, const void* wait_obj);
  static void unlock_slow(mutex& m, std::int32_t new_state) noexcept;
  static void record_owner(mutex& m, const g* gp, const void* pc) noexcept;
  [[noreturn, gnu::cold]] static void lock_outside_goroutine(mutex& m);
  [[gnu::noinline]] static void lock_contended(mutex& m, const void* pc, wait_reason reason, const void* wait_obj);
};

}  // namespace goro::detail
