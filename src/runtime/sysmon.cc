// Sysmon: the monitor thread (Go's sysmon). It needs no P and does two things:
//  - takes P's back from M's stuck in blocking() (a P in `syscall` for a full tick, with
//    work waiting or nobody else to run it, goes to another M);
//  - reports goroutines that run too long without a scheduling point. C++ code cannot be
//    preempted, so a goroutine that never parks or yields holds its P: goro says so.
// It sleeps 20us between checks, backing off to 10ms while there is nothing to do.

#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>

#include "diag/symbolize.h"
#include "runtime/clock.h"
#include "runtime/report.h"
#include "runtime/sched.h"

namespace goro::detail {

namespace {

struct sysmon_state {
  std::mutex lock;
  std::condition_variable cv;
  bool stop = false;  // (lock)
  std::thread thread;
};
sysmon_state* g_sysmon = nullptr;

constexpr std::int64_t kRetakeAfterNs = 10'000'000;  // retake even with no waiting work

void report_long_running(p* pp, std::int64_t ran_ns) {
  m* mp = pp->owner.get();
  g* running = mp != nullptr ? mp->curg.get() : nullptr;
  if (running == nullptr) return;
  // curg is a racy pointer, but g's live until run() ends: read the identity lock-free
  // (g.h), which also tells whether that g is still (or again) a goroutine.
  g_identity found;
  if (!read_identity(running, found)) return;
  report r;
  r.kind = "long-running";
  r.goroutine = found.id;
  char buf[512];
  const site& c = found.created;
  if (c.file != nullptr) {
    std::snprintf(buf, sizeof buf,
                  "goroutine %llu has been running for %lld ms without a scheduling point "
                  "(created at %s:%u); goroutines are not preempted, so its processor runs nothing else",
                  static_cast<unsigned long long>(found.id), static_cast<long long>(ran_ns / 1'000'000), c.file,
                  c.line);
  } else {
    std::snprintf(buf, sizeof buf,
                  "goroutine %llu has been running for %lld ms without a scheduling point "
                  "(created by code at %p); goroutines are not preempted, so its processor runs nothing else",
                  static_cast<unsigned long long>(found.id), static_cast<long long>(ran_ns / 1'000'000), c.pc);
  }
  r.text = buf;
  r.goroutines.push_back(found.id);
  // The creation site as recorded, not symbolized: sysmon must not stall loading debug
  // information.
  report_site created;
  created.role = "created";
  created.goroutine = found.id;
  if (c.file != nullptr) {
    created.function = split_function_name(c.function != nullptr ? c.function : "?").name;
    created.file = c.file;
    created.line = c.line;
  } else {
    created.pc = c.pc;
  }
  r.sites.push_back(std::move(created));
  r.values.push_back({"running_ms", ran_ns / 1'000'000});
  emit_report(r);
}

// One pass over the P's. Returns true if it did anything.
bool check(std::int64_t now) {
  bool acted = false;
  for (p* pp : g_sched->allp) {
    p_status st = pp->status.load(std::memory_order_acquire);
    if (st == p_status::syscall) {
      std::uint32_t tick = pp->syscalltick.load(std::memory_order_relaxed);
      if (pp->sysmon_syscalltick != tick) {
        pp->sysmon_syscalltick = tick;
        pp->sysmon_syscallwhen = now;
        continue;
      }
      // In the same blocking call since the last pass. Leave it if it has nothing queued
      // and other M's are around to pick up new work, unless it has been long.
      bool others = g_sched->nmspinning.load(std::memory_order_relaxed) + g_sched->npidle.load(std::memory_order_relaxed) > 0;
      bool queued = pp->runq_head.load(std::memory_order_relaxed) != pp->runq_tail.load(std::memory_order_relaxed) ||
                    pp->runnext.load(std::memory_order_relaxed) != nullptr || pp->timer0.load(std::memory_order_relaxed) != 0;
      if (!queued && others && now - pp->sysmon_syscallwhen < kRetakeAfterNs) continue;
      p_status expect = p_status::syscall;
      if (pp->status.compare_exchange_strong(expect, p_status::idle, std::memory_order_acq_rel)) {
        arch::hb_acquire(pp);  // the owner's scheduler state, released in execute() (TSan)
        handoffp(pp);
        acted = true;
      }
    } else if (st == p_status::running && g_sched->longrun_ns > 0) {
      std::uint32_t tick = pp->schedtick.load(std::memory_order_relaxed);
      if (pp->sysmon_schedtick != tick) {
        pp->sysmon_schedtick = tick;
        pp->sysmon_schedwhen = now;
        continue;
      }
      m* mp = pp->owner.get();
      if (mp == nullptr || mp->curg.get() == nullptr) continue;  // looking for work, not running
      if (now - pp->sysmon_schedwhen >= g_sched->longrun_ns && pp->sysmon_reported != tick) {
        pp->sysmon_reported = tick;
        report_long_running(pp, now - pp->sysmon_schedwhen);
        acted = true;
      }
    }
  }
  return acted;
}

void loop() {
  std::int64_t delay_us = 20;
  int idle = 0;
  std::unique_lock<std::mutex> lk(g_sysmon->lock);
  while (!g_sysmon->stop) {
    g_sysmon->cv.wait_for(lk, std::chrono::microseconds(delay_us));
    if (g_sysmon->stop) break;
    coarse_tick_update();
    lk.unlock();
    bool acted = check(clock_now());
    lk.lock();
    if (acted) {
      idle = 0;
      delay_us = 20;
    } else if (++idle > 50) {
      delay_us = delay_us * 2 > 10'000 ? 10'000 : delay_us * 2;
    }
  }
}

}  // namespace

void sysmon_start() {
  g_sysmon = new sysmon_state;
  g_sysmon->thread = std::thread(loop);
}

void sysmon_stop() {
  {
    std::lock_guard<std::mutex> lk(g_sysmon->lock);
    g_sysmon->stop = true;
  }
  g_sysmon->cv.notify_all();
  g_sysmon->thread.join();
  delete g_sysmon;
  g_sysmon = nullptr;
}

}  // namespace goro::detail
