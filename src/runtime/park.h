#pragma once
// The one park/ready primitive every blocking operation in goro is built on (Go's gopark /
// goready). Internal API for src/ modules (chan, sync, time, netpoll).
//
// Protocol (the same as Go's, and the reason wake-ups are never lost):
//  1. The goroutine takes the lock of the object it waits on, queues itself as a waiter,
//     and calls park(unlock, arg, reason, obj) with the lock still held.
//  2. park() switches to the scheduler context of its thread, marks the g waiting, and only
//     then calls unlock(gp, arg) there. A waker needs that lock to find the waiter, so it
//     cannot call ready() before the g is fully switched out.
//  3. If unlock returns false the park is cancelled and the goroutine resumes at once.
//  4. A waker dequeues the waiter under the lock and calls ready(g) (it may do so after
//     releasing the lock). ready() is a happens-before edge from the waker to the woken g.

#include <cstdint>

#include "runtime/g.h"
#include "runtime/wait_reason.h"

namespace goro::detail {

// The running goroutine, or null on a thread that is not running one. Out of line, like
// current_m() (sched.cc), so that no thread-local address is cached across a switch.
g* current_g();

[[noreturn, gnu::cold]] void not_on_a_goroutine(const char* what);

// Throws std::logic_error naming `what` if not called on a goroutine. Inline: one call on
// the hot paths (channel operations, mutex, park) instead of three.
inline g* require_g(const char* what) {
  g* gp = current_g();
  if (gp == nullptr) [[unlikely]] not_on_a_goroutine(what);
  return gp;
}

using unlock_fn = bool (*)(g* gp, void* arg);

// Parks the running goroutine. `unlock` (may be null) runs on the scheduler stack after
// the switch. Returns when someone calls ready(gp) (or at once if unlock returned false).
void park(unlock_fn unlock, void* arg, wait_reason reason, const void* obj);

// For TSan, called by a goroutine first thing whenever it starts or resumes on an M: what
// the M's thread did before it began scheduling (its creation, the initialisation of its
// thread-locals) happens before the goroutine's code there. Pairs with the release of `mp`
// at the top of mstart(). Only that early history is passed on, not that of goroutines
// that ran on the thread since (see post_switch() for why switches are not edges).
inline void resumed_on_m(g* gp) { arch::hb_acquire(gp->cur_m.get()); }

// Makes a parked goroutine runnable. Callable from any goroutine, scheduler context or
// plain thread. The g must be waiting, and exactly one ready() follows each park().
void ready(g* gp);

}  // namespace goro::detail
