// Goroutine-side scheduling: park/ready, yield, sleep and blocking().

#include "runtime/park.h"

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include "goro/runtime.h"
#include "runtime/clock.h"
#include "runtime/sched.h"
#include "runtime/trace.h"

namespace goro::detail {

namespace {

// Switches to the scheduler context with `action`; returns when the goroutine runs again,
// possibly on another thread.
void switch_to_scheduler(g* gp, post_action action) {
  m* mp = current_m();
  if (mp->pp.get() == nullptr) {
    fatal("a goroutine tried to park, yield or sleep inside goro::blocking(); blocking() must "
          "only wrap calls that block the thread, not goroutine operations");
  }
  mp->action.set(action);
  arch::hb_release(&mp->g0);  // the switch-out edge (TSan), see post_switch()
  arch::switch_to(gp->ctx, mp->g0);
  resumed_on_m(gp);
}

}  // namespace

void park(unlock_fn unlock, void* arg, wait_reason reason, const void* obj) {
  g* gp = require_g("goro: blocking operation");
  gp->reason.set(reason);
  gp->wait_obj.set(obj);
  gp->wait_since.set(coarse_now());
  m* mp = current_m();
  mp->unlockf.set(unlock);
  mp->unlockarg.set(arg);
  if (const trace::hooks* th = tracing()) [[unlikely]] trace_go_park(th, gp, reason, obj);
  switch_to_scheduler(gp, post_action::park);
  arch::hb_acquire(gp);
  // reason, wait_obj and wait_since stay as they are: they mean something only while the
  // state says waiting (g.h).
}

void ready(g* gp) {
  m* mp = current_m();
  // From a plain thread the call is counted: goroutine 1 may return as soon as gp is
  // queued, and run() must not free the scheduler before wakep() below is done with it.
  std::optional<external_call> call;
  if (mp == nullptr) {
    call.emplace();
    if (call->sched() == nullptr) return;  // run() is over; gp was abandoned with the rest
  }
  arch::hb_release(gp);
  set_state(gp, g_state::waiting, g_state::runnable);
  p* pp = mp != nullptr ? mp->pp.get() : nullptr;
  if (const trace::hooks* th = tracing()) [[unlikely]] {
    trace_go_ready(th, gp, mp != nullptr ? mp->curg.get() : nullptr, pp != nullptr ? pp->id : -1);
  }
  if (pp != nullptr) {
    runqput(pp, gp, true);
  } else {
    globrunqput(gp);
  }
  wakep();
}

}  // namespace goro::detail

namespace goro {

using namespace detail;

void yield() {
  g* gp = require_g("goro::yield");
  if (const trace::hooks* th = tracing()) [[unlikely]] {
    trace_go(th, trace::event_kind::go_yield, gp, current_m()->pp.get() != nullptr ? current_m()->pp.get()->id : -1);
  }
  switch_to_scheduler(gp, post_action::yield);
}

namespace {

void sleep_fire(timer* t, std::int64_t) { ready(static_cast<g*>(t->arg)); }

bool sleep_arm(g* gp, void*) {
  // Runs on the scheduler stack after the goroutine is parked, so the timer cannot fire
  // before the goroutine is fully switched out.
  timer_add(&gp->sleep_timer, gp->sleep_timer.when);
  return true;
}

void sleep_ns_until(std::int64_t when) {
  g* gp = require_g("goro::sleep");
  if (when <= clock_now()) {
    yield();
    return;
  }
  gp->sleep_timer.when = when;
  gp->sleep_timer.fire = &sleep_fire;
  gp->sleep_timer.arg = gp;
  park(&sleep_arm, nullptr, wait_reason::sleep, nullptr);
}

}  // namespace

void sleep(std::chrono::nanoseconds d) {
  require_g("goro::sleep");
  if (d.count() <= 0) {
    yield();
    return;
  }
  // A deadline past the end of the clock saturates (a practically endless sleep) instead
  // of overflowing into the past.
  std::int64_t now = clock_now();
  sleep_ns_until(d.count() > INT64_MAX - now ? INT64_MAX : now + d.count());
}

void sleep_until(std::chrono::steady_clock::time_point t) {
  require_g("goro::sleep_until");
  auto now = std::chrono::steady_clock::now();
  if (t <= now) {  // also keeps time_point::min() from overflowing below
    yield();
    return;
  }
  if (g_clock == &monotonic_ns) {
    // The runtime clock is the steady clock (both CLOCK_MONOTONIC): arm the timer at t
    // itself. Converting through "t - now" would add the time between two clock reads, and
    // a thread preempted there would let a later deadline fire first.
    sleep_ns_until(std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
    return;
  }
  sleep(std::chrono::duration_cast<std::chrono::nanoseconds>(t - now));
}

namespace detail {

void blocking_enter() {
  g* gp = require_g("goro::blocking");
  m* mp = current_m();
  p* pp = mp->pp.get();
  if (pp == nullptr) fatal("goro::blocking() called inside goro::blocking()");
  gp->wait_since.set(coarse_now());
  set_state(gp, g_state::running, g_state::syscall);
  pp->syscalltick.store(pp->syscalltick.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  mp->oldp.set(pp);
  mp->pp.set(nullptr);
  if (const trace::hooks* th = tracing()) [[unlikely]] trace_go(th, trace::event_kind::blocking_enter, gp, pp->id);
  // From here sysmon may take the P (syscall -> idle) and give it to another M.
  pp->status.store(p_status::syscall, std::memory_order_release);
}

void blocking_exit() {
  m* mp = current_m();  // the same thread as blocking_enter: nothing switched in between
  g* gp = mp->curg.get();
  p* pp = mp->oldp.get();
  mp->oldp.set(nullptr);
  if (const trace::hooks* th = tracing()) [[unlikely]] trace_go(th, trace::event_kind::blocking_exit, gp, -1);
  // After goroutine 1 returned, a goroutine is abandoned when its blocking call returns
  // (runtime.h): it takes the no-P path below and is never scheduled again.
  const bool shutting_down = g_sched->shutdown.load(std::memory_order_acquire);
  p_status expect = p_status::syscall;
  if (!shutting_down && pp->status.compare_exchange_strong(expect, p_status::running, std::memory_order_acq_rel)) {
    mp->pp.set(pp);
    set_state(gp, g_state::syscall, g_state::running);
    return;
  }
  // Sysmon handed our P to another M (or the runtime is shutting down). Take any idle P,
  // or queue the goroutine and let this M sleep.
  p* np = nullptr;
  {
    std::lock_guard<std::mutex> lk(g_sched->lock);
    if (!g_sched->shutdown.load(std::memory_order_relaxed)) np = pidleget();
  }
  if (np != nullptr) {
    np->owner.set(mp);
    np->status.store(p_status::running, std::memory_order_release);
    mp->pp.set(np);
    set_state(gp, g_state::syscall, g_state::running);
    return;
  }
  mp->action.set(post_action::syscall_no_p);
  arch::hb_release(&mp->g0);  // the switch-out edge (TSan), see post_switch()
  arch::switch_to(gp->ctx, mp->g0);
  resumed_on_m(gp);
  arch::hb_acquire(gp);
}

}  // namespace detail

namespace this_goroutine {
std::uint64_t id() {
  g* gp = current_g();
  return gp != nullptr ? gp->id.get() : 0;
}
}  // namespace this_goroutine

std::size_t num_goroutine() {
  external_call call;  // any thread, also while run() starts or stops
  sched_t* s = call.sched();
  return s != nullptr ? static_cast<std::size_t>(s->ngoroutines.load(std::memory_order_relaxed)) : 0;
}

int procs() {
  external_call call;
  sched_t* s = call.sched();
  return s != nullptr ? s->nprocs : 0;
}

}  // namespace goro
