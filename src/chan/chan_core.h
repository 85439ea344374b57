#pragma once
// The type-erased channel (Go's hchan) and its wait queues (Go's sudog lists). Templates in
// include/goro/chan.h only move elements in and out; all channel logic lives here and in
// chan.cc / select.cc.
//
// Invariants (all under `lock`):
//  - count elements are constructed in buf at [recvx, recvx+count) modulo cap.
//  - If recvq is non-empty then count == 0 (receivers wait only on an empty channel), and if
//    sendq is non-empty then count == cap (senders wait only on a full one); for an
//    unbuffered channel cap == 0, so at most one of the queues is non-empty... except for
//    select waiters, which may sit in both queues of one channel at once (a select with a
//    send and a receive case on the same channel); they are never paired with each other.
//    Either queue may also hold stale select waiters (their select already fired elsewhere)
//    until that select relocks and unlinks them.
//  - closed never goes back to false; once closed, sendq is empty and stays empty.
//  - A waiter is linked into a queue iff in_queue; a select's waiters share `select_done`,
//    and exactly one waker wins the CAS 0 -> 1 on it.
// Debug builds check the first three after every operation (check_invariants()).
// The operations themselves are in chan_locked.h.
//
// Lock-free reads: `count`, `closed` and each queue's head are also read without the lock,
// by len() and by the failed-non-blocking-operation fast paths (quick_recv_check() and
// quick_send_check() below). They are written only under the lock, with release stores;
// the lock-free readers use acquire loads. Each comment there says why a stale value is
// harmless. On x86-64 all of these are plain moves.
//
// Memory model: every operation takes `lock`, which ThreadSanitizer sees; together with
// ready()'s edge (and park()'s switch-out edge, which carries a parking goroutine's writes
// to the scheduler context that releases the lock) this gives Go's guarantees: a send
// happens before the receive completes; for unbuffered channels the receive happens before
// the send completes; close happens before a receive that observes it; the k-th receive
// happens before the (k+C)-th send completes. The lock-free fast path that reports
// "closed" acquires `closed`, which the close released.

#include <atomic>
#include <cassert>
#include <cstddef>
#include <cstdint>

#include "goro/chan.h"
#include "runtime/g.h"
#include "runtime/spinlock.h"

namespace goro::detail {

struct waiter {
  g* gp = nullptr;
  void* elem = nullptr;  // send: the value to move from; receive: raw storage to move into
  waiter* next = nullptr;
  waiter* prev = nullptr;
  std::atomic<std::uint32_t>* select_done = nullptr;  // non-null for select waiters
  int case_index = 0;
  bool in_queue = false;
  bool success = false;  // set by the waker: true = value transferred, false = closed
};

// A FIFO of parked waiters (Go's waitq). All members run under the channel's lock, except
// looks_empty().
class wait_queue {
 public:
  bool empty() const { return first_.load(std::memory_order_relaxed) == nullptr; }
  // The lock-free reading of empty(), for the fast paths: acquire pairs with the release
  // stores of first_ in push() and remove().
  bool looks_empty() const { return first_.load(std::memory_order_acquire) == nullptr; }
  // The head, for walking the queue under the channel lock (leak reports).
  const waiter* first() const { return first_.load(std::memory_order_relaxed); }

  void push(waiter* w) {
    w->next = nullptr;
    w->prev = last_;
    if (last_ != nullptr) {
      last_->next = w;
    } else {
      first_.store(w, std::memory_order_release);
    }
    last_ = w;
    w->in_queue = true;
  }

  // Unlinks w if it is still linked (a select unlinks its waiters without knowing which
  // ones a waker already took).
  void remove(waiter* w) {
    if (!w->in_queue) return;
    if (w->prev != nullptr) {
      w->prev->next = w->next;
    } else {
      first_.store(w->next, std::memory_order_release);
    }
    if (w->next != nullptr) {
      w->next->prev = w->prev;
    } else {
      last_ = w->prev;
    }
    w->next = w->prev = nullptr;
    w->in_queue = false;
  }

  // The first waiter that can still be woken, unlinked; null if none. A select waiter whose
  // select already fired elsewhere (it lost the CAS on select_done) is stale: it is dropped
  // on the way, and its select unlinks the rest of its waiters itself.
  waiter* pop() {
    while (waiter* w = first_.load(std::memory_order_relaxed)) {
      remove(w);
      if (w->select_done != nullptr) {
        std::uint32_t expect = 0;
        if (!w->select_done->compare_exchange_strong(expect, 1, std::memory_order_acq_rel)) continue;
      }
      return w;
    }
    return nullptr;
  }

 private:
  std::atomic<waiter*> first_{nullptr};  // written under the lock; see looks_empty()
  waiter* last_ = nullptr;
};

struct chan_core {
  const elem_ops* ops;  // immutable after construction
  std::size_t cap;      // immutable after construction
  unsigned char* buf;   // cap slots of ops->size bytes (null when cap == 0 or size == 0)
  std::size_t sendx = 0;             // (lock)
  std::size_t recvx = 0;             // (lock)
  std::atomic<std::size_t> count{0};  // (lock) for writes; read lock-free by len() and fast paths
  std::atomic<bool> closed{false};    // (lock) for writes; read lock-free by the fast paths
  wait_queue recvq;                   // (lock)
  wait_queue sendq;                   // (lock)
  // Handle counts, packed: low 32 bits send-capable handles, high 32 bits receive-capable
  // ones (chan<T> counts in both). The channel is freed when both reach zero.
  std::atomic<std::uint64_t> refs{0};
  // Where the last send-capable ([0]) and receive-capable ([1]) handle was destroyed (a code
  // address, or null if unknown or still alive): the "destroyed in" site of leak reports.
  std::atomic<const void*> dropped_at[2] = {};
  // On a cache line of its own, after the rest (Go's hchan.lock is its last field): a
  // sender and a receiver on two processors, one spinning for the lock while the other holds
  // it, then trade only this line, not also the one with the indices and the count that the
  // holder updates.
  alignas(64) spinlock lock;

  // True once no handle can ever send (close) on the channel again (kSendMask) or receive
  // from it (kRecvMask): a half of refs that reached zero stays zero.
  bool orphaned(std::uint64_t half) const { return (refs.load(std::memory_order_acquire) & half) == 0; }

  void* slot(std::size_t i) const { return buf + i * ops->size; }
  bool is_closed() const { return closed.load(std::memory_order_relaxed); }  // (lock)
  std::size_t len() const { return count.load(std::memory_order_relaxed); }  // (lock)
  void set_count(std::size_t n) { count.store(n, std::memory_order_release); }  // (lock)
};

// Debug builds (no NDEBUG): asserts the invariants above. Lock held.
// A parked operation takes no reference of its own: it runs as a member call on a handle,
// which C++ keeps alive for the duration of the call (select: the cases' handles live until
// the end of the full expression that contains the select call).
inline constexpr std::uint64_t kSendMask = 0xffffffffull;
inline constexpr std::uint64_t kRecvMask = 0xffffffffull << 32;

inline void check_invariants([[maybe_unused]] const chan_core* c) {
#ifndef NDEBUG
  [[maybe_unused]] std::size_t n = c->len();
  assert(n <= c->cap && "chan: count exceeds capacity");
  assert((c->recvq.empty() || n == 0) && "chan: receivers wait on a non-empty channel");
  assert((c->sendq.empty() || n == c->cap) && "chan: senders wait on a non-full channel");
  assert((!c->is_closed() || c->sendq.empty()) && "chan: senders wait on a closed channel");
#endif
}

// ---- lock-free fast paths for non-blocking operations (Go's chanrecv/chansend, !block) ---

enum class quick_result : std::uint8_t {
  unknown,      // take the lock and try for real
  would_block,  // the operation cannot complete now: report that without locking
  closed,       // (receive only) the channel is closed and drained: report that
};

// A receive cannot proceed iff no sender is parked (unbuffered) or the buffer is empty.
inline bool recv_not_ready(const chan_core* c) {
  return c->cap == 0 ? c->sendq.looks_empty() : c->count.load(std::memory_order_acquire) == 0;
}

// Go's argument, with acquire loads standing in for Go's atomics: we saw "not ready", then
// "not closed". A channel never reopens, so it was open when we saw it not ready: that
// moment is a valid linearization point for "would block". If it was closed, we re-check
// readiness: closing and the last receive happen in separate critical sections, and
// acquiring `closed` (released by the close) orders everything before the close, so a
// "not ready" seen now is final: the channel is closed and drained, forever.
inline quick_result quick_recv_check(const chan_core* c) {
  if (!recv_not_ready(c)) return quick_result::unknown;
  if (!c->closed.load(std::memory_order_acquire)) return quick_result::would_block;
  return recv_not_ready(c) ? quick_result::closed : quick_result::unknown;
}

// A send cannot proceed iff no receiver is parked (unbuffered) or the buffer is full. The
// order is "not ready", then "not closed" (Go reads closed first): "not ready" read from a
// critical section after a close would show us `closed` too (acquire), so seeing "not
// closed" afterwards proves the not-ready state was an open one. Reading closed first
// would let a close that emptied recvq in between pass for "open and not ready".
inline quick_result quick_send_check(const chan_core* c) {
  bool not_ready = c->cap == 0 ? c->recvq.looks_empty() : c->count.load(std::memory_order_acquire) == c->cap;
  if (not_ready && !c->closed.load(std::memory_order_acquire)) return quick_result::would_block;
  return quick_result::unknown;
}

}  // namespace goro::detail
