// select (Go's selectgo). Three passes, all with every involved channel locked in address
// order (so two selects over the same channels cannot deadlock on their locks):
//  1. In a random order, look for a case that can proceed now; run the first one found.
//  2. Otherwise (and without a default) queue one waiter per case, all sharing one
//     select_done flag, and park; the park's unlock function releases the channel locks.
//  3. When woken, the waker has won select_done and filled in the winning waiter; relock
//     and unlink the waiters of every other case.
// A select with a default and a single non-nil case first tries the lock-free check of
// chan_core.h, like Go's selectnbsend/selectnbrecv. With several cases there is no such
// shortcut: their lock-free observations would be made at different moments, and a select
// must act on the state of all its channels at one moment (TestNonblockSelectRace).

#include <atomic>
#include <cstdint>
#include <memory>
#include <new>
#include <utility>

#include "chan/chan_core.h"
#include "chan/chan_locked.h"
#include "goro/panic.h"
#include "goro/select.h"
#include "runtime/park.h"

namespace goro::detail {

namespace {

// A per-thread xorshift generator. Not inlined, so a caller never keeps the thread-local's
// address across a goroutine switch. The state is a relaxed atomic: goroutines take turns
// on a thread with no happens-before edge between them (a switch is not synchronisation),
// so under ThreadSanitizer a plain variable would be reported; a lost update is harmless.
[[gnu::noinline]] std::uint32_t select_rand() {
  thread_local std::atomic<std::uint64_t> state{0};
  std::uint64_t x = state.load(std::memory_order_relaxed);
  if (x == 0) x = reinterpret_cast<std::uintptr_t>(&state) | 1;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  state.store(x, std::memory_order_relaxed);
  return static_cast<std::uint32_t>(x >> 32);
}

// Scratch space for n elements, on the stack up to N. Elements are constructed only for
// the n in use (a select has a handful of cases; constructing N waiters every time cost
// more than the rest of the first pass).
template <class T, int N>
class small_buf {
 public:
  explicit small_buf(int n) : n_(n) {
    if (n > N) heap_.reset(static_cast<T*>(::operator new(sizeof(T) * static_cast<std::size_t>(n))));
    p_ = heap_ ? heap_.get() : reinterpret_cast<T*>(inline_);
    for (int i = 0; i < n; i++) ::new (p_ + i) T();
  }
  ~small_buf() {
    for (int i = 0; i < n_; i++) p_[i].~T();
  }
  small_buf(const small_buf&) = delete;
  small_buf& operator=(const small_buf&) = delete;
  T& operator[](int i) { return p_[i]; }
  T* data() { return p_; }

 private:
  struct deleter {
    void operator()(T* p) const { ::operator delete(p); }
  };
  int n_;
  alignas(T) unsigned char inline_[sizeof(T) * N];
  std::unique_ptr<T, deleter> heap_;
  T* p_;
};

// Sorts a few channel pointers (insertion sort: selects are small) and drops duplicates.
// Returns the number of distinct channels.
int sort_unique(chan_core** a, int n) {
  for (int i = 1; i < n; i++) {
    chan_core* x = a[i];
    int j = i;
    for (; j > 0 && a[j - 1] > x; j--) a[j] = a[j - 1];
    a[j] = x;
  }
  int d = 0;
  for (int i = 0; i < n; i++) {
    if (d == 0 || a[d - 1] != a[i]) a[d++] = a[i];
  }
  return d;
}

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

// Tries case sc with every channel locked. True if it completed: the locks are released
// and any waiter woken (recv_ok set for receives). False: nothing changed, locks still held.
// Throws goro::panic for a send on a closed channel (after unlocking everything).
bool try_case(const select_case& sc, const locks& held, bool* recv_ok) {
  chan_core* c = sc.c;
  waiter* wake;
  if (sc.is_send) {
    if (c->is_closed()) {
      held.unlock();
      throw goro::panic("send on closed channel");
    }
    if (!send_locked(c, sc.elem, &wake)) return false;
  } else {
    if (!recv_locked(c, sc.elem, recv_ok, &wake)) return false;
  }
  check_invariants(c);
  held.unlock();
  if (wake != nullptr) wake_waiter(wake);
  return true;
}

// The lock-free shortcut for a select with a default and one live case: true if that case
// surely cannot proceed (then the default runs), false if the locked path must decide. A
// receive that finds the channel closed and drained completes here (recv_ok = false).
bool quick_case(const select_case& sc, bool* recv_ok, bool* completed) {
  *completed = false;
  if (sc.is_send) return quick_send_check(sc.c) == quick_result::would_block;
  switch (quick_recv_check(sc.c)) {
    case quick_result::would_block: return true;
    case quick_result::closed:
      *recv_ok = false;
      *completed = true;
      return false;
    case quick_result::unknown: break;
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
  if (has_default && live == 1) {
    bool completed;
    if (quick_case(cases[poll[0]], recv_ok, &completed)) return -1;
    if (completed) return poll[0];
  }
  // Random poll order (Fisher-Yates), so ready cases are chosen uniformly.
  for (int i = live - 1; i > 0; i--) std::swap(poll[i], poll[static_cast<int>(select_rand() % static_cast<std::uint32_t>(i + 1))]);
  // Lock order: by channel address, each channel once.
  small_buf<chan_core*, 8> order(live);
  for (int i = 0; i < live; i++) order[i] = cases[poll[i]].c;
  locks held{order.data(), sort_unique(order.data(), live)};

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

  // Pass 3: the waker picked one waiter (and unlinked it); take the others out of their
  // queues. Some may be gone already: an operation that met one of them lost the CAS on
  // `done` and dropped it.
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
