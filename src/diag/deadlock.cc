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

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "diag/diag.h"
#include "diag/snapshot.h"
#include "goro/registry.h"
#include "runtime/clock.h"
#include "runtime/report.h"
#include "runtime/sched.h"
#include "runtime/spinlock.h"

namespace goro::detail {

extern bool g_checkdead_enabled;  // diag.cc

namespace {

// How long every M must stay idle before a deadlock is reported, and how many quick
// re-checks come before the first sleep.
constexpr std::int64_t kGraceNs = 100'000'000;
constexpr int kSpinChecks = 50;

std::vector<int>* g_baseline_tids = nullptr;  // sorted; written once per run() before any goroutine

std::vector<int> task_ids() {
  std::vector<int> out;
  if (DIR* d = opendir("/proc/self/task")) {
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] >= '0' && e->d_name[0] <= '9') out.push_back(std::atoi(e->d_name));
    }
    closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The threads that are neither in the baseline nor M's. sched.lock is not needed: allm only
// grows while run() is active, and a tid read racing with a new M's start shows it as
// foreign for this one check (no false deadlock report, at worst a missed one).
std::vector<int> foreign_threads() {
  std::vector<int> out;
  if (g_baseline_tids == nullptr) return out;
  std::vector<int> ms;
  {
    std::lock_guard<std::mutex> lk(g_sched->lock);
    for (m* mp : g_sched->allm) ms.push_back(mp->tid);
  }
  for (int tid : task_ids()) {
    if (std::binary_search(g_baseline_tids->begin(), g_baseline_tids->end(), tid)) continue;
    if (std::find(ms.begin(), ms.end(), tid) != ms.end()) continue;
    out.push_back(tid);
  }
  return out;
}

void report_possible_deadlock(const std::vector<int>& tids) {
  report r;
  r.kind = "possible-deadlock";
  r.text = "all goroutines are asleep, but " + std::to_string(tids.size()) +
           (tids.size() == 1 ? " thread" : " threads") + " started outside goro since run() began (tid";
  for (std::size_t i = 0; i < tids.size(); i++) r.text += (i == 0 ? " " : ", ") + std::to_string(tids[i]);
  r.text += ") may still wake one, so this is not reported as a deadlock; if none will, the program is "
            "stuck (send SIGQUIT for every goroutine's stack; GORO_DEADLOCK=0 turns this check off)";
  // The goroutines asleep: all of them, unless one of those threads woke one meanwhile.
  for (const goroutine_info& gi : goro::goroutines()) {
    if (gi.state == goroutine_state::waiting) r.goroutines.push_back(gi.id);
  }
  r.values.push_back({"threads", static_cast<std::int64_t>(tids.size())});
  for (int tid : tids) r.values.push_back({"tid", tid});
  emit_report(r);
}

bool queues_empty(p* pp) {
  return pp->runq_head.load(std::memory_order_acquire) == pp->runq_tail.load(std::memory_order_acquire) &&
         pp->runnext.load(std::memory_order_acquire) == nullptr;
}

}  // namespace

void deadlock_thread_baseline() {
  static std::vector<int> tids;  // reused by every run(); run() calls are not concurrent
  tids = task_ids();
  g_baseline_tids = &tids;
}

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
  // Threads started since run() began that are not M's (a std::thread of the program, a
  // library's worker) may still wake a goroutine through a goro object, which no census of
  // goroutines can rule out. Then this is not reported as a deadlock (never a false report):
  // the sink is told once, and the program keeps waiting.
  if (std::vector<int> others = foreign_threads(); !others.empty()) {
    static std::atomic<bool> told{false};
    if (!told.exchange(true)) report_possible_deadlock(others);
    return;
  }
  // Dump (no M can run a goroutine now), then check once more under the lock.
  snapshot snap;
  take_snapshot(snap, nullptr);
  std::string text = "fatal error: all goroutines are asleep - deadlock!\n\n";
  format_traceback(snap, text);
  {
    std::lock_guard<std::mutex> lk(g_sched->lock);
    if (!checkdead()) return;
  }
  // Decided: the process exits. The report sink gets it first (kind "deadlock"), outside
  // sched.lock, since a handler may call into goro; then Go's text goes to stderr whatever
  // the handler did, and the exit status is Go's. Should an M find a deadlock again while
  // the handler runs (it readied a goroutine that blocked in turn), it waits for the exit.
  static std::atomic<bool> exiting{false};
  if (exiting.exchange(true)) {
    for (;;) pause();
  }
  report r;
  r.kind = "deadlock";
  r.text.assign(text, 0, text.size() - (!text.empty() && text.back() == '\n' ? 1 : 0));
  for (const g_snap& gs : snap.gs) r.goroutines.push_back(gs.id);
  emit_report_to_handler(r);
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
