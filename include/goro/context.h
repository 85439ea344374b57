#pragma once
// goro::context: Go's context package: cancellation, deadlines and request-scoped values
// that flow down a tree of goroutines.
//
//   auto [ctx, cancel] = goro::with_timeout(goro::background(), 100ms);
//   goro::go(ctx, [ctx] { goro::select(goro::recv(ctx.done()), goro::recv(work)); });
//   ...
//   cancel();  // always call it (a dropped, never-called cancel is reported: "lostcancel")
//
// Guarantees (Go's, tested in tests/context/):
//  - Cancelling a context cancels every descendant promptly: before cancel() returns for
//    library contexts (also when several threads cancel at once: every cancel() returns
//    after the whole subtree is cancelled, as in Go), through a goroutine or an after_func
//    hook for user-defined parents. cancel is idempotent and the first cause wins; a
//    cancelled (or destroyed) child is removed from its parent, so long-lived parents do
//    not grow; a deadline later than the parent's is ignored; children of a cancelled
//    parent are born cancelled.
//  - done() is a receive channel, closed when the context is cancelled (nil for contexts
//    that can never be cancelled); use it in goro::select. err() is non-nil exactly when
//    done() is closed (both change under one lock), and the cancel happens before a
//    receive that sees done() closed.
//  - err() is nil, goro::canceled or goro::deadline_exceeded; cause(ctx) the cause given to
//    a cancel_cause_func (or err()).
//  - A context is an interface (context_impl), as in Go: user-defined contexts can be
//    parents, and cancellation propagates across them by Go's rules.
//  - All functions are thread-safe and none parks except waiting on done().
//  - The cancel function's destructor does not cancel. Dropping every copy of a cancel
//    function without calling it is Go vet's "lostcancel": goro reports it at run time
//    (report kind "lostcancel", naming the file:line of the with_* call).
//  - Misuse, as in Go: deriving from a null context (context(nullptr)) throws
//    goro::panic("cannot create context from nil parent").
//  - Contexts are reference counted. A context lives while a handle, a child, its cancel
//    function, a goroutine started with go(ctx, fn) or a registered after_func refers to it.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "goro/chan.h"
#include "goro/detail/source_location.h"
#include "goro/error.h"
#include "goro/runtime.h"

namespace goro {

using deadline_t = std::chrono::steady_clock::time_point;

// The sentinel errors (compare with == or goro::is).
extern const error canceled;           // "context canceled"
extern const error deadline_exceeded;  // "context deadline exceeded"

// A typed key for context values. Keys are compared by address, so two keys never collide
// even if they have the same name or type. Define them as static objects.
template <class T>
struct context_key {
  const char* name = "key";  // for describe()
};

// The context interface. Implement it to make your own context type (Go's Context).
class context_impl : public std::enable_shared_from_this<context_impl> {
 public:
  virtual ~context_impl() = default;
  virtual std::optional<deadline_t> deadline() const = 0;
  // Closed on cancellation; nil if this context can never be cancelled.
  virtual recv_chan<> done() const = 0;
  virtual error err() const = 0;
  // The value for `key` (the address of a context_key), or null.
  virtual const void* value(const void* key) const = 0;
  // Go's String(): "context.Background.WithCancel" and so on.
  virtual std::string describe() const = 0;
  // Go's afterFuncer: if a context can run f when it is done without a done channel
  // goroutine, return a function that stops that registration (true if it stopped f from
  // running). An empty result means "not supported".
  virtual std::function<bool()> after_func(std::function<void()> f) const {
    (void)f;
    return {};
  }
};

// A context handle: a shared reference to a context_impl (Go's Context interface value).
class context {
 public:
  context();  // background()
  explicit context(std::shared_ptr<const context_impl> impl) : impl_(std::move(impl)) {}

  std::optional<deadline_t> deadline() const { return impl_->deadline(); }
  recv_chan<> done() const { return impl_->done(); }
  error err() const { return impl_->err(); }
  template <class T>
  const T* value(const context_key<T>& key) const {
    return static_cast<const T*>(impl_->value(&key));
  }
  std::string describe() const { return impl_->describe(); }
  const std::shared_ptr<const context_impl>& impl() const { return impl_; }

 private:
  std::shared_ptr<const context_impl> impl_;
};

// A function that cancels a context (Go's CancelFunc). Copies share one state; calling
// any copy is enough. Destroying it does not cancel.
class cancel_func {
 public:
  cancel_func() = default;
  void operator()() const;
  struct state;
  explicit cancel_func(std::shared_ptr<state> s) : s_(std::move(s)) {}

 private:
  std::shared_ptr<state> s_;
};

// Go's CancelCauseFunc: cancel with a cause (nil cause means goro::canceled).
class cancel_cause_func {
 public:
  cancel_cause_func() = default;
  void operator()(error cause) const;
  explicit cancel_cause_func(std::shared_ptr<cancel_func::state> s) : s_(std::move(s)) {}

 private:
  std::shared_ptr<cancel_func::state> s_;
};

context background();
context todo();

// Each records where it was called (for the lostcancel report).
std::pair<context, cancel_func> with_cancel(const context& parent,
                                            detail::source_location where = detail::source_location::current());
std::pair<context, cancel_cause_func> with_cancel_cause(const context& parent,
                                                        detail::source_location where = detail::source_location::current());
std::pair<context, cancel_func> with_deadline(const context& parent, deadline_t d,
                                              detail::source_location where = detail::source_location::current());
std::pair<context, cancel_func> with_timeout(const context& parent, std::chrono::nanoseconds timeout,
                                             detail::source_location where = detail::source_location::current());
// Go 1.21's WithDeadlineCause / WithTimeoutCause: on expiry the cause is `cause`.
std::pair<context, cancel_func> with_deadline_cause(const context& parent, deadline_t d, error cause,
                                                    detail::source_location where = detail::source_location::current());
std::pair<context, cancel_func> with_timeout_cause(const context& parent, std::chrono::nanoseconds timeout,
                                                   error cause,
                                                   detail::source_location where = detail::source_location::current());

namespace detail {
context with_value_erased(const context& parent, const void* key, const char* key_name,
                          std::shared_ptr<const void> value, std::string value_text);
template <class T>
std::string describe_value(const T& v) {
  if constexpr (std::is_convertible_v<const T&, std::string>) {
    return std::string(v);
  } else if constexpr (std::is_arithmetic_v<T>) {
    return std::to_string(v);
  } else {
    return "<not Stringer>";
  }
}
}  // namespace detail

template <class T, class V>
context with_value(const context& parent, const context_key<T>& key, V&& value) {
  auto p = std::make_shared<const T>(std::forward<V>(value));
  std::string text = detail::describe_value(*p);
  return detail::with_value_erased(parent, &key, key.name, std::move(p), std::move(text));
}

// A context with parent's values but never cancelled (Go 1.21's WithoutCancel).
context without_cancel(const context& parent);

// Go's context.Cause: the cause ctx was cancelled with, or nil if not cancelled.
error cause(const context& ctx);

// Go 1.21's context.AfterFunc: runs f in its own goroutine once ctx is done (at once if it
// is already done). The returned function stops the association; it returns true if that
// stopped f from being run. Dropping the returned function does not stop it. If ctx is
// never cancelled f never runs; the registration (and ctx) then live as long as ctx could
// still be cancelled.
std::function<bool()> after_func(const context& ctx, std::function<void()> f);

// Starts a goroutine under ctx: like go(fn), and records ctx so that diagnostics can report
// a goroutine still running long after its context was cancelled.
void go(const context& ctx, detail::routine fn);

namespace detail {
// The lostcancel hook: called with the call site when the last copy of a cancel function
// is destroyed without having been called. Set by the diagnostics module.
using lost_cancel_hook = void (*)(const char* file, unsigned line, const char* function);
void set_lost_cancel_hook(lost_cancel_hook h);
}  // namespace detail

}  // namespace goro
