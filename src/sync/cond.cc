// goro::cond: Go's sync.Cond over the runtime's notifyList (runtime/sema.go).
//
// Tickets: wait() takes ticket t = wait_++ while still holding the user's mutex, then
// unlocks it and queues under list_lock_ (unless t has been notified meanwhile). signal()
// notifies ticket notify_ (and increments it); broadcast() notifies every ticket below
// wait_. A waiter whose ticket is already below notify_ when it gets to the list does not
// park: the signal meant for it was sent while it was between unlock and queueing. So a
// later waiter can never take an earlier waiter's signal: the signal names the ticket.
//
// Invariants (list_lock_ held):
//  - notify_ <= wait_ (modulo 2^32: tickets wrap, compared as differences).
//  - head_..tail_ holds exactly the parked waiters whose ticket is >= notify_; they are in
//    the order they queued, which is nearly ticket order (a waiter can be overtaken between
//    taking its ticket and queueing), so signal() searches for its ticket from the front.
//
// Memory order: wait_ and notify_ are seq_cst, as Go's atomics. The wake-up itself is
// ready(), a happens-before edge (also for TSan); a waiter that finds its ticket already
// notified synchronises through list_lock_ instead.

#include "goro/cond.h"

#include <cassert>

#include "runtime/park.h"
#include "sync/mutex_core.h"
#include "sync/word_lock.h"

namespace goro {

namespace detail {

struct notify_waiter {
  g* gp = nullptr;
  std::uint32_t ticket = 0;
  notify_waiter* next = nullptr;
};

}  // namespace detail

namespace {

// a < b for tickets that may wrap around.
bool ticket_less(std::uint32_t a, std::uint32_t b) { return static_cast<std::int32_t>(a - b) < 0; }

}  // namespace

[[gnu::noinline]] void cond::wait() {
  detail::g* gp = detail::require_g("goro::cond::wait");
  std::uint32_t t = wait_.fetch_add(1);
  l_->unlock();
  detail::word_lock(list_lock_);
  if (ticket_less(t, notify_.load())) {
    detail::word_unlock(list_lock_);  // already notified: do not park
  } else {
    detail::notify_waiter w;
    w.gp = gp;
    w.ticket = t;
    if (tail_ == nullptr) {
      head_ = &w;
    } else {
      tail_->next = &w;
    }
    tail_ = &w;
    detail::park(&detail::unlock_word, &list_lock_, detail::wait_reason::cond_wait, this);
  }
  detail::mutex_core::lock_mutex(*l_, __builtin_return_address(0));
}

void cond::signal() noexcept {
  // Fast path: no waiter took a ticket since the last notification.
  if (wait_.load() == notify_.load()) return;
  detail::word_lock(list_lock_);
  std::uint32_t t = notify_.load();
  assert(!ticket_less(wait_.load(), t) && "cond: notified a ticket not handed out");
  if (t == wait_.load()) {
    detail::word_unlock(list_lock_);
    return;
  }
  notify_.store(t + 1);
  // Find the waiter with ticket t. It may not have queued yet; then it will see notify_
  // and not park. It is nearly always at the front.
  for (detail::notify_waiter *prev = nullptr, *w = head_; w != nullptr; prev = w, w = w->next) {
    if (w->ticket != t) continue;
    detail::notify_waiter* n = w->next;
    if (prev != nullptr) {
      prev->next = n;
    } else {
      head_ = n;
    }
    if (n == nullptr) tail_ = prev;
    detail::word_unlock(list_lock_);
    detail::ready(w->gp);  // w lives on the waiter's stack: not touched after this
    return;
  }
  detail::word_unlock(list_lock_);
}

void cond::broadcast() noexcept {
  if (wait_.load() == notify_.load()) return;
  detail::word_lock(list_lock_);
  detail::notify_waiter* w = head_;
  head_ = tail_ = nullptr;
  notify_.store(wait_.load());
  detail::word_unlock(list_lock_);
  while (w != nullptr) {
    detail::notify_waiter* next = w->next;  // read before ready(): then w may be gone
    detail::ready(w->gp);
    w = next;
  }
}

}  // namespace goro
