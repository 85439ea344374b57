// context.AfterFunc and go(ctx, fn).

#include <atomic>

#include "context/context_impl.h"
#include "runtime/sched.h"

namespace goro {

namespace detail {
namespace {

// A child context whose cancellation runs f once, in its own goroutine (Go's afterFuncCtx).
//
// Lifetime: a parent holds its children only weakly, but in Go the parent's reference is
// what keeps an AfterFunc registered when the caller drops the stop function. So while it
// is registered with a parent that can still be cancelled, the context holds itself
// (self_); the first cancel, by the parent or by stop(), releases that reference.
class after_func_ctx final : public cancel_ctx {
 public:
  after_func_ctx(context parent, std::function<void()> f) : cancel_ctx(std::move(parent)), f_(std::move(f)) {}
  // Claims the right to decide f's fate: true for the first caller only.
  bool claim() const { return !claimed_.exchange(true, std::memory_order_acq_rel); }
  void hold(std::shared_ptr<const after_func_ctx> self) const {
    std::lock_guard<spinlock> lk(mu_);
    self_ = std::move(self);
  }

 protected:
  void on_cancel() const override {
    // Every caller of cancel() holds its own reference, so dropping self_ here never
    // destroys the context under the running cancel().
    std::shared_ptr<const after_func_ctx> self;
    {
      std::lock_guard<spinlock> lk(mu_);
      self = std::move(self_);
    }
    if (claim()) goro::go(f_);
  }

 private:
  std::function<void()> f_;  // immutable
  mutable std::atomic<bool> claimed_{false};
  mutable std::shared_ptr<const after_func_ctx> self_;  // (mu_)
};

}  // namespace
}  // namespace detail

std::function<bool()> after_func(const context& ctx, std::function<void()> f) {
  auto a = std::make_shared<detail::after_func_ctx>(ctx, std::move(f));
  // Held before propagate_cancel, which may cancel it at once (and so release it).
  if (ctx.done()) a->hold(a);
  detail::propagate_cancel(ctx, a);
  return [a] {
    if (!a->claim()) return false;
    a->cancel(true, canceled, {});
    return true;
  };
}

void go(const context& ctx, detail::routine fn) { detail::spawn_with_context(fn, ctx.impl()); }

}  // namespace goro
