#pragma once
// goro::cond: a condition variable for goroutines, with the semantics of Go's sync.Cond
// (its waiter list is Go's runtime notifyList).
//
// Guarantees:
//  - wait() atomically (with respect to signal() and broadcast()) unlocks the mutex and
//    suspends the goroutine; it re-locks the mutex before returning. It parks the goroutine
//    (wait reason "sync.Cond.Wait", the cond as wait object), never the thread.
//  - Each wait() takes a ticket, in the order the waiters call it (they hold the mutex, so
//    the order is well defined). signal() wakes the waiter with the oldest unnotified
//    ticket: FIFO, and a goroutine that starts waiting after a signal() can never take that
//    signal from the waiter it was meant for. broadcast() wakes every current waiter.
//    signal() and broadcast() with no waiter do nothing (they are not remembered).
//  - Happens-before: a signal() or broadcast() happens before the return of the wait()s it
//    wakes (through the wake-up and the mutex re-lock). As in Go, the caller may but need not
//    hold the mutex while signalling; state the waiter re-checks must be written under it.
//  - As in Go, a woken waiter re-locks the mutex in competition with others, so the
//    condition must be re-checked in a loop: while (!ready) c.wait();
//
// Misuse:
//  - wait() without holding the mutex: the mutex's unlock of an unlocked mutex is a fatal
//    error (when nobody else holds it).
//  - wait() is goroutine only (std::logic_error on a plain thread, before anything changes).
//  - Destroying a cond with waiters: undefined.

#include <atomic>
#include <cstdint>

#include "goro/mutex.h"

namespace goro {

namespace detail {
struct notify_waiter;
}

class cond {
 public:
  // l is the mutex that guards the condition (Go's Cond.L); it must outlive the cond.
  explicit cond(mutex& l) noexcept : l_(&l) {}
  cond(const cond&) = delete;
  cond& operator=(const cond&) = delete;

  // Unlocks the mutex, waits for a signal() or broadcast() meant for this wait, then locks
  // the mutex again. The caller must hold the mutex.
  void wait();
  // Wakes the goroutine that has waited longest, if any. Never blocks.
  void signal() noexcept;
  // Wakes every waiting goroutine. Never blocks.
  void broadcast() noexcept;

  // The mutex associated with this cond (Go's Cond.L).
  mutex& locker() const noexcept { return *l_; }

 private:
  mutex* l_;
  // Go's notifyList. wait_ is the next ticket to hand out (incremented without the list
  // lock); notify_ is the next ticket to notify (read anywhere, written under list_lock_).
  std::atomic<std::uint32_t> wait_{0};
  std::atomic<std::uint32_t> notify_{0};
  // A spinlock word (src/sync/word_lock.h) guarding notify_'s writes and the list below.
  std::atomic<bool> list_lock_{false};
  // Parked waiters, each on its own goroutine's stack, roughly in ticket order.
  detail::notify_waiter* head_ = nullptr;  // (list_lock_)
  detail::notify_waiter* tail_ = nullptr;  // (list_lock_)
};

}  // namespace goro
