#pragma once
// The lock-order checker (GORO_LOCKORDER=1, options::lock_order): a debug mode that reports
// lock-order inversions (goroutine 1 takes A then B, goroutine 2 takes B then A) the first
// time the second order is seen, whether or not the two ever run at the same time and
// deadlock. Linux's lockdep and ThreadSanitizer's "lock-order-inversion" report, for goro's
// mutex and rw_mutex. See lockorder.cc for the design and docs/diagnostics.md for the report.
//
// The sync primitives call these hooks only when lockorder_on() is true, which they read
// once per lock or unlock call: with the mode off, a lock costs one predictable branch.

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "goro/mutex.h"

namespace goro::detail {

// How a lock is held. An rw_mutex is one node of the graph whichever way it is taken:
// Go's rw_mutex prefers writers, so even two read locks taken in opposite orders can
// deadlock behind pending writers.
enum class lock_mode : std::uint8_t {
  mutex,     // goro::mutex
  rw_write,  // goro::rw_mutex, write side
  rw_read,   // goro::rw_mutex, read side
};

// Whether the checker is on. Relaxed: it changes only at run() start and end, when no
// goroutine runs (diag_start/diag_stop; a goroutine still running at the end finds the
// checker inactive under its lock and does nothing).
inline bool lockorder_on() noexcept { return g_lockorder_on.load(std::memory_order_relaxed); }

// Before a blocking acquisition of `lock` at pc by the running goroutine: records an edge
// from every lock it holds to `lock` (the first time each is seen) and reports every cycle
// such an edge closes (kind "lock-order-inversion", once per set of locks). The report is
// formatted on a helper thread, which this goroutine waits for inside blocking(). Does
// nothing on a plain thread.
void lockorder_before(const void* lock, lock_mode mode, const void* pc);
// After any successful acquisition (blocking or try_lock): adds `lock` to the running
// goroutine's held list. try_lock calls only this, so it never makes an edge *to* the lock
// (a try_lock cannot wait, hence cannot deadlock), but later acquisitions make edges
// *from* it. Does nothing on a plain thread.
void lockorder_acquired(const void* lock, lock_mode mode, const void* pc);
// Before the lock is released (by any goroutine or thread): removes it from its holder's
// held list. See lockorder.cc for locks released by another goroutine than the locker.
void lockorder_released(const void* lock, lock_mode mode) noexcept;

// Start and end of run(): on turns the checker on for this run. Both clear the graph.
void lockorder_start(bool on);
void lockorder_stop();

// Tests: locks the checker knows (graph nodes) plus held-list entries; 0 when it is off.
std::size_t lockorder_tracked();

}  // namespace goro::detail
