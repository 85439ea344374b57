// Channel operations (Go's chan.go): send, receive, close, with the parking protocol of
// runtime/park.h. Invariants and the lock-free fast paths are described in chan_core.h.
//
// Each blocking operation has the same shape as Go's: lock; complete at once if possible
// (send_locked / recv_locked in chan_locked.h, shared with select); otherwise queue a
// waiter on this stack and park with the lock held, which park() releases after the
// switch. The waker completes the transfer under the lock, so a woken goroutine only reads
// `success`. Non-blocking operations first try the lock-free check of chan_core.h.

#include <cstdlib>
#include <new>
#include <vector>

#include "chan/chan_core.h"
#include "diag/chan_leak.h"
#include "runtime/sched.h"
#include "chan/chan_locked.h"
#include "goro/panic.h"
#include "runtime/park.h"

namespace goro::detail {

namespace {

bool unlock_chan(g*, void* arg) {
  static_cast<chan_core*>(arg)->lock.unlock();
  return true;
}

[[noreturn]] void park_forever(wait_reason reason) {
  require_g("goro: channel operation");
  for (;;) park(nullptr, nullptr, reason, nullptr);
}

// Unlocks c, then wakes w (if any).
void unlock_and_wake(chan_core* c, waiter* w) {
  c->lock.unlock();
  if (w != nullptr) wake_waiter(w);
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

namespace {

// A half of the handle count just reached zero: nobody can ever send on (or close) the
// channel again, or nobody can ever receive from it. Goroutines parked on the other side
// (outside a select, whose other cases may still fire) are leaked for certain: report them.
void report_orphans(chan_core* c, bool no_senders, bool no_receivers, const void* pc) {
  if (g_sched == nullptr || g_sched->shutdown.load(std::memory_order_relaxed)) return;
  std::vector<std::uint64_t> ids;
  c->lock.lock();
  if (!c->is_closed()) {
    const wait_queue* qs[2] = {no_senders ? &c->recvq : nullptr, no_receivers ? &c->sendq : nullptr};
    for (const wait_queue* q : qs) {
      if (q == nullptr) continue;
      for (const waiter* w = q->first(); w != nullptr; w = w->next) {
        if (w->select_done == nullptr) ids.push_back(w->gp->id.get());
      }
    }
  }
  c->lock.unlock();
  if (!ids.empty()) report_chan_leak(ids, no_senders, c, pc);
}

// A goroutine is about to park on a channel whose other side is gone for good (see
// orphaned()): it is leaked at this moment, as if it had been parked when the last handle died.
[[gnu::noinline, gnu::cold]] void report_parked_on_orphan(chan_core* c, g* gp, bool receiving) {
  if (g_sched == nullptr || g_sched->shutdown.load(std::memory_order_relaxed)) return;
  report_chan_leak({gp->id.get()}, receiving, c, c->dropped_at[receiving ? 0 : 1].load(std::memory_order_relaxed));
}

void release_refs(chan_core* c, std::uint64_t refs, const void* pc) {
  // acq_rel: the last release must see every other handle's operations before freeing.
  std::uint64_t old = c->refs.load(std::memory_order_relaxed);
  for (;;) {
    std::uint64_t now = old - refs;
    if (now == 0) {
      if (c->refs.compare_exchange_weak(old, 0, std::memory_order_acq_rel)) break;  // the last one: free
      continue;
    }
    bool no_senders = (refs & kSendMask) != 0 && (now & kSendMask) == 0;
    bool no_receivers = (refs & kRecvMask) != 0 && (now & kRecvMask) == 0;
    if (!no_senders && !no_receivers) {
      if (c->refs.compare_exchange_weak(old, now, std::memory_order_acq_rel)) return;
      continue;
    }
    // One half reached zero (the other cannot have: now != 0). Pin the channel with one
    // more reference of the surviving half while reporting, so that a concurrent release of
    // the last handle cannot free it under us; the zero half stays zero.
    std::uint64_t pin = no_senders ? kRecvRef : kSendRef;
    if (c->refs.compare_exchange_weak(old, now + pin, std::memory_order_acq_rel)) {
      if (no_senders) c->dropped_at[0].store(pc, std::memory_order_relaxed);
      if (no_receivers) c->dropped_at[1].store(pc, std::memory_order_relaxed);
      report_orphans(c, no_senders, no_receivers, pc);
      release_refs(c, pin, nullptr);
      return;
    }
  }
  std::size_t n = c->len();
  std::size_t i = c->recvx;
  for (std::size_t k = 0; k < n && c->ops->size != 0; k++, i = next_index(c, i)) c->ops->destroy(c->slot(i));
  if (c->buf != nullptr) ::operator delete(c->buf, std::align_val_t(c->ops->align));
  delete c;
}

}  // namespace

// The return address is in the code that destroyed the handle: the "dropped at" site of a
// leak report.
void chan_release(chan_core* c, std::uint64_t refs) { release_refs(c, refs, __builtin_return_address(0)); }


// Lock-free: a racy snapshot, like Go's len(ch).
std::size_t chan_len(const chan_core* c) { return c == nullptr ? 0 : c->count.load(std::memory_order_relaxed); }
std::size_t chan_cap(const chan_core* c) { return c == nullptr ? 0 : c->cap; }

// ---- send --------------------------------------------------------------------------------

void chan_send(chan_core* c, void* src) {
  if (c == nullptr) park_forever(wait_reason::chan_send_nil);
  g* gp = require_g("goro::chan::send");
  bool reported = false;
again:
  c->lock.lock();
  if (c->is_closed()) {
    c->lock.unlock();
    throw goro::panic("send on closed channel");
  }
  waiter* wake;
  if (send_locked(c, src, &wake)) {
    check_invariants(c);
    unlock_and_wake(c, wake);
    return;
  }
  if (!reported && c->orphaned(kRecvMask)) [[unlikely]] {
    // Nobody can ever receive: this send parks for good (unless another sender closes the
    // channel, which wakes it with the panic). Reported outside the lock, then retried.
    c->lock.unlock();
    report_parked_on_orphan(c, gp, false);
    reported = true;
    goto again;
  }
  waiter w;
  w.gp = gp;
  w.elem = src;
  c->sendq.push(&w);
  check_invariants(c);
  park(&unlock_chan, c, wait_reason::chan_send, c);
  // Woken by a receiver (success: it took the value) or by close.
  if (!w.success) throw goro::panic("send on closed channel");
}

namespace {

// The locked part of try_send, out of line so that the lock-free failure path stays a
// leaf without register saves.
[[gnu::noinline]] chan_status try_send_locked(chan_core* c, void* src) {
  c->lock.lock();
  if (c->is_closed()) {
    c->lock.unlock();
    return chan_status::closed;
  }
  waiter* wake;
  bool sent = send_locked(c, src, &wake);
  check_invariants(c);
  unlock_and_wake(c, wake);
  return sent ? chan_status::ok : chan_status::would_block;
}

}  // namespace

chan_status chan_try_send(chan_core* c, void* src) {
  if (c == nullptr) return chan_status::would_block;
  if (quick_send_check(c) == quick_result::would_block) return chan_status::would_block;
  return try_send_locked(c, src);
}

// ---- receive -----------------------------------------------------------------------------

bool chan_recv(chan_core* c, void* dst) {
  if (c == nullptr) park_forever(wait_reason::chan_receive_nil);
  g* gp = require_g("goro::chan::recv");
  bool reported = false;
again:
  c->lock.lock();
  waiter* wake;
  bool ok;
  if (recv_locked(c, dst, &ok, &wake)) {
    check_invariants(c);
    unlock_and_wake(c, wake);
    return ok;
  }
  if (!reported && c->orphaned(kSendMask)) [[unlikely]] {
    // Nobody can ever send on or close the channel: this receive parks for good.
    c->lock.unlock();
    report_parked_on_orphan(c, gp, true);
    reported = true;
    goto again;
  }
  waiter w;
  w.gp = gp;
  w.elem = dst;
  c->recvq.push(&w);
  check_invariants(c);
  park(&unlock_chan, c, wait_reason::chan_receive, c);
  // Woken by a sender (success: the value is in dst) or by close.
  return w.success;
}

namespace {

// The locked part of try_recv (see try_send_locked).
[[gnu::noinline]] chan_status try_recv_locked(chan_core* c, void* dst) {
  c->lock.lock();
  waiter* wake;
  bool ok = false;
  bool done = recv_locked(c, dst, &ok, &wake);
  check_invariants(c);
  unlock_and_wake(c, wake);
  if (!done) return chan_status::would_block;
  return ok ? chan_status::ok : chan_status::closed;
}

}  // namespace

chan_status chan_try_recv(chan_core* c, void* dst) {
  if (c == nullptr) return chan_status::would_block;
  switch (quick_recv_check(c)) {
    case quick_result::would_block: return chan_status::would_block;
    case quick_result::closed: return chan_status::closed;
    case quick_result::unknown: break;
  }
  return try_recv_locked(c, dst);
}

// ---- close -------------------------------------------------------------------------------

void chan_close(chan_core* c) {
  if (c == nullptr) throw goro::panic("close of nil channel");
  c->lock.lock();
  if (c->is_closed()) {
    c->lock.unlock();
    throw goro::panic("close of closed channel");
  }
  // Release: pairs with the fast paths' acquire of `closed` (a receive that reports
  // "closed" without the lock sees everything before the close). Stored before the queues
  // are emptied, so a fast path that sees the emptied queue also sees `closed`.
  c->closed.store(true, std::memory_order_release);
  // Collect every waiter under the lock, wake them after releasing it. Receivers first,
  // as Go does; a select waiting on both sides of this channel is woken once (the second
  // pop loses its CAS).
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
  check_invariants(c);
  c->lock.unlock();
  while (woken != nullptr) {
    waiter* next = woken->next;  // read before waking: the waiter dies with its goroutine
    wake_waiter(woken);
    woken = next;
  }
}

}  // namespace goro::detail
