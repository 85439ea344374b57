#pragma once
// The library's own context types, shared by context.cc and go(ctx, fn). Not API.

#include <atomic>
#include <map>
#include <memory>
#include <vector>

#include "goro/context.h"
#include "goro/time.h"
#include "runtime/spinlock.h"

namespace goro::detail {

// The key under which a cancel_ctx answers value() with itself (Go's cancelCtxKey).
extern const char cancel_ctx_key;

// Anything a cancel_ctx can cancel when it is cancelled.
class canceler {
 public:
  virtual ~canceler() = default;
  virtual void cancel(bool remove_from_parent, error err, error cause) const = 0;
};

// Go's cancelCtx. Invariants:
//  - err_ goes from nil to non-nil once, under mu_, and done_ is closed in the same critical
//    section: err() is non-nil exactly when done() is closed (Go closes under c.mu too).
//  - children_ is emptied at that moment and never filled again (add_child cancels a late
//    child on the spot). It holds weak references: a child leaves it when cancelled or
//    destroyed, so a long-lived parent does not grow.
//  - walked_ becomes true once the first cancel() has cancelled every child; a later
//    cancel() waits for it, so any cancel() returns only after the whole subtree is done.
//  - Each context leaves its parent (detach) at most once: when cancelled on its own, or
//    when destroyed; a context cancelled by its parent has nothing left to undo.
class cancel_ctx : public context_impl, public canceler {
 public:
  explicit cancel_ctx(context parent);
  ~cancel_ctx() override;

  std::optional<deadline_t> deadline() const override { return parent_.deadline(); }
  recv_chan<> done() const override;
  error err() const override;
  const void* value(const void* key) const override;
  std::string describe() const override;

  // Cancels this context and its descendants with err (nil means goro::canceled) and cause
  // (nil means err). Never parks; returns after every descendant is cancelled.
  void cancel(bool remove_from_parent, error err, error cause) const override;
  void add_child(const canceler* key, std::weak_ptr<const canceler> child) const;
  void remove_child(const canceler* key) const;
  // The cause given to the first cancel (nil while not cancelled).
  error current_cause() const;
  // Number of registered children (for tests: parents must not grow).
  std::size_t child_count() const;

  context parent_;  // immutable
  chan<> done_;     // immutable handle; closed under mu_
  mutable spinlock mu_;
  mutable error err_;    // (mu_)
  mutable error cause_;  // (mu_)
  mutable std::map<const canceler*, std::weak_ptr<const canceler>> children_;  // (mu_)
  // Undoes the registration with a foreign parent (its after_func hook's stop, or the stop
  // of the watcher goroutine). Written by propagate_cancel before the context is published.
  mutable std::function<bool()> stop_parent_;

 protected:
  // Hook for subclasses, called once by the first cancel, after the children are cancelled.
  virtual void on_cancel() const {}
  // Leaves the parent (at most once; see the invariants).
  void detach() const;

 private:
  mutable std::atomic<bool> walked_{false};
  mutable std::atomic<bool> detached_{false};
};

// Go's timerCtx: a cancel_ctx with a deadline and the timer that enforces it.
class timer_ctx final : public cancel_ctx {
 public:
  timer_ctx(context parent, deadline_t d) : cancel_ctx(std::move(parent)), deadline_(d) {}
  ~timer_ctx() override;
  std::optional<deadline_t> deadline() const override;
  std::string describe() const override;

  deadline_t deadline_;  // immutable
  mutable timer timer_;  // (mu_) an after_func timer; stopped on cancel and on destruction

 protected:
  void on_cancel() const override;
};

const cancel_ctx* parent_cancel_ctx(const context& parent);
void propagate_cancel(const context& parent, const std::shared_ptr<const cancel_ctx>& child);

}  // namespace goro::detail
