#pragma once
// detail::racy<T>: a field handed between a goroutine and the scheduler context of its
// thread (g0), or read by diagnostics on another thread without a lock.
//
// Why an atomic: the goroutine switch orders these accesses on one thread, but the switch
// is deliberately *not* a happens-before edge for ThreadSanitizer (see arch/context.h), so
// TSan would report plain fields. Relaxed atomics compile to plain moves on x86-64 and
// create no happens-before edge, which is exactly the semantics wanted.

#include <atomic>

namespace goro::detail {

template <class T>
class racy {
 public:
  racy() = default;
  explicit racy(T v) : v_(v) {}
  T get() const { return v_.load(std::memory_order_relaxed); }
  void set(T v) { v_.store(v, std::memory_order_relaxed); }
  // For the registry's lock-free readers (g.h, "Identity"): free on x86-64 as well.
  T get_acquire() const { return v_.load(std::memory_order_acquire); }
  void set_release(T v) { v_.store(v, std::memory_order_release); }

 private:
  std::atomic<T> v_{};
};

}  // namespace goro::detail
