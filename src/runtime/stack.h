#pragma once
// Goroutine stacks: mmap'ed in slabs, reserved not committed, pooled and reused.
//
// Invariants:
//  - A stack is [lo, lo+size); the page below lo is its guard when `guarded`.
//  - A stack without a guard page has kCanary written at lo; the scheduler checks it every
//    time the goroutine switches out, so an overflow is reported at the next switch.
//  - Stacks are never unmapped while the runtime runs; they return to the pool.

#include <cstddef>
#include <cstdint>

namespace goro::detail {

struct stack {
  void* lo = nullptr;
  std::size_t size = 0;
  bool guarded = false;
  explicit operator bool() const { return lo != nullptr; }
};

#if defined(__SANITIZE_THREAD__)
inline constexpr bool kStackCaching = false;  // see stack.cc: TSan needs fresh mappings
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
inline constexpr bool kStackCaching = false;
#else
inline constexpr bool kStackCaching = true;
#endif
#else
inline constexpr bool kStackCaching = true;
#endif

inline constexpr std::uint64_t kStackCanary = 0x676f726f53544b21ull;  // "goroSTK!"

// The pool. stack_pool_init() sizes it; alloc/free are thread-safe.
void stack_pool_init(std::size_t stack_size);
void stack_pool_destroy();
stack stack_alloc();
void stack_free(stack s);
std::size_t stack_size_configured();
// True if `addr` lies in the guard page of `s`.
bool stack_guard_contains(const stack& s, const void* addr);
// Whether the canary of an unguarded stack is intact.
inline bool stack_canary_ok(const stack& s) {
  return s.guarded || *static_cast<const std::uint64_t*>(s.lo) == kStackCanary;
}

}  // namespace goro::detail
