// The diagnostics monitor: a thread that looks at the goroutine table every interval and
// reports the misuse patterns of the guide goro is built from. Each detector reports a
// given situation once. See docs/diagnostics.md for the reports and docs/configuration.md
// for the knobs.
//
//  - partial deadlock: a cycle of goroutines each waiting for a goro mutex (or rw_mutex
//    write side) held by the next; the rest of the program keeps running.
//  - lock held while blocked: a goroutine holding a mutex that others wait for is itself
//    parked (sleep, channel, ...) or inside blocking() for longer than a threshold (the
//    guide's "pseudo-deadlock": I/O under a lock).
//  - cancellation not honoured: a goroutine started with go(ctx, fn) is still alive a
//    threshold after ctx was cancelled.
//  - stack close to overflow: the deepest stack use seen at a scheduling point passes a
//    percentage of the stack size.
//  - periodic leak report: goro::debug::leak_report() every GORO_LEAK_REPORT_S seconds.
//
// Cost: the monitor sleeps between passes; a pass walks the registry under its locks
// (O(goroutines)); only when a mutex candidate exists does it close the dump gate (so the
// mutexes it reads cannot be released and destroyed meanwhile).

#include "diag/monitor.h"

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "context/context_impl.h"
#include "diag/gate.h"
#include "diag/symbolize.h"
#include "goro/leak.h"
#include "goro/mutex.h"
#include "goro/rw_mutex.h"
#include "runtime/clock.h"
#include "runtime/report.h"
#include "runtime/sched.h"

namespace goro::detail {

namespace {

struct settings {
  std::int64_t interval_ms = 500;
  std::int64_t lockhold_ms = 1000;
  std::int64_t ctxignore_ms = 1000;
  std::int64_t stackwarn_pct = 75;
  std::int64_t leak_report_s = 0;
  std::int64_t leak_min_s = 60;
};

long env_or(const char* name, long fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  char* end = nullptr;
  long x = std::strtol(v, &end, 10);
  return end != v && *end == '\0' ? x : fallback;
}

struct record {
  std::uint64_t id = 0;
  g_state state = g_state::runnable;
  wait_reason reason = wait_reason::none;
  const void* wait_obj = nullptr;
  std::int64_t wait_since = 0;
  site created;
  std::shared_ptr<const void> ctx;
  std::uint32_t stack_hw = 0;
  std::size_t stack_size = 0;
};

struct monitor {
  settings cfg;
  std::mutex lock;
  std::condition_variable cv;
  bool stop = false;  // (lock)
  std::thread thread;
  // Already reported situations (monitor thread only).
  std::set<std::pair<std::uint64_t, std::int64_t>> reported_holds;  // (owner id, its wait_since)
  std::set<std::vector<std::pair<std::uint64_t, std::int64_t>>> reported_cycles;
  std::map<std::uint64_t, std::int64_t> ctx_cancel_seen;  // goroutine -> when first seen cancelled
  std::set<std::uint64_t> reported_ctx, reported_stack;
  std::int64_t last_leak_report = 0;
};
monitor* g_monitor = nullptr;

std::string where(const void* pc) {
  if (pc == nullptr) return "?";
  symbolizer_lock lk;
  const sym_pc& sp = symbolize(reinterpret_cast<std::uintptr_t>(pc));
  if (sp.frames.empty()) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%p", pc);
    return buf;
  }
  // The innermost frame of the user's code: lock() is usually reached through inlined
  // std::lock_guard / std::unique_lock constructors, which say nothing useful.
  const sym_frame* pick = &sp.frames.front();
  for (const auto& f : sp.frames) {
    if (f.name.rfind("std::", 0) != 0 && f.name.rfind("goro::", 0) != 0) {
      pick = &f;
      break;
    }
  }
  const sym_frame& f = *pick;
  return f.name + " (" + (f.file.empty() ? "?" : f.file) + ":" + std::to_string(f.line) + ")";
}

std::string created_text(const site& s) {
  if (s.file != nullptr) return split_function_name(s.function != nullptr ? s.function : "?").name + " (" + s.file + ":" + std::to_string(s.line) + ")";
  return where(s.pc);
}

std::string secs(std::int64_t ns) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", static_cast<double>(ns) / 1e9);
  return buf;
}

bool is_mutex_wait(wait_reason r);

// What a scan keeps: only the goroutines some detector needs, so that a scan of many
// goroutines allocates nothing for the others.
struct scan_filter {
  std::int64_t now = 0;
  std::int64_t min_lock_wait_ns = -1;  // mutex waiters parked at least this long (-1: none)
  bool with_ctx = false;               // goroutines started under a context
  std::uint32_t min_stack_hw = 0;      // stack high-water at least this (0: none)
  const std::set<std::uint64_t>* ids = nullptr;  // these goroutines, whatever they do
};

record make_record(g* gp, bool with_ctx) {
  record r;
  r.id = gp->id;
  r.state = gp->state.load(std::memory_order_relaxed);
  r.reason = gp->reason.get();
  r.wait_obj = gp->wait_obj.get();
  r.wait_since = gp->wait_since.get();
  r.created = gp->created;
  if (with_ctx) r.ctx = gp->start_ctx;
  r.stack_hw = gp->stack_hw.get();
  return r;
}

// Scans the registry one shard at a time (spawns and exits on other P's go on).
std::vector<record> census(const scan_filter& f) {
  std::vector<record> out;
  struct arg_t {
    std::vector<record>* out;
    const scan_filter* f;
  } arg{&out, &f};
  registry_for_each_shard(
      [](g* gp, void* a) {
        auto* arg = static_cast<arg_t*>(a);
        const scan_filter& f = *arg->f;
        bool keep = false;
        if (f.min_lock_wait_ns >= 0 && is_mutex_wait(gp->reason.get()) &&
            gp->state.load(std::memory_order_relaxed) == g_state::waiting) {
          std::int64_t since = gp->wait_since.get();
          keep = since != 0 && f.now - since >= f.min_lock_wait_ns;
        }
        bool has_ctx = f.with_ctx && gp->start_ctx != nullptr;
        keep = keep || has_ctx || (f.min_stack_hw != 0 && gp->stack_hw.get() >= f.min_stack_hw) ||
               (f.ids != nullptr && f.ids->count(gp->id) != 0);
        if (keep) arg->out->push_back(make_record(gp, has_ctx));
      },
      &arg);
  return out;
}

bool is_mutex_wait(wait_reason r) {
  return r == wait_reason::mutex_lock || r == wait_reason::rwmutex_lock || r == wait_reason::rwmutex_rlock;
}

// Who holds the lock a goroutine waits for (0 if unknown, e.g. readers of a rw_mutex).
mutex_owner_info holder_of(const record& w) {
  if (w.reason == wait_reason::mutex_lock) return mutex_owner(*static_cast<const goro::mutex*>(w.wait_obj));
  return rw_mutex_writer(*static_cast<const goro::rw_mutex*>(w.wait_obj));
}

const char* lock_kind(wait_reason r) { return r == wait_reason::mutex_lock ? "sync.Mutex" : "sync.RWMutex"; }

void emit(const char* kind, std::uint64_t id, std::string text) {
  report r;
  r.kind = kind;
  r.goroutine = id;
  r.text = std::move(text);
  emit_report(r);
}

void check_locks(monitor& mon, std::int64_t now) {
  const std::int64_t hold_ns = mon.cfg.lockhold_ms * 1'000'000;
  // Waiters worth a look: parked on a lock for 100 ms (a cycle) or the hold threshold.
  scan_filter f;
  f.now = now;
  f.min_lock_wait_ns = std::min<std::int64_t>(hold_ns > 0 ? hold_ns : 100'000'000, 100'000'000);
  if (census(f).empty()) return;

  // With the gate closed, parked goroutines stay parked, so the locks they wait on stay
  // alive while we read their owners.
  std::vector<record> waiters;
  struct edge {
    std::uint64_t owner;
    const void* owner_pc;
  };
  std::map<std::uint64_t, edge> waits_for;  // waiter -> holder
  dump_gate_raise();
  waiters = census(f);
  std::set<std::uint64_t> owners;
  for (const auto& r : waiters) {
    if (r.state != g_state::waiting || !is_mutex_wait(r.reason) || r.wait_obj == nullptr) continue;
    mutex_owner_info o = holder_of(r);
    if (o.goroutine != 0 && o.goroutine != r.id) {
      waits_for[r.id] = {o.goroutine, o.pc};
      owners.insert(o.goroutine);
    }
  }
  dump_gate_lower();
  if (waits_for.empty()) return;
  scan_filter of;
  of.ids = &owners;
  std::vector<record> gs = census(of);
  for (auto& r : waiters) gs.push_back(r);
  std::map<std::uint64_t, const record*> by_id;
  for (const auto& r : gs) by_id.emplace(r.id, &r);

  // Partial deadlocks: cycles in waits_for (each goroutine waits for at most one lock).
  std::set<std::uint64_t> done;
  for (const auto& [start, e0] : waits_for) {
    if (done.count(start) != 0) continue;
    std::vector<std::uint64_t> path;
    std::set<std::uint64_t> on_path;
    std::uint64_t cur = start;
    while (waits_for.count(cur) != 0 && on_path.count(cur) == 0 && done.count(cur) == 0) {
      path.push_back(cur);
      on_path.insert(cur);
      cur = waits_for[cur].owner;
    }
    for (auto id : path) done.insert(id);
    if (on_path.count(cur) == 0) continue;  // no cycle through this path
    std::vector<std::uint64_t> cycle(std::find(path.begin(), path.end(), cur), path.end());
    std::vector<std::pair<std::uint64_t, std::int64_t>> key;
    for (auto id : cycle) key.emplace_back(id, by_id[id]->wait_since);
    std::sort(key.begin(), key.end());
    if (!mon.reported_cycles.insert(key).second) continue;
    std::string text = "partial deadlock: " + std::to_string(cycle.size()) +
                       " goroutines wait for each other's locks (the rest of the program keeps running):";
    for (auto id : cycle) {
      const record& w = *by_id[id];
      const edge& e = waits_for[id];
      char obj[32];
      std::snprintf(obj, sizeof obj, "%p", w.wait_obj);
      text += "\n  goroutine " + std::to_string(id) + " waits for " + lock_kind(w.reason) + " " + obj +
              " held by goroutine " + std::to_string(e.owner) + " (locked at " + where(e.owner_pc) +
              "); created at " + created_text(w.created);
    }
    emit("partial-deadlock", cycle.front(), std::move(text));
  }

  // Locks held while their holder is blocked on something else.
  if (mon.cfg.lockhold_ms <= 0) return;
  std::map<std::uint64_t, std::vector<std::uint64_t>> waiters_of;
  for (const auto& [w, e] : waits_for) waiters_of[e.owner].push_back(w);
  for (const auto& [owner, waiters] : waiters_of) {
    auto it = by_id.find(owner);
    if (it == by_id.end()) continue;
    const record& o = *it->second;
    bool blocked = (o.state == g_state::waiting && !is_mutex_wait(o.reason)) || o.state == g_state::syscall;
    if (!blocked || o.wait_since == 0 || now - o.wait_since < hold_ns) continue;
    if (!mon.reported_holds.insert({owner, o.wait_since}).second) continue;
    const record& w0 = *by_id[waiters.front()];
    char obj[32];
    std::snprintf(obj, sizeof obj, "%p", w0.wait_obj);
    std::string in = o.state == g_state::syscall ? "a blocking call" : "[" + std::string(to_string(o.reason)) + "]";
    std::string text = "goroutine " + std::to_string(owner) + " holds " + lock_kind(w0.reason) + " " + obj +
                       " (locked at " + where(waits_for[waiters.front()].owner_pc) + ") while blocked in " + in +
                       " for " + secs(now - o.wait_since) + "; " + std::to_string(waiters.size()) +
                       " goroutine(s) wait for it:";
    for (auto w : waiters) text += " " + std::to_string(w);
    text += "; created at " + created_text(o.created);
    emit("lock-held-while-blocked", owner, std::move(text));
  }
}

void check_contexts(monitor& mon, std::int64_t now, const std::vector<record>& gs) {
  std::map<std::uint64_t, std::int64_t> seen;
  for (const auto& r : gs) {
    if (!r.ctx) continue;
    auto* ctx = static_cast<const context_impl*>(r.ctx.get());
    if (!ctx->err()) continue;
    auto prev = mon.ctx_cancel_seen.find(r.id);
    std::int64_t first = prev != mon.ctx_cancel_seen.end() ? prev->second : now;
    seen[r.id] = first;
    if (now - first < mon.cfg.ctxignore_ms * 1'000'000 || !mon.reported_ctx.insert(r.id).second) continue;
    std::string state = r.state == g_state::waiting ? "parked in [" + std::string(to_string(r.reason)) + "]"
                        : r.state == g_state::syscall ? "in a blocking call"
                                                       : "running";
    emit("context-ignored", r.id,
         "goroutine " + std::to_string(r.id) + " is still alive " + secs(now - first) +
             " after its context was cancelled (" + ctx->describe() + ": " + ctx->err().message() + "); it is " +
             state + " and does not honour cancellation; created at " + created_text(r.created));
  }
  mon.ctx_cancel_seen = std::move(seen);
}

void check_stacks(monitor& mon, const std::vector<record>& gs) {
  const std::size_t size = stack_size_configured();
  for (const auto& r : gs) {
    if (r.stack_hw * 100 < size * static_cast<std::size_t>(mon.cfg.stackwarn_pct)) continue;
    if (!mon.reported_stack.insert(r.id).second) continue;
    emit("stack-high-water", r.id,
         "goroutine " + std::to_string(r.id) + " has used " + std::to_string(r.stack_hw) + " of its " +
             std::to_string(size) + "-byte stack (" + std::to_string(r.stack_hw * 100 / size) +
             "%) at a scheduling point; it is close to overflowing; created at " + created_text(r.created));
  }
}

void pass(monitor& mon) {
  std::int64_t now = coarse_now();
  check_locks(mon, now);
  scan_filter f;
  f.now = now;
  f.with_ctx = mon.cfg.ctxignore_ms > 0;
  if (mon.cfg.stackwarn_pct > 0) {
    f.min_stack_hw = static_cast<std::uint32_t>(stack_size_configured() * static_cast<std::size_t>(mon.cfg.stackwarn_pct) / 100);
  }
  if (f.with_ctx || f.min_stack_hw != 0) {
    std::vector<record> gs = census(f);
    if (f.with_ctx) check_contexts(mon, now, gs);
    if (f.min_stack_hw != 0) check_stacks(mon, gs);
    // Forget reported goroutines that are gone: they were in this scan if still alive.
    if (!mon.reported_ctx.empty() || !mon.reported_stack.empty()) {
      std::set<std::uint64_t> live;
      for (const auto& r : gs) live.insert(r.id);
      for (auto* s : {&mon.reported_ctx, &mon.reported_stack}) {
        for (auto it = s->begin(); it != s->end();) it = live.count(*it) != 0 ? std::next(it) : s->erase(it);
      }
    }
  }
  if (mon.cfg.leak_report_s > 0 && now - mon.last_leak_report >= mon.cfg.leak_report_s * 1'000'000'000) {
    mon.last_leak_report = now;
    emit("leak-report", 0, goro::debug::leak_report(std::chrono::seconds(mon.cfg.leak_min_s)));
  }
}

void loop() {
  monitor& mon = *g_monitor;
  std::unique_lock<std::mutex> lk(mon.lock);
  mon.last_leak_report = coarse_now();
  auto wait = std::chrono::milliseconds(mon.cfg.interval_ms);
  while (!mon.stop) {
    mon.cv.wait_for(lk, wait);
    if (mon.stop) break;
    lk.unlock();
    auto t0 = std::chrono::steady_clock::now();
    pass(mon);
    auto took = std::chrono::steady_clock::now() - t0;
    lk.lock();
    // Keep the monitor under ~2% of one core however many goroutines there are.
    wait = std::max(std::chrono::milliseconds(mon.cfg.interval_ms),
                    std::chrono::duration_cast<std::chrono::milliseconds>(took * 50));
  }
}

}  // namespace

void monitor_start() {
  settings cfg;
  cfg.interval_ms = env_or("GORO_DIAG_INTERVAL_MS", cfg.interval_ms);
  cfg.lockhold_ms = env_or("GORO_LOCKHOLD_MS", cfg.lockhold_ms);
  cfg.ctxignore_ms = env_or("GORO_CTXIGNORE_MS", cfg.ctxignore_ms);
  cfg.stackwarn_pct = env_or("GORO_STACKWARN_PCT", cfg.stackwarn_pct);
  cfg.leak_report_s = env_or("GORO_LEAK_REPORT_S", cfg.leak_report_s);
  cfg.leak_min_s = env_or("GORO_LEAK_MIN_S", cfg.leak_min_s);
  if (cfg.interval_ms <= 0) return;  // the monitor is off
  g_monitor = new monitor;
  g_monitor->cfg = cfg;
  g_monitor->thread = std::thread(loop);
}

void monitor_stop() {
  if (g_monitor == nullptr) return;
  {
    std::lock_guard<std::mutex> lk(g_monitor->lock);
    g_monitor->stop = true;
  }
  g_monitor->cv.notify_all();
  g_monitor->thread.join();
  delete g_monitor;
  g_monitor = nullptr;
}

}  // namespace goro::detail
