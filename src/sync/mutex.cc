// goro::mutex: Go's sync.Mutex algorithm (internal/sync/mutex.go), on the runtime semaphore.
//
// The state word (mutex::state_) is kLocked | kWoken | kStarving | waiters << kWaiterShift.
//
// Invariants:
//  - Normal mode (kStarving clear): kLocked is set exactly while a goroutine holds the
//    mutex. waiters counts goroutines parked on sema_ (or committed to parking: they
//    registered by CAS and are on their way into semacquire) that no unlock has yet chosen
//    to wake. kWoken is set while a woken waiter, or a spinner that asked unlock not to wake
//    anyone, is about to compete; at most one goroutine owns that flag and clears it in the
//    CAS that ends its attempt.
//  - Starvation mode (kStarving set): the mutex is owned by its holder or, after unlock,
//    by the first waiter it is being handed to; kLocked may then be clear while ownership is
//    in flight, and nobody else takes the mutex. The receiving waiter is still counted in
//    waiters and fixes the word itself (sets kLocked, decrements waiters, maybe leaves
//    starvation mode). kStarving is only ever set while kLocked is set and waiters > 0.
//  - sema_ counts wake-ups released but not yet consumed by a waiter.
//
// Memory order: the CAS or RMW that takes the mutex is acquire and pairs with the release
// fetch_sub of the unlock that freed it (in starvation mode, the receiving waiter's
// fetch_add reads a value in that unlock's release sequence). Other RMWs only move flags
// and counts and need no ordering of their own. TSan additionally gets an explicit
// hb_release(&m) before every unlock and hb_acquire(&m) after every lock, as Go's
// race.Release/race.Acquire.

#include <thread>

#include "arch/sanitizer.h"
#include "diag/lockorder.h"
#include "runtime/clock.h"
#include "runtime/park.h"
#include "runtime/sched.h"
#include "runtime/spinlock.h"
#include "sync/mutex_core.h"
#include "sync/sema.h"

namespace goro::detail {

namespace {

constexpr int kActiveSpin = 4;        // spin rounds before parking (Go's active_spin)
constexpr int kActiveSpinCount = 30;  // pause instructions per round (Go's active_spin_cnt)

const bool g_multicore = std::thread::hardware_concurrency() > 1;

// Go's sync_runtime_canSpin. The mutex is cooperative, so spinning is conservative: only a
// few rounds, only on a multicore machine with more than one processor of which at least
// one other is running goroutines, and only when this processor has no other goroutine to
// run (spinning would delay it). Reads the scheduler's counters without a lock: a heuristic.
bool can_spin(int iter) {
  sched_t* s = g_sched;
  if (iter >= kActiveSpin || !g_multicore || s == nullptr) return false;
  if (s->nprocs <= s->npidle.load(std::memory_order_relaxed) + s->nmspinning.load(std::memory_order_relaxed) + 1) {
    return false;
  }
  m* mp = current_m();
  p* pp = mp != nullptr ? mp->pp.get() : nullptr;
  if (pp == nullptr) return false;
  return pp->runq_head.load(std::memory_order_relaxed) == pp->runq_tail.load(std::memory_order_relaxed) &&
         pp->runnext.load(std::memory_order_relaxed) == nullptr;
}

void do_spin() {
  for (int i = 0; i < kActiveSpinCount; i++) cpu_relax();
}

}  // namespace

void mutex_core::record_owner(mutex& m, const g* gp, const void* pc) noexcept {
  // Relaxed: diagnostics only. The holder's stores come after the acquire that took the
  // mutex; unlock() leaves them (owner() reads them only while the state word says
  // locked), so a reader may see the previous holder for the moment between a new
  // holder's CAS and its stores: detectors that act on owners confirm what they see over
  // two passes (diag/monitor.cc).
  m.owner_.store(gp != nullptr ? gp->id.get() : 0, std::memory_order_relaxed);
  m.owner_pc_.store(pc, std::memory_order_relaxed);
}

void mutex_core::lock(mutex& m, const void* pc, wait_reason reason, const void* wait_obj) {
  if (!lock_fast(m, 0, pc)) [[unlikely]] lock_contended(m, pc, reason, wait_obj);
}

void mutex_core::lock_contended(mutex& m, const void* pc, wait_reason reason, const void* wait_obj) {
  // Goroutine only, checked before the state word can count us as a waiter.
  g* gp = require_g("goro::mutex::lock");
  lock_slow(m, reason, wait_obj);
  record_owner(m, gp, pc);
  arch::hb_acquire(&m);
}

void mutex_core::lock_outside_goroutine(mutex& m) {
  m.owner_pc_.store(nullptr, std::memory_order_relaxed);
  unlock(m);
  not_on_a_goroutine("goro::mutex::lock");
}

bool mutex_core::try_lock(mutex& m, const void* pc) noexcept {
  std::int32_t old = m.state_.load(std::memory_order_relaxed);
  if ((old & (kLocked | kStarving)) != 0) return false;
  // A waiter may be about to wake up, but we are running now: take the mutex before it
  // does (Go's TryLock). Acquire pairs with unlock()'s release fetch_sub.
  if (!m.state_.compare_exchange_strong(old, old | kLocked, std::memory_order_acquire, std::memory_order_relaxed)) {
    return false;
  }
  record_owner(m, current_g(), pc);
  arch::hb_acquire(&m);
  return true;
}

void mutex_core::lock_slow(mutex& m, wait_reason reason, const void* wait_obj) {
  std::int64_t wait_start = 0;
  bool starving = false;
  bool awoke = false;  // we own kWoken: either unlock woke us or we set it while spinning
  int iter = 0;
  std::int32_t old = m.state_.load(std::memory_order_relaxed);
  for (;;) {
    // Spin only while the mutex is held in normal mode: in starvation mode it goes to the
    // first waiter, never to a spinner.
    if ((old & (kLocked | kStarving)) == kLocked && can_spin(iter)) {
      // Ask unlock not to wake a waiter: we are about to take the mutex ourselves.
      if (!awoke && (old & kWoken) == 0 && (old >> kWaiterShift) != 0 &&
          m.state_.compare_exchange_strong(old, old | kWoken, std::memory_order_relaxed)) {
        awoke = true;
      }
      do_spin();
      iter++;
      old = m.state_.load(std::memory_order_relaxed);
      continue;
    }
    std::int32_t desired = old;
    // Arriving goroutines never take a starving mutex: they queue.
    if ((old & kStarving) == 0) desired |= kLocked;
    if ((old & (kLocked | kStarving)) != 0) desired += kWaiter;
    // Switch to starvation mode, but only while the mutex is held: unlock expects a
    // starving mutex to have waiters, which would not hold if it is free now.
    if (starving && (old & kLocked) != 0) desired |= kStarving;
    if (awoke) {
      // We own kWoken; give it up in this CAS whatever its outcome for the lock.
      if ((desired & kWoken) == 0) fatal("sync: inconsistent mutex state");
      desired &= ~kWoken;
    }
    // Acquire: when this CAS takes the mutex it pairs with unlock()'s release fetch_sub.
    if (!m.state_.compare_exchange_weak(old, desired, std::memory_order_acquire, std::memory_order_relaxed)) {
      continue;  // old has been reloaded
    }
    if ((old & (kLocked | kStarving)) == 0) return;  // took the mutex with the CAS
    // We are a waiter now. One that was already woken before goes back to the front.
    bool lifo = wait_start != 0;
    if (wait_start == 0) wait_start = clock_now();
    semacquire(&m.sema_, lifo, reason, wait_obj);
    starving = starving || clock_now() - wait_start > kStarvationThresholdNs;
    old = m.state_.load(std::memory_order_relaxed);
    if ((old & kStarving) != 0) {
      // Ownership was handed to us, but the word still says unlocked and counts us as a
      // waiter: fix both in one step.
      if ((old & (kLocked | kWoken)) != 0 || (old >> kWaiterShift) == 0) {
        fatal("sync: inconsistent mutex state");
      }
      std::int32_t delta = kLocked - kWaiter;
      // Leave starvation mode if we waited briefly or are the last waiter. It must happen
      // here: starvation mode is so slow that two goroutines could otherwise hand the mutex
      // back and forth in lock-step forever.
      if (!starving || (old >> kWaiterShift) == 1) delta -= kStarving;
      // Acquire: pairs with the releasing unlock's fetch_sub, whose release sequence this
      // RMW continues.
      m.state_.fetch_add(delta, std::memory_order_acquire);
      return;
    }
    awoke = true;
    iter = 0;
  }
}

void mutex_core::unlock(mutex& m) noexcept {
  // The recorded owner stays: see record_owner().
  arch::hb_release(&m);
  // Fast path: drop the lock bit. Release pairs with the acquire that takes the mutex next.
  std::int32_t new_state = m.state_.fetch_sub(kLocked, std::memory_order_release) - kLocked;
  if (new_state != 0) unlock_slow(m, new_state);
}

void mutex_core::unlock_slow(mutex& m, std::int32_t new_state) noexcept {
  if (((new_state + kLocked) & kLocked) == 0) fatal("sync: unlock of unlocked mutex");
  if ((new_state & kStarving) != 0) {
    // Starvation mode: hand ownership to the first waiter and yield our turn to it. kLocked
    // stays clear until it wakes, but kStarving keeps arriving goroutines out.
    semrelease(&m.sema_, true);
    return;
  }
  std::int32_t old = new_state;
  for (;;) {
    // Nobody to wake, or someone is already woken, spinning or holding the mutex (then it
    // wakes the next waiter), or the mode changed to starvation after our unlock (the
    // handoff chain does not include us): nothing to do.
    if ((old >> kWaiterShift) == 0 || (old & (kLocked | kWoken | kStarving)) != 0) return;
    // Take the right to wake one waiter. Relaxed: this RMW continues the release sequence
    // of the fetch_sub above; the woken waiter's acquire CAS pairs with that release.
    if (m.state_.compare_exchange_weak(old, (old - kWaiter) | kWoken, std::memory_order_relaxed)) {
      semrelease(&m.sema_, false);
      return;
    }
  }
}

std::atomic<std::int32_t> g_mutex_free_token{0};
std::atomic<std::int32_t> g_mutex_unlock_add{-mutex_core::kLocked};

void mutex_core::lock_mutex(mutex& m, const void* pc) {
  if (lockorder_on()) [[unlikely]] {
    lockorder_before(&m, lock_mode::mutex, pc);
    lock(m, pc, wait_reason::mutex_lock, &m);
    lockorder_acquired(&m, lock_mode::mutex, pc);
    return;
  }
  lock(m, pc, wait_reason::mutex_lock, &m);
}

void mutex_core::unlock_mutex(mutex& m, std::int32_t new_state, std::int32_t added) noexcept {
  if (added == 0) {
    // The lock-order checker is on and the fast path released nothing. The hook goes
    // before the release: once the mutex is free, the next holder may already be recorded.
    lockorder_released(&m, lock_mode::mutex);
    unlock(m);
    return;
  }
  // Released already, as Go's Unlock: waiters to wake, starvation mode, or not locked.
  unlock_slow(m, new_state);
}

std::int32_t mutex_core::state(const mutex& m) noexcept { return m.state_.load(std::memory_order_relaxed); }

mutex_owner_info mutex_owner(const mutex& m) noexcept {
  return mutex_core::owner(m);
}

}  // namespace goro::detail

namespace goro {

// Not inlined, so that __builtin_return_address(0) is the caller's lock site. The fast path
// expects g_mutex_free_token, which fails it while the lock-order checker is on.
[[gnu::noinline]] void mutex::lock() {
  using core = detail::mutex_core;
  const void* pc = __builtin_return_address(0);
  if (!core::lock_fast(*this, detail::g_mutex_free_token.load(std::memory_order_relaxed), pc)) [[unlikely]] {
    core::lock_mutex(*this, pc);
  }
}

[[gnu::noinline]] bool mutex::try_lock() noexcept {
  const void* pc = __builtin_return_address(0);
  if (!detail::mutex_core::try_lock(*this, pc)) return false;
  // No edge to a try-locked mutex (a try_lock cannot wait), but it is held from now on.
  if (detail::lockorder_on()) [[unlikely]] detail::lockorder_acquired(this, detail::lock_mode::mutex, pc);
  return true;
}

void mutex::unlock() noexcept {
  // Go's fast path: drop the lock bit with one fetch_add; the slow path if anyone waits (or
  // the lock-order checker is on: see g_mutex_unlock_add). Release pairs with the acquire
  // that takes the mutex next.
  arch::hb_release(this);
  // One load of the token: the checker may be switched off while a goroutine of the ending
  // run still unlocks, and this call must see one state of it, not two.
  const std::int32_t add = detail::g_mutex_unlock_add.load(std::memory_order_relaxed);
  const std::int32_t new_state = state_.fetch_add(add, std::memory_order_release) + add;
  if (new_state != 0) [[unlikely]] detail::mutex_core::unlock_mutex(*this, new_state, add);
}

}  // namespace goro
