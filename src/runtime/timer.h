#pragma once
// Runtime timers: one heap per P, each behind its own lock, so a sleeping goroutine costs no
// thread and adding a timer rarely contends.
//
// Invariants:
//  - A timer is in at most one heap; `owner` is that P (null when not in any heap), and
//    `index` its position there. Both are protected by the owner's timer lock.
//  - p::timer0 is the `when` of the heap's root (0 when the heap is empty), readable without
//    the lock for a cheap "anything due?" check.
//  - fire(t, now) runs after t left the heap, without any timer lock held; it may add the
//    timer again.

#include <atomic>
#include <cstdint>

namespace goro::detail {

struct p;

struct timer {
  std::int64_t when = 0;  // clock::now() units (ns)
  void (*fire)(timer*, std::int64_t now) = nullptr;
  void* arg = nullptr;
  std::atomic<p*> owner{nullptr};
  std::uint32_t index = 0;
};

// Adds t (not in any heap) to the heap of the current P, or of P 0 from outside goroutines.
void timer_add(timer* t, std::int64_t when);
// Removes t from its heap. True if it was pending (so fire will not run for this arming).
bool timer_del(timer* t);
// Runs every due timer of pp. Returns the next `when` of pp's heap (0 if empty).
std::int64_t timer_run_due(p* pp, std::int64_t now);

}  // namespace goro::detail
