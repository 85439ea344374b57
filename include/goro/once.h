#pragma once
// goro::once: runs a function exactly once, with the semantics of Go's sync.Once.
//
// Guarantees:
//  - Of all call(fn) calls on one once, only the first runs its fn; the others never run
//    theirs, whatever function they pass.
//  - Happens-before (Go's memory model): the completion of the one fn that runs happens
//    before the return of every call(), on every goroutine. ThreadSanitizer sees the edge.
//  - While the first fn runs, other callers wait: they park (wait reason "sync.Once.Do",
//    the once as wait object), never blocking the thread, and return once it finishes.
//  - If fn throws, the once still counts as done (as when f panics in Go): the exception
//    propagates to that caller only, the waiting callers return normally, and fn is never
//    run again.
//  - A call() that finds the once done is one acquire load: no lock, no wait.
//
// Misuse:
//  - A call() on the same once from inside fn waits for itself forever (a deadlock, as in
//    Go).
//  - A call() that has to wait or run fn is goroutine only: std::logic_error on a plain
//    thread.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <type_traits>
#include <utility>

#include "goro/mutex.h"

namespace goro {

class once {
 public:
  constexpr once() noexcept = default;
  once(const once&) = delete;
  once& operator=(const once&) = delete;

  // Runs fn() if no call() has run a function yet; otherwise waits until the one that runs
  // has finished (parking the goroutine) and returns without running fn.
  template <class F>
  void call(F&& fn) {
    // Acquire: pairs with the release store that marks the once done (and is the edge that
    // ThreadSanitizer sees, as it understands atomics).
    if (done_.load(std::memory_order_acquire) != 0) return;
    call_slow(&invoke<F>, const_cast<void*>(static_cast<const void*>(std::addressof(fn))));
  }

 private:
  template <class F>
  static void invoke(void* fn) {
    std::invoke(std::forward<F>(*static_cast<std::remove_reference_t<F>*>(fn)));
  }
  void call_slow(void (*invoke)(void*), void* fn);

  // 1 once the function has run (or thrown). Written under m_ with release ordering.
  std::atomic<std::uint32_t> done_{0};
  // Held while the function runs; callers that find it held wait on it.
  mutex m_;
};

}  // namespace goro
