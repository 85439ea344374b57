// The runtime semaphore (see sema.h), after Go's runtime/sema.go.
//
// Waiters are sema_waiter nodes on the parked goroutines' own stacks (Go's sudog): a node
// exists exactly while its goroutine is inside semacquire, and it is only touched by others
// under its root's lock, or by the one releaser that dequeued it, before that releaser's
// ready() (after ready() the node may be gone).
//
// Why no wake-up is lost (Go's argument): a waiter increments its root's nwait and then
// re-checks the count, both under the root lock; a releaser increments the count and then
// reads nwait. All four are seq_cst, so in their single total order either the waiter's
// re-check sees the new count or the releaser sees nwait > 0 and takes the lock, which it
// can only get after the waiter is queued and parked (park() releases it after the switch).

#include "sync/sema.h"

#include <cassert>
#include <cstddef>
#include <mutex>

#include "goro/runtime.h"
#include "runtime/park.h"
#include "runtime/sched.h"
#include "runtime/spinlock.h"

namespace goro::detail {

namespace {

struct sema_waiter {
  g* gp = nullptr;
  const std::atomic<std::uint32_t>* addr = nullptr;
  sema_waiter* next = nullptr;       // the next waiter on the same address
  sema_waiter* tail = nullptr;       // in a head only: the last waiter on the address
  sema_waiter* next_head = nullptr;  // in a head only: the head of another address
  // Set by the releaser that dequeued this node when it handed its count over (Go's
  // ticket). Written before ready(), read by the waiter after park() returns: ready() is
  // the happens-before edge, so a plain field is enough.
  bool handed_off = false;
};

// One bucket of the table (Go's semaRoot, with a list of addresses instead of a treap:
// with 251 buckets an address rarely shares one).
//
// Invariants (lock held):
//  - `heads` links one head node per address that has waiters in this root; a head and
//    its `next` chain are exactly that address's waiters, in wake-up order, and the head's
//    `tail` is the last of them. Non-head nodes have tail == next_head == null.
//  - nwait is the number of queued nodes in the root. It is changed only under the lock
//    but read without it by semrelease's fast path.
struct alignas(64) sema_root {
  spinlock lock;
  std::atomic<std::uint32_t> nwait{0};
  sema_waiter* heads = nullptr;
};

constexpr std::size_t kSemTabSize = 251;  // prime, as in Go
sema_root g_semtable[kSemTabSize];

sema_root& root_for(const void* addr) {
  return g_semtable[(reinterpret_cast<std::uintptr_t>(addr) >> 3) % kSemTabSize];
}

bool can_acquire(std::atomic<std::uint32_t>* addr) {
  // seq_cst: the load after a waiter's nwait increment is half of the lost-wake-up argument
  // in the file comment; the CAS pairs with semrelease's fetch_add.
  std::uint32_t v = addr->load();
  while (v != 0) {
    if (addr->compare_exchange_weak(v, v - 1)) return true;
  }
  return false;
}

// Queues s on its address: at the back, or at the front if lifo. Root lock held.
void enqueue(sema_root& root, sema_waiter* s, bool lifo) {
  for (sema_waiter** link = &root.heads; *link != nullptr; link = &(*link)->next_head) {
    sema_waiter* h = *link;
    if (h->addr != s->addr) continue;
    if (lifo) {
      // s becomes the head and takes over h's place in the list of addresses.
      s->next = h;
      s->tail = h->tail;
      s->next_head = h->next_head;
      h->tail = nullptr;
      h->next_head = nullptr;
      *link = s;
    } else {
      h->tail->next = s;
      h->tail = s;
    }
    return;
  }
  s->tail = s;
  s->next_head = root.heads;
  root.heads = s;
}

// Unlinks and returns the first waiter on addr, or null. Root lock held.
sema_waiter* dequeue(sema_root& root, const std::atomic<std::uint32_t>* addr) {
  for (sema_waiter** link = &root.heads; *link != nullptr; link = &(*link)->next_head) {
    sema_waiter* h = *link;
    if (h->addr != addr) continue;
    assert(h->tail != nullptr && "sema: a head without a tail");
    sema_waiter* n = h->next;
    if (n != nullptr) {
      n->tail = h->tail;
      n->next_head = h->next_head;
      *link = n;
    } else {
      *link = h->next_head;
    }
    h->next = h->tail = h->next_head = nullptr;
    return h;
  }
  return nullptr;
}

// park()'s unlock function: runs on the scheduler stack once the waiter is switched out.
bool unlock_root(g*, void* arg) {
  static_cast<sema_root*>(arg)->lock.unlock();
  return true;
}

}  // namespace

bool semtryacquire(std::atomic<std::uint32_t>* addr) { return can_acquire(addr); }

void semacquire(std::atomic<std::uint32_t>* addr, bool lifo, wait_reason reason, const void* wait_obj) {
  if (can_acquire(addr)) return;
  sema_waiter s;
  s.gp = require_g("goro: a sync primitive that has to wait");
  s.addr = addr;
  sema_root& root = root_for(addr);
  for (;;) {
    root.lock.lock();
    root.nwait.fetch_add(1);  // seq_cst: see the file comment; disables semrelease's fast path
    if (can_acquire(addr)) {
      root.nwait.fetch_sub(1);
      root.lock.unlock();
      return;
    }
    enqueue(root, &s, lifo);
    park(&unlock_root, &root, reason, wait_obj);
    // semrelease dequeued us (and decremented nwait) before ready().
    if (s.handed_off || can_acquire(addr)) return;
  }
}

void semrelease(std::atomic<std::uint32_t>* addr, bool handoff) {
  sema_root& root = root_for(addr);
  addr->fetch_add(1);               // seq_cst: see the file comment
  if (root.nwait.load() == 0) return;  // seq_cst: no waiter can miss the count above
  root.lock.lock();
  if (root.nwait.load(std::memory_order_relaxed) == 0) {
    // Someone else's count has already been consumed by the goroutine we would wake.
    root.lock.unlock();
    return;
  }
  sema_waiter* s = dequeue(root, addr);
  if (s != nullptr) root.nwait.fetch_sub(1);
  root.lock.unlock();
  if (s == nullptr) return;
  // Take the count back for the waiter: it returns without competing for it.
  if (handoff && can_acquire(addr)) s->handed_off = true;
  bool direct = s->handed_off;
  g* gp = s->gp;
  ready(gp);  // from here on *s may be gone: the waiter can return on another thread
  if (direct) {
    // ready() put the waiter in this processor's runnext slot; yielding runs it at once
    // (Go's goyield). Only a goroutine that holds a processor can yield.
    m* mp = current_m();
    if (mp != nullptr && mp->curg.get() != nullptr && mp->pp.get() != nullptr) goro::yield();
  }
}

int semwaiters(const std::atomic<std::uint32_t>* addr) {
  sema_root& root = root_for(addr);
  std::lock_guard<spinlock> lk(root.lock);
  for (sema_waiter* h = root.heads; h != nullptr; h = h->next_head) {
    if (h->addr != addr) continue;
    int n = 0;
    for (sema_waiter* s = h; s != nullptr; s = s->next) n++;
    return n;
  }
  return 0;
}

void sema_reset() {
  for (sema_root& root : g_semtable) {
    std::lock_guard<spinlock> lk(root.lock);
    root.heads = nullptr;
    root.nwait.store(0, std::memory_order_relaxed);
  }
}

}  // namespace goro::detail
