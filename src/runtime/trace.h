#pragma once
// The runtime's side of the execution-tracer hooks (include/goro/trace_hooks.h).
//
// Every hook site reads g_trace_hooks once (relaxed) and calls the matching trace_*()
// function only when a table is installed; those are out of line and cold, so the sites
// cost a load and a not-taken branch when tracing is off.

#include <atomic>
#include <cstdint>

#include "goro/trace_hooks.h"
#include "runtime/wait_reason.h"

namespace goro::detail {

struct g;
struct m;
struct p;

extern std::atomic<const trace::hooks*> g_trace_hooks;

inline const trace::hooks* tracing() noexcept { return g_trace_hooks.load(std::memory_order_relaxed); }

// Each fills in the time and the current thread and calls the table.
[[gnu::cold]] void trace_go_create(const trace::hooks* h, const g* gp, int proc) noexcept;
[[gnu::cold]] void trace_go(const trace::hooks* h, trace::event_kind k, const g* gp, int proc) noexcept;
[[gnu::cold]] void trace_go_park(const trace::hooks* h, const g* gp, wait_reason r, const void* obj) noexcept;
[[gnu::cold]] void trace_go_ready(const trace::hooks* h, const g* gp, const g* waker, int proc) noexcept;
[[gnu::cold]] void trace_steal(const trace::hooks* h, int thief, int victim, std::uint32_t n) noexcept;
[[gnu::cold]] void trace_thread(const trace::hooks* h, trace::event_kind k, const m* mp, int proc) noexcept;

}  // namespace goro::detail
