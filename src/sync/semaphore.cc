// goro::semaphore: golang.org/x/sync/semaphore.Weighted, with the waiter list protected by
// a spinlock word and the waiters parked directly (x/sync uses a mutex and a channel each).
//
// Invariants (lock_ held):
//  - 0 <= cur_ <= size_.
//  - head_..tail_ is the FIFO of parked acquirers, each on its own stack with n <= size_.
//    If it is not empty, the head does not fit: size_ - cur_ < head_->n. (release() grants
//    units to the head for as long as it fits, so a waiter is never left parked while the
//    units it needs are free.)
//  - A waiter leaves the list only when granted: its n has been added to cur_ for it.
//
// Happens-before: release() does hb_release(this); acquire() and try_acquire() do
// hb_acquire(this) on success. The real ordering comes from lock_ and from ready().

#include "goro/semaphore.h"

#include <cassert>
#include <stdexcept>

#include "arch/sanitizer.h"
#include "goro/panic.h"
#include "runtime/park.h"
#include "runtime/sched.h"
#include "sync/word_lock.h"

namespace goro {

namespace detail {

struct semaphore_waiter {
  g* gp = nullptr;
  std::int64_t n = 0;
  semaphore_waiter* next = nullptr;
};

}  // namespace detail

void semaphore::acquire(std::int64_t n) {
  assert(n >= 0 && "goro::semaphore: negative weight");
  detail::word_lock(lock_);
  if (size_ - cur_ >= n && head_ == nullptr) {
    cur_ += n;
    detail::word_unlock(lock_);
    arch::hb_acquire(this);
    return;
  }
  detail::g* gp = detail::current_g();
  if (gp == nullptr) {
    // Goroutine only; nothing has changed yet. require_g() throws std::logic_error here.
    detail::word_unlock(lock_);
    gp = detail::require_g("goro::semaphore::acquire");
  }
  if (n > size_) {
    // Can never be satisfied; do not make later acquirers queue behind it.
    detail::word_unlock(lock_);
    detail::park(nullptr, nullptr, detail::wait_reason::semacquire, this);
    detail::fatal("goro::semaphore: a goroutine waiting forever was woken");
  }
  detail::semaphore_waiter w;
  w.gp = gp;
  w.n = n;
  if (tail_ == nullptr) {
    head_ = &w;
  } else {
    tail_->next = &w;
  }
  tail_ = &w;
  detail::park(&detail::unlock_word, &lock_, detail::wait_reason::semacquire, this);
  // release() granted us the units before ready().
  arch::hb_acquire(this);
}

bool semaphore::try_acquire(std::int64_t n) noexcept {
  detail::word_lock(lock_);
  bool ok = size_ - cur_ >= n && head_ == nullptr;
  if (ok) cur_ += n;
  detail::word_unlock(lock_);
  if (ok) arch::hb_acquire(this);
  return ok;
}

void semaphore::release(std::int64_t n) {
  arch::hb_release(this);
  detail::word_lock(lock_);
  if (cur_ - n < 0) {
    detail::word_unlock(lock_);
    throw goro::panic("semaphore: released more than held");
  }
  cur_ -= n;
  // Grant units to waiters from the head while the head fits. Stop at the first that does
  // not: serving smaller requests behind it could starve it.
  detail::semaphore_waiter* granted = nullptr;
  detail::semaphore_waiter** granted_tail = &granted;
  while (head_ != nullptr && size_ - cur_ >= head_->n) {
    detail::semaphore_waiter* w = head_;
    head_ = w->next;
    cur_ += w->n;
    w->next = nullptr;
    *granted_tail = w;
    granted_tail = &w->next;
  }
  if (head_ == nullptr) tail_ = nullptr;
  assert(cur_ <= size_ && (head_ == nullptr || size_ - cur_ < head_->n));
  detail::word_unlock(lock_);
  while (granted != nullptr) {
    detail::semaphore_waiter* next = granted->next;  // read before ready(): then it may be gone
    detail::ready(granted->gp);
    granted = next;
  }
}

}  // namespace goro
