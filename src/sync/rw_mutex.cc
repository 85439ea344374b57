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
#include "diag/lockorder.h"
#include "diag/rw_readers.h"
#include "runtime/park.h"
#include "runtime/sched.h"
#include "sync/mutex_core.h"
#include "sync/sema.h"

namespace goro::detail {

// The four blocking-side operations without the lock-order checker's hooks, and the cold
// paths that add them. The checker (diag/lockorder.h) sees the rw_mutex, both sides, as one
// lock named by its address; w_ (at the same address) never takes part on its own. The
// public calls read the checker's flag once and take one path or the other, so with the
// checker off each pays one load and one predictable branch and keeps its old code.
struct rw_mutex_core {
  static void lock(rw_mutex& rw, const void* pc) {
    // First, resolve competition with other writers.
    mutex_core::lock(rw.w_, pc, wait_reason::rwmutex_lock, &rw);
    // Announce the pending writer to readers; r is the number of readers holding the lock.
    std::int32_t r = rw.reader_count_.fetch_sub(rw_mutex::kMaxReaders);  // fetch_* return the value before
    // Wait for them to leave, unless they all left between the two counters' updates.
    if (r != 0 && rw.reader_wait_.fetch_add(r) + r != 0) {
      semacquire(&rw.writer_sem_, false, wait_reason::rwmutex_lock, &rw);
    }
    arch::hb_acquire(&rw.reader_sem_);
    arch::hb_acquire(&rw.writer_sem_);
  }

  static void unlock(rw_mutex& rw) noexcept {
    arch::hb_release(&rw.reader_sem_);
    // Announce to readers that there is no active writer any more.
    std::int32_t r = rw.reader_count_.fetch_add(rw_mutex::kMaxReaders) + rw_mutex::kMaxReaders;
    if (r >= rw_mutex::kMaxReaders) fatal("sync: Unlock of unlocked RWMutex");
    // Admit the readers that queued while we held the lock...
    for (std::int32_t i = 0; i < r; i++) semrelease(&rw.reader_sem_, false);
    // ...then let other writers compete.
    mutex_core::unlock(rw.w_);
  }

  static void lock_shared(rw_mutex& rw) {
    if (rw.reader_count_.fetch_add(1) + 1 < 0) {
      // A writer is pending or holds the lock: wait for its unlock().
      semacquire(&rw.reader_sem_, false, wait_reason::rwmutex_rlock, &rw);
    }
    arch::hb_acquire(&rw.reader_sem_);
  }

  static void unlock_shared(rw_mutex& rw) noexcept {
    arch::hb_release(&rw.writer_sem_);
    std::int32_t r = rw.reader_count_.fetch_sub(1) - 1;
    if (r >= 0) return;
    // A writer is pending (or this is misuse).
    if (r + 1 == 0 || r + 1 == -rw_mutex::kMaxReaders) fatal("sync: RUnlock of unlocked RWMutex");
    // The last reader the writer waits for lets it in.
    if (rw.reader_wait_.fetch_sub(1) - 1 == 0) semrelease(&rw.writer_sem_, false);
  }

  // With the checker on. Edges before a blocking acquisition, the holding after it; the
  // holding ends before the release (once free, the lock may have its next holder).
  [[gnu::noinline, gnu::cold]] static void lock_checked(rw_mutex& rw, const void* pc) {
    lockorder_before(&rw, lock_mode::rw_write, pc);
    lock(rw, pc);
    lockorder_acquired(&rw, lock_mode::rw_write, pc);
  }
  [[gnu::noinline, gnu::cold]] static void unlock_checked(rw_mutex& rw) noexcept {
    lockorder_released(&rw, lock_mode::rw_write);
    unlock(rw);
  }
  [[gnu::noinline, gnu::cold]] static void lock_shared_checked(rw_mutex& rw, const void* pc) {
    lockorder_before(&rw, lock_mode::rw_read, pc);
    lock_shared(rw);
    lockorder_acquired(&rw, lock_mode::rw_read, pc);
  }
  [[gnu::noinline, gnu::cold]] static void unlock_shared_checked(rw_mutex& rw) noexcept {
    lockorder_released(&rw, lock_mode::rw_read);
    unlock_shared(rw);
  }
};

}  // namespace goro::detail

namespace goro {

using detail::lock_mode;
using detail::mutex_core;
using detail::rw_mutex_core;

[[gnu::noinline]] void rw_mutex::lock() {
  if (detail::lockorder_on()) [[unlikely]] {
    rw_mutex_core::lock_checked(*this, __builtin_return_address(0));
    return;
  }
  rw_mutex_core::lock(*this, __builtin_return_address(0));
}

[[gnu::noinline]] bool rw_mutex::try_lock() noexcept {
  const void* pc = __builtin_return_address(0);
  if (!mutex_core::try_lock(w_, pc)) return false;
  std::int32_t none = 0;
  if (!reader_count_.compare_exchange_strong(none, -kMaxReaders)) {
    mutex_core::unlock(w_);
    return false;
  }
  arch::hb_acquire(&reader_sem_);
  arch::hb_acquire(&writer_sem_);
  // No edge to a try-locked lock (a try_lock cannot wait), but it is held from now on.
  if (detail::lockorder_on()) [[unlikely]] detail::lockorder_acquired(this, lock_mode::rw_write, pc);
  return true;
}

void rw_mutex::unlock() noexcept {
  if (detail::lockorder_on()) [[unlikely]] {
    rw_mutex_core::unlock_checked(*this);
    return;
  }
  rw_mutex_core::unlock(*this);
}

[[gnu::noinline]] void rw_mutex::lock_shared() {
  // Goroutine only, checked before reader_count_ counts us: a reader cannot back out.
  detail::g* gp = detail::require_g("goro::rw_mutex::lock_shared");
  if (detail::lockorder_on()) [[unlikely]] {
    rw_mutex_core::lock_shared_checked(*this, __builtin_return_address(0));
  } else {
    rw_mutex_core::lock_shared(*this);
  }
  detail::rw_read_acquired(gp, this, __builtin_return_address(0));  // for the partial-deadlock check
}

[[gnu::noinline]] bool rw_mutex::try_lock_shared() noexcept {
  std::int32_t c = reader_count_.load();
  for (;;) {
    if (c < 0) return false;
    if (reader_count_.compare_exchange_weak(c, c + 1)) break;
  }
  arch::hb_acquire(&reader_sem_);
  if (detail::lockorder_on()) [[unlikely]] {
    detail::lockorder_acquired(this, lock_mode::rw_read, __builtin_return_address(0));
  }
  detail::rw_read_acquired(detail::current_g(), this, __builtin_return_address(0));
  return true;
}

void rw_mutex::unlock_shared() noexcept {
  detail::rw_read_released(this);
  if (detail::lockorder_on()) [[unlikely]] {
    rw_mutex_core::unlock_shared_checked(*this);
    return;
  }
  rw_mutex_core::unlock_shared(*this);
}

namespace detail {

mutex_owner_info rw_mutex_writer(const rw_mutex& rw) noexcept { return mutex_core::owner(rw.w_); }

}  // namespace detail

}  // namespace goro
