#pragma once
// The test of execute()'s slow-path word (diag/gate.h) on the scheduler's hot path: one
// compare-with-memory and a branch on x86-64. GCC never folds an atomic load into another
// instruction, so `if (word.load(relaxed) != 0)` costs a load, a test and a branch (and, in
// position-independent code, an address computation first); this is a relaxed load all the
// same, spelled in assembly. Sanitizers do not see the read, which is fine: the slow path
// reads the word again with atomics.

#include <atomic>
#include <cstdint>

namespace goro::detail {

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
