#include "runtime/trace.h"

#include <mutex>

#include "diag/gate.h"

#include "runtime/clock.h"
#include "runtime/g.h"
#include "runtime/sched.h"

namespace goro::trace {

std::string_view to_string(event_kind k) {
  switch (k) {
    case event_kind::go_create: return "go_create";
    case event_kind::go_start: return "go_start";
    case event_kind::go_yield: return "go_yield";
    case event_kind::go_park: return "go_park";
    case event_kind::go_ready: return "go_ready";
    case event_kind::go_end: return "go_end";
    case event_kind::blocking_enter: return "blocking_enter";
    case event_kind::blocking_exit: return "blocking_exit";
    case event_kind::steal: return "steal";
    case event_kind::thread_sleep: return "thread_sleep";
    case event_kind::thread_wake: return "thread_wake";
  }
  return "unknown";
}

void set_hooks(const hooks* h) noexcept {
  // Serialised, so that the pointer and execute()'s tracing bit (diag/gate.h) agree after
  // concurrent calls.
  static std::mutex lock;
  std::lock_guard<std::mutex> lk(lock);
  detail::g_trace_hooks.store(h, std::memory_order_release);
  if (h != nullptr) {
    detail::g_execute_slow.fetch_or(detail::kTracingBit, std::memory_order_relaxed);
  } else {
    detail::g_execute_slow.fetch_and(~detail::kTracingBit, std::memory_order_relaxed);
  }
}

const hooks* current_hooks() noexcept { return detail::g_trace_hooks.load(std::memory_order_acquire); }

}  // namespace goro::trace

namespace goro::detail {

std::atomic<const trace::hooks*> g_trace_hooks{nullptr};

namespace {

trace::event make(trace::event_kind k) noexcept {
  trace::event e;
  e.kind = k;
  e.when_ns = clock_now();
  if (m* mp = current_m()) e.thread = mp->id;
  return e;
}

void deliver(const trace::hooks* h, const trace::event& e) noexcept {
  if (h->on_event != nullptr) h->on_event(e, h->user);
}

}  // namespace

void trace_go_create(const trace::hooks* h, const g* gp, int proc) noexcept {
  trace::event e = make(trace::event_kind::go_create);
  e.goroutine = gp->id.get();
  e.peer = gp->parent_id.get();
  e.proc = proc;
  e.pc = gp->created.pc.get();
  e.file = gp->created.file.get();
  e.line = gp->created.line.get();
  deliver(h, e);
}

void trace_go(const trace::hooks* h, trace::event_kind k, const g* gp, int proc) noexcept {
  trace::event e = make(k);
  e.goroutine = gp->id.get();
  e.proc = proc;
  deliver(h, e);
}

void trace_go_park(const trace::hooks* h, const g* gp, wait_reason r, const void* obj) noexcept {
  trace::event e = make(trace::event_kind::go_park);
  e.goroutine = gp->id.get();
  if (m* mp = current_m(); mp != nullptr && mp->pp.get() != nullptr) e.proc = mp->pp.get()->id;
  e.reason = to_string(r);
  e.object = obj;
  deliver(h, e);
}

void trace_go_ready(const trace::hooks* h, const g* gp, const g* waker, int proc) noexcept {
  trace::event e = make(trace::event_kind::go_ready);
  e.goroutine = gp->id.get();
  e.peer = waker != nullptr ? waker->id.get() : 0;
  e.proc = proc;
  deliver(h, e);
}

void trace_steal(const trace::hooks* h, int thief, int victim, std::uint32_t n) noexcept {
  trace::event e = make(trace::event_kind::steal);
  e.proc = thief;
  e.peer = static_cast<std::uint64_t>(victim);
  e.count = n;
  deliver(h, e);
}

void trace_thread(const trace::hooks* h, trace::event_kind k, const m* mp, int proc) noexcept {
  trace::event e = make(k);
  e.thread = mp->id;
  e.proc = proc;
  deliver(h, e);
}

}  // namespace goro::detail
