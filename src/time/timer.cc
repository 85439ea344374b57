// Timers, tickers and after_func on the runtime's timer heaps (runtime/timer.h).
//
// Invariants (timer_state::lock):
//  - `active` is true while an arming may still deliver; stop/reset clear it or re-arm.
//  - A fire that finds the runtime timer back in a heap (re-armed by reset() after this
//    fire was already popped) or `active` false is stale and does nothing. So after stop()
//    or reset() returns, no value of an old arming is sent, and stop/reset also drain a
//    value already sent but not yet received (Go 1.23's synchronous timer channels).
//  - `self` holds the state alive while armed, so a timer nobody references still fires.
// Lock order: timer_state::lock > p::timer_lock (timer_add/timer_del under it).

#include <mutex>
#include <source_location>

#include "goro/panic.h"
#include "goro/runtime.h"
#include "goro/time.h"
#include "runtime/clock.h"
#include "runtime/sched.h"
#include "runtime/spinlock.h"
#include "runtime/timer.h"

namespace goro::detail {

struct timer_state {
  spinlock lock;
  timer rt;                   // the runtime timer
  chan<time_point> ch;        // capacity 1; nil for after_func
  std::int64_t period = 0;    // ns; > 0 for tickers
  bool active = false;        // (lock)
  std::function<void()> fn;   // after_func only
  site where;                 // after_func's call site
  std::shared_ptr<timer_state> self;  // (lock) set while armed
};

namespace {

time_point to_time_point(std::int64_t ns) { return time_point(std::chrono::nanoseconds(ns)); }

void drain(timer_state* s) {
  if (s->ch) (void)s->ch.try_recv();
}

void fire(timer* t, std::int64_t now) {
  auto* s = static_cast<timer_state*>(t->arg);
  std::shared_ptr<timer_state> keep;
  std::unique_lock<spinlock> lk(s->lock);
  if (!s->active || t->owner.load(std::memory_order_acquire) != nullptr) return;  // stale
  if (s->fn) {
    s->active = false;
    keep = std::move(s->self);
    auto fn = s->fn;
    site where = s->where;
    lk.unlock();
    auto body = [fn = std::move(fn)] { fn(); };
    routine r(body);
    r.where() = where;
    spawn(r);
    return;
  }
  // A full channel means the receiver has not taken the previous value: drop this one, as
  // Go drops ticks for slow receivers.
  (void)s->ch.try_send(to_time_point(now));
  if (s->period > 0) {
    std::int64_t when = t->when + s->period;
    if (when <= now) when += s->period * (1 + (now - when) / s->period);  // skip missed ticks
    timer_add(t, when);
  } else {
    s->active = false;
    keep = std::move(s->self);
  }
}

// Arms s to fire at `when`. lock held, not armed.
void arm(const std::shared_ptr<timer_state>& s, std::int64_t when) {
  s->active = true;
  s->self = s;
  timer_add(&s->rt, when);
}

std::shared_ptr<timer_state> make_state(bool with_chan) {
  if (g_sched == nullptr) throw std::logic_error("goro timers need the runtime: call them inside goro::run");
  auto s = std::make_shared<timer_state>();
  s->rt.fire = &fire;
  s->rt.arg = s.get();
  if (with_chan) s->ch = make_chan<time_point>(1);
  return s;
}

}  // namespace

}  // namespace goro::detail

namespace goro {

using detail::timer_state;

recv_chan<time_point> timer::c() const { return s_ ? recv_chan<time_point>(s_->ch) : recv_chan<time_point>(); }

bool timer::stop() const {
  std::shared_ptr<timer_state> keep;
  std::lock_guard<detail::spinlock> lk(s_->lock);
  bool was_active = s_->active;
  detail::timer_del(&s_->rt);
  s_->active = false;
  keep = std::move(s_->self);
  detail::drain(s_.get());
  return was_active;
}

bool timer::reset(std::chrono::nanoseconds d) const {
  std::lock_guard<detail::spinlock> lk(s_->lock);
  bool was_active = s_->active;
  detail::timer_del(&s_->rt);
  detail::drain(s_.get());
  detail::arm(s_, detail::clock_now() + (d.count() > 0 ? d.count() : 0));
  return was_active;
}

void ticker::reset(std::chrono::nanoseconds d) const {
  if (d.count() <= 0) throw goro::panic("non-positive interval for Ticker.Reset");
  const auto& s = t_.s_;
  std::lock_guard<detail::spinlock> lk(s->lock);
  detail::timer_del(&s->rt);
  detail::drain(s.get());
  s->period = d.count();
  detail::arm(s, detail::clock_now() + d.count());
}

timer new_timer(std::chrono::nanoseconds d) {
  auto s = detail::make_state(true);
  std::lock_guard<detail::spinlock> lk(s->lock);
  detail::arm(s, detail::clock_now() + (d.count() > 0 ? d.count() : 0));
  return timer(s);
}

ticker new_ticker(std::chrono::nanoseconds d) {
  if (d.count() <= 0) throw goro::panic("non-positive interval for NewTicker");
  auto s = detail::make_state(true);
  s->period = d.count();
  std::lock_guard<detail::spinlock> lk(s->lock);
  detail::arm(s, detail::clock_now() + d.count());
  return ticker(timer(s));
}

recv_chan<time_point> after(std::chrono::nanoseconds d) { return new_timer(d).c(); }

timer after_func(std::chrono::nanoseconds d, std::function<void()> f, std::source_location where) {
  auto s = detail::make_state(false);
  s->fn = std::move(f);
  s->where = detail::site{where.file_name(), where.function_name(), where.line(), nullptr};
  std::lock_guard<detail::spinlock> lk(s->lock);
  detail::arm(s, detail::clock_now() + (d.count() > 0 ? d.count() : 0));
  return timer(s);
}

}  // namespace goro
