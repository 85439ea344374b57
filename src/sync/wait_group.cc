// goro::wait_group: Go's sync.WaitGroup (sync/waitgroup.go).
//
// Invariants:
//  - state_ = counter << 32 | waiters. waiters counts goroutines that registered in wait()
//    by CAS and will consume one count of sema_ each.
//  - waiters only grows while the counter is non-zero (wait() does not register on a zero
//    counter), and the add() that brings the counter to zero with waiters present resets
//    the whole word to 0 and then releases sema_ once per waiter. Between those two steps
//    no other add() or wait() may touch the word (Go's usage rules); add() checks that,
//    and a woken waiter checks that nobody started a new round before it returned.
//
// Memory order: seq_cst throughout, as Go's atomics; the waiter's wake-up goes through the
// runtime semaphore. TSan: add() with a negative delta releases &wg, wait() acquires &wg on
// return (Go's race.ReleaseMerge / race.Acquire).

#include "goro/wait_group.h"

#include "arch/sanitizer.h"
#include "goro/panic.h"
#include "runtime/park.h"
#include "sync/sema.h"

namespace goro {

void wait_group::add(int delta) {
  if (delta < 0) arch::hb_release(this);  // decrements synchronise with wait()
  std::uint64_t d = static_cast<std::uint64_t>(static_cast<std::int64_t>(delta)) << 32;
  std::uint64_t state = state_.fetch_add(d) + d;
  auto v = static_cast<std::int32_t>(state >> 32);
  auto w = static_cast<std::uint32_t>(state);
  if (v < 0) throw goro::panic("sync: negative WaitGroup counter");
  if (w != 0 && delta > 0 && v == delta) {
    throw goro::panic("sync: WaitGroup misuse: Add called concurrently with Wait");
  }
  if (v > 0 || w == 0) return;
  // We brought the counter to zero with waiters present. Nobody may change the word now:
  // adds must not race with wait(), and wait() does not register on a zero counter. Check
  // cheaply anyway.
  if (state_.load() != state) throw goro::panic("sync: WaitGroup misuse: Add called concurrently with Wait");
  state_.store(0);
  for (; w != 0; w--) detail::semrelease(&sema_, false);
}

void wait_group::wait() {
  std::uint64_t state = state_.load();
  for (;;) {
    if (static_cast<std::int32_t>(state >> 32) == 0) {
      arch::hb_acquire(this);
      return;
    }
    // Goroutine only, checked before we register as a waiter.
    detail::require_g("goro::wait_group::wait");
    if (state_.compare_exchange_weak(state, state + 1)) break;
  }
  detail::semacquire(&sema_, false, detail::wait_reason::waitgroup_wait, this);
  if (state_.load() != 0) throw goro::panic("sync: WaitGroup is reused before previous Wait has returned");
  arch::hb_acquire(this);
}

}  // namespace goro
