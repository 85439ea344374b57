#pragma once
// The platform contract of goro: a suspended execution context and the one function that
// switches between two of them. Everything above this file is portable C++.
//
// Contract:
//  - A context is a stack pointer. While a context is suspended, its stack holds, from
//    `sp` upwards, a saved_frame: MXCSR and the x87 control word, the callee-saved
//    registers, then the address at which it resumes. Diagnostics unwind parked goroutines
//    from exactly this frame (see saved_registers()).
//  - switch_to(from, to) saves the running context into `from` and resumes `to`. It is the
//    only place that tells the sanitizers about fiber switches: ASan learns the new stack
//    bounds, TSan switches fibers *without* synchronisation (a goroutine switch is not a
//    happens-before edge, as under Go's -race).
//  - A fresh context made by prepare() starts by calling entry(arg) on its own stack; the
//    entry function must call on_first_entry() first and must never return (it leaves with
//    switch_final()).

#include <cstddef>
#include <cstdint>

#include "arch/sanitizer.h"

extern "C" void goro_arch_switch(void** save_sp, void* load_sp);
extern "C" void goro_arch_trampoline();

namespace goro::arch {

// The layout goro_arch_switch leaves at a suspended context's stack pointer.
struct saved_frame {
  uint32_t mxcsr;
  uint32_t x87_cw;
  uint64_t r15, r14, r13, r12, rbx, rbp;
  uint64_t rip;  // where the context resumes (inside goro_arch_switch's caller)
};
static_assert(sizeof(saved_frame) == 64, "saved_frame must match switch_x86_64.S");
static_assert(offsetof(saved_frame, r12) == 32 && offsetof(saved_frame, rip) == 56,
              "saved_frame offsets must match switch_x86_64.S");

struct context {
  void* sp = nullptr;  // valid only while suspended
  // Stack bounds, for ASan (and for diagnostics). For a thread's own context they are
  // read from the thread attributes by init_thread_context().
  void* stack_lo = nullptr;
  std::size_t stack_size = 0;
#ifdef GORO_ASAN
  void* fake_stack = nullptr;
#endif
#ifdef GORO_TSAN
  void* tsan_fiber = nullptr;
  bool owns_tsan_fiber = false;
#endif
};

// Makes `c` a fresh context on [lo, lo+size) that will call entry(arg). Not instrumented
// by TSan: the frame is written by the scheduler context and then overwritten by the new
// goroutine's own frames, with no happens-before edge between the two (by design), so TSan
// must not remember these stores.
GORO_NO_TSAN inline void prepare(context& c, void* lo, std::size_t size, void (*entry)(void*), void* arg) {
  auto top = reinterpret_cast<uintptr_t>(lo) + size;
  top &= ~uintptr_t{15};
  // 16 bytes of zeros above the frame: a null "return address" ends naive unwinders too.
  auto* f = reinterpret_cast<saved_frame*>(top - 16 - sizeof(saved_frame));
  *f = saved_frame{};
  f->mxcsr = 0x1F80;   // default SSE control: all exceptions masked, round to nearest
  f->x87_cw = 0x037F;  // default x87 control word
  f->r12 = reinterpret_cast<uint64_t>(arg);
  f->r13 = reinterpret_cast<uint64_t>(entry);
  f->rip = reinterpret_cast<uint64_t>(&goro_arch_trampoline);
  reinterpret_cast<uint64_t*>(top - 16)[0] = 0;
  reinterpret_cast<uint64_t*>(top - 16)[1] = 0;
  c.sp = f;
  c.stack_lo = lo;
  c.stack_size = size;
#ifdef GORO_ASAN
  // A reused stack may hold poison from frames that never returned (a goroutine leaves
  // through switch_final()); the new goroutine starts from a clean slate.
  __asan_unpoison_memory_region(lo, size);
#endif
}

// Gives a context its sanitizer identity. Called by the goroutine that spawns it, so that
// TSan's "fiber creation synchronises with the creator" is exactly Go's `go` edge.
inline void init_fiber([[maybe_unused]] context& c) {
#ifdef GORO_TSAN
  c.tsan_fiber = __tsan_create_fiber(0);
  c.owns_tsan_fiber = true;
#endif
}

// Fills in the running thread's own context (its native stack). Call once per thread.
void init_thread_context(context& c);

// Releases sanitizer state of a context that will never run again. Must not be called on
// the running context.
inline void destroy(context& c) {
#ifdef GORO_TSAN
  if (c.owns_tsan_fiber && c.tsan_fiber != nullptr) __tsan_destroy_fiber(c.tsan_fiber);
  c.tsan_fiber = nullptr;
  c.owns_tsan_fiber = false;
#endif
  c.sp = nullptr;
}

// The single switch function. Returns when `from` is resumed. Its own accesses to the two
// contexts are not instrumented by TSan: from __tsan_switch_to_fiber() on, TSan counts every
// access as the target's, which has no happens-before edge with whoever wrote the contexts
// (nor with what the switching side does after its last release).
GORO_NO_TSAN inline void switch_to(context& from, context& to) {
#ifdef GORO_TSAN
  __tsan_switch_to_fiber(to.tsan_fiber, __tsan_switch_to_fiber_no_sync);
#endif
#ifdef GORO_ASAN
  __sanitizer_start_switch_fiber(&from.fake_stack, to.stack_lo, to.stack_size);
#endif
  goro_arch_switch(&from.sp, to.sp);
#ifdef GORO_ASAN
  __sanitizer_finish_switch_fiber(from.fake_stack, nullptr, nullptr);
#endif
}

// The last switch away from a context that will never be resumed (a finished goroutine).
// Not instrumented by TSan, as switch_to().
[[noreturn]] GORO_NO_TSAN inline void switch_final(context& from, context& to) {
#ifdef GORO_TSAN
  __tsan_switch_to_fiber(to.tsan_fiber, __tsan_switch_to_fiber_no_sync);
#endif
#ifdef GORO_ASAN
  __sanitizer_start_switch_fiber(nullptr, to.stack_lo, to.stack_size);
#endif
  goro_arch_switch(&from.sp, to.sp);
  __builtin_unreachable();
}

// First thing a fresh context does on its own stack.
inline void on_first_entry() {
#ifdef GORO_ASAN
  __sanitizer_finish_switch_fiber(nullptr, nullptr, nullptr);
#endif
}

// Names a context in sanitizer reports ("goroutine 7").
inline void set_name([[maybe_unused]] context& c, [[maybe_unused]] const char* name) {
#ifdef GORO_TSAN
  if (c.tsan_fiber != nullptr) __tsan_set_fiber_name(c.tsan_fiber, name);
#endif
}

}  // namespace goro::arch
