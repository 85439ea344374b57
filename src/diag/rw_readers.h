#pragma once
// Which goroutines hold an rw_mutex for reading: what the partial-deadlock detector needs to
// see a cycle through a read lock (a writer waiting for a reader that waits, in turn, for a
// lock the writer holds). Go's RWMutex does not know its readers, and neither does goro's
// (readers only count): each goroutine keeps instead a short list of the read locks it
// holds (g::read_locks), which the monitor scans.
//
// The calls src/sync makes (rw_mutex.cc): rw_read_acquired() once a read lock is taken by
// lock_shared() or try_lock_shared(), rw_read_released() in unlock_shared() before the read
// lock is given up. Cost: a thread-local load and a store or two into the goroutine's own
// record, on the goroutine's own cache lines.
//
// Limits (the detector may miss a cycle, never invent one in correct programs):
//  - Up to g::kReadLocks read locks per goroutine are recorded; more at once are not.
//  - A read lock released by another goroutine than the one that took it (Go allows it)
//    stays in the taker's list until it takes and releases that lock again or exits; a
//    goroutine blocked meanwhile may then be named as a reader it no longer is.

#include "runtime/g.h"
#include "runtime/park.h"

namespace goro::detail {

// Goroutine gp (the caller; null on a plain thread, where try_lock_shared() works too, and
// nothing is recorded) now holds rw for reading; pc is the lock call's return address.
inline void rw_read_acquired(g* gp, const void* rw, const void* pc) noexcept {
  if (gp == nullptr) return;
  if (std::uint64_t id = gp->id.get(); gp->read_locks_of.get() != id) [[unlikely]] {
    // The first read lock of this goroutine: what an earlier one on this g left is stale.
    for (auto& rl : gp->read_locks) rl.rw.set(nullptr);
    gp->read_locks_of.set(id);
  }
  for (auto& rl : gp->read_locks) {
    if (rl.rw.get() == nullptr) {
      rl.pc.set(pc);
      rl.rw.set(rw);
      return;
    }
  }
}

// The calling goroutine gives up a read lock of rw (its latest, if it holds several).
inline void rw_read_released(const void* rw) noexcept {
  g* gp = current_g();
  if (gp == nullptr) return;
  for (int i = g::kReadLocks - 1; i >= 0; i--) {
    if (gp->read_locks[i].rw.get() == rw) {
      gp->read_locks[i].rw.set(nullptr);
      return;
    }
  }
}

}  // namespace goro::detail
