#pragma once
// The channel operations that run with the channel locked, shared by the plain operations
// (chan.cc) and select (select.cc): complete a send or a receive now if possible, and wake
// a parked peer. Inline on purpose: they are the hot path of every channel operation, and
// inlined into their callers their out-parameters live in registers.
//
// A waiter found in a queue is completed here, under the lock (its value moved, `success`
// set); the caller wakes it only after releasing the lock, so the woken goroutine never
// spins on a lock its waker still holds.

#include <cstdint>

#include "chan/chan_core.h"
#include "runtime/park.h"

namespace goro::detail {

// The ring buffer. An index wraps with a compare, not `%`: a division costs more than the
// rest of a buffered operation.
inline std::size_t next_index(const chan_core* c, std::size_t i) { return i + 1 == c->cap ? 0 : i + 1; }

inline void buffer_put(chan_core* c, void* src) {
  if (c->ops->size != 0) c->ops->move_construct(c->slot(c->sendx), src);
  c->sendx = next_index(c, c->sendx);
  c->set_count(c->len() + 1);
}

inline void buffer_take(chan_core* c, void* dst) {
  void* head = c->slot(c->recvx);
  if (c->ops->size != 0) {
    if (dst != nullptr) c->ops->move_construct(dst, head);
    c->ops->destroy(head);
  }
  c->recvx = next_index(c, c->recvx);
  c->set_count(c->len() - 1);
}

// Tries to send *src on c, which is locked and not closed: to the first parked receiver
// (directly into its storage) or into the buffer. Returns false, changing nothing, if it
// would block. On true, *wake is the receiver to wake once the lock is released, or null.
inline bool send_locked(chan_core* c, void* src, waiter** wake) {
  *wake = nullptr;
  if (!c->recvq.empty()) {
    if (waiter* w = c->recvq.pop()) {
      // A receiver is parked (so the buffer is empty): hand the value over directly.
      if (w->elem != nullptr) c->ops->move_construct(w->elem, src);
      w->success = true;
      *wake = w;
      return true;
    }
  }
  if (c->len() < c->cap) {
    buffer_put(c, src);
    return true;
  }
  return false;
}

// Tries to receive from locked c into dst (null: discard): from the first parked sender,
// the buffer, or the closed state. Returns false, changing nothing, if it would block. On
// true, *ok says whether a value arrived (false: closed and drained) and *wake is the
// sender to wake once the lock is released, or null.
inline bool recv_locked(chan_core* c, void* dst, bool* ok, waiter** wake) {
  *wake = nullptr;
  if (!c->sendq.empty()) {
    if (waiter* w = c->sendq.pop()) {
      if (c->cap == 0) {
        // Unbuffered: take the parked sender's value directly.
        if (dst != nullptr) c->ops->move_construct(dst, w->elem);
      } else {
        // The buffer is full (senders park only then): take its head and put the sender's
        // value at the tail, which is the same slot since the buffer is full. FIFO holds:
        // the parked sender's value goes after every buffered one.
        void* head = c->slot(c->recvx);
        if (c->ops->size != 0) {
          if (dst != nullptr) c->ops->move_construct(dst, head);
          c->ops->destroy(head);
          c->ops->move_construct(head, w->elem);
        }
        c->recvx = next_index(c, c->recvx);
        c->sendx = c->recvx;
      }
      w->success = true;
      *wake = w;
      *ok = true;
      return true;
    }
  }
  if (c->len() > 0) {
    buffer_take(c, dst);
    *ok = true;
    return true;
  }
  if (c->is_closed()) {
    *ok = false;
    return true;
  }
  return false;
}

// Wakes w's goroutine: records which waiter fired (for select) and readies it. w lives on
// that goroutine's stack: do not touch it afterwards. Call without the channel lock.
inline void wake_waiter(waiter* w) {
  g* gp = w->gp;
  gp->param.set(reinterpret_cast<std::uintptr_t>(w));
  ready(gp);
}

}  // namespace goro::detail
