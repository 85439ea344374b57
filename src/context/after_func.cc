// context.AfterFunc and go(ctx, fn).

#include <atomic>

#include "context/context_impl.h"
#include "runtime/sched.h"

namespace goro {

namespace detail {
namespace {

// A child context whose cancellation runs f once, in its own goroutine (Go's afterFuncCtx).
class after_func_ctx final : public cancel_ctx {
 public:
  after_func_ctx(context parent, std::function<void()> f) : cancel_ctx(std::move(parent)), f_(std::move(f)) {}
  // Claims the right to decide f's fate: true for the first caller only.
  bool claim() const { return !claimed_.exchange(true, std::memory_order_acq_rel); }

 protected:
  void on_cancel() const override {
    if (claim()) goro::go(f_);
  }

 private:
  std::function<void()> f_;
  mutable std::atomic<bool> claimed_{false};
};

}  // namespace
}  // namespace detail

std::function<bool()> after_func(const context& ctx, std::function<void()> f) {
  auto a = std::make_shared<detail::after_func_ctx>(ctx, std::move(f));
  detail::propagate_cancel(ctx, a);
  return [a] {
    if (!a->claim()) return false;
    a->cancel(true, canceled, {});
    return true;
  };
}

void go(const context& ctx, detail::routine fn) { detail::spawn_with_context(fn, ctx.impl()); }

}  // namespace goro
