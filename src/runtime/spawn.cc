// Creating and finishing goroutines: go(), the first frame of every goroutine, and the
// recycling of g structures.

#include <cstdio>
#include <optional>
#include <stdexcept>

#include "goro/runtime.h"
#include "runtime/fatal.h"
#include "runtime/park.h"
#include "runtime/sched.h"
#include "runtime/trace.h"

namespace goro::detail {

std::atomic<void (*)()> g_main_exit_check{nullptr};

namespace {

constexpr int kLocalGfreeMax = 64;
constexpr std::uint64_t kGoidBatch = 16;

// g's are allocated kGChunk at a time (one allocation and one lock per chunk, not per g:
// spawning on many P's at once otherwise serialises on the lock below).
constexpr int kGChunk = 32;
static_assert(kGChunk - 1 <= kLocalGfreeMax, "a fresh chunk must fit an empty per-P cache");

// Recycled g's beyond the per-P caches, and every chunk of g's ever allocated (freed at
// shutdown).
struct g_store {
  spinlock lock;
  g* free = nullptr;
  std::atomic<int> nfree{0};  // written under lock; read without it as a hint
  std::vector<g*> chunks;     // each an array of kGChunk g's
};
g_store* g_gstore = nullptr;

g* gfree_new_chunk(p* pp);

// Inline: spawn's common case is a few instructions here (GCC otherwise decides by the size
// of the refill loop below, differently for builds that differ elsewhere in spawn).
[[gnu::always_inline]] inline g* gfree_get(p* pp) {
  if (pp != nullptr && pp->gfree == nullptr && g_gstore->nfree.load(std::memory_order_relaxed) > 0) {
    std::lock_guard<spinlock> lk(g_gstore->lock);
    while (g_gstore->free != nullptr && pp->ngfree < kLocalGfreeMax / 2) {
      g* gp = g_gstore->free;
      g_gstore->free = gp->schedlink;
      g_gstore->nfree--;
      gp->schedlink = pp->gfree;
      pp->gfree = gp;
      pp->ngfree++;
    }
  }
  if (pp != nullptr && pp->gfree != nullptr) {
    g* gp = pp->gfree;
    pp->gfree = gp->schedlink;
    pp->ngfree--;
    gp->schedlink = nullptr;
    return gp;
  }
  return gfree_new_chunk(pp);
}

// Nothing to recycle: a new chunk. The first g is returned, the rest go to pp's cache
// (empty here), or to the global free list for a spawn from outside any P. Out of line,
// so that gfree_get() stays small enough to inline into spawn.
[[gnu::noinline]] g* gfree_new_chunk(p* pp) {
  g* chunk = new g[kGChunk];
  registry_add_chunk(chunk, kGChunk);
  std::lock_guard<spinlock> lk(g_gstore->lock);
  g_gstore->chunks.push_back(chunk);
  for (int i = 1; i < kGChunk; i++) {
    if (pp != nullptr) {
      chunk[i].schedlink = pp->gfree;
      pp->gfree = &chunk[i];
      pp->ngfree++;
    } else {
      chunk[i].schedlink = g_gstore->free;
      g_gstore->free = &chunk[i];
      g_gstore->nfree++;
    }
  }
  return &chunk[0];
}

std::uint64_t new_goid(p* pp) {
  if (pp == nullptr) return g_sched->goid_gen.fetch_add(1, std::memory_order_relaxed) + 1;
  if (pp->goid_next == pp->goid_end) {
    pp->goid_next = g_sched->goid_gen.fetch_add(kGoidBatch, std::memory_order_relaxed) + 1;
    pp->goid_end = pp->goid_next + kGoidBatch;
  }
  return pp->goid_next++;
}

[[noreturn]] void goexit(g* gp) {
  m* mp = current_m();
  mp->action.set(post_action::exit);
  arch::hb_release(&mp->g0);  // the switch-out edge (TSan), see post_switch(): the g is recycled there
  arch::switch_final(gp->ctx, mp->g0);
}

// ctx: go(ctx, fn)'s context (with_ctx only), kept for the diagnostics monitor (g.h).
template <bool with_ctx>
void spawn_impl(routine& r, std::shared_ptr<const void>* ctx) {
  m* mp = current_m();
  // From a plain thread the call is counted, so that run() cannot free the scheduler under it.
  std::optional<external_call> call;
  if (mp == nullptr) call.emplace();
  sched_t* s = mp == nullptr ? call->sched() : g_sched;
  if (s == nullptr) throw std::logic_error("goro::go: the runtime is not running (call it inside goro::run)");
  p* pp = mp != nullptr ? mp->pp.get() : nullptr;
  g* parent = mp != nullptr ? mp->curg.get() : nullptr;
  // The P's caches (free g's, the id batch) are used by its goroutines (here) and by its
  // scheduler context (gfree_put() at exit). A switch between the two is not an edge for
  // TSan (see post_switch()), so their users are ordered through this key instead.
  if (pp != nullptr) arch::hb_acquire(&pp->gfree);
  g* gp = gfree_get(pp);
  try {
    r.place_into(gp->task);
  } catch (...) {
    gfree_put(pp, gp);
    throw;
  }
  const std::uint64_t id = new_goid(pp);
  if (pp != nullptr) arch::hb_release(&pp->gfree);
  // Identity: the fields, then (below) the id, last (g.h: lock-free readers see the g all
  // along, and take it for a goroutine once its id is set).
  gp->parent_id.set_release(parent != nullptr ? parent->id.get() : 0);
  gp->created.set_release(r.where());
  gp->param.set(0);
  gp->min_sp.set(~std::uintptr_t{0});
  if constexpr (with_ctx) {
    std::lock_guard<spinlock> lk(gp->ctx_lock);
    gp->start_ctx = std::move(*ctx);
  }
  arch::init_fiber(gp->ctx);
#ifdef GORO_TSAN
  char name[32];
  std::snprintf(name, sizeof name, "goroutine %llu", static_cast<unsigned long long>(id));
  arch::set_name(gp->ctx, name);
#endif
  set_state(gp, g_state::idle, g_state::runnable);
  gp->id.set_release(id);  // after the state: a reader that sees the id sees it runnable or later
  s->ngoroutines.fetch_add(1, std::memory_order_relaxed);
  if (const trace::hooks* th = tracing()) [[unlikely]] trace_go_create(th, gp, pp != nullptr ? pp->id : -1);
  arch::hb_release(gp);
  if (pp != nullptr) {
    runqput(pp, gp, true);
  } else {
    globrunqput(gp);
  }
  wakep();
}

}  // namespace

void gstore_init() { g_gstore = new g_store; }

void gstore_destroy() {
  // Abandoned goroutines (see runtime.h): their function objects are destroyed, their stacks
  // returned without unwinding.
  for (g* chunk : g_gstore->chunks) {
    for (int i = 0; i < kGChunk; i++) {
      g* gp = &chunk[i];
      if (gp->stk && gp->ctx.sp != nullptr && gp->state.load(std::memory_order_relaxed) != g_state::idle) {
        arch::keep_abandoned_stack_reachable(gp->ctx.sp, static_cast<char*>(gp->stk.lo) + gp->stk.size);
      }
      gp->task.reset();
      arch::destroy(gp->ctx);
      if (gp->stk) stack_free(gp->stk);
    }
    delete[] chunk;
  }
  delete g_gstore;
  g_gstore = nullptr;
}

void gfree_put(p* pp, g* gp) {
  set_state(gp, gp->state.load(std::memory_order_relaxed), g_state::idle);
  if (pp == nullptr) {
    std::lock_guard<spinlock> lk(g_gstore->lock);
    gp->schedlink = g_gstore->free;
    g_gstore->free = gp;
    g_gstore->nfree++;
    return;
  }
  arch::hb_acquire(&pp->gfree);  // see spawn_impl()
  struct release_at_end {
    p* pp;
    ~release_at_end() { arch::hb_release(&pp->gfree); }
  } release{pp};
  gp->schedlink = pp->gfree;
  pp->gfree = gp;
  if (++pp->ngfree >= kLocalGfreeMax) {
    std::lock_guard<spinlock> lk(g_gstore->lock);
    while (pp->ngfree > kLocalGfreeMax / 2) {
      g* g2 = pp->gfree;
      pp->gfree = g2->schedlink;
      pp->ngfree--;
      g2->schedlink = g_gstore->free;
      g_gstore->free = g2;
      g_gstore->nfree++;
    }
  }
}

// Takes gp's start context out under ctx_lock, which the diagnostics monitor's reads hold,
// and releases it outside.
[[gnu::noinline]] void release_start_ctx(g* gp) {
  std::shared_ptr<const void> ctx;
  std::lock_guard<spinlock> lk(gp->ctx_lock);
  ctx.swap(gp->start_ctx);
}

void g_entry(void* arg) {
  auto* gp = static_cast<g*>(arg);
  arch::on_first_entry();
  resumed_on_m(gp);
  arch::hb_acquire(gp);
  try {
    gp->task.run();
    gp->task.reset();
    // Released here, on the goroutine, not on the scheduler stack at exit: the last
    // reference may run user destructors (context values) that use goroutine operations.
    // Taken out under ctx_lock, which the diagnostics monitor's reads hold, and released
    // outside it.
    if (gp->start_ctx != nullptr) [[unlikely]] release_start_ctx(gp);
    if (gp->id.get() == 1) {
      // goro::testing's leak check runs on goroutine 1, before run() abandons the others.
      if (void (*check)() = g_main_exit_check.load(std::memory_order_acquire)) check();
    }
  } catch (...) {
    goroutine_panicked(gp, std::current_exception());
    if (gp->start_ctx != nullptr) release_start_ctx(gp);
  }
  if (const trace::hooks* th = tracing()) [[unlikely]] {
    p* pp = current_m()->pp.get();
    trace_go(th, trace::event_kind::go_end, gp, pp != nullptr ? pp->id : -1);
  }
  goexit(gp);
}

void spawn(routine r) { spawn_impl<false>(r, nullptr); }

void spawn_with_context(routine& r, std::shared_ptr<const void> ctx) { spawn_impl<true>(r, &ctx); }

void spawn_from_pc(routine r, const void* pc) {
  r.where() = site{nullptr, nullptr, 0, pc != nullptr ? pc : __builtin_return_address(0)};
  spawn_impl<false>(r, nullptr);
}

}  // namespace goro::detail
