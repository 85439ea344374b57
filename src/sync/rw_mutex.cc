// goro::rw_mutex: Go's sync.RWMutex algorithm (sync/rwmutex.go).
//
// Invariants:
//  - reader_count_ = R, the number of readers that hold the lock or wait on reader_sem_,
//    while no writer is pending; R - kMaxReaders once a writer has announced itself in
//    lock(), until its unlock(). So reader_count_ < 0 means "a writer is pending or holds
//    the lock" and arriving readers wait.
//  - While a writer is pending, reader_wait_ counts the readers that held the lock when it
//    announced itself and have not left yet; the one that brings it to zero (the writer
//    itself, or the last departing reader) lets the writer in through writer_sem_. Readers
//    that arrived after the announcement wait on reader_sem_ and are released by unlock().
//  - w_ is held by exactly the writer that is pending or holds the lock, so at most one
//    writer ever has announced itself.
//
// Memory order: the counters use seq_cst read-modify-writes, as Go's do; the waiting is
// through the runtime semaphore, whose release happens before the acquire it satisfies.
//
// ThreadSanitizer (Go's race model for RWMutex): lock_shared() acquires &reader_sem_,
// unlock_shared() releases &writer_sem_, lock() acquires both, unlock() releases
// &reader_sem_. Readers are thus ordered after earlier writers and before later ones, but
// not with each other, and the counters' own atomics add no further edges that would hide
// a race between two readers.

#include "goro/rw_mutex.h"

#include "arch/sanitizer.h"
#include "runtime/park.h"
#include "runtime/sched.h"
#include "sync/mutex_core.h"
#include "sync/sema.h"

namespace goro {

using detail::mutex_core;
using detail::wait_reason;

[[gnu::noinline]] void rw_mutex::lock() {
  // First, resolve competition with other writers.
  mutex_core::lock(w_, __builtin_return_address(0), wait_reason::rwmutex_lock, this);
  // Announce the pending writer to readers; r is the number of readers holding the lock.
  std::int32_t r = reader_count_.fetch_sub(kMaxReaders);  // the value before: fetch_* return it
  // Wait for them to leave, unless they all left between the two counters' updates.
  if (r != 0 && reader_wait_.fetch_add(r) + r != 0) {
    detail::semacquire(&writer_sem_, false, wait_reason::rwmutex_lock, this);
  }
  arch::hb_acquire(&reader_sem_);
  arch::hb_acquire(&writer_sem_);
}

[[gnu::noinline]] bool rw_mutex::try_lock() noexcept {
  if (!mutex_core::try_lock(w_, __builtin_return_address(0))) return false;
  std::int32_t none = 0;
  if (!reader_count_.compare_exchange_strong(none, -kMaxReaders)) {
    mutex_core::unlock(w_);
    return false;
  }
  arch::hb_acquire(&reader_sem_);
  arch::hb_acquire(&writer_sem_);
  return true;
}

void rw_mutex::unlock() noexcept {
  arch::hb_release(&reader_sem_);
  // Announce to readers that there is no active writer any more.
  std::int32_t r = reader_count_.fetch_add(kMaxReaders) + kMaxReaders;
  if (r >= kMaxReaders) detail::fatal("sync: Unlock of unlocked RWMutex");
  // Admit the readers that queued while we held the lock...
  for (std::int32_t i = 0; i < r; i++) detail::semrelease(&reader_sem_, false);
  // ...then let other writers compete.
  mutex_core::unlock(w_);
}

void rw_mutex::lock_shared() {
  // Goroutine only, checked before reader_count_ counts us: a reader cannot back out.
  detail::require_g("goro::rw_mutex::lock_shared");
  if (reader_count_.fetch_add(1) + 1 < 0) {
    // A writer is pending or holds the lock: wait for its unlock().
    detail::semacquire(&reader_sem_, false, wait_reason::rwmutex_rlock, this);
  }
  arch::hb_acquire(&reader_sem_);
}

bool rw_mutex::try_lock_shared() noexcept {
  std::int32_t c = reader_count_.load();
  for (;;) {
    if (c < 0) return false;
    if (reader_count_.compare_exchange_weak(c, c + 1)) break;
  }
  arch::hb_acquire(&reader_sem_);
  return true;
}

void rw_mutex::unlock_shared() noexcept {
  arch::hb_release(&writer_sem_);
  std::int32_t r = reader_count_.fetch_sub(1) - 1;
  if (r >= 0) return;
  // A writer is pending (or this is misuse).
  if (r + 1 == 0 || r + 1 == -kMaxReaders) detail::fatal("sync: RUnlock of unlocked RWMutex");
  // The last reader the writer waits for lets it in.
  if (reader_wait_.fetch_sub(1) - 1 == 0) detail::semrelease(&writer_sem_, false);
}

namespace detail {

mutex_owner_info rw_mutex_writer(const rw_mutex& rw) noexcept { return mutex_core::owner(rw.w_); }

}  // namespace detail

}  // namespace goro
