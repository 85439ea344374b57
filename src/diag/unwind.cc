// Unwinding with libunwind's generic (remote-capable) API used on the local address space.
// See docs/design.md, "Diagnostics", for why libunwind and why this flavour of it.

#include "diag/unwind.h"

#include <ucontext.h>

#include <cstring>

#include <libunwind.h>

#include "arch/context.h"
#include "runtime/g.h"

namespace goro::detail {

namespace {

struct saved_regs {
  bool ok = false;
  arch::saved_frame frame{};
  std::uintptr_t sp = 0;  // the stack pointer after goro_arch_switch returns (frame + 64)
};

// Reads gp's saved frame. The fields were written by another thread (the switch, in
// assembly, and execute()) without a happens-before edge that ThreadSanitizer can see; the
// dump gate is what makes the read safe (see gate.h), so the sanitizers are told to look
// away from these few loads. ASan: the frame lies below the suspended goroutine's stack
// pointer, outside any live frame. Spelled __attribute__: clang 14 ignores (with a warning)
// the [[gnu::no_sanitize]] spelling, which only gcc knows.
__attribute__((no_sanitize("thread", "address"))) saved_regs read_saved(const g* gp) {
  saved_regs r;
  const void* sp = gp->ctx.sp;
  auto lo = reinterpret_cast<std::uintptr_t>(gp->stk.lo);
  std::size_t size = gp->stk.size;
  auto s = reinterpret_cast<std::uintptr_t>(sp);
  if (sp == nullptr || lo == 0 || s < lo || s + sizeof(arch::saved_frame) > lo + size) return r;
  std::memcpy(&r.frame, sp, sizeof r.frame);
  r.sp = s + sizeof(arch::saved_frame);
  r.ok = true;
  return r;
}

std::size_t walk(unw_context_t* uc, std::uintptr_t* pcs, std::size_t max, std::size_t skip) {
  unw_cursor_t cursor;
  if (unw_init_local(&cursor, uc) != 0) return 0;
  std::size_t n = 0;
  do {
    unw_word_t ip = 0;
    if (unw_get_reg(&cursor, UNW_REG_IP, &ip) != 0 || ip == 0) break;
    if (skip > 0) {
      skip--;
      continue;
    }
    pcs[n++] = static_cast<std::uintptr_t>(ip);
  } while (n < max && unw_step(&cursor) > 0);
  return n;
}

}  // namespace

std::size_t unwind_suspended(const g* gp, std::uintptr_t* pcs, std::size_t max) {
  saved_regs r = read_saved(gp);
  if (!r.ok || max == 0) return 0;
  // The context goro_arch_switch will resume: the callee-saved registers it pops, the stack
  // pointer after its `ret`, and the return address as the instruction pointer. The
  // caller-saved registers are dead across the call and stay zero.
  ucontext_t uc;
  std::memset(&uc, 0, sizeof uc);
  greg_t* gr = uc.uc_mcontext.gregs;
  gr[REG_RIP] = static_cast<greg_t>(r.frame.rip);
  gr[REG_RSP] = static_cast<greg_t>(r.sp);
  gr[REG_RBP] = static_cast<greg_t>(r.frame.rbp);
  gr[REG_RBX] = static_cast<greg_t>(r.frame.rbx);
  gr[REG_R12] = static_cast<greg_t>(r.frame.r12);
  gr[REG_R13] = static_cast<greg_t>(r.frame.r13);
  gr[REG_R14] = static_cast<greg_t>(r.frame.r14);
  gr[REG_R15] = static_cast<greg_t>(r.frame.r15);
  return walk(&uc, pcs, max, 0);
}

std::size_t unwind_current(std::uintptr_t* pcs, std::size_t max) {
  ucontext_t uc;
  if (getcontext(&uc) != 0) return 0;
  // Frame 0 is this function; start at its caller.
  return walk(&uc, pcs, max, 1);
}

}  // namespace goro::detail
