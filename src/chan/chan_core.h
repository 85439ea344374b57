#pragma once
// The type-erased channel (Go's hchan) and its wait queues (Go's sudog lists). Templates in
// include/goro/chan.h only move elements in and out; all channel logic lives here.
//
// Invariants (all under `lock`):
//  - count elements are constructed in buf at [recvx, recvx+count) modulo cap.
//  - If recvq is non-empty then count == 0 (receivers wait only on an empty channel), and if
//    sendq is non-empty then count == cap (senders wait only on a full one); for an
//    unbuffered channel cap == 0, so at most one of the queues is non-empty... except for
//    select waiters, which may sit in both queues of one channel at once (a select with a
//    send and a receive case on the same channel); they are never paired with each other.
//  - closed never goes back to false; once closed, sendq is empty.
//  - A waiter is linked into a queue iff in_queue; a select's waiters share `select_done`,
//    and exactly one waker wins the CAS 0 -> 1 on it.
//
// Memory model: every operation takes `lock`, which ThreadSanitizer sees; together with
// ready()'s edge this gives Go's guarantees (send happens before the receive completes;
// for unbuffered channels the receive happens before the send completes; close happens
// before a receive that observes it; the k-th receive happens before the (k+C)-th send
// completes).

#include <atomic>
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

class wait_queue {
 public:
  bool empty() const { return first_ == nullptr; }
  void push(waiter* w);
  void remove(waiter* w);
  // The first waiter that can still be woken (a select waiter whose select already fired
  // elsewhere is dropped on the way), unlinked; null if none.
  waiter* pop();
  const waiter* first() const { return first_; }

 private:
  waiter* first_ = nullptr;
  waiter* last_ = nullptr;
};

struct chan_core {
  spinlock lock;
  const elem_ops* ops;
  std::size_t cap;
  unsigned char* buf;  // cap slots of ops->size bytes (null when cap == 0 or size == 0)
  std::size_t sendx = 0;
  std::size_t recvx = 0;
  std::atomic<std::size_t> count{0};  // written under lock; read without it by len()
  bool closed = false;
  wait_queue recvq;
  wait_queue sendq;
  // Handle counts, packed: low 32 bits send-capable handles, high 32 bits receive-capable
  // ones (chan<T> counts in both). The channel is freed when both reach zero.
  std::atomic<std::uint64_t> refs{0};

  void* slot(std::size_t i) const { return buf + i * ops->size; }
};

// Wakes w's goroutine: records which waiter fired (for select) and readies it. w lives on
// that goroutine's stack: do not touch it afterwards.
void wake_waiter(waiter* w);

}  // namespace goro::detail
