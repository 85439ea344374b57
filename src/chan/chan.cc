// Channel operations (Go's chan.go): send, receive, close, with the parking protocol of
// runtime/park.h. Invariants are in chan_core.h.

#include <cstdlib>
#include <mutex>
#include <new>

#include "chan/chan_core.h"
#include "goro/panic.h"
#include "runtime/park.h"

namespace goro::detail {

// ---- wait queues -------------------------------------------------------------------------

void wait_queue::push(waiter* w) {
  w->next = nullptr;
  w->prev = last_;
  if (last_ != nullptr) {
    last_->next = w;
  } else {
    first_ = w;
  }
  last_ = w;
  w->in_queue = true;
}

void wait_queue::remove(waiter* w) {
  if (!w->in_queue) return;
  if (w->prev != nullptr) {
    w->prev->next = w->next;
  } else {
    first_ = w->next;
  }
  if (w->next != nullptr) {
    w->next->prev = w->prev;
  } else {
    last_ = w->prev;
  }
  w->next = w->prev = nullptr;
  w->in_queue = false;
}

waiter* wait_queue::pop() {
  while (waiter* w = first_) {
    remove(w);
    if (w->select_done != nullptr) {
      // The select this waiter belongs to may already have fired on another channel; then
      // it is stale here, and the select removes its remaining waiters itself.
      std::uint32_t expect = 0;
      if (!w->select_done->compare_exchange_strong(expect, 1, std::memory_order_acq_rel)) continue;
    }
    return w;
  }
  return nullptr;
}

void wake_waiter(waiter* w) {
  g* gp = w->gp;
  gp->param.set(reinterpret_cast<std::uintptr_t>(w));
  ready(gp);
}

namespace {

bool unlock_chan(g*, void* arg) {
  static_cast<chan_core*>(arg)->lock.unlock();
  return true;
}

[[noreturn]] void park_forever(wait_reason reason) {
  require_g("goro: channel operation");
  for (;;) park(nullptr, nullptr, reason, nullptr);
}

// Moves the value of a parked sender w into dst (or through the buffer). lock held.
void recv_from_sender(chan_core* c, waiter* w, void* dst) {
  if (c->cap == 0) {
    if (dst != nullptr) c->ops->move_construct(dst, w->elem);
  } else {
    // The buffer is full: take its head, and put the sender's value at the tail (which is
    // the same slot, since the buffer is full).
    void* head = c->slot(c->recvx);
    if (c->ops->size != 0) {
      if (dst != nullptr) c->ops->move_construct(dst, head);
      c->ops->destroy(head);
      c->ops->move_construct(head, w->elem);
    }
    c->recvx = (c->recvx + 1) % c->cap;
    c->sendx = c->recvx;
  }
  w->success = true;
}

void buffer_put(chan_core* c, void* src) {
  if (c->ops->size != 0) c->ops->move_construct(c->slot(c->sendx), src);
  c->sendx = (c->sendx + 1) % c->cap;
  c->count.store(c->count.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

void buffer_take(chan_core* c, void* dst) {
  void* head = c->slot(c->recvx);
  if (c->ops->size != 0) {
    if (dst != nullptr) c->ops->move_construct(dst, head);
    c->ops->destroy(head);
  }
  c->recvx = (c->recvx + 1) % c->cap;
  c->count.store(c->count.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
}

}  // namespace

// ---- lifetime ----------------------------------------------------------------------------

chan_core* chan_make(const elem_ops* ops, std::size_t cap) {
  if (ops->size != 0 && cap > (std::size_t{1} << 40) / ops->size) throw goro::panic("makechan: size out of range");
  auto* c = new chan_core{};
  c->ops = ops;
  c->cap = cap;
  c->buf = nullptr;
  if (cap > 0 && ops->size > 0) {
    c->buf = static_cast<unsigned char*>(::operator new(cap * ops->size, std::align_val_t(ops->align)));
  }
  c->refs.store(kSendRef | kRecvRef, std::memory_order_relaxed);
  return c;
}

void chan_retain(chan_core* c, std::uint64_t refs) { c->refs.fetch_add(refs, std::memory_order_relaxed); }

void chan_release(chan_core* c, std::uint64_t refs) {
  // acq_rel: the last release must see every other handle's operations before freeing.
  if (c->refs.fetch_sub(refs, std::memory_order_acq_rel) != refs) return;
  std::size_t n = c->count.load(std::memory_order_relaxed);
  for (std::size_t i = 0; i < n && c->ops->size != 0; i++) c->ops->destroy(c->slot((c->recvx + i) % c->cap));
  if (c->buf != nullptr) ::operator delete(c->buf, std::align_val_t(c->ops->align));
  delete c;
}

std::size_t chan_len(const chan_core* c) { return c == nullptr ? 0 : c->count.load(std::memory_order_relaxed); }
std::size_t chan_cap(const chan_core* c) { return c == nullptr ? 0 : c->cap; }

// ---- send --------------------------------------------------------------------------------

void chan_send(chan_core* c, void* src) {
  if (c == nullptr) park_forever(wait_reason::chan_send_nil);
  g* gp = require_g("goro::chan::send");
  c->lock.lock();
  if (c->closed) {
    c->lock.unlock();
    throw goro::panic("send on closed channel");
  }
  if (waiter* w = c->recvq.pop()) {
    // A receiver is parked: hand the value over directly.
    if (w->elem != nullptr) c->ops->move_construct(w->elem, src);
    w->success = true;
    c->lock.unlock();
    wake_waiter(w);
    return;
  }
  if (c->count.load(std::memory_order_relaxed) < c->cap) {
    buffer_put(c, src);
    c->lock.unlock();
    return;
  }
  waiter w;
  w.gp = gp;
  w.elem = src;
  c->sendq.push(&w);
  park(&unlock_chan, c, wait_reason::chan_send, c);
  if (!w.success) throw goro::panic("send on closed channel");
}

chan_status chan_try_send(chan_core* c, void* src) {
  if (c == nullptr) return chan_status::would_block;
  c->lock.lock();
  if (c->closed) {
    c->lock.unlock();
    return chan_status::closed;
  }
  if (waiter* w = c->recvq.pop()) {
    if (w->elem != nullptr) c->ops->move_construct(w->elem, src);
    w->success = true;
    c->lock.unlock();
    wake_waiter(w);
    return chan_status::ok;
  }
  if (c->count.load(std::memory_order_relaxed) < c->cap) {
    buffer_put(c, src);
    c->lock.unlock();
    return chan_status::ok;
  }
  c->lock.unlock();
  return chan_status::would_block;
}

// ---- receive -----------------------------------------------------------------------------

bool chan_recv(chan_core* c, void* dst) {
  if (c == nullptr) park_forever(wait_reason::chan_receive_nil);
  g* gp = require_g("goro::chan::recv");
  c->lock.lock();
  if (waiter* w = c->sendq.pop()) {
    recv_from_sender(c, w, dst);
    c->lock.unlock();
    wake_waiter(w);
    return true;
  }
  if (c->count.load(std::memory_order_relaxed) > 0) {
    buffer_take(c, dst);
    c->lock.unlock();
    return true;
  }
  if (c->closed) {
    c->lock.unlock();
    return false;
  }
  waiter w;
  w.gp = gp;
  w.elem = dst;
  c->recvq.push(&w);
  park(&unlock_chan, c, wait_reason::chan_receive, c);
  return w.success;
}

chan_status chan_try_recv(chan_core* c, void* dst) {
  if (c == nullptr) return chan_status::would_block;
  c->lock.lock();
  if (waiter* w = c->sendq.pop()) {
    recv_from_sender(c, w, dst);
    c->lock.unlock();
    wake_waiter(w);
    return chan_status::ok;
  }
  if (c->count.load(std::memory_order_relaxed) > 0) {
    buffer_take(c, dst);
    c->lock.unlock();
    return chan_status::ok;
  }
  bool closed = c->closed;
  c->lock.unlock();
  return closed ? chan_status::closed : chan_status::would_block;
}

// ---- close -------------------------------------------------------------------------------

void chan_close(chan_core* c) {
  if (c == nullptr) throw goro::panic("close of nil channel");
  c->lock.lock();
  if (c->closed) {
    c->lock.unlock();
    throw goro::panic("close of closed channel");
  }
  c->closed = true;
  // Collect every waiter under the lock, wake them after releasing it.
  waiter* woken = nullptr;
  while (waiter* w = c->recvq.pop()) {
    w->success = false;
    w->next = woken;
    woken = w;
  }
  while (waiter* w = c->sendq.pop()) {
    w->success = false;
    w->next = woken;
    woken = w;
  }
  c->lock.unlock();
  while (woken != nullptr) {
    waiter* next = woken->next;
    wake_waiter(woken);
    woken = next;
  }
}

}  // namespace goro::detail
