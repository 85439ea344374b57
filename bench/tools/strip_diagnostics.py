#!/usr/bin/env python3
"""Strips the always-on diagnostics from a copy of the goro tree, for the cost comparison of
docs/performance.md ("What the always-on diagnostics cost"):

    python3 bench/tools/strip_diagnostics.py TREE

Takes out the wait reason/object/start stamps of park() and blocking(), the stack canary and
high-water compare of each switch, the stack-top store, the registry's id reset at exit, the
creation-site copy and high-water reset at spawn, the start-context handling of go(ctx, fn),
the mutex owner and lock-site stores, and the lock-order checker's tokens in goro::mutex's
fast paths (literal values instead). What stays: the goroutine check of mutex::lock, the
tracer's test in execute() (shared with the dump gate). Run the stripped build with
GORO_DIAG_INTERVAL_MS=-1 (no monitor thread). Each edit must match exactly: when the code
moves, this script fails and says where; bench/tools/no_diagnostics.patch is its output on
the commit that docs/performance.md names.
"""
import sys
root=sys.argv[1]
def edit(path, pairs):
    p=root+'/'+path
    s=open(p).read()
    for old,new in pairs:
        if old not in s:
            sys.exit("not found in %s:\n%s" % (path, old))
        s=s.replace(old,new)
    open(p,'w').write(s)

edit('src/runtime/park.cc', [
("""  gp->reason.set(reason);
  gp->wait_obj.set(obj);
  gp->wait_since.set(coarse_now());
""", ""),
("""  gp->wait_since.set(coarse_now());
  set_state(gp, g_state::running, g_state::syscall);""", """  set_state(gp, g_state::running, g_state::syscall);"""),
])
edit('src/runtime/sched.cc', [
("""    if (!stack_canary_ok(gp->stk)) fatal_stack_overflow(gp);
    // The stack pointer at this scheduling point, for the high-water mark (g.h).
    if (auto sp = reinterpret_cast<std::uintptr_t>(gp->ctx.sp); sp < gp->min_sp.get()) gp->min_sp.set(sp);
""", ""),
("""    gp->stack_top.set(reinterpret_cast<std::uintptr_t>(gp->stk.lo) + gp->stk.size);
""", ""),
("""        gp->id.set(0);  // no longer a goroutine, for the registry's readers (g.h)
""", ""),
])
edit('src/runtime/spawn.cc', [
("""  gp->created.set_release(r.where());
""", ""),
("""  gp->min_sp.set(~std::uintptr_t{0});
  if constexpr (with_ctx) {""", """  if constexpr (false) {"""),
("""    if (gp->start_ctx != nullptr) [[unlikely]] release_start_ctx(gp);""", ""),
])
edit('src/sync/mutex_core.h', [
("""    m.owner_pc_.store(pc, std::memory_order_relaxed);
    g* gp = current_g();""", """    (void)pc;
    g* gp = current_g();"""),
("""    m.owner_.store(gp->id.get(), std::memory_order_relaxed);
    arch::hb_acquire(&m);""", """    arch::hb_acquire(&m);"""),
])
edit('src/sync/mutex.cc', [
("""detail::g_mutex_free_token.load(std::memory_order_relaxed)""", """0"""),
("""  const std::int32_t add = detail::g_mutex_unlock_add.load(std::memory_order_relaxed);""", """  const std::int32_t add = -detail::mutex_core::kLocked;"""),
])
