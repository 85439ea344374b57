// The scheduler: run queues, the M loop (find work, run it, handle what it asked for), and
// the M parking/unparking protocol. The design follows Go's proc.go; see docs/design.md.
//
// Worker parking (why wake-ups are not lost), as in Go:
//  - Whoever makes a goroutine runnable calls wakep(), which starts a spinning M if there is
//    an idle P and no M is already spinning.
//  - A spinning M that finds work stops spinning and calls wakep() again, so there is always
//    a spinning M while work may be pending and P's are idle.
//  - An M that gives up its P drops "spinning" *after* putting its P on the idle list and
//    then re-checks every run queue; a concurrent producer either sees the idle P (and its
//    wakep() starts an M) or its work is seen by the re-check.

#include "runtime/sched.h"
#include "runtime/trace.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cassert>
#include <climits>
#include <stdexcept>
#include <string>

#include "diag/diag.h"
#include "diag/gate.h"
#include "runtime/clock.h"
#include "runtime/flag.h"
#include "runtime/stack.h"

namespace goro::detail {

sched_t* g_sched = nullptr;
clock_fn g_clock = &monotonic_ns;
clock_fn g_coarse_clock = &coarse_monotonic_ns;
std::atomic<std::int64_t> g_coarse_tick{0};

namespace {

// The M of this thread. An atomic because goroutines on this thread read it too (see racy.h).
thread_local std::atomic<m*> tls_m{nullptr};

constexpr std::uint32_t kMaxRunnextStreak = 32;
// How long a spinning M keeps looking for work before it gives up its P and sleeps.
constexpr std::int64_t kSpinBeforeSleepNs = 50'000;

std::uint32_t fastrand(m* mp) {
  // xorshift64*: cheap randomness for steal order.
  std::uint64_t x = mp->fastrand;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  mp->fastrand = x;
  return static_cast<std::uint32_t>((x * 0x2545F4914F6CDD1Dull) >> 32);
}

bool runq_empty(p* pp) {
  // The tail is read first: the same order as runqgrab, so a g moving from runnext into the
  // ring is not missed by both reads.
  for (;;) {
    std::uint32_t head = pp->runq_head.load(std::memory_order_acquire);
    std::uint32_t tail = pp->runq_tail.load(std::memory_order_acquire);
    g* next = pp->runnext.load(std::memory_order_acquire);
    if (tail == pp->runq_tail.load(std::memory_order_acquire)) return head == tail && next == nullptr;
  }
}

// Moves half of pp's local queue plus gp to the global queue. Owner only.
bool runqputslow(p* pp, g* gp, std::uint32_t head, std::uint32_t tail) {
  constexpr std::uint32_t kHalf = p::kRunqSize / 2;
  g* batch[kHalf + 1];
  std::uint32_t n = (tail - head) / 2;
  assert(n == kHalf);
  for (std::uint32_t i = 0; i < n; i++) batch[i] = pp->runq[(head + i) % p::kRunqSize].load(std::memory_order_relaxed);
  if (!pp->runq_head.compare_exchange_strong(head, head + n, std::memory_order_release)) return false;
  batch[n] = gp;
  for (std::uint32_t i = 0; i < n; i++) batch[i]->schedlink = batch[i + 1];
  batch[n]->schedlink = nullptr;
  std::lock_guard<std::mutex> lk(g_sched->lock);
  if (g_sched->runq_tail != nullptr) {
    g_sched->runq_tail->schedlink = batch[0];
  } else {
    g_sched->runq_head = batch[0];
  }
  g_sched->runq_tail = batch[n];
  g_sched->runq_size.fetch_add(static_cast<std::int32_t>(n + 1), std::memory_order_relaxed);
  return true;
}

// Takes a g from pp's local queue. Owner only.
g* runqget(p* pp) {
  g* next = pp->runnext.load(std::memory_order_relaxed);
  if (next != nullptr) {
    // A pair of goroutines handing off through runnext would otherwise run forever while
    // the ring waits: after kMaxRunnextStreak consecutive runnext picks the ring goes first.
    bool ring_empty = pp->runq_head.load(std::memory_order_relaxed) == pp->runq_tail.load(std::memory_order_relaxed);
    if (pp->runnext_streak < kMaxRunnextStreak || ring_empty) {
      if (pp->runnext.compare_exchange_strong(next, nullptr, std::memory_order_acquire)) {
        pp->runnext_streak++;
        return next;
      }
    }
  }
  pp->runnext_streak = 0;
  for (;;) {
    std::uint32_t head = pp->runq_head.load(std::memory_order_acquire);
    std::uint32_t tail = pp->runq_tail.load(std::memory_order_relaxed);
    if (tail == head) return nullptr;
    g* gp = pp->runq[head % p::kRunqSize].load(std::memory_order_relaxed);
    if (pp->runq_head.compare_exchange_weak(head, head + 1, std::memory_order_release)) return gp;
  }
}

// Copies half of victim's queue into pp's ring starting at pp's tail (not yet published).
// Returns how many.
std::uint32_t runqgrab(p* victim, p* pp, std::uint32_t batch_head, bool steal_runnext) {
  for (;;) {
    std::uint32_t head = victim->runq_head.load(std::memory_order_acquire);
    std::uint32_t tail = victim->runq_tail.load(std::memory_order_acquire);
    std::uint32_t n = tail - head;
    n = n - n / 2;
    if (n == 0) {
      if (!steal_runnext) return 0;
      g* next = victim->runnext.load(std::memory_order_acquire);
      if (next == nullptr) return 0;
      if (victim->status.load(std::memory_order_relaxed) == p_status::running) {
        // The victim's M has just readied `next` and will most likely run it in a moment;
        // stealing it now would bounce a ping-pong pair between threads. Give the owner a
        // few microseconds first (Go sleeps 3us here).
        std::uint32_t tick = victim->schedtick.load(std::memory_order_relaxed);
        for (int i = 0; i < 200; i++) cpu_relax();
        if (victim->schedtick.load(std::memory_order_relaxed) != tick) return 0;
      }
      if (!victim->runnext.compare_exchange_strong(next, nullptr, std::memory_order_acq_rel)) return 0;
      pp->runq[batch_head % p::kRunqSize].store(next, std::memory_order_relaxed);
      return 1;
    }
    if (n > p::kRunqSize / 2) continue;  // read an inconsistent head/tail pair
    for (std::uint32_t i = 0; i < n; i++) {
      g* gp = victim->runq[(head + i) % p::kRunqSize].load(std::memory_order_relaxed);
      pp->runq[(batch_head + i) % p::kRunqSize].store(gp, std::memory_order_relaxed);
    }
    if (victim->runq_head.compare_exchange_strong(head, head + n, std::memory_order_acq_rel)) return n;
  }
}

g* runqsteal(p* pp, p* victim, bool steal_runnext) {
  std::uint32_t tail = pp->runq_tail.load(std::memory_order_relaxed);
  std::uint32_t n = runqgrab(victim, pp, tail, steal_runnext);
  if (n == 0) return nullptr;
  if (const trace::hooks* th = tracing()) [[unlikely]] trace_steal(th, pp->id, victim->id, n);
  n--;
  g* gp = pp->runq[(tail + n) % p::kRunqSize].load(std::memory_order_relaxed);
  if (n == 0) return gp;
  pp->runq_tail.store(tail + n, std::memory_order_release);
  return gp;
}

// Takes a batch from the global queue into pp's ring; returns one g to run. sched.lock held.
g* globrunqget(p* pp, std::int32_t max) {
  std::int32_t size = g_sched->runq_size.load(std::memory_order_relaxed);
  if (size == 0) return nullptr;
  std::int32_t n = size / g_sched->nprocs + 1;
  if (n > size) n = size;
  if (max > 0 && n > max) n = max;
  if (n > static_cast<std::int32_t>(p::kRunqSize / 2)) n = p::kRunqSize / 2;
  g_sched->runq_size.fetch_sub(n, std::memory_order_relaxed);
  g* gp = g_sched->runq_head;
  g_sched->runq_head = gp->schedlink;
  for (std::int32_t i = 1; i < n; i++) {
    g* g2 = g_sched->runq_head;
    g_sched->runq_head = g2->schedlink;
    runqput(pp, g2, false);
  }
  if (g_sched->runq_head == nullptr) g_sched->runq_tail = nullptr;
  gp->schedlink = nullptr;
  return gp;
}

void acquirep(m* mp, p* pp) {
  pp->owner.set(mp);
  pp->status.store(p_status::running, std::memory_order_release);
  mp->pp.set(pp);
}

void releasep(m* mp) {
  p* pp = mp->pp.get();
  pp->owner.set(nullptr);
  mp->pp.set(nullptr);
}

void newm(p* pp, bool spinning) {
  auto* mp = new m;
  mp->nextp = pp;
  mp->spinning = spinning;
  std::lock_guard<std::mutex> lk(g_sched->lock);
  if (g_sched->shutdown.load(std::memory_order_relaxed)) {
    pidleput(pp);
    if (spinning) g_sched->nmspinning.fetch_sub(1, std::memory_order_acq_rel);
    delete mp;
    return;
  }
  mp->id = static_cast<int>(g_sched->allm.size());
  mp->fastrand = 0x9E3779B97F4A7C15ull * static_cast<std::uint64_t>(mp->id + 1);
  g_sched->allm.push_back(mp);
  // Started under the lock so that shutdown never sees an M without its thread.
  mp->thread = std::thread(mstart, mp);
}

// Parks the M until startm() hands it a P. False if woken for shutdown instead.
bool stopm(m* mp) {
  bool dead;
  {
    std::lock_guard<std::mutex> lk(g_sched->lock);
    if (g_sched->shutdown.load(std::memory_order_relaxed)) return false;
    mp->link = g_sched->midle;
    g_sched->midle = mp;
    dead = checkdead();  // the last M going idle may find a global deadlock (diag/deadlock.cc)
  }
  if (dead) deadlock_exit();  // returns only if the program turned out to be alive
  if (const trace::hooks* th = tracing()) [[unlikely]] trace_thread(th, trace::event_kind::thread_sleep, mp, -1);
  mp->park.sleep();
  p* pp = mp->nextp;
  mp->nextp = nullptr;
  if (const trace::hooks* th = tracing()) [[unlikely]] {
    trace_thread(th, trace::event_kind::thread_wake, mp, pp != nullptr ? pp->id : -1);
  }
  if (pp == nullptr) return false;
  acquirep(mp, pp);
  return true;
}

void resetspinning(m* mp) {
  mp->spinning = false;
  g_sched->nmspinning.fetch_sub(1, std::memory_order_acq_rel);
  wakep();
}

g* steal_work(m* mp, p* pp, std::int64_t now) {
  const int n = g_sched->nprocs;
  for (int round = 0; round < 4; round++) {
    bool last = round == 3;
    std::uint32_t start = fastrand(mp);
    for (int i = 0; i < n; i++) {
      p* victim = g_sched->allp[(start + i) % n];
      if (victim == pp) continue;
      if (last) {
        std::int64_t t0 = victim->timer0.load(std::memory_order_acquire);
        if (t0 != 0 && t0 <= now) {
          timer_run_due(victim, now);
          if (g* gp = runqget(pp)) return gp;
        }
      }
      if (g* gp = runqsteal(pp, victim, last)) return gp;
    }
  }
  return nullptr;
}

std::int64_t earliest_timer() {
  std::int64_t until = 0;
  for (p* p2 : g_sched->allp) {
    std::int64_t w = p2->timer0.load(std::memory_order_acquire);
    if (w != 0 && (until == 0 || w < until)) until = w;
  }
  return until;
}

// Finds a runnable goroutine, blocking the M when there is none. Null means shutdown.
g* findrunnable(m* mp) {
top:
  if (g_sched->shutdown.load(std::memory_order_acquire)) return nullptr;
  p* pp = mp->pp.get();
  // Read the clock only when a timer could be due (Go's checkTimers does the same): a
  // clock read is a large part of a yield or a switch.
  std::int64_t now = 0;
  std::int64_t t0 = pp->timer0.load(std::memory_order_acquire);
  if (t0 != 0 && t0 <= (now = clock_now())) timer_run_due(pp, now);

  // Fairness: look at the global queue every 61 runs even when the local one has work.
  if (pp->schedtick.load(std::memory_order_relaxed) % 61 == 0 &&
      g_sched->runq_size.load(std::memory_order_relaxed) > 0) {
    std::lock_guard<std::mutex> lk(g_sched->lock);
    if (g* gp = globrunqget(pp, 1)) return gp;
  }
  if (g* gp = runqget(pp)) return gp;
  if (g_sched->runq_size.load(std::memory_order_relaxed) > 0) {
    std::lock_guard<std::mutex> lk(g_sched->lock);
    if (g* gp = globrunqget(pp, 0)) return gp;
  }

  // Steal, unless enough M's are spinning already (half the busy P's).
  int busy = g_sched->nprocs - g_sched->npidle.load(std::memory_order_relaxed);
  if (mp->spinning || 2 * g_sched->nmspinning.load(std::memory_order_relaxed) < busy) {
    if (!mp->spinning) {
      mp->spinning = true;
      g_sched->nmspinning.fetch_add(1, std::memory_order_acq_rel);
    }
    if (now == 0) now = clock_now();
    if (g* gp = steal_work(mp, pp, now)) return gp;
    // Spin briefly before sleeping: work often appears within microseconds (the other side
    // of a channel refilling a buffer), and a futex sleep and wake-up cost far more than
    // that. Bounded, so an idle program does not burn CPU.
    const std::int64_t spin_until = now + kSpinBeforeSleepNs;
    while ((now = clock_now()) < spin_until) {
      for (int i = 0; i < 64; i++) cpu_relax();
      if (g_sched->runq_size.load(std::memory_order_relaxed) > 0 || g_sched->shutdown.load(std::memory_order_relaxed)) {
        goto top;
      }
      if (g* gp = runqget(pp)) return gp;
      if (g* gp = steal_work(mp, pp, now)) return gp;
    }
  }

  // Nothing to do: give up the P, then re-check (see the file comment).
  {
    std::lock_guard<std::mutex> lk(g_sched->lock);
    if (g_sched->runq_size.load(std::memory_order_relaxed) > 0) {
      if (g* gp = globrunqget(pp, 0)) return gp;
    }
    releasep(mp);
    pidleput(pp);
  }
  bool was_spinning = mp->spinning;
  if (mp->spinning) {
    mp->spinning = false;
    g_sched->nmspinning.fetch_sub(1, std::memory_order_acq_rel);
  }
  auto reacquire = [&]() -> bool {
    p* np;
    {
      std::lock_guard<std::mutex> lk(g_sched->lock);
      np = pidleget();
    }
    if (np == nullptr) return false;
    acquirep(mp, np);
    if (was_spinning) {
      mp->spinning = true;
      g_sched->nmspinning.fetch_add(1, std::memory_order_acq_rel);
    }
    return true;
  };
  for (p* p2 : g_sched->allp) {
    if (!runq_empty(p2)) {
      if (reacquire()) goto top;
      break;
    }
  }
  if (g_sched->runq_size.load(std::memory_order_acquire) > 0 && reacquire()) goto top;

  // Wait in the event source until the earliest timer, if no other M does.
  std::int64_t until = earliest_timer();
  if (until != 0 && !g_sched->polling.exchange(true, std::memory_order_acq_rel)) {
    g_sched->poll_until.store(until, std::memory_order_release);
    if (!g_sched->shutdown.load(std::memory_order_acquire)) {
      if (const trace::hooks* th = tracing()) [[unlikely]] trace_thread(th, trace::event_kind::thread_sleep, mp, -1);
      g_sched->poll.wait(until);
      if (const trace::hooks* th = tracing()) [[unlikely]] trace_thread(th, trace::event_kind::thread_wake, mp, -1);
    }
    g_sched->poll_until.store(0, std::memory_order_release);
    g_sched->polling.store(false, std::memory_order_release);
    if (reacquire()) goto top;
    // Every P is busy; they run their own timers. A timer added while we polled may now
    // have no M waiting for it: wake_poller_for() covers it by waking an M through wakep().
    std::int64_t again = earliest_timer();
    if (again != 0) wake_poller_for(again);
  } else if (until != 0) {
    std::int64_t cur = g_sched->poll_until.load(std::memory_order_acquire);
    if (cur == 0 || cur > until) g_sched->poll.wake();
  }
  if (!stopm(mp)) return nullptr;
  goto top;
}

void execute(m* mp, g* gp);

}  // namespace

m* current_m() {
  // Not inlined, so that a compiler cannot keep a thread-local address across a goroutine
  // switch (the goroutine may resume on another thread).
  asm volatile("" ::: "memory");
  return tls_m.load(std::memory_order_relaxed);
}

// current_m()->curg in one call (park.h): the hot paths' "which goroutine am I".
g* current_g() {
  asm volatile("" ::: "memory");
  m* mp = tls_m.load(std::memory_order_relaxed);
  return mp != nullptr ? mp->curg.get() : nullptr;
}

void not_on_a_goroutine(const char* what) {
  throw std::logic_error(std::string(what) + ": must be called on a goroutine (inside goro::run), not on a plain thread");
}

void note::sleep() {
  while (key_.load(std::memory_order_acquire) == 0) {
    syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&key_), FUTEX_WAIT_PRIVATE, 0, nullptr, nullptr, 0);
  }
  key_.store(0, std::memory_order_relaxed);
}

void note::wakeup() {
  key_.store(1, std::memory_order_release);
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&key_), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
}

void set_state(g* gp, [[maybe_unused]] g_state from, g_state to) {
#ifndef NDEBUG
  g_state old = gp->state.exchange(to, std::memory_order_relaxed);
  if (old != from) fatal("goroutine state transition from an unexpected state");
#else
  gp->state.store(to, std::memory_order_relaxed);
#endif
}

void runqput(p* pp, g* gp, bool next) {
  if (next) {
    gp = pp->runnext.exchange(gp, std::memory_order_acq_rel);
    if (gp == nullptr) return;
  }
  for (;;) {
    std::uint32_t head = pp->runq_head.load(std::memory_order_acquire);
    std::uint32_t tail = pp->runq_tail.load(std::memory_order_relaxed);
    if (tail - head < p::kRunqSize) {
      pp->runq[tail % p::kRunqSize].store(gp, std::memory_order_relaxed);
      pp->runq_tail.store(tail + 1, std::memory_order_release);
      return;
    }
    if (runqputslow(pp, gp, head, tail)) return;
  }
}

void globrunqput(g* gp) {
  std::lock_guard<std::mutex> lk(g_sched->lock);
  gp->schedlink = nullptr;
  if (g_sched->runq_tail != nullptr) {
    g_sched->runq_tail->schedlink = gp;
  } else {
    g_sched->runq_head = gp;
  }
  g_sched->runq_tail = gp;
  g_sched->runq_size.fetch_add(1, std::memory_order_relaxed);
}

void pidleput(p* pp) {
  pp->status.store(p_status::idle, std::memory_order_release);
  pp->link = g_sched->pidle;
  g_sched->pidle = pp;
  g_sched->npidle.fetch_add(1, std::memory_order_acq_rel);
}

p* pidleget() {
  p* pp = g_sched->pidle;
  if (pp != nullptr) {
    g_sched->pidle = pp->link;
    pp->link = nullptr;
    g_sched->npidle.fetch_sub(1, std::memory_order_acq_rel);
  }
  return pp;
}

void wakep() {
  if (g_sched->npidle.load(std::memory_order_acquire) == 0) return;
  std::int32_t zero = 0;
  if (g_sched->nmspinning.load(std::memory_order_relaxed) != 0 ||
      !g_sched->nmspinning.compare_exchange_strong(zero, 1, std::memory_order_acq_rel)) {
    return;
  }
  startm(nullptr, true);
}

void startm(p* pp, bool spinning) {
  m* mp = nullptr;
  {
    std::lock_guard<std::mutex> lk(g_sched->lock);
    if (pp == nullptr) pp = pidleget();
    if (pp == nullptr || g_sched->shutdown.load(std::memory_order_relaxed)) {
      if (pp != nullptr) pidleput(pp);
      if (spinning) g_sched->nmspinning.fetch_sub(1, std::memory_order_acq_rel);
      return;
    }
    mp = g_sched->midle;
    if (mp != nullptr) g_sched->midle = mp->link;
  }
  if (mp == nullptr) {
    newm(pp, spinning);
    return;
  }
  mp->spinning = spinning;
  mp->nextp = pp;
  mp->park.wakeup();
}

void handoffp(p* pp) {
  pp->owner.set(nullptr);
  if (!runq_empty(pp) || g_sched->runq_size.load(std::memory_order_acquire) > 0) {
    startm(pp, false);
    return;
  }
  std::int32_t zero = 0;
  if (g_sched->nmspinning.load(std::memory_order_relaxed) + g_sched->npidle.load(std::memory_order_relaxed) == 0 &&
      g_sched->nmspinning.compare_exchange_strong(zero, 1, std::memory_order_acq_rel)) {
    startm(pp, true);
    return;
  }
  std::int64_t t0;
  {
    std::lock_guard<std::mutex> lk(g_sched->lock);
    pidleput(pp);
    t0 = pp->timer0.load(std::memory_order_acquire);
  }
  if (t0 != 0) wake_poller_for(t0);
}

void wake_poller_for(std::int64_t when) {
  if (g_sched->polling.load(std::memory_order_acquire)) {
    std::int64_t until = g_sched->poll_until.load(std::memory_order_acquire);
    if (until == 0 || when < until) g_sched->poll.wake();
  } else {
    wakep();
  }
}

namespace {

void post_switch(m* mp, g* gp);

// execute()'s slow path, while a dump is in progress or tracing is on.
[[gnu::noinline, gnu::cold]] void execute_hooks(p* pp, g* gp) {
  dump_gate(gp);
  if (const trace::hooks* th = tracing()) trace_go(th, trace::event_kind::go_start, gp, pp->id);
}

void execute(m* mp, g* gp) {
  p* pp = mp->pp.get();
  pp->schedtick.store(pp->schedtick.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  mp->curg.set(gp);
  gp->cur_m.set(mp);
  set_state(gp, g_state::runnable, g_state::running);
  // A goroutine dump in progress holds gp here, and the tracer records go_start: one load
  // for both (diag/gate.h). The fence keeps the state store above before that load.
  std::atomic_signal_fence(std::memory_order_seq_cst);
  if (word_nonzero(g_execute_slow)) [[unlikely]] execute_hooks(pp, gp);
  if (!gp->stk) {
    if (!pp->stack_cache.empty()) {
      gp->stk = pp->stack_cache.back();
      pp->stack_cache.pop_back();
    } else {
      gp->stk = stack_alloc();
    }
    gp->stack_top.set(reinterpret_cast<std::uintptr_t>(gp->stk.lo) + gp->stk.size);
    arch::prepare(gp->ctx, gp->stk.lo, gp->stk.size, &g_entry, gp);
  }
  // For TSan: the P's state as this context leaves it, for sysmon if it takes the P from
  // a blocking() call of the goroutine (the goroutine releases the P, but a switch passes
  // nothing on to it; see post_switch()).
  arch::hb_release(pp);
  arch::switch_to(mp->g0, gp->ctx);
  post_switch(mp, gp);
}

void post_switch(m* mp, g* gp) {
  for (;;) {
    // The switch-out edge, for TSan: what the goroutine did before switching here happens
    // before what its scheduler context does next (an unlock function acts for the parked
    // goroutine and releases its lock; an exited goroutine's g and function are recycled;
    // an abandoned one's are destroyed by run()). The goroutine released &mp->g0 just
    // before the switch. The other direction is deliberately not an edge, so goroutines
    // taking turns on one thread stay unordered, as under Go's -race.
    arch::hb_acquire(&mp->g0);
    // The P may come from another M's blocking() call (blocking_exit() takes a P in
    // `syscall` by CAS, as sysmon does): that M's scheduler state, released in execute().
    if (p* pp = mp->pp.get()) arch::hb_acquire(pp);
    mp->curg.set(nullptr);
    gp->cur_m.set(nullptr);
    if (!stack_canary_ok(gp->stk)) fatal_stack_overflow(gp);
    // The stack pointer at this scheduling point, for the high-water mark (g.h).
    if (auto sp = reinterpret_cast<std::uintptr_t>(gp->ctx.sp); sp < gp->min_sp.get()) gp->min_sp.set(sp);
    post_action action = mp->action.get();
    mp->action.set(post_action::none);
    switch (action) {
      case post_action::park: {
        set_state(gp, g_state::running, g_state::waiting);
        unlock_fn f = mp->unlockf.get();
        if (f != nullptr && !f(gp, mp->unlockarg.get())) {
          // The park was called off: resume at once. What the unlock function did (on the
          // goroutine's behalf) happens before the goroutine goes on: park() acquires gp.
          arch::hb_release(gp);
          set_state(gp, g_state::waiting, g_state::runnable);
          mp->curg.set(gp);
          gp->cur_m.set(mp);
          set_state(gp, g_state::runnable, g_state::running);
          dump_gate(gp);
          arch::switch_to(mp->g0, gp->ctx);
          continue;
        }
        return;
      }
      case post_action::yield:
        set_state(gp, g_state::running, g_state::runnable);
        runqput(mp->pp.get(), gp, false);
        return;
      case post_action::exit: {
        p* pp = mp->pp.get();
        const bool was_main = gp->id.get() == 1;
        gp->id.set(0);  // no longer a goroutine, for the registry's readers (g.h)
        arch::destroy(gp->ctx);
        if (kStackCaching && pp->stack_cache.size() < 32) {
          pp->stack_cache.push_back(gp->stk);
        } else {
          stack_free(gp->stk);
        }
        gp->stk = {};
        set_state(gp, g_state::running, g_state::dead);
        gfree_put(pp, gp);
        g_sched->ngoroutines.fetch_sub(1, std::memory_order_relaxed);
        if (was_main) {
          // Go exits as soon as main returns: stop scheduling anything else now.
          g_sched->shutdown.store(true, std::memory_order_release);
          g_sched->main_done.store(true, std::memory_order_release);
          g_sched->main_done.notify_all();
        }
        return;
      }
      case post_action::syscall_no_p:
        // blocking() returned but its P was taken and none is idle: queue the goroutine
        // globally; this M has no P and goes to sleep.
        set_state(gp, g_state::syscall, g_state::runnable);
        globrunqput(gp);
        wakep();
        return;
      case post_action::none:
        fatal("goroutine switched to the scheduler without saying why");
    }
  }
}

}  // namespace

void mstart(m* mp) {
  tls_m.store(mp, std::memory_order_relaxed);
  mp->tid = static_cast<int>(syscall(SYS_gettid));
  arch::init_thread_context(mp->g0);
  thread_signal_stack_init(mp);
  // For TSan: the thread's start (its thread-locals and g0 included) happens before the
  // code of every goroutine that runs here; they acquire `mp` in resumed_on_m() (park.h).
  // Released once, now, so that nothing later on this thread is passed on through it.
  arch::hb_release(mp);
  p* pp = mp->nextp;
  mp->nextp = nullptr;
  acquirep(mp, pp);
  for (;;) {
    if (mp->pp.get() == nullptr && !stopm(mp)) break;
    g* gp = findrunnable(mp);
    if (gp == nullptr) break;
    // Goroutine 1 may have returned since findrunnable() last looked: then gp is abandoned
    // (runtime.h), not run. This catches every goroutine queued after the shutdown began
    // (one whose blocking() call returned then): its queueing happened after the flag.
    if (g_sched->shutdown.load(std::memory_order_acquire)) break;
    if (mp->spinning) resetspinning(mp);
    execute(mp, gp);
  }
  thread_signal_stack_free(mp);
  tls_m.store(nullptr, std::memory_order_relaxed);
}

}  // namespace goro::detail
