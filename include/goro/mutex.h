#pragma once
// goro::mutex: a mutual-exclusion lock for goroutines, with the semantics and the algorithm
// of Go's sync.Mutex.
//
// Guarantees:
//  - Happens-before (Go's memory model): the n-th call of unlock() happens before the
//    (n+1)-th lock() returns. Everything written while holding the mutex is visible to the
//    next holder, and ThreadSanitizer sees the same edge.
//  - lock() blocks the goroutine, never the thread: a goroutine that has to wait parks (wait
//    reason "sync.Mutex.Lock", the mutex as wait object) and its processor runs others.
//    Before parking it may spin for a few dozen pause instructions, but only when there is
//    more than one processor, another one is busy and its own run queue is empty.
//  - Fairness, as in Go. Normal mode: waiters queue FIFO, but a woken waiter competes for the
//    mutex with goroutines that are arriving (and already running), so it often loses; it
//    then goes back to the *front* of the queue. A waiter that has waited more than 1 ms
//    switches the mutex to starvation mode: unlock() hands ownership directly to the first
//    waiter and arriving goroutines queue at the back without trying. The mutex returns to
//    normal mode when the waiter that receives it is the last one or waited less than 1 ms.
//    Normal mode is much faster; starvation mode bounds how long any waiter can be passed
//    over, so no goroutine waits forever while others keep taking the mutex.
//  - A mutex is not tied to a goroutine: one goroutine may lock it and another unlock it,
//    as in Go. It is not reentrant: locking it again from the holder deadlocks the holder.
//  - Meets the standard Lockable requirements: std::lock_guard, std::unique_lock,
//    std::scoped_lock and std::lock work. constexpr-constructible, so a namespace-scope
//    mutex needs no dynamic initialisation.
//
// Misuse:
//  - unlock() of an unlocked mutex is a fatal error, as in Go: it prints "fatal error: sync:
//    unlock of unlocked mutex" and the goroutine, then exits with status 2. It cannot be
//    caught.
//  - lock() is goroutine only: on a plain thread it throws std::logic_error (try_lock() and
//    unlock() work anywhere). Waiting inside goro::blocking() is a fatal error (runtime.h).
//  - Destroying a mutex that is locked or has waiters, copying or moving it: undefined
//    (copy and move are deleted).
//
// Diagnostics: the mutex records the id of the goroutine that holds it and the return
// address of the lock() call that took it (two relaxed stores on the fast path);
// detail::mutex_owner() reads them, for dumps and the partial-deadlock detector. In the
// lock-order checking mode (GORO_LOCKORDER=1, docs/diagnostics.md) lock(), try_lock() and
// unlock() also keep the goroutine's list of held locks and the lock-order graph up to
// date, and the destructor takes the mutex out of that graph; with the mode off each of
// them pays one relaxed load and a predictable branch.

#include <atomic>
#include <cstdint>

namespace goro {

namespace detail {
struct mutex_core;
// Not API: whether the lock-order checker is on, and its hook for a destroyed lock
// (src/diag/lockorder.h).
extern std::atomic<bool> g_lockorder_on;
void lockorder_forget(const void* lock) noexcept;
}  // namespace detail

class mutex {
 public:
  constexpr mutex() noexcept = default;
  mutex(const mutex&) = delete;
  mutex& operator=(const mutex&) = delete;
  // Free unless the lock-order checker is on: then the mutex leaves its graph, so that a
  // new lock at the same address starts without history.
  ~mutex() {
    if (detail::g_lockorder_on.load(std::memory_order_relaxed)) [[unlikely]] detail::lockorder_forget(this);
  }

  // Locks the mutex. If it is held, parks the goroutine until the mutex is handed over or
  // can be taken (see the fairness rules above). Goroutine only.
  void lock();

  // Locks the mutex if it is free right now; true if it did. Never blocks. As in Go it also
  // fails in starvation mode, where a free-looking mutex belongs to the first waiter.
  bool try_lock() noexcept;

  // Unlocks the mutex and wakes a waiter if one needs waking. The mutex must be locked (by
  // any goroutine); otherwise this is a fatal error. Never blocks, but in starvation mode
  // it yields the processor to the waiter it hands the mutex to.
  void unlock() noexcept;

 private:
  friend struct detail::mutex_core;

  // Go's state word: bit 0 locked, bit 1 a waiter has been woken (or a spinner is about to
  // take the mutex: unlock need not wake anyone), bit 2 starvation mode, bits 3.. the
  // number of parked waiters. See src/sync/mutex.cc for its invariants.
  std::atomic<std::int32_t> state_{0};
  // The runtime semaphore waiters park on (src/sync/sema.h).
  std::atomic<std::uint32_t> sema_{0};
  // Diagnostics only, never used for synchronisation: the holder's goroutine id (0 when
  // unlocked or held by a plain thread) and the return address of its lock() call.
  std::atomic<std::uint64_t> owner_{0};
  std::atomic<const void*> owner_pc_{nullptr};
};

namespace detail {

// Not API (diagnostics). Who holds a mutex, as last recorded: goroutine is 0 and pc null
// when it is unlocked. A racy snapshot: it may be a moment out of date.
struct mutex_owner_info {
  std::uint64_t goroutine = 0;
  const void* pc = nullptr;  // return address of the lock() call that took the mutex
};
mutex_owner_info mutex_owner(const mutex& m) noexcept;

}  // namespace detail

}  // namespace goro
