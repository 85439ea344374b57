// select (Go's selectgo). Three passes, all with every involved channel locked in address
// order (so two selects over the same channels cannot deadlock on their locks):
//  1. In a random order, look for a case that can proceed now; run the first one found.
//  2. Otherwise (and without a default) queue one waiter per case, all sharing one
//     select_done flag, and park; the park's unlock function releases the channel locks.
//  3. When woken, the waker has won select_done and filled in the winning waiter; relock
//     and unlink the waiters of every other case.

#include <algorithm>
#include <cstdint>
#include <vector>

#include "chan/chan_core.h"
#include "goro/panic.h"
#include "goro/select.h"
#include "runtime/park.h"

namespace goro::detail {

namespace {

// A per-thread xorshift generator. Not inlined, so a caller never keeps the thread-local's
// address across a goroutine switch.
[[gnu::noinline]] std::uint32_t select_rand() {
  thread_local std::uint64_t state = 0;
  std::uint64_t x = state;
  if (x == 0) x = reinterpret_cast<std::uintptr_t>(&state) | 1;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  state = x;
  return static_cast<std::uint32_t>(x >> 32);
}

// Scratch space sized for the common case without allocating.
template <class T, int N>
class small_buf {
 public:
  explicit small_buf(int n) : p_(n <= N ? inline_ : (heap_.resize(static_cast<std::size_t>(n)), heap_.data())) {}
  T& operator[](int i) { return p_[i]; }
  T* data() { return p_; }

 private:
  T inline_[N];
  std::vector<T> heap_;
  T* p_;
};

struct locks {
  chan_core** order;  // distinct channels, ascending address
  int n;
  void lock() const {
    for (int i = 0; i < n; i++) order[i]->lock.lock();
  }
  void unlock() const {
    for (int i = n; i-- > 0;) order[i]->lock.unlock();
  }
};

bool unlock_all(g*, void* arg) {
  static_cast<const locks*>(arg)->unlock();
  return true;
}

// Tries case i with its channel locked. True if it completed (recv_ok set for receives).
// Throws goro::panic for a send on a closed channel (after unlocking everything).
bool try_case(const select_case& sc, const locks& held, bool* recv_ok) {
  chan_core* c = sc.c;
  if (sc.is_send) {
    if (c->closed) {
      held.unlock();
      throw goro::panic("send on closed channel");
    }
    if (waiter* w = c->recvq.pop()) {
      if (w->elem != nullptr) c->ops->move_construct(w->elem, sc.elem);
      w->success = true;
      held.unlock();
      wake_waiter(w);
      return true;
    }
    if (c->count.load(std::memory_order_relaxed) < c->cap) {
      if (c->ops->size != 0) c->ops->move_construct(c->slot(c->sendx), sc.elem);
      c->sendx = (c->sendx + 1) % c->cap;
      c->count.store(c->count.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
      held.unlock();
      return true;
    }
    return false;
  }
  if (waiter* w = c->sendq.pop()) {
    if (c->cap == 0) {
      if (sc.elem != nullptr) c->ops->move_construct(sc.elem, w->elem);
    } else {
      void* head = c->slot(c->recvx);
      if (c->ops->size != 0) {
        if (sc.elem != nullptr) c->ops->move_construct(sc.elem, head);
        c->ops->destroy(head);
        c->ops->move_construct(head, w->elem);
      }
      c->recvx = (c->recvx + 1) % c->cap;
      c->sendx = c->recvx;
    }
    w->success = true;
    *recv_ok = true;
    held.unlock();
    wake_waiter(w);
    return true;
  }
  if (c->count.load(std::memory_order_relaxed) > 0) {
    void* head = c->slot(c->recvx);
    if (c->ops->size != 0) {
      if (sc.elem != nullptr) c->ops->move_construct(sc.elem, head);
      c->ops->destroy(head);
    }
    c->recvx = (c->recvx + 1) % c->cap;
    c->count.store(c->count.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
    *recv_ok = true;
    held.unlock();
    return true;
  }
  if (c->closed) {
    *recv_ok = false;
    held.unlock();
    return true;
  }
  return false;
}

}  // namespace

int select_impl(select_case* cases, int n, bool has_default, bool* recv_ok) {
  // Cases on nil channels never fire: leave them out entirely.
  small_buf<int, 8> poll(n);
  int live = 0;
  for (int i = 0; i < n; i++) {
    if (cases[i].c != nullptr) poll[live++] = i;
  }
  if (live == 0) {
    if (has_default) return -1;
    require_g("goro::select");
    for (;;) park(nullptr, nullptr, n == 0 ? wait_reason::select_no_cases : wait_reason::select, nullptr);
  }
  // Random poll order (Fisher-Yates), so ready cases are chosen uniformly.
  for (int i = live - 1; i > 0; i--) std::swap(poll[i], poll[static_cast<int>(select_rand() % static_cast<std::uint32_t>(i + 1))]);
  // Lock order: by channel address, each channel once.
  small_buf<chan_core*, 8> order(live);
  for (int i = 0; i < live; i++) order[i] = cases[poll[i]].c;
  std::sort(order.data(), order.data() + live);
  int distinct = static_cast<int>(std::unique(order.data(), order.data() + live) - order.data());
  locks held{order.data(), distinct};

  g* gp = has_default ? nullptr : require_g("goro::select");
  held.lock();
  for (int k = 0; k < live; k++) {
    int i = poll[k];
    if (try_case(cases[i], held, recv_ok)) return i;
  }
  if (has_default) {
    held.unlock();
    return -1;
  }

  // Pass 2: queue a waiter on every case and park.
  std::atomic<std::uint32_t> done{0};
  small_buf<waiter, 8> ws(live);
  for (int k = 0; k < live; k++) {
    int i = poll[k];
    waiter& w = ws[k];
    w.gp = gp;
    w.elem = cases[i].elem;
    w.select_done = &done;
    w.case_index = i;
    (cases[i].is_send ? cases[i].c->sendq : cases[i].c->recvq).push(&w);
  }
  gp->param.set(0);
  park(&unlock_all, &held, wait_reason::select, nullptr);

  // Pass 3: the waker picked one waiter; take the others out of their queues.
  auto* winner = reinterpret_cast<waiter*>(gp->param.get());
  held.lock();
  for (int k = 0; k < live; k++) {
    waiter& w = ws[k];
    if (&w == winner) continue;
    chan_core* c = cases[w.case_index].c;
    (cases[w.case_index].is_send ? c->sendq : c->recvq).remove(&w);
  }
  held.unlock();
  int i = winner->case_index;
  if (cases[i].is_send) {
    if (!winner->success) throw goro::panic("send on closed channel");
  } else {
    *recv_ok = winner->success;
  }
  return i;
}

}  // namespace goro::detail
