// The lock-order checker (lockorder.h): a graph of "B was taken while A was held" edges over
// goro's mutexes and rw_mutexes, and a report for every cycle in it.
//
// State, all protected by checker::lock (a plain std::mutex, taken only while the checker
// is on: the sync primitives call in here only after reading lockorder_on()):
//  - nodes: one per lock (keyed by the address of the goro::mutex or goro::rw_mutex) that
//    is held or has an edge. nodes[A].out[B] records, the first time some goroutine took B
//    while holding A, that goroutine and both acquire sites; nodes[B].in lists A, so that a
//    destroyed lock can be unlinked.
//  - held: goroutine id -> the locks it holds, oldest first, each with its acquire site
//    (the lock() call's return address, the pc the mutex records for its owner). A side
//    table rather than a field of g: it costs nothing when the checker is off, and an entry
//    can outlive its goroutine (one goroutine may lock and exit, another unlock, as in Go).
//  - reported: the lock sets of the cycles already reported (each is reported once).
//
// Invariants (checker::lock held, while active):
//  - B is in nodes[A].out iff A is in nodes[B].in; never A == B.
//  - held[g] has an entry (L, write or mutex mode) iff nodes[L].writer == g, and one entry
//    (L, read) for each occurrence of g in nodes[L].readers. No list in held is empty.
//  - A node exists only while it has an edge or a holder.
//
// Unlock by another goroutine than the locker: the node says who holds the lock, so the
// entry leaves the locker's list whoever unlocks it (a plain thread included). A read lock
// released by a goroutine that holds no read lock of it is taken off the list of the
// oldest reader that does: readers are interchangeable for the order.
//
// Cycles: a new edge A->B closes a cycle iff B already reaches A. The search is
// breadth-first from B, so the cycle reported is a shortest one: an inversion of two locks
// is reported as two locks even when a longer path exists too. Only new edges are searched:
// an edge already in the graph was checked when it was added. Unlike lockdep, the edge is
// added even when it closes a cycle, so that later cycles through it are found too.
//
// Locks are instances, not classes: lockdep groups locks by the place they were initialised
// and so also sees "A then B" for one pair of objects against "B then A" for another pair;
// goro compares orders of the same two locks only (a goro mutex has no name or init site).
//
// Lock order: checker::lock is a leaf. It is taken with user-level goro mutexes held (that
// is the point) but never with a runtime lock held, and nothing is taken under it: reports
// are formatted and sent to the sink after it is released.

#include "diag/lockorder.h"

#include <algorithm>
#include <cassert>
#include <deque>
#include <exception>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "diag/sites.h"
#include "diag/snapshot.h"
#include "goro/runtime.h"
#include "runtime/park.h"
#include "runtime/report.h"
#include "runtime/sched.h"
#include "sync/mutex_core.h"

namespace goro::detail {

constinit std::atomic<bool> g_lockorder_on{false};

namespace {

struct held_lock {
  const void* lock;
  const void* pc;  // where it was taken
  lock_mode mode;
};

// The first time `goroutine` took the edge's target while holding its source.
struct edge {
  std::uint64_t goroutine;
  const void* from_pc;  // where it had taken the source
  lock_mode from_mode;
  const void* to_pc;  // where it took the target
  lock_mode to_mode;
};

// A lock in the graph. Every field is protected by checker::lock.
struct node {
  bool rw = false;  // a goro::rw_mutex, else a goro::mutex (for the report's wording)
  std::unordered_map<const void*, edge> out;  // B -> the edge this => B
  std::unordered_set<const void*> in;        // the A's of the edges A => this
  std::uint64_t writer = 0;                   // goroutine holding it (mutex or write side), or 0
  std::vector<std::uint64_t> readers;        // goroutines holding a read lock, in arrival order
};

struct checker {
  // A leaf (see the file comment): never held while switching goroutines or calling out.
  std::mutex lock;
  bool active = false;  // (lock) the checker is on for the current run()
  std::unordered_map<const void*, node> nodes;                      // (lock)
  std::unordered_map<std::uint64_t, std::vector<held_lock>> held;  // (lock) by goroutine id
  std::set<std::vector<const void*>> reported;                     // (lock) sorted lock sets

  void clear() {
    nodes.clear();
    held.clear();
    reported.clear();
  }
};

// Never destroyed: a mutex may be destroyed during static destruction, and goroutines
// abandoned by run() may still be on their way out when it clears the state.
checker& the_checker() {
  static checker* c = new checker;
  return *c;
}

node& node_for(checker& c, const void* lock, lock_mode mode) {
  auto [it, fresh] = c.nodes.try_emplace(lock);
  if (fresh) it->second.rw = mode != lock_mode::mutex;
  return it->second;
}

// Drops a node that has no edge and no holder left (the invariant above).
void prune(checker& c, const void* lock) {
  auto it = c.nodes.find(lock);
  if (it == c.nodes.end()) return;
  const node& n = it->second;
  if (n.out.empty() && n.in.empty() && n.writer == 0 && n.readers.empty()) c.nodes.erase(it);
}

// Removes the newest entry for (lock, read or not) from g's held list. The node named g as
// a holder, so the entry exists (the invariant above).
void drop_held(checker& c, std::uint64_t g, const void* lock, bool read) {
  auto h = c.held.find(g);
  assert(h != c.held.end() && "lock-order checker: a holder without a held list");
  if (h == c.held.end()) return;
  auto& list = h->second;
  bool found = false;
  for (auto it = list.end(); it != list.begin();) {
    --it;
    if (it->lock == lock && (it->mode == lock_mode::rw_read) == read) {
      list.erase(it);
      found = true;
      break;
    }
  }
  assert(found && "lock-order checker: a holder without its held-list entry");
  (void)found;
  if (list.empty()) c.held.erase(h);
}

// A shortest path from `from` to `to` along edges, both ends included; empty if none.
std::vector<const void*> path(const checker& c, const void* from, const void* to) {
  std::unordered_map<const void*, const void*> parent{{from, nullptr}};
  std::deque<const void*> queue{from};
  while (!queue.empty()) {
    const void* n = queue.front();
    queue.pop_front();
    if (n == to) {
      std::vector<const void*> p;
      for (const void* x = to; x != nullptr; x = parent[x]) p.push_back(x);
      std::reverse(p.begin(), p.end());
      return p;
    }
    auto it = c.nodes.find(n);
    if (it == c.nodes.end()) continue;
    for (const auto& [next, e] : it->second.out) {
      if (parent.emplace(next, n).second) queue.push_back(next);
    }
  }
  return {};
}

// One edge of a cycle, copied out of the graph for the report.
struct cycle_edge {
  const void* from;
  bool from_rw;
  const void* to;
  bool to_rw;
  edge e;
};

const char* lock_type(bool rw) { return rw ? "sync.RWMutex" : "sync.Mutex"; }

std::string lock_name(const void* lock, bool rw) { return std::string(lock_type(rw)) + " " + address_text(lock); }

// The report of one cycle. Sites are the innermost frame of the user's code at the lock
// call (diag/sites.h): lock() is usually reached through inlined std::lock_guard or
// std::unique_lock constructors, which say nothing useful.
report format(std::uint64_t self, const std::vector<cycle_edge>& cycle) {
  report r;
  r.kind = "lock-order-inversion";
  r.goroutine = self;
  r.text = "lock-order inversion (potential deadlock): cycle in the lock-order graph: ";
  for (const cycle_edge& ce : cycle) {
    r.text += lock_name(ce.from, ce.from_rw) + " => ";
    r.objects.push_back({lock_type(ce.from_rw), ce.from});
  }
  r.text += lock_name(cycle.front().from, cycle.front().from_rw);
  for (std::size_t i = 0; i < cycle.size(); i++) {
    const cycle_edge& ce = cycle[i];
    const bool now = i == 0;  // the acquisition in progress; the others are history
    const bool to_read = ce.e.to_mode == lock_mode::rw_read;
    const bool from_read = ce.e.from_mode == lock_mode::rw_read;
    report_site to = code_site(ce.e.to_pc, to_read ? "read-lock" : "lock", ce.e.goroutine);
    report_site from = code_site(ce.e.from_pc, from_read ? "read-held" : "held", ce.e.goroutine);
    r.text += "\n  goroutine " + std::to_string(ce.e.goroutine) + " " + (to_read ? "read-" : "") +
              (now ? "locks " : "locked ") + lock_name(ce.to, ce.to_rw) + " at " + site_text(to) +
              " while holding " + lock_name(ce.from, ce.from_rw) + " (" + (from_read ? "read-" : "") +
              "locked at " + site_text(from) + ")";
    r.goroutines.push_back(ce.e.goroutine);
    r.sites.push_back(std::move(to));
    r.sites.push_back(std::move(from));
  }
  return r;
}

// Formats and sends one report, on a helper thread (symbolizing needs more stack than a
// goroutine may have), as goro::debug's dumps do.
void emit(std::uint64_t self, const std::vector<cycle_edge>& cycle) {
  run_on_helper_thread([&] { emit_report(format(self, cycle)); });
}

}  // namespace

void lockorder_before(const void* lock, lock_mode mode, const void* pc) {
  g* gp = current_g();
  if (gp == nullptr) return;
  checker& c = the_checker();
  std::vector<std::vector<cycle_edge>> found;
  {
    std::lock_guard<std::mutex> lk(c.lock);
    if (!c.active) return;
    auto h = c.held.find(gp->id.get());
    if (h == c.held.end()) return;  // holds nothing: no order to record
    for (const held_lock& a : h->second) {
      // Taking a lock it holds already is not an order between two locks (a mutex then
      // deadlocks on itself; a second read lock is a misuse of its own).
      if (a.lock == lock) continue;
      node& from = c.nodes.at(a.lock);  // exists: it is held
      if (from.out.count(lock) != 0) continue;
      node& to = node_for(c, lock, mode);  // references into nodes survive rehashing
      std::vector<const void*> back = path(c, lock, a.lock);
      const edge e{gp->id.get(), a.pc, a.mode, pc, mode};
      from.out.emplace(lock, e);
      to.in.insert(a.lock);
      if (back.empty()) continue;
      std::vector<const void*> key = back;
      std::sort(key.begin(), key.end());
      if (!c.reported.insert(std::move(key)).second) continue;
      // The cycle a => lock => ... => a, starting with the edge being added.
      std::vector<cycle_edge> cycle{{a.lock, from.rw, lock, to.rw, e}};
      for (std::size_t i = 0; i + 1 < back.size(); i++) {
        const node& x = c.nodes.at(back[i]);
        const node& y = c.nodes.at(back[i + 1]);
        cycle.push_back({back[i], x.rw, back[i + 1], y.rw, x.out.at(back[i + 1])});
      }
      found.push_back(std::move(cycle));
    }
  }
  for (const auto& cycle : found) emit(gp->id.get(), cycle);
}

void lockorder_acquired(const void* lock, lock_mode mode, const void* pc) {
  g* gp = current_g();
  if (gp == nullptr) return;
  checker& c = the_checker();
  std::lock_guard<std::mutex> lk(c.lock);
  if (!c.active) return;
  node& n = node_for(c, lock, mode);
  if (mode == lock_mode::rw_read) {
    n.readers.push_back(gp->id.get());
  } else {
    n.writer = gp->id.get();
  }
  c.held[gp->id.get()].push_back({lock, pc, mode});
}

void lockorder_released(const void* lock, lock_mode mode) noexcept {
  checker& c = the_checker();
  std::lock_guard<std::mutex> lk(c.lock);
  if (!c.active) return;
  auto it = c.nodes.find(lock);
  if (it == c.nodes.end()) return;  // taken on a plain thread, or before the checker knew it
  node& n = it->second;
  if (mode == lock_mode::rw_read) {
    if (n.readers.empty()) return;
    g* gp = current_g();
    auto r = gp != nullptr ? std::find(n.readers.begin(), n.readers.end(), gp->id.get()) : n.readers.end();
    if (r == n.readers.end()) r = n.readers.begin();  // another goroutine's read lock
    std::uint64_t holder = *r;
    n.readers.erase(r);
    drop_held(c, holder, lock, true);
  } else {
    if (n.writer == 0) return;
    drop_held(c, n.writer, lock, false);
    n.writer = 0;
  }
  prune(c, lock);
}

void lockorder_forget(const void* lock) noexcept {
  checker& c = the_checker();
  std::lock_guard<std::mutex> lk(c.lock);
  if (!c.active) return;
  auto it = c.nodes.find(lock);
  if (it == c.nodes.end()) return;
  node n = std::move(it->second);
  c.nodes.erase(it);
  // Destroying a held lock is undefined; still, leave no entry behind for its address.
  if (n.writer != 0) drop_held(c, n.writer, lock, false);
  for (std::uint64_t r : n.readers) drop_held(c, r, lock, true);
  for (const void* p : n.in) {
    c.nodes.at(p).out.erase(lock);
    prune(c, p);
  }
  for (const auto& [s, e] : n.out) {
    c.nodes.at(s).in.erase(lock);
    prune(c, s);
  }
  // A new lock at this address starts with no history, reports included.
  for (auto r = c.reported.begin(); r != c.reported.end();) {
    r = std::binary_search(r->begin(), r->end(), lock) ? c.reported.erase(r) : std::next(r);
  }
}

void lockorder_start(bool on) {
  checker& c = the_checker();
  {
    std::lock_guard<std::mutex> lk(c.lock);
    c.clear();
    c.active = on;
  }
  // Before any goroutine or M exists: thread creation publishes it. The mutex fast paths'
  // tokens send every goro::mutex call to the hooks (sync/mutex_core.h).
  g_lockorder_on.store(on, std::memory_order_relaxed);
  g_mutex_free_token.store(on ? -1 : 0, std::memory_order_relaxed);
  g_mutex_unlock_add.store(on ? 0 : -mutex_core::kLocked, std::memory_order_relaxed);
}

void lockorder_stop() {
  g_lockorder_on.store(false, std::memory_order_relaxed);
  g_mutex_free_token.store(0, std::memory_order_relaxed);
  g_mutex_unlock_add.store(-mutex_core::kLocked, std::memory_order_relaxed);
  checker& c = the_checker();
  std::lock_guard<std::mutex> lk(c.lock);
  c.active = false;
  c.clear();
}

std::size_t lockorder_tracked() {
  checker& c = the_checker();
  std::lock_guard<std::mutex> lk(c.lock);
  std::size_t n = c.nodes.size();
  for (const auto& [g, list] : c.held) n += list.size();
  return n;
}

}  // namespace goro::detail
