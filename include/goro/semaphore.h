#pragma once
// goro::semaphore: a weighted semaphore for goroutines, with the semantics of
// golang.org/x/sync/semaphore.Weighted: a budget of `size` units that callers acquire and
// release in weights of their choosing (bounding memory, concurrent requests, ...).
//
// Guarantees:
//  - At most size units are held at any time.
//  - FIFO: acquirers are served in arrival order. A waiter at the head that needs more
//    units than are free blocks the smaller requests behind it, so a large request is never
//    starved by a stream of small ones. try_acquire() fails while anyone waits.
//  - acquire() parks the goroutine (wait reason "semacquire", the semaphore as wait object),
//    never the thread.
//  - Happens-before: a release() happens before the return of every acquire() or successful
//    try_acquire() that returns after it (the semaphore behaves as if each call took an
//    internal lock, as x/sync's does). ThreadSanitizer sees the same edges.
//
// Misuse:
//  - acquire(n) with n > size can never succeed. As x/sync's Acquire does with a context
//    that is never done, it parks the goroutine forever (it is abandoned when goro::run
//    returns) without holding up the acquirers behind it.
//  - release(n) of more units than are held throws goro::panic("semaphore: released more
//    than held"); the release then has no effect.
//  - Negative weights: undefined. acquire() that has to wait is goroutine only
//    (std::logic_error on a plain thread, before anything changes).

#include <atomic>
#include <cstdint>

namespace goro {

namespace detail {
struct semaphore_waiter;
}

class semaphore {
 public:
  // A semaphore with `size` units, all free.
  explicit semaphore(std::int64_t size) noexcept : size_(size) {}
  semaphore(const semaphore&) = delete;
  semaphore& operator=(const semaphore&) = delete;

  // Acquires n units, parking the goroutine until they are free and every earlier waiter
  // has been served.
  void acquire(std::int64_t n = 1);
  // Acquires n units if they are free and nobody waits; true if it did. Never blocks.
  bool try_acquire(std::int64_t n = 1) noexcept;
  // Releases n units and wakes the waiters at the head of the queue that now fit.
  void release(std::int64_t n = 1);

 private:
  const std::int64_t size_;
  // A spinlock word (src/sync/word_lock.h) guarding everything below.
  std::atomic<bool> lock_{false};
  std::int64_t cur_ = 0;                        // units held (lock_)
  detail::semaphore_waiter* head_ = nullptr;  // FIFO of parked acquirers (lock_)
  detail::semaphore_waiter* tail_ = nullptr;  // (lock_)
};

}  // namespace goro
