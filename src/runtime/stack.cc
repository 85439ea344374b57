// The stack pool. Stacks are carved from slabs of kSlabStacks, each stack preceded by a
// guard page. Why slabs and how guards are made, given vm.max_map_count (65530 on a stock
// kernel) and a million parked goroutines:
//  - one mmap per stack would need a million mappings; a slab is one mapping.
//  - a guard made with mprotect splits the mapping (2 mappings per stack), so mprotect
//    guards are used only for the first kMprotectGuardBudget stacks.
//  - Linux 6.13+ installs guard pages inside a mapping without splitting it
//    (MADV_GUARD_INSTALL): when the kernel has it, every stack gets a guard.
//  - stacks without a guard page carry a canary at their lowest word, checked on every
//    switch out of the goroutine (see sched.cc), so an overflow is still reported.
// Under ThreadSanitizer stacks are mapped and unmapped one by one instead: TSan forgets
// the history of unmapped memory, so a reused stack cannot look like a race.

#include "runtime/stack.h"

#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>
#include <vector>

#include "arch/sanitizer.h"
#include "runtime/sched.h"

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

namespace goro::detail {

namespace {

constexpr std::size_t kSlabStacks = 32;
constexpr std::size_t kMprotectGuardBudget = 16384;

struct pool {
  std::mutex lock;
  std::size_t size = 0;  // usable bytes per stack
  std::size_t page = 4096;
  std::vector<stack> free;
  std::vector<std::pair<void*, std::size_t>> slabs;
  int madvise_guards = -1;  // -1 unknown, 0 no, 1 yes
  std::size_t mprotect_guards = 0;
};
pool* g_pool = nullptr;

[[maybe_unused]] bool make_guard(void* guard) {  // unused under TSan (see stack_alloc())
  if (g_pool->madvise_guards != 0) {
    if (madvise(guard, g_pool->page, MADV_GUARD_INSTALL) == 0) {
      g_pool->madvise_guards = 1;
      return true;
    }
    g_pool->madvise_guards = 0;
  }
  if (g_pool->mprotect_guards < kMprotectGuardBudget && mprotect(guard, g_pool->page, PROT_NONE) == 0) {
    g_pool->mprotect_guards++;
    return true;
  }
  return false;
}

[[maybe_unused]] void* map_or_die(std::size_t bytes) {  // unused under TSan
  void* mem = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (mem == MAP_FAILED) fatal("out of memory: cannot map goroutine stacks");
  return mem;
}

}  // namespace

void stack_pool_init(std::size_t stack_size) {
  g_pool = new pool;
  g_pool->page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  g_pool->size = (stack_size + g_pool->page - 1) / g_pool->page * g_pool->page;
}

void stack_pool_destroy() {
  for (auto& [mem, bytes] : g_pool->slabs) munmap(mem, bytes);
  delete g_pool;
  g_pool = nullptr;
}

std::size_t stack_size_configured() { return g_pool->size; }

stack stack_alloc() {
  const std::size_t slot = g_pool->size + g_pool->page;
#ifdef GORO_TSAN
  // A raw mmap, not TSan's interceptor: that one records the fresh mapping as written by
  // this (scheduler) context, and the goroutine's own frames, with no edge from here,
  // would then race with it. The munmap in stack_free() is intercepted: TSan forgets the
  // old stack's history, so the next mapping at the same address starts clean.
  auto* mem = reinterpret_cast<char*>(
      syscall(SYS_mmap, nullptr, slot, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0));
  if (reinterpret_cast<void*>(mem) == MAP_FAILED) fatal("out of memory: cannot map goroutine stacks");
  mprotect(mem, g_pool->page, PROT_NONE);
  return stack{mem + g_pool->page, g_pool->size, true};
#else
  std::lock_guard<std::mutex> lk(g_pool->lock);
  if (g_pool->free.empty()) {
    char* mem = static_cast<char*>(map_or_die(slot * kSlabStacks));
    g_pool->slabs.emplace_back(mem, slot * kSlabStacks);
    for (std::size_t i = kSlabStacks; i-- > 0;) {
      char* guard = mem + i * slot;
      stack s{guard + g_pool->page, g_pool->size, make_guard(guard)};
      g_pool->free.push_back(s);
    }
  }
  stack s = g_pool->free.back();
  g_pool->free.pop_back();
  if (!s.guarded) *static_cast<std::uint64_t*>(s.lo) = kStackCanary;
  return s;
#endif
}

void stack_free(stack s) {
#ifdef GORO_TSAN
  munmap(static_cast<char*>(s.lo) - g_pool->page, s.size + g_pool->page);
#else
  std::lock_guard<std::mutex> lk(g_pool->lock);
  g_pool->free.push_back(s);
#endif
}

bool stack_guard_contains(const stack& s, const void* addr) {
  auto a = reinterpret_cast<std::uintptr_t>(addr);
  auto lo = reinterpret_cast<std::uintptr_t>(s.lo);
  // The guard page itself, or (for canary-only stacks) the lowest page of the stack.
  return s.lo != nullptr && a >= lo - g_pool->page && a < lo + (s.guarded ? 0 : g_pool->page);
}

}  // namespace goro::detail
