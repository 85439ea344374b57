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

class cancel_ctx : public context_impl, public canceler {
 public:
  explicit cancel_ctx(context parent);
  ~cancel_ctx() override;

  std::optional<deadline_t> deadline() const override { return parent_.deadline(); }
  recv_chan<> done() const override;
  error err() const override;
  const void* value(const void* key) const override;
  std::string describe() const override;

  void cancel(bool remove_from_parent, error err, error cause) const override;
  void add_child(const canceler* key, std::weak_ptr<const canceler> child) const;
  void remove_child(const canceler* key) const;
  error cause_locked() const;
  std::size_t child_count() const;

  context parent_;
  chan<> done_;
  mutable spinlock mu_;
  mutable error err_;    // (mu_)
  mutable error cause_;  // (mu_)
  mutable std::map<const canceler*, std::weak_ptr<const canceler>> children_;  // (mu_)
  // Set when the parent is a foreign context with an after_func hook: undoes it.
  mutable std::function<bool()> stop_parent_;

 protected:
  // Hook for subclasses, called once after this context is cancelled.
  virtual void on_cancel() const {}
};

class timer_ctx final : public cancel_ctx {
 public:
  timer_ctx(context parent, deadline_t d) : cancel_ctx(std::move(parent)), deadline_(d) {}
  std::optional<deadline_t> deadline() const override;
  std::string describe() const override;

  deadline_t deadline_;
  mutable timer timer_;  // (mu_)

 protected:
  void on_cancel() const override;
};

const cancel_ctx* parent_cancel_ctx(const context& parent);
void propagate_cancel(const context& parent, const std::shared_ptr<const cancel_ctx>& child);

}  // namespace goro::detail
