#pragma once
// goro::wait_group: waits for a collection of goroutines to finish, with the semantics of
// Go's sync.WaitGroup (including Go 1.25's WaitGroup.Go).
//
// Guarantees:
//  - Happens-before (Go's memory model): every done() (and add() with a negative delta)
//    happens before the return of the wait() it unblocks; go(fn)'s fn returning happens
//    before that too. ThreadSanitizer sees the same edges.
//  - wait() parks the goroutine (wait reason "sync.WaitGroup.Wait", the wait_group as wait
//    object) until the counter is zero, never blocking the thread; every goroutine waiting
//    is released when it reaches zero. wait() on a zero counter returns at once.
//  - A wait_group may be reused for a new round once every wait() of the previous round has
//    returned.
//
// Rules (Go's): calls of add() with a positive delta that start from a zero counter must
// happen before wait(); typically add() before go(), done() at the end of the goroutine.
//
// Misuse (goro::panic, Go's message word for word, thrown by the call that detects it):
//  - The counter going negative: "sync: negative WaitGroup counter" (from add()/done()).
//  - add() racing with wait(): "sync: WaitGroup misuse: Add called concurrently with Wait".
//  - Reuse before the previous wait() returned: "sync: WaitGroup is reused before previous
//    Wait has returned" (from that wait(), when it notices).
//  Detection is best-effort, as in Go. wait() that has to wait is goroutine only
//  (std::logic_error on a plain thread); add() and done() work anywhere.

#include <atomic>
#include <cstdint>
#include <functional>
#include <type_traits>
#include <utility>

#include "goro/detail/source_location.h"
#include "goro/runtime.h"

namespace goro {

class wait_group {
 public:
  constexpr wait_group() noexcept = default;
  wait_group(const wait_group&) = delete;
  wait_group& operator=(const wait_group&) = delete;

  // Adds delta (which may be negative) to the counter; at zero, releases every waiter.
  // Throws goro::panic if the counter goes negative. Never blocks.
  void add(int delta);
  // add(-1).
  void done() { add(-1); }
  // Parks the goroutine until the counter is zero.
  void wait();

  // Go 1.25's WaitGroup.Go: add(1), then starts a goroutine that runs fn and then done().
  // fn must not throw: as in Go, an exception escaping fn ends the program (an unrecovered
  // panic) and done() is deliberately not called, so that wait() cannot return and let the
  // program exit before the panic is reported. The goroutine's creation site is the caller.
  template <class F>
  void go(F&& fn, detail::source_location where = detail::source_location::current());

 private:
  // The counter in the high 32 bits (signed), the number of waiters in the low 32 bits.
  std::atomic<std::uint64_t> state_{0};
  // The runtime semaphore waiters park on.
  std::atomic<std::uint32_t> sema_{0};
};

template <class F>
void wait_group::go(F&& fn, detail::source_location where) {
  static_assert(std::is_invocable_v<std::decay_t<F>&>, "wait_group::go needs a function callable with no arguments");
  add(1);
  auto body = [this, f = std::forward<F>(fn)]() mutable {
    std::invoke(f);
    done();
  };
  try {
    goro::go(detail::routine(std::move(body), where));
  } catch (...) {
    add(-1);  // no goroutine was started (for example the runtime is not running)
    throw;
  }
}

}  // namespace goro
