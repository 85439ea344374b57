// Taking a snapshot: gate, registry walk, unwinding. See snapshot.h and gate.h.

#include "diag/snapshot.h"

#include <algorithm>

#include "diag/gate.h"
#include "diag/settings.h"
#include "diag/symbolize.h"
#include "diag/unwind.h"
#include "runtime/clock.h"
#include "runtime/sched.h"
#include "runtime/stack.h"

namespace goro::detail {

namespace {

constexpr std::size_t kMaxDepth = 1024;

struct collect_arg {
  std::vector<std::pair<g*, g_snap>>* out;
  g* self;
  std::uint64_t only_id;
};

}  // namespace

void take_snapshot(snapshot& out, g* self, std::uint64_t only_id) {
  // The caller's own stack first: it is live, and it is ours.
  std::vector<std::uintptr_t> self_pcs(kMaxDepth);
  std::size_t n = 0;
  if (self != nullptr && (only_id == 0 || only_id == self->id.get())) n = unwind_current(self_pcs.data(), kMaxDepth);
  self_pcs.resize(n);
  take_snapshot(out, self, only_id, self_pcs);
}

void take_snapshot(snapshot& out, g* self, std::uint64_t only_id, const std::vector<std::uintptr_t>& self_pcs) {
  out.gs.clear();
  out.pcs.clear();
  out.now = coarse_now();
  out.show_stack_of = g_dump_stack_on.load(std::memory_order_relaxed) && g_sched != nullptr ? g_sched->stack_size : 0;
  std::vector<std::uintptr_t> buf(kMaxDepth);

  std::vector<std::pair<g*, g_snap>> found;
  if (g_sched != nullptr) {
    found.reserve(static_cast<std::size_t>(g_sched->ngoroutines.load(std::memory_order_relaxed)) + 64);
  }
  dump_gate_raise();
  // From here no goroutine seen waiting or runnable resumes until dump_gate_lower().
  collect_arg arg{&found, self, only_id};
  registry_for_each(
      [](g* gp, void* a) {
        auto* c = static_cast<collect_arg*>(a);
        g_identity who;
        if (!read_identity(gp, who)) return;
        if (c->only_id != 0 && who.id != c->only_id) return;
        g_snap s;
        s.id = who.id;
        s.parent_id = who.parent_id;
        s.created = who.created;
        s.state = gp->state.load(std::memory_order_relaxed);
        // Exiting (or recycled meanwhile: the id check below): not in a snapshot.
        if (s.state == g_state::idle || s.state == g_state::dead) return;
        if (s.state == g_state::waiting) {  // else they are left from an earlier wait (g.h)
          s.reason = gp->reason.get();
          s.wait_obj = gp->wait_obj.get();
        }
        if (s.state == g_state::waiting || s.state == g_state::syscall) s.wait_since = gp->wait_since.get();
        s.stack_hw = stack_high_water(gp, stack_size_configured());
        if (gp->id.get_acquire() != who.id) return;  // recycled while read: what we read may mix two
        s.current = gp == c->self;
        c->out->emplace_back(gp, s);
      },
      &arg);
  for (auto& [gp, s] : found) {
    if (s.current) {
      s.has_stack = true;
      s.pc_begin = static_cast<std::uint32_t>(out.pcs.size());
      s.pc_count = static_cast<std::uint32_t>(self_pcs.size());
      out.pcs.insert(out.pcs.end(), self_pcs.begin(), self_pcs.end());
      continue;
    }
    bool stable = s.state == g_state::waiting || s.state == g_state::runnable;
    if (s.state == g_state::running && dump_gate_holds(gp)) {
      // Its M waits at the gate to resume it: it is runnable in all but name.
      s.state = g_state::runnable;
      stable = true;
    }
    if (!stable) continue;
    std::size_t n = unwind_suspended(gp, buf.data(), kMaxDepth);
    if (n == 0) continue;  // not started yet
    s.has_stack = true;
    s.pc_begin = static_cast<std::uint32_t>(out.pcs.size());
    s.pc_count = static_cast<std::uint32_t>(n);
    out.pcs.insert(out.pcs.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
  }
  dump_gate_lower();

  out.gs.reserve(found.size());
  for (auto& f : found) out.gs.push_back(f.second);
  std::sort(out.gs.begin(), out.gs.end(), [](const g_snap& a, const g_snap& b) {
    if (a.current != b.current) return a.current;
    return a.id < b.id;
  });
}

void visible_frames(const std::uintptr_t* pcs, std::size_t n, std::vector<visible_frame>& out) {
  out.clear();
  for (std::size_t i = 0; i < n; i++) {
    const sym_pc& e = symbolize(pcs[i]);
    for (std::size_t j = 0; j < e.frames.size(); j++) out.push_back({&e, j});
  }
  // Hide goro's frames, and the std::invoke glue that sits between goro's entry frames and
  // the goroutine's function (outermost end of the stack).
  std::vector<bool> hide(out.size());
  std::size_t k = out.size();
  while (k > 0) {
    const sym_frame& f = out[k - 1].pc->frames[out[k - 1].index];
    if (!f.runtime && !f.glue) break;
    hide[--k] = true;
  }
  bool any = false;
  for (std::size_t i = 0; i < k; i++) {
    hide[i] = out[i].pc->frames[out[i].index].runtime;
    any = any || !hide[i];
  }
  if (!any) return;  // Go: if hiding would leave nothing, show everything
  std::size_t w = 0;
  for (std::size_t i = 0; i < out.size(); i++) {
    if (!hide[i]) out[w++] = out[i];
  }
  out.resize(w);
}

}  // namespace goro::detail
