#pragma once
// goro::rw_mutex: a reader/writer lock for goroutines, with the semantics and the algorithm
// of Go's sync.RWMutex. Any number of readers or a single writer hold it.
//
// Guarantees:
//  - Happens-before (Go's memory model): the n-th unlock() happens before the (n+1)-th
//    lock() returns, and before every lock_shared() that returns after it; the
//    unlock_shared() of a reader that held the lock before a lock() happens before that
//    lock() returns. Readers are not ordered with each other. ThreadSanitizer sees the same
//    edges (Go's race model: readers acquire the writer's release and vice versa).
//  - Writer preference: once a writer is waiting in lock(), new lock_shared() calls wait
//    until that writer has had the lock, even though readers still hold it. So a writer is
//    never starved by a stream of readers, and a reader must never take the lock shared
//    again while holding it (recursive read locking can deadlock with a pending writer, as
//    in Go).
//  - Waiting parks the goroutine, never the thread: readers with wait reason
//    "sync.RWMutex.RLock", writers with "sync.RWMutex.Lock" (also while competing with other
//    writers), both with the rw_mutex as wait object. Writers compete among themselves
//    through a goro::mutex, with its fairness rules.
//  - Meets SharedLockable: std::unique_lock, std::shared_lock, std::lock_guard work.
//    Not tied to a goroutine: one goroutine may lock and another unlock, as in Go.
//
// Misuse (fatal errors, as in Go: message on stderr, exit status 2):
//  - unlock_shared() without a reader holding it: "sync: RUnlock of unlocked RWMutex".
//  - unlock() without a writer holding it: "sync: Unlock of unlocked RWMutex".
//  - lock() and lock_shared() are goroutine only: std::logic_error on a plain thread.
//  - At most 2^30 - 1 simultaneous readers.
//
// Diagnostics: in the lock-order checking mode (GORO_LOCKORDER=1) both sides take part in
// the lock-order graph, as one lock: with writer preference, even read locks taken in
// opposite orders by two goroutines can deadlock behind pending writers.

#include <atomic>
#include <cstdint>

#include "goro/mutex.h"

namespace goro {

class rw_mutex;
namespace detail {
struct rw_mutex_core;
// Not API (diagnostics): the goroutine on the writer side, as last recorded (see
// detail::mutex_owner): it holds the write lock or is waiting for readers to leave. Zero
// when there is none.
mutex_owner_info rw_mutex_writer(const rw_mutex& rw) noexcept;
}  // namespace detail

class rw_mutex {
 public:
  constexpr rw_mutex() noexcept = default;
  rw_mutex(const rw_mutex&) = delete;
  rw_mutex& operator=(const rw_mutex&) = delete;
  // Free unless the lock-order checker is on (see goro::mutex's destructor).
  ~rw_mutex() {
    if (detail::g_lockorder_on.load(std::memory_order_relaxed)) [[unlikely]] detail::lockorder_forget(this);
  }

  // Locks for writing: waits for other writers, then announces itself (blocking new
  // readers) and waits for the readers that hold the lock to leave.
  void lock();
  // Locks for writing if no writer and no reader holds it now; true if it did. Never blocks.
  bool try_lock() noexcept;
  // Unlocks a write lock: admits the readers that queued meanwhile, then other writers.
  void unlock() noexcept;

  // Locks for reading; waits while a writer holds the lock or is waiting for it.
  void lock_shared();
  // Locks for reading unless a writer holds or waits for the lock; never blocks.
  bool try_lock_shared() noexcept;
  // Unlocks a read lock; the last reader out lets a waiting writer in.
  void unlock_shared() noexcept;

 private:
  friend detail::mutex_owner_info detail::rw_mutex_writer(const rw_mutex& rw) noexcept;
  friend struct detail::rw_mutex_core;  // the algorithm (src/sync/rw_mutex.cc)
  static constexpr std::int32_t kMaxReaders = 1 << 30;

  mutex w_;  // held by a writer from the start of lock() to the end of unlock()
  // Runtime semaphores: a writer waits on writer_sem_ for departing readers, readers wait
  // on reader_sem_ for the writer to finish. Their addresses are also the TSan keys.
  std::atomic<std::uint32_t> writer_sem_{0};
  std::atomic<std::uint32_t> reader_sem_{0};
  // Readers holding or waiting for the lock; minus kMaxReaders while a writer is pending.
  std::atomic<std::int32_t> reader_count_{0};
  // Readers a pending writer still waits for.
  std::atomic<std::int32_t> reader_wait_{0};
};

}  // namespace goro
