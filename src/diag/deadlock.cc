// Global deadlock detection, as Go's checkdead (proc.go).
//
// The argument: goroutines only run on M's. An M is idle exactly when it sits on
// sched.midle, with no P. When the last M goes idle, nothing inside the runtime can make a
// goroutine runnable again unless
//  - a run queue still holds work (the M's re-check misses nothing: see sched.cc), or
//  - a timer is pending (a sleeping goroutine; the M that waits for it in the poller is not
//    idle, but its timer is checked too, for the instant it hands over), or
//  - an M is inside goro::blocking() (it is not on the idle list, so it counts as running:
//    its call may return and wake others).
// The poller has no I/O waiters yet; when the netpoller registers some, they count too.
// Invisible: a plain thread that is not an M (a std::thread calling a channel's try_send)
// can ready a goroutine at any time. The report waits for the state to hold for a grace
// period, which covers a thread that answers promptly; a program whose goroutines wait on
// threads that may take longer should disable the check (GORO_DEADLOCK=0).

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>

#include "diag/diag.h"
#include "diag/snapshot.h"
#include "runtime/clock.h"
#include "runtime/sched.h"
#include "runtime/spinlock.h"

namespace goro::detail {

extern bool g_checkdead_enabled;  // diag.cc

namespace {

// How long every M must stay idle before a deadlock is reported, and how many quick
// re-checks come before the first sleep.
constexpr std::int64_t kGraceNs = 100'000'000;
constexpr int kSpinChecks = 50;

bool queues_empty(p* pp) {
  return pp->runq_head.load(std::memory_order_acquire) == pp->runq_tail.load(std::memory_order_acquire) &&
         pp->runnext.load(std::memory_order_acquire) == nullptr;
}

}  // namespace

bool checkdead() {
  sched_t* s = g_sched;
  if (!g_checkdead_enabled || s->shutdown.load(std::memory_order_relaxed) ||
      s->main_done.load(std::memory_order_relaxed)) {
    return false;
  }
  std::size_t idle = 0;
  for (m* mp = s->midle; mp != nullptr; mp = mp->link) idle++;
  if (idle < s->allm.size()) return false;  // some M runs, spins, polls or blocks
  if (s->runq_size.load(std::memory_order_acquire) > 0) return false;
  for (p* pp : s->allp) {
    if (!queues_empty(pp) || pp->timer0.load(std::memory_order_acquire) != 0) return false;
  }
  return s->ngoroutines.load(std::memory_order_relaxed) > 0;
}

void deadlock_exit() {
  // Confirm first: a plain thread may be about to ready a goroutine (it cannot be seen
  // coming), so the state must hold for a grace period. The M that found it is on the idle
  // list meanwhile: a startm() that picks it takes it off, and the re-check fails at once.
  // Cheap for a live program (a few checks), and a real deadlock is reported kGraceNs late.
  std::int64_t deadline = clock_now() + kGraceNs;
  for (int i = 0;; i++) {
    if (i < kSpinChecks) {
      for (int k = 0; k < 64; k++) cpu_relax();
    } else {
      std::this_thread::sleep_for(std::chrono::microseconds(i < kSpinChecks + 20 ? 20 : 1000));
    }
    {
      std::lock_guard<std::mutex> lk(g_sched->lock);
      if (!checkdead()) return;
    }
    if (clock_now() >= deadline) break;
  }
  // Dump (no M can run a goroutine now), then check once more under the lock.
  snapshot snap;
  take_snapshot(snap, nullptr);
  std::string text = "fatal error: all goroutines are asleep - deadlock!\n\n";
  format_traceback(snap, text);
  std::lock_guard<std::mutex> lk(g_sched->lock);
  if (!checkdead()) return;
  std::fflush(stdout);
  std::fflush(stderr);
  std::size_t off = 0;
  while (off < text.size()) {
    ssize_t n = write(STDERR_FILENO, text.data() + off, text.size() - off);
    if (n <= 0) break;
    off += static_cast<std::size_t>(n);
  }
  _exit(2);
}

}  // namespace goro::detail
