// The diagnostics monitor: a thread that looks at the goroutine table every interval and
// reports the misuse patterns of the guide goro is built from. Each detector reports a
// given situation once. See docs/diagnostics.md for the reports and docs/configuration.md
// for the knobs.
//
//  - partial deadlock: a cycle of goroutines each waiting for a goro mutex or rw_mutex held
//    by the next (for a writer waiting for readers to leave: held for reading by one of
//    them, as recorded in g::read_locks, see rw_readers.h); the rest of the program keeps
//    running.
//  - lock held while blocked: a goroutine holding a lock that others wait for is itself
//    parked (sleep, channel, ...) or inside blocking() for longer than a threshold (the
//    guide's "pseudo-deadlock": I/O under a lock).
//  - cancellation not honoured: a goroutine started with go(ctx, fn) is still alive a
//    threshold after ctx was cancelled.
//  - stack close to overflow: the deepest stack use seen at a scheduling point passes a
//    percentage of the stack size.
//  - periodic leak report: goro::debug::leak_report()'s text every GORO_LEAK_REPORT_S seconds,
//    its growth taken against the previous periodic report only (a baseline of its own).
//
// Cost: the monitor sleeps between passes; a pass walks the registry under its locks
// (O(goroutines)); only when a mutex candidate exists does it close the dump gate (so the
// mutexes it reads cannot be released and destroyed meanwhile).

#include "diag/monitor.h"

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <tuple>
#include <string>
#include <thread>
#include <vector>

#include "context/context_impl.h"
#include "diag/gate.h"
#include "diag/leak_groups.h"
#include "diag/settings.h"
#include "diag/sites.h"
#include "goro/mutex.h"
#include "goro/rw_mutex.h"
#include "runtime/clock.h"
#include "runtime/report.h"
#include "runtime/sched.h"

namespace goro::detail {

namespace {

using settings = diag_settings;  // read at run() start (settings.h)

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
  // Seen in the last pass of check_locks: a cycle or a blocked holder is reported only when
  // two passes in a row see it. A mutex names its previous holder for the moment between a
  // new holder's CAS and its owner store (sync/mutex.cc, record_owner()); a pass that reads
  // it then must not become a report. A cycle is keyed by its members' waits; a hold by
  // (holder, waiter, the waiter's wait start), which stays the same while the waiter waits
  // even if the holder blocks again and again on short waits of its own.
  struct sightings {
    std::set<std::vector<std::pair<std::uint64_t, std::int64_t>>> cycles;
    std::set<std::tuple<std::uint64_t, std::uint64_t, std::int64_t>> holds;
  } seen;
  std::map<std::uint64_t, std::int64_t> ctx_cancel_seen;  // goroutine -> when first seen cancelled
  std::set<std::uint64_t> reported_ctx, reported_stack;
  std::int64_t last_leak_report = 0;
  blocked_baseline leak_baseline;  // the periodic report's own, for its growth
};
monitor* g_monitor = nullptr;

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

// False if gp is not a goroutine (any more): read_identity() in g.h.
bool make_record(g* gp, bool with_ctx, record& r) {
  g_identity who;
  if (!read_identity(gp, who)) return false;
  r.id = who.id;
  r.created = who.created;
  r.state = gp->state.load(std::memory_order_relaxed);
  if (r.state == g_state::waiting) {  // else they are left from an earlier wait (g.h)
    r.reason = gp->reason.get();
    r.wait_obj = gp->wait_obj.get();
  }
  if (r.state == g_state::waiting || r.state == g_state::syscall) r.wait_since = gp->wait_since.get();
  if (with_ctx) {
    std::lock_guard<spinlock> lk(gp->ctx_lock);
    r.ctx = gp->start_ctx;
  }
  r.stack_hw = stack_high_water(gp, stack_size_configured());
  return gp->id.get_acquire() == r.id;  // not recycled meanwhile
}

bool has_start_ctx(g* gp) {
  std::lock_guard<spinlock> lk(gp->ctx_lock);
  return gp->start_ctx != nullptr;
}

// Scans the registry (spawns and exits go on meanwhile).
std::vector<record> census(const scan_filter& f) {
  std::vector<record> out;
  struct arg_t {
    std::vector<record>* out;
    const scan_filter* f;
  } arg{&out, &f};
  registry_for_each(
      [](g* gp, void* a) {
        auto* arg = static_cast<arg_t*>(a);
        const scan_filter& f = *arg->f;
        bool keep = false;
        if (f.min_lock_wait_ns >= 0 && is_mutex_wait(gp->reason.get()) &&
            gp->state.load(std::memory_order_relaxed) == g_state::waiting) {
          std::int64_t since = gp->wait_since.get();
          keep = since != 0 && f.now - since >= f.min_lock_wait_ns;
        }
        bool has_ctx = f.with_ctx && has_start_ctx(gp);
        keep = keep || has_ctx ||
               (f.min_stack_hw != 0 && stack_high_water(gp, stack_size_configured()) >= f.min_stack_hw) ||
               (f.ids != nullptr && f.ids->count(gp->id.get()) != 0);
        record r;
        if (keep && make_record(gp, has_ctx, r)) arg->out->push_back(std::move(r));
      },
      &arg);
  return out;
}

bool is_mutex_wait(wait_reason r) {
  return r == wait_reason::mutex_lock || r == wait_reason::rwmutex_lock || r == wait_reason::rwmutex_rlock;
}

// Who holds the lock a goroutine waits for, as the lock recorded it: a mutex's owner; for an
// rw_mutex the writer, whom new readers and other writers wait for (for the writer itself,
// announced and waiting for the readers to leave, that is itself: see check_locks). Zero
// if unknown.
mutex_owner_info holder_of(const record& w) {
  if (w.reason == wait_reason::mutex_lock) return mutex_owner(*static_cast<const goro::mutex*>(w.wait_obj));
  return rw_mutex_writer(*static_cast<const goro::rw_mutex*>(w.wait_obj));
}

const char* lock_kind(wait_reason r) { return r == wait_reason::mutex_lock ? "sync.Mutex" : "sync.RWMutex"; }

// One goroutine waiting for a lock another holds.
struct edge {
  std::uint64_t owner = 0;
  const void* owner_pc = nullptr;  // where the owner took the lock
  bool read = false;               // the owner holds it for reading
};

// rw_mutex -> the goroutines recorded as holding it for reading, with their lock sites.
using reader_map = std::map<const void*, std::vector<std::pair<std::uint64_t, const void*>>>;

// The recorded readers (g::read_locks, diag/rw_readers.h) of the rw_mutexes in `want`.
reader_map readers_of(const std::set<const void*>& want) {
  reader_map out;
  struct arg_t {
    const std::set<const void*>* want;
    reader_map* out;
  } arg{&want, &out};
  registry_for_each(
      [](g* gp, void* a) {
        auto* arg = static_cast<arg_t*>(a);
        std::uint64_t id = gp->id.get_acquire();
        if (gp->read_locks_of.get() != id) return;  // records of an earlier goroutine (g.h)
        std::vector<std::pair<const void*, const void*>> found;  // (rw, pc)
        for (const auto& rl : gp->read_locks) {
          const void* rw = rl.rw.get();
          if (rw != nullptr && arg->want->count(rw) != 0) found.emplace_back(rw, rl.pc.get());
        }
        if (gp->id.get_acquire() != id) return;  // recycled while read
        for (const auto& [rw, pc] : found) (*arg->out)[rw].emplace_back(id, pc);
      },
      &arg);
  return out;
}

void emit(report&& r) { emit_report(r); }

// The cycles of the wait-for graph, each once: a goroutine waits for every goroutine it has
// an edge to (a writer for all the readers still inside), so every cycle is a deadlock. A
// depth-first search; a back edge closes a cycle (the path from its target to the top).
std::vector<std::vector<std::uint64_t>> cycles(const std::map<std::uint64_t, std::vector<edge>>& waits_for) {
  enum class mark : std::uint8_t { none, on_path, done };
  std::map<std::uint64_t, mark> marks;
  std::vector<std::vector<std::uint64_t>> out;
  for (const auto& [start, unused] : waits_for) {
    if (marks[start] != mark::none) continue;
    std::vector<std::pair<std::uint64_t, std::size_t>> path{{start, 0}};  // (goroutine, next edge)
    marks[start] = mark::on_path;
    while (!path.empty()) {
      const std::uint64_t node = path.back().first;
      auto it = waits_for.find(node);
      if (it == waits_for.end() || path.back().second == it->second.size()) {
        marks[node] = mark::done;
        path.pop_back();
        continue;
      }
      const std::uint64_t to = it->second[path.back().second++].owner;
      mark& m = marks[to];
      if (m == mark::none) {
        m = mark::on_path;
        path.emplace_back(to, 0);
      } else if (m == mark::on_path) {
        auto from = std::find_if(path.begin(), path.end(), [to](const auto& p) { return p.first == to; });
        std::vector<std::uint64_t> cycle;
        for (; from != path.end(); ++from) cycle.push_back(from->first);
        out.push_back(std::move(cycle));
      }
    }
  }
  return out;
}

// One pass of the lock detectors; what it sees goes into `now_seen`, which becomes the next
// pass's confirmation (monitor::seen).
void check_locks(monitor& mon, std::int64_t now, monitor::sightings& now_seen) {
  if (!mon.cfg.partial_deadlock && mon.cfg.lockhold_ms <= 0) return;
  const std::int64_t hold_ns = mon.cfg.lockhold_ms * 1'000'000;
  // Waiters worth a look: parked on a lock for 100 ms (a cycle) or the hold threshold.
  scan_filter f;
  f.now = now;
  f.min_lock_wait_ns = std::min<std::int64_t>(hold_ns > 0 ? hold_ns : 100'000'000, 100'000'000);
  if (!mon.cfg.partial_deadlock) f.min_lock_wait_ns = hold_ns;
  if (census(f).empty()) return;

  // With the gate closed, parked goroutines stay parked, so the locks they wait on stay
  // alive while we read their owners.
  std::vector<record> waiters;
  std::map<std::uint64_t, std::vector<edge>> waits_for;  // waiter -> the goroutines it waits for
  std::map<std::uint64_t, const void*> writers;          // writer waiting for readers -> its rw_mutex
  std::set<const void*> rws;
  dump_gate_raise();
  waiters = census(f);
  for (const auto& r : waiters) {
    if (r.state != g_state::waiting || !is_mutex_wait(r.reason) || r.wait_obj == nullptr) continue;
    mutex_owner_info o = holder_of(r);
    if (o.goroutine == r.id && r.reason == wait_reason::rwmutex_lock) {
      writers[r.id] = r.wait_obj;  // the writer itself: it waits for the readers
      rws.insert(r.wait_obj);
    } else if (o.goroutine != 0 && o.goroutine != r.id) {
      waits_for[r.id].push_back({o.goroutine, o.pc, false});
    }
  }
  reader_map readers = rws.empty() ? reader_map{} : readers_of(rws);
  dump_gate_lower();
  for (const auto& [w, rw] : writers) {
    for (const auto& [reader, pc] : readers[rw]) {
      if (reader != w) waits_for[w].push_back({reader, pc, true});
    }
  }
  if (waits_for.empty()) return;
  std::set<std::uint64_t> owners;
  for (const auto& [w, es] : waits_for) {
    for (const edge& e : es) owners.insert(e.owner);
  }
  scan_filter of;
  of.ids = &owners;
  std::vector<record> gs = census(of);
  // A waiter's record from the gated census first: the edges were read from that one.
  std::map<std::uint64_t, const record*> by_id;
  for (const auto& r : waiters) by_id.emplace(r.id, &r);
  for (const auto& r : gs) by_id.emplace(r.id, &r);
  auto edge_to = [&](std::uint64_t from, std::uint64_t to) -> const edge& {
    const auto& es = waits_for[from];
    return *std::find_if(es.begin(), es.end(), [to](const edge& e) { return e.owner == to; });
  };

  // Partial deadlocks.
  for (const auto& cycle : mon.cfg.partial_deadlock ? cycles(waits_for) : std::vector<std::vector<std::uint64_t>>{}) {
    std::vector<std::pair<std::uint64_t, std::int64_t>> key;
    for (auto id : cycle) key.emplace_back(id, by_id[id]->wait_since);
    std::sort(key.begin(), key.end());
    now_seen.cycles.insert(key);
    if (mon.seen.cycles.count(key) == 0 || !mon.reported_cycles.insert(key).second) continue;
    report r;
    r.kind = "partial-deadlock";
    r.goroutine = cycle.front();
    r.text = "partial deadlock: " + std::to_string(cycle.size()) +
             " goroutines wait for each other's locks (the rest of the program keeps running):";
    for (std::size_t i = 0; i < cycle.size(); i++) {
      const std::uint64_t id = cycle[i];
      const record& w = *by_id[id];
      const edge& e = edge_to(id, cycle[(i + 1) % cycle.size()]);
      report_site locked = code_site(e.owner_pc, e.read ? "read-locked" : "locked", e.owner);
      report_site created = created_site(w.created, id);
      r.text += "\n  goroutine " + std::to_string(id) + " waits for " + lock_kind(w.reason) + " " +
                address_text(w.wait_obj) + (e.read ? " held for reading by goroutine " : " held by goroutine ") +
                std::to_string(e.owner) + (e.read ? " (read-locked at " : " (locked at ") + site_text(locked) +
                "); created at " + site_text(created);
      r.goroutines.push_back(id);
      r.objects.push_back({lock_kind(w.reason), w.wait_obj});
      r.sites.push_back(std::move(locked));
      r.sites.push_back(std::move(created));
    }
    emit(std::move(r));
  }

  // Locks held while their holder is blocked on something else.
  if (mon.cfg.lockhold_ms <= 0) return;
  std::map<std::uint64_t, std::vector<std::pair<std::uint64_t, const edge*>>> waiters_of;  // holder -> (waiter, edge)
  for (const auto& [w, es] : waits_for) {
    for (const edge& e : es) waiters_of[e.owner].emplace_back(w, &e);
  }
  for (const auto& [owner, ws] : waiters_of) {
    // The edge (this waiter waits for this holder) must have been seen by the last pass too,
    // whatever the holder was doing then: see monitor::seen.
    bool confirmed = false;
    for (const auto& [w, e] : ws) {
      std::tuple<std::uint64_t, std::uint64_t, std::int64_t> key{owner, w, by_id[w]->wait_since};
      confirmed = confirmed || mon.seen.holds.count(key) != 0;
      now_seen.holds.insert(key);
    }
    auto it = by_id.find(owner);
    if (it == by_id.end()) continue;
    const record& o = *it->second;
    bool blocked = (o.state == g_state::waiting && !is_mutex_wait(o.reason)) || o.state == g_state::syscall;
    if (!blocked || o.wait_since == 0 || now - o.wait_since < hold_ns) continue;
    if (!confirmed || !mon.reported_holds.insert({owner, o.wait_since}).second) continue;
    // The lock its first waiter waits for, and every waiter of that lock.
    const record& w0 = *by_id[ws.front().first];
    const edge& e0 = *ws.front().second;
    std::vector<std::uint64_t> same;
    for (const auto& [w, e] : ws) {
      if (by_id[w]->wait_obj == w0.wait_obj) same.push_back(w);
    }
    report r;
    r.kind = "lock-held-while-blocked";
    r.goroutine = owner;
    report_site locked = code_site(e0.owner_pc, e0.read ? "read-locked" : "locked", owner);
    report_site created = created_site(o.created, owner);
    std::string in = o.state == g_state::syscall ? "a blocking call" : "[" + std::string(to_string(o.reason)) + "]";
    r.text = "goroutine " + std::to_string(owner) + " holds " + lock_kind(w0.reason) + " " +
             address_text(w0.wait_obj) + (e0.read ? " for reading (read-locked at " : " (locked at ") +
             site_text(locked) + ") while blocked in " + in + " for " + secs(now - o.wait_since) + "; " +
             std::to_string(same.size()) + " goroutine(s) wait for it:";
    for (auto w : same) r.text += " " + std::to_string(w);
    r.text += "; created at " + site_text(created);
    r.goroutines.push_back(owner);
    r.goroutines.insert(r.goroutines.end(), same.begin(), same.end());
    r.objects.push_back({lock_kind(w0.reason), w0.wait_obj});
    r.sites.push_back(std::move(locked));
    r.sites.push_back(std::move(created));
    r.values.push_back({"blocked_ms", (now - o.wait_since) / 1'000'000});
    emit(std::move(r));
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
    report out;
    out.kind = "context-ignored";
    out.goroutine = r.id;
    report_site created = created_site(r.created, r.id);
    out.text = "goroutine " + std::to_string(r.id) + " is still alive " + secs(now - first) +
               " after its context was cancelled (" + ctx->describe() + ": " + ctx->err().message() + "); it is " +
               state + " and does not honour cancellation; created at " + site_text(created);
    out.goroutines.push_back(r.id);
    out.objects.push_back({"context.Context", r.ctx.get()});
    out.sites.push_back(std::move(created));
    out.values.push_back({"since_cancel_ms", (now - first) / 1'000'000});
    emit(std::move(out));
  }
  mon.ctx_cancel_seen = std::move(seen);
}

void check_stacks(monitor& mon, const std::vector<record>& gs) {
  const std::size_t size = stack_size_configured();
  for (const auto& r : gs) {
    if (r.stack_hw * 100 < size * static_cast<std::size_t>(mon.cfg.stackwarn_pct)) continue;
    if (!mon.reported_stack.insert(r.id).second) continue;
    report out;
    out.kind = "stack-high-water";
    out.goroutine = r.id;
    report_site created = created_site(r.created, r.id);
    out.text = "goroutine " + std::to_string(r.id) + " has used " + std::to_string(r.stack_hw) + " of its " +
               std::to_string(size) + "-byte stack (" + std::to_string(r.stack_hw * 100 / size) +
               "%) at a scheduling point; it is close to overflowing; created at " + site_text(created);
    out.goroutines.push_back(r.id);
    out.sites.push_back(std::move(created));
    out.values.push_back({"stack_used", static_cast<std::int64_t>(r.stack_hw)});
    out.values.push_back({"stack_size", static_cast<std::int64_t>(size)});
    emit(std::move(out));
  }
}

void pass(monitor& mon) {
  std::int64_t now = coarse_now();
  monitor::sightings seen;
  check_locks(mon, now, seen);
  mon.seen = std::move(seen);
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
  if (mon.cfg.leak_report_ms > 0 && now - mon.last_leak_report >= mon.cfg.leak_report_ms * 1'000'000) {
    mon.last_leak_report = now;
    emit(leak_report(std::chrono::milliseconds(mon.cfg.leak_min_ms), 3, mon.leak_baseline));
  }
}

void loop() {
  monitor& mon = *g_monitor;
  std::unique_lock<std::mutex> lk(mon.lock);
  mon.last_leak_report = coarse_now();
  const auto interval = std::chrono::milliseconds(mon.cfg.interval_ms);
  auto wait = interval;
  std::chrono::nanoseconds before{0};  // how long the previous pass took (none yet)
  while (!mon.stop) {
    mon.cv.wait_for(lk, wait);
    if (mon.stop) break;
    lk.unlock();
    auto t0 = std::chrono::steady_clock::now();
    pass(mon);
    std::chrono::nanoseconds took = std::chrono::steady_clock::now() - t0;
    lk.lock();
    wait = monitor_wait(interval, took, before);
    before = took;
  }
}

}  // namespace

std::chrono::milliseconds monitor_wait(std::chrono::milliseconds interval, std::chrono::nanoseconds last,
                                       std::chrono::nanoseconds before) {
  // Waiting 50 times as long as a pass took keeps the monitor under ~2% of one core however
  // many goroutines there are, but only a cost that repeats may set that pace: the cheaper of
  // the last two passes. A one-off (the first symbolization loads the debug information:
  // about 100 ms, seconds under TSan) would otherwise hold the next pass back for seconds, and
  // every detector would fire that much past its threshold. Passes that stay expensive back
  // off from the second one on. Not capped at a multiple of the interval: with enough
  // goroutines, a cap would let the scans take any share of a core.
  const std::chrono::nanoseconds steady = std::min(last, before);
  return std::max(interval, std::chrono::duration_cast<std::chrono::milliseconds>(steady * 50));
}

void monitor_start() {
  settings cfg = diag_config();
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
