// goro::once: Go's sync.Once (sync/once.go). The slow path locks a mutex, so that callers
// arriving while the function runs wait for it, and checks done_ again under the lock.
//
// Invariants: done_ goes from 0 to 1 once, under m_, after the function returned or threw;
// it is read without the lock by the fast path. m_ is held only inside call_slow().

#include "goro/once.h"

#include "arch/sanitizer.h"
#include "sync/mutex_core.h"

namespace goro {

namespace {

struct unlock_on_exit {
  mutex& m;
  ~unlock_on_exit() { detail::mutex_core::unlock(m); }
};

}  // namespace

[[gnu::noinline]] void once::call_slow(void (*invoke)(void*), void* fn) {
  // Parks as "sync.Once.Do" on this once, and records call()'s caller as the lock site.
  detail::mutex_core::lock(m_, __builtin_return_address(0), detail::wait_reason::once_wait, this);
  unlock_on_exit unlock{m_};
  if (done_.load(std::memory_order_relaxed) == 0) {  // m_ held: the only writer is excluded
    // Marks the once done when fn returns *or throws*, before m_ is unlocked (destructors
    // run in reverse order), so waiters see it done and never run their functions.
    struct mark_done {
      once* o;
      ~mark_done() {
        arch::hb_release(o);
        // Release: pairs with the fast path's acquire load in call().
        o->done_.store(1, std::memory_order_release);
      }
    } mark{this};
    invoke(fn);
  }
  arch::hb_acquire(this);
}

}  // namespace goro
