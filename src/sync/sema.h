#pragma once
// The runtime semaphore that goro's sync primitives sleep on (Go's runtime/sema.go). The
// counter word lives in the object that uses it (mutex::sema_, wait_group::sema_, ...); the
// goroutines waiting on it are kept in a hashed table keyed by the word's address, so an
// object pays four bytes for its ability to block.
//
// Contract:
//  - semacquire(addr) waits until *addr > 0 and then decrements it. It parks the goroutine,
//    never the thread, with the given wait reason and wait object. Goroutine only when it
//    has to wait (std::logic_error otherwise; nothing has been changed then).
//  - semrelease(addr) increments *addr and wakes the goroutine that has waited longest on
//    addr, if any. The woken goroutine competes for the count with any goroutine that calls
//    semacquire meanwhile, and waits again if it loses.
//  - semrelease(addr, handoff=true) gives the count straight to the woken goroutine (it
//    returns without competing) and, on a goroutine, yields the processor to it: the woken
//    goroutine runs next and inherits the rest of the releaser's turn (Go's starvation-mode
//    handoff). Callable from any thread; it yields only on a goroutine.
//  - Waiters on one address are served FIFO; semacquire(lifo=true) queues at the front
//    instead (a woken mutex waiter that lost the race keeps its place in line).
//  - A semrelease happens before the return of the semacquire that consumes its count.
//
// Locking: each table root has a spinlock that is a leaf: nothing else is locked while it
// is held, and ready() is only called after it is released. See docs/design.md.

#include <atomic>
#include <cstdint>

#include "runtime/wait_reason.h"

namespace goro::detail {

// Blocks until *addr > 0, then decrements it (see the file comment).
void semacquire(std::atomic<std::uint32_t>* addr, bool lifo, wait_reason reason, const void* wait_obj);

// Increments *addr and wakes one waiter, handing it the count if `handoff`.
void semrelease(std::atomic<std::uint32_t>* addr, bool handoff);

// Decrements *addr if it is positive, without waiting. True if it did.
bool semtryacquire(std::atomic<std::uint32_t>* addr);

// Not API (tests): number of goroutines queued on addr right now.
int semwaiters(const std::atomic<std::uint32_t>* addr);

// Drops every queued waiter (run() calls it once no M runs: the waiters are abandoned
// goroutines, whose records lived on stacks about to be freed). Without it a later run() in
// the same process would walk those records.
void sema_reset();

}  // namespace goro::detail
