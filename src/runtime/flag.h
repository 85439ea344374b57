#pragma once
// Tests of run-time switches on hot paths (the lock-order checker's flag, execute()'s slow
// path word): one compare-with-memory and a branch on x86-64. GCC never folds an atomic
// load into another instruction, so `if (flag.load(relaxed))` costs a load, a test and a
// branch (and, in position-independent code, an address computation first); these are a
// relaxed load all the same, spelled in assembly. Sanitizers do not see the read, which is
// fine for a word written only while no goroutine runs, or read again under a lock on the
// slow path.

#include <atomic>
#include <cstdint>

namespace goro::detail {

inline bool flag_on(const std::atomic<bool>& f) noexcept {
#if defined(__x86_64__) && defined(__GNUC__)
  static_assert(sizeof(f) == 1);
  asm goto("cmpb $0, %0\n\tjne %l[on]" : : "m"(f) : "cc" : on);
  return false;
on:
  return true;
#else
  return f.load(std::memory_order_relaxed);
#endif
}

inline bool word_nonzero(const std::atomic<std::uint32_t>& w) noexcept {
#if defined(__x86_64__) && defined(__GNUC__)
  static_assert(sizeof(w) == 4);
  asm goto("cmpl $0, %0\n\tjne %l[on]" : : "m"(w) : "cc" : on);
  return false;
on:
  return true;
#else
  return w.load(std::memory_order_relaxed) != 0;
#endif
}

}  // namespace goro::detail
