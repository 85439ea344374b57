// Per-P timer heaps (4-ary, like Go's). See timer.h for the invariants.

#include "runtime/timer.h"

#include <mutex>

#include "runtime/clock.h"
#include "runtime/sched.h"

namespace goro::detail {

namespace {

bool before(const timer* a, const timer* b) { return a->when < b->when; }

void place(std::vector<timer*>& h, std::size_t i, timer* t) {
  h[i] = t;
  t->index = static_cast<std::uint32_t>(i);
}

void sift_up(std::vector<timer*>& h, std::size_t i) {
  timer* t = h[i];
  while (i > 0) {
    std::size_t parent = (i - 1) / 4;
    if (!before(t, h[parent])) break;
    place(h, i, h[parent]);
    i = parent;
  }
  place(h, i, t);
}

void sift_down(std::vector<timer*>& h, std::size_t i) {
  timer* t = h[i];
  const std::size_t n = h.size();
  for (;;) {
    std::size_t c = i * 4 + 1;
    if (c >= n) break;
    std::size_t best = c;
    for (std::size_t k = c + 1; k < c + 4 && k < n; k++) {
      if (before(h[k], h[best])) best = k;
    }
    if (!before(h[best], t)) break;
    place(h, i, h[best]);
    i = best;
  }
  place(h, i, t);
}

// Removes h[i]. pp->timer_lock held.
void remove_at(p* pp, std::size_t i) {
  auto& h = pp->timers;
  timer* last = h.back();
  h.pop_back();
  if (i < h.size()) {
    place(h, i, last);
    sift_down(h, i);
    sift_up(h, last->index);
  }
  pp->timer0.store(h.empty() ? 0 : h[0]->when, std::memory_order_release);
}

}  // namespace

void timer_add(timer* t, std::int64_t when) {
  m* mp = current_m();
  p* pp = mp != nullptr ? mp->pp.get() : nullptr;
  if (pp == nullptr) pp = g_sched->allp[0];
  t->when = when;
  bool earliest;
  {
    std::lock_guard<spinlock> lk(pp->timer_lock);
    t->owner.store(pp, std::memory_order_relaxed);
    pp->timers.push_back(t);
    place(pp->timers, pp->timers.size() - 1, t);
    sift_up(pp->timers, t->index);
    earliest = pp->timers[0] == t;
    if (earliest) pp->timer0.store(when, std::memory_order_release);
  }
  // An M waiting in the event source may sleep past this timer: wake it to recompute.
  if (earliest) wake_poller_for(when);
}

bool timer_del(timer* t) {
  for (;;) {
    p* pp = t->owner.load(std::memory_order_acquire);
    if (pp == nullptr) return false;
    std::lock_guard<spinlock> lk(pp->timer_lock);
    if (t->owner.load(std::memory_order_relaxed) != pp) continue;  // moved or fired meanwhile
    remove_at(pp, t->index);
    t->owner.store(nullptr, std::memory_order_relaxed);
    return true;
  }
}

std::int64_t timer_run_due(p* pp, std::int64_t now) {
  for (;;) {
    timer* t;
    {
      std::lock_guard<spinlock> lk(pp->timer_lock);
      if (pp->timers.empty()) return 0;
      t = pp->timers[0];
      if (t->when > now) return t->when;
      remove_at(pp, 0);
      t->owner.store(nullptr, std::memory_order_release);
    }
    t->fire(t, now);
  }
}

}  // namespace goro::detail
