#pragma once
// The runtime's hooks into diagnostics: what run.cc and sched.cc call. Everything else in
// src/diag/ is reached through goro/debug.h.

namespace goro {
struct options;
}

namespace goro::detail {

// At run() start, after the scheduler exists: reads the diagnostics settings, installs the
// SIGQUIT handler and starts the diagnostics thread.
void diag_start(const options& opts);
// At run() end, before the M's are stopped: removes the handler, stops the thread (waiting
// for a dump in progress).
void diag_stop();

// Go's checkdead. Call with sched.lock held, from an M that has just put itself on the idle
// list: true if no goroutine can ever run again (every M idle, no run queue with work, no
// timer pending). Then release the lock and call deadlock_exit().
bool checkdead();
// Prints Go's deadlock report and exits with status 2, unless a re-check (the state may
// have changed while the dump was taken) finds the program alive: then it returns.
void deadlock_exit();
// Records the threads alive now (run() calls it once its own service threads exist and
// before any goroutine can start a thread): the deadlock check treats a thread that is in
// neither this set nor an M as one that may still wake a goroutine.
void deadlock_thread_baseline();

}  // namespace goro::detail
