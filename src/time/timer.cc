// Timers, tickers and after_func on the runtime's timer heaps (runtime/timer.h).
//
// One timer_state per timer, shared by its handles. Its runtime timer `rt` goes into a P's
// heap once per arming; the heap pops it and calls fire() without any lock held, so a
// fire can be "in flight" (popped, not yet holding `lock`) while stop() or reset() runs.
//
// Invariants (timer_state::lock):
//  - `pending` counts armings that entered a heap and have neither been deleted by
//    timer_del() nor reached fire(): at most one in a heap, any others in flight. `self`
//    is set exactly while pending > 0, so neither an in-flight fire nor a heap ever points
//    to a freed state, and a timer nobody references still fires (goro::after()).
//  - `active` is true while the current arming may still deliver. A fire delivers only if
//    it is active, `rt` is in no heap, and its `now` has reached rt.when; otherwise it is
//    stale (stopped, or re-armed by reset() after the pop) and does nothing. A stale fire
//    can therefore never deliver early, and after stop() or reset() returns no value of
//    an old arming is sent.
//  - stop() and reset() also drain a value sent but not yet received: Go 1.23's timer
//    channels are synchronous, so such a value counts as not yet delivered (and the timer
//    as still active in their result).
//  - A state with `self` set is also linked in one stripe of g_armed. run() frees the P
//    heaps at shutdown without firing what they hold; the list keeps such abandoned timers
//    reachable (not leaked, for leak checkers), as goroutines are abandoned, not leaked.
//    The same list is what the leak check walks (pending_timers(), time/pending.h); `run`
//    tells the current run's timers from abandoned ones.
// Lock order: timer_state::lock > channel lock > p::timer_lock (timer_add/timer_del and the
// channel's try_send/try_recv run under it); fire() never holds it while spawning. A
// stripe lock of g_armed is a leaf, taken under timer_state::lock; pending_timers() takes
// the two in turn, never one inside the other.

#include <cassert>
#include <cstdint>
#include <mutex>
#include <utility>
#include <vector>

#include "goro/detail/source_location.h"
#include "goro/panic.h"
#include "goro/runtime.h"
#include "goro/time.h"
#include "runtime/clock.h"
#include "runtime/sched.h"
#include "runtime/spinlock.h"
#include "runtime/timer.h"
#include "time/pending.h"

namespace goro::detail {

struct timer_state {
  spinlock lock;
  timer rt;                           // the runtime timer; rt.when is the current deadline
  chan<time_point> ch;                // capacity 1; nil for after_func (immutable)
  std::int64_t period = 0;            // ns, > 0 for tickers (lock)
  bool active = false;                // (lock) the current arming may still deliver
  int pending = 0;                    // (lock) armings in a heap or in flight
  std::function<void()> fn;           // after_func only (immutable)
  timer_kind kind = timer_kind::channel;  // (immutable)
  site where;                         // the after_func, new_ticker or with_deadline call (immutable)
  std::uint64_t run = 0;              // the run() it belongs to, run_serial() (immutable)
  std::shared_ptr<timer_state> self;  // (lock) set exactly while pending > 0
  // Links in g_armed, while self is set (the stripe's lock).
  timer_state* armed_prev = nullptr;
  timer_state* armed_next = nullptr;
};

namespace {

// Every armed timer state (see the invariants), in stripes so that arming rarely contends.
struct alignas(64) armed_stripe {
  spinlock lock;
  timer_state* head = nullptr;  // (lock)
};
constexpr std::size_t kArmedStripes = 64;
armed_stripe g_armed[kArmedStripes];

armed_stripe& stripe_of(const timer_state* s) {
  return g_armed[(reinterpret_cast<std::uintptr_t>(s) >> 6) % kArmedStripes];
}

// Takes the self reference of an idle state. lock held; self not set.
void hold(const std::shared_ptr<timer_state>& s) {
  assert(!s->self && s->pending == 0);
  s->self = s;
  armed_stripe& st = stripe_of(s.get());
  std::lock_guard<spinlock> lk(st.lock);
  s->armed_prev = nullptr;
  s->armed_next = st.head;
  if (st.head != nullptr) st.head->armed_prev = s.get();
  st.head = s.get();
}

// Gives up the self reference once no arming is pending; the caller drops it after
// releasing s->lock. lock held.
std::shared_ptr<timer_state> release_if_idle(timer_state* s) {
  if (s->pending != 0 || !s->self) return nullptr;
  armed_stripe& st = stripe_of(s);
  {
    std::lock_guard<spinlock> lk(st.lock);
    if (s->armed_prev != nullptr) {
      s->armed_prev->armed_next = s->armed_next;
    } else {
      st.head = s->armed_next;
    }
    if (s->armed_next != nullptr) s->armed_next->armed_prev = s->armed_prev;
    s->armed_prev = s->armed_next = nullptr;
  }
  return std::move(s->self);
}

time_point to_time_point(std::int64_t ns) { return time_point(std::chrono::nanoseconds(ns)); }

// Withdraws a value sent but not received. True if there was one. lock held.
bool drain(timer_state* s) { return s->ch && s->ch.try_recv().status == chan_status::ok; }

// Puts s into a heap, due at `when`. lock held; self set.
void add(timer_state* s, std::int64_t when) {
  s->pending++;
  timer_add(&s->rt, when);
}

// Starts a new arming of s. lock held, rt in no heap.
void arm(const std::shared_ptr<timer_state>& s, std::int64_t when) {
  s->active = true;
  if (!s->self) hold(s);
  add(s.get(), when);
}

// Removes the arming in a heap, if any. lock held.
void disarm(timer_state* s) {
  if (timer_del(&s->rt)) s->pending--;
  assert(s->pending >= 0);
}

// after_func functions between their timer's firing and their goroutine's spawn: no longer
// an armed timer, not yet a goroutine. The leak check lists them as due now (pending_timers),
// so that it waits for the goroutine instead of seeing neither. Leaf lock, taken under a
// timer_state's lock.
struct firing_list {
  spinlock lock;
  std::uint64_t next_id = 0;                                          // (lock)
  std::vector<std::pair<std::uint64_t, pending_timer_snap>> entries;  // (lock)
};
firing_list& g_firing() {
  static firing_list* list = new firing_list;  // never freed: fire() may run at exit
  return *list;
}

// The runtime calls this after popping rt from a heap, with no timer lock held.
void fire(timer* t, std::int64_t now) {
  auto* s = static_cast<timer_state*>(t->arg);  // alive: this arming still counts in pending
  std::shared_ptr<timer_state> keep;            // the last reference dies after unlocking
  bool spawn_fn = false;                        // after_func: spawn fn once unlocked
  std::function<void()> fn;
  site where;
  std::uint64_t firing_id = 0;
  {
    std::lock_guard<spinlock> lk(s->lock);
    s->pending--;
    assert(s->pending >= 0 && s->self != nullptr);
    bool current = s->active && t->owner.load(std::memory_order_acquire) == nullptr && now >= t->when;
    if (current) {
      if (!s->ch) {
        s->active = false;
        spawn_fn = true;
        fn = s->fn;  // copied under the lock: once it is released, s may be freed
        where = s->where;
        firing_list& fl = g_firing();
        std::lock_guard<spinlock> flk(fl.lock);
        firing_id = ++fl.next_id;
        fl.entries.push_back({firing_id, pending_timer_snap{s->kind, s->where, now, 0}});
      } else {
        // A full channel means the receiver has not taken the previous value: drop this
        // one, as Go drops ticks for slow receivers.
        (void)s->ch.try_send(to_time_point(now));
        if (s->period > 0) {
          std::int64_t when = t->when + s->period;
          if (when <= now) when += s->period * (1 + (now - when) / s->period);  // skip missed ticks
          add(s, when);
        } else {
          s->active = false;
        }
      }
    }
    keep = release_if_idle(s);
  }
  if (spawn_fn) {
    // Spawned without the lock: spawn() may take the scheduler's locks and wake an M.
    auto body = [f = std::move(fn)] { f(); };
    routine r(body);
    r.where() = where;
    struct unlist {
      std::uint64_t id;
      ~unlist() {  // after the spawn (or its failure): the goroutine is registered by now
        firing_list& fl = g_firing();
        std::lock_guard<spinlock> lk(fl.lock);
        std::erase_if(fl.entries, [this](const auto& e) { return e.first == id; });
      }
    } done{firing_id};
    spawn(r);
  }
}

std::shared_ptr<timer_state> make_state(timer_kind kind, const source_location& where) {
  if (g_sched == nullptr) throw std::logic_error("goro timers need the runtime: call them inside goro::run");
  auto s = std::make_shared<timer_state>();
  s->rt.fire = &fire;
  s->rt.arg = s.get();
  s->kind = kind;
  s->where = site{where.file_name(), where.function_name(), where.line(), nullptr};
  s->run = run_serial();
  if (kind == timer_kind::channel || kind == timer_kind::ticker) s->ch = make_chan<time_point>(1);
  return s;
}

std::shared_ptr<timer_state> make_func_state(timer_kind kind, std::function<void()> f,
                                             const source_location& where) {
  auto s = make_state(kind, where);
  s->fn = std::move(f);
  return s;
}

std::int64_t deadline_after(std::chrono::nanoseconds d) { return clock_now() + (d.count() > 0 ? d.count() : 0); }

}  // namespace

void pending_timers(std::vector<pending_timer_snap>& out) {
  external_call call;  // any thread: the run cannot end (and its serial change) meanwhile
  if (call.sched() == nullptr) return;
  const std::uint64_t run = run_serial();
  // References taken under the stripe locks: `self` is set and unchanging while a state is
  // linked (hold() sets it before linking, release_if_idle() clears it after unlinking).
  std::vector<std::shared_ptr<timer_state>> held;
  for (armed_stripe& st : g_armed) {
    std::lock_guard<spinlock> lk(st.lock);
    for (timer_state* s = st.head; s != nullptr; s = s->armed_next) {
      if (s->run == run && s->kind != timer_kind::channel) held.push_back(s->self);
    }
  }
  for (const auto& s : held) {
    std::lock_guard<spinlock> lk(s->lock);
    // Inactive: stopped, or its function already started; a stale arming may linger.
    if (s->active) out.push_back({s->kind, s->where, s->rt.when, s->period});
  }
  {
    firing_list& fl = g_firing();
    std::lock_guard<spinlock> lk(fl.lock);
    for (const auto& e : fl.entries) out.push_back(e.second);
  }
  // `held` is released here, after every lock: a reference may be the last one.
}

goro::timer deadline_timer(std::chrono::nanoseconds d, std::function<void()> f, source_location where) {
  auto s = make_func_state(timer_kind::context_deadline, std::move(f), where);
  std::lock_guard<spinlock> lk(s->lock);
  arm(s, deadline_after(d));
  return goro::timer(s);
}

}  // namespace goro::detail

namespace goro {

using detail::timer_state;

recv_chan<time_point> timer::c() const { return s_ ? recv_chan<time_point>(s_->ch) : recv_chan<time_point>(); }

bool timer::stop() const {
  if (!s_) throw goro::panic("time: Stop called on uninitialized Timer");
  std::shared_ptr<timer_state> keep;  // declared before the guard: released after unlocking
  std::lock_guard<detail::spinlock> lk(s_->lock);
  bool was_active = s_->active;
  detail::disarm(s_.get());
  s_->active = false;
  if (detail::drain(s_.get())) was_active = true;
  keep = detail::release_if_idle(s_.get());
  return was_active;
}

bool timer::reset(std::chrono::nanoseconds d) const {
  if (!s_) throw goro::panic("time: Reset called on uninitialized Timer");
  std::lock_guard<detail::spinlock> lk(s_->lock);
  bool was_active = s_->active;
  detail::disarm(s_.get());
  if (detail::drain(s_.get())) was_active = true;
  detail::arm(s_, detail::deadline_after(d));
  return was_active;
}

void ticker::stop() const {
  // Go keeps Stop of a zero Ticker harmless (unlike Timer.Stop).
  if (t_) (void)t_.stop();
}

void ticker::reset(std::chrono::nanoseconds d) const {
  if (d.count() <= 0) throw goro::panic("non-positive interval for Ticker.Reset");
  if (!t_) throw goro::panic("time: Reset called on uninitialized Ticker");
  const auto& s = t_.s_;
  std::lock_guard<detail::spinlock> lk(s->lock);
  detail::disarm(s.get());
  (void)detail::drain(s.get());
  s->period = d.count();
  detail::arm(s, detail::clock_now() + d.count());
}

timer new_timer(std::chrono::nanoseconds d) {
  auto s = detail::make_state(detail::timer_kind::channel, {});
  std::lock_guard<detail::spinlock> lk(s->lock);
  detail::arm(s, detail::deadline_after(d));
  return timer(s);
}

ticker new_ticker(std::chrono::nanoseconds d, detail::source_location where) {
  if (d.count() <= 0) throw goro::panic("non-positive interval for NewTicker");
  auto s = detail::make_state(detail::timer_kind::ticker, where);
  std::lock_guard<detail::spinlock> lk(s->lock);
  s->period = d.count();
  detail::arm(s, detail::clock_now() + d.count());
  return ticker(timer(s));
}

recv_chan<time_point> after(std::chrono::nanoseconds d) { return new_timer(d).c(); }

timer after_func(std::chrono::nanoseconds d, std::function<void()> f, detail::source_location where) {
  auto s = detail::make_func_state(detail::timer_kind::after_func, std::move(f), where);
  std::lock_guard<detail::spinlock> lk(s->lock);
  detail::arm(s, detail::deadline_after(d));
  return timer(s);
}

}  // namespace goro
