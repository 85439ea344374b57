// The context tree (Go's context.go). The invariants of one node are in context_impl.h;
// across the tree:
//  - A parent holds only weak references to its children; a child holds its parent.
//  - Lock order: no two cancel_ctx::mu_ are ever held together. Cancellation takes a
//    node's mu_ only to flip its state, close its done channel and take its children,
//    then walks down after releasing it; a child never takes its parent's mu_ under its
//    own. Under mu_ only channel and timer locks are taken (mu_ > timer_state::lock >
//    channel lock > scheduler locks, docs/design.md).
//  - Cancellation never parks: closing a channel and starting an after_func goroutine do
//    not; only a second cancel() of a node whose first cancel is still walking waits for
//    that walk (yielding), as Go's second cancel waits on the node's mutex.

#include "context/context_impl.h"

#include <cassert>
#include <cstdio>
#include <string>
#include <thread>

#include "diag/settings.h"
#include "diag/symbolize.h"
#include "goro/panic.h"
#include "goro/select.h"
#include "runtime/park.h"
#include "runtime/report.h"
#include "runtime/sched.h"

namespace goro {

const error canceled("context canceled");
const error deadline_exceeded("context deadline exceeded");

namespace detail {

const char cancel_ctx_key = 0;

namespace {

class empty_ctx final : public context_impl {
 public:
  explicit empty_ctx(const char* name) : name_(name) {}
  std::optional<deadline_t> deadline() const override { return std::nullopt; }
  recv_chan<> done() const override { return {}; }
  error err() const override { return {}; }
  const void* value(const void*) const override { return nullptr; }
  std::string describe() const override { return name_; }

 private:
  const char* name_;
};

class value_ctx final : public context_impl {
 public:
  value_ctx(context parent, const void* key, const char* key_name, std::shared_ptr<const void> v, std::string text)
      : parent_(std::move(parent)), key_(key), key_name_(key_name), value_(std::move(v)), text_(std::move(text)) {}
  std::optional<deadline_t> deadline() const override { return parent_.deadline(); }
  recv_chan<> done() const override { return parent_.done(); }
  error err() const override { return parent_.err(); }
  const void* value(const void* key) const override { return key == key_ ? value_.get() : parent_.impl()->value(key); }
  std::string describe() const override {
    return parent_.describe() + ".WithValue(" + key_name_ + ", " + text_ + ")";
  }

 private:
  context parent_;
  const void* key_;
  const char* key_name_;
  std::shared_ptr<const void> value_;
  std::string text_;
};

class without_cancel_ctx final : public context_impl {
 public:
  explicit without_cancel_ctx(context parent) : parent_(std::move(parent)) {}
  std::optional<deadline_t> deadline() const override { return std::nullopt; }
  recv_chan<> done() const override { return {}; }
  error err() const override { return {}; }
  const void* value(const void* key) const override {
    // Hides the parent's cancellation from cause() (Go: Cause(WithoutCancel(x)) == nil).
    return key == &cancel_ctx_key ? nullptr : parent_.impl()->value(key);
  }
  std::string describe() const override { return parent_.describe() + ".WithoutCancel"; }

 private:
  context parent_;
};

const std::shared_ptr<const context_impl>& background_impl() {
  static const std::shared_ptr<const context_impl> b = std::make_shared<empty_ctx>("context.Background");
  return b;
}

void default_lost_cancel(const char* file, unsigned line, const char* function) {
  if (!g_lostcancel_on.load(std::memory_order_relaxed)) return;  // GORO_LOSTCANCEL=0
  report r;
  r.kind = "lostcancel";
  // The function as Go names one: source_location's spelling has a return type, parameters
  // and GCC's "[with ...]".
  const std::string fn = function != nullptr ? split_function_name(function).name : "";
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "the cancel function returned by the context created at %s:%u (in %s) was dropped without being "
                "called; call it (for example with a scope guard) to release the context and its timer",
                file != nullptr ? file : "?", line, fn.empty() ? "?" : fn.c_str());
  r.text = buf;
  report_site where;
  where.role = "context";
  where.function = fn;
  where.file = file != nullptr ? file : "";
  where.line = line;
  r.sites.push_back(std::move(where));
  emit_report(r);
}

std::atomic<lost_cancel_hook> g_lost_cancel{&default_lost_cancel};

}  // namespace

// ---- cancel_ctx ---------------------------------------------------------------------------

namespace {

// Lets another canceller make progress: the processor if on a goroutine (with one P the
// walk we wait for may belong to a goroutine parked in a user hook), else the CPU.
void cancel_backoff() {
  m* mp = current_m();
  if (current_g() != nullptr && mp->pp.get() != nullptr) {
    goro::yield();
  } else {
    std::this_thread::yield();
  }
}

}  // namespace

cancel_ctx::cancel_ctx(context parent) : parent_(std::move(parent)), done_(make_chan<>()) {}

cancel_ctx::~cancel_ctx() { detach(); }

recv_chan<> cancel_ctx::done() const { return done_; }

error cancel_ctx::err() const {
  std::lock_guard<spinlock> lk(mu_);
  return err_;
}

const void* cancel_ctx::value(const void* key) const {
  return key == &cancel_ctx_key ? static_cast<const void*>(this) : parent_.impl()->value(key);
}

std::string cancel_ctx::describe() const { return parent_.describe() + ".WithCancel"; }

error cancel_ctx::current_cause() const {
  std::lock_guard<spinlock> lk(mu_);
  return cause_;
}

void cancel_ctx::cancel(bool remove_from_parent, error err, error why) const {
  if (!err) err = canceled;  // a foreign parent that reports done with a nil err()
  if (!why) why = err;
  std::vector<std::weak_ptr<const canceler>> kids;
  {
    std::unique_lock<spinlock> lk(mu_);
    if (err_) {
      // The first cancellation wins; wait until it has reached every descendant.
      lk.unlock();
      while (!walked_.load(std::memory_order_acquire)) cancel_backoff();
      return;
    }
    err_ = err;
    cause_ = why;
    kids.reserve(children_.size());
    for (auto& [ptr, weak] : children_) kids.push_back(std::move(weak));
    children_.clear();
    done_.close();
  }
  for (auto& weak : kids) {
    if (auto child = weak.lock()) child->cancel(false, err, why);
  }
  on_cancel();
  // Pairs with the acquire load of a later cancel() of this node.
  walked_.store(true, std::memory_order_release);
  if (remove_from_parent) {
    detach();
  } else {
    // Cancelled because the parent is done: its registration is used up.
    detached_.store(true, std::memory_order_relaxed);
  }
}

void cancel_ctx::detach() const {
  if (detached_.exchange(true, std::memory_order_acq_rel)) return;
  if (stop_parent_) {
    (void)stop_parent_();
  } else if (const cancel_ctx* p = parent_cancel_ctx(parent_)) {
    p->remove_child(this);
  }
}

void cancel_ctx::add_child(const canceler* key, std::weak_ptr<const canceler> child) const {
  error e, c;
  {
    std::lock_guard<spinlock> lk(mu_);
    if (!err_) {
      children_[key] = std::move(child);
      return;
    }
    e = err_;
    c = cause_;
  }
  if (auto strong = child.lock()) strong->cancel(false, e, c);
}

void cancel_ctx::remove_child(const canceler* key) const {
  std::lock_guard<spinlock> lk(mu_);
  assert(!err_ || children_.empty());
  children_.erase(key);
}

std::size_t cancel_ctx::child_count() const {
  std::lock_guard<spinlock> lk(mu_);
  return children_.size();
}

const cancel_ctx* parent_cancel_ctx(const context& parent) {
  recv_chan<> d = parent.done();
  if (!d) return nullptr;
  auto* p = static_cast<const cancel_ctx*>(parent.impl()->value(&cancel_ctx_key));
  // A user-defined wrapper with a done channel of its own is not "this" cancel_ctx.
  if (p == nullptr || p->done_.core() != d.core()) return nullptr;
  return p;
}

void propagate_cancel(const context& parent, const std::shared_ptr<const cancel_ctx>& child) {
  recv_chan<> d = parent.done();
  if (!d) return;  // the parent is never cancelled
  if (d.try_recv() == chan_status::closed) {
    child->cancel(false, parent.err(), cause(parent));
    return;
  }
  if (const cancel_ctx* p = parent_cancel_ctx(parent)) {
    std::shared_ptr<const canceler> as_canceler(child, static_cast<const canceler*>(child.get()));
    p->add_child(as_canceler.get(), as_canceler);
    return;
  }
  std::weak_ptr<const cancel_ctx> weak = child;
  auto cancel_child = [weak, parent] {
    if (auto c = weak.lock()) c->cancel(false, parent.err(), cause(parent));
  };
  if (auto stop = parent.impl()->after_func(cancel_child)) {
    child->stop_parent_ = std::move(stop);
    return;
  }
  // A foreign parent without an after_func hook: watch it from a goroutine until the parent
  // is done or the child leaves it (cancelled on its own or destroyed: detach() closes
  // `stop`). A channel of its own rather than the child's done channel, so that dropping a
  // child without cancelling it also ends the watcher.
  auto stop = make_chan<>();
  child->stop_parent_ = [stop] {
    stop.close();  // detach() runs at most once: never closed twice
    return true;
  };
  goro::go([parent, stop, cancel_child] {
    goro::select(goro::recv(parent.done(), [&] { cancel_child(); }), goro::recv(stop));
  });
}

// ---- timer_ctx ----------------------------------------------------------------------------

timer_ctx::~timer_ctx() {
  // Dropped without cancel (reported as lostcancel): release the timer now rather than at
  // the deadline. The timer's function holds only a weak reference to this context.
  if (timer_) (void)timer_.stop();
}

std::optional<deadline_t> timer_ctx::deadline() const { return deadline_; }

std::string timer_ctx::describe() const {
  auto left = std::chrono::duration_cast<std::chrono::microseconds>(deadline_ - std::chrono::steady_clock::now());
  char buf[96];
  std::snprintf(buf, sizeof buf, ".WithDeadline(%+.3fms)", static_cast<double>(left.count()) / 1000.0);
  return parent_.describe() + buf;
}

void timer_ctx::on_cancel() const {
  std::lock_guard<spinlock> lk(mu_);
  if (timer_) (void)timer_.stop();
}

// ---- cancel functions ---------------------------------------------------------------------

}  // namespace detail

struct cancel_func::state {
  std::shared_ptr<const detail::cancel_ctx> ctx;
  std::atomic<bool> called{false};
  detail::source_location where;
  ~state() {
    if (!called.load(std::memory_order_acquire)) {
      if (auto hook = detail::g_lost_cancel.load(std::memory_order_acquire)) {
        hook(where.file_name(), where.line(), where.function_name());
      }
    }
  }
};

void cancel_func::operator()() const {
  if (!s_) return;
  s_->called.store(true, std::memory_order_release);
  s_->ctx->cancel(true, canceled, {});
}

void cancel_cause_func::operator()(error why) const {
  if (!s_) return;
  s_->called.store(true, std::memory_order_release);
  s_->ctx->cancel(true, canceled, why);
}

namespace detail {

void set_lost_cancel_hook(lost_cancel_hook h) { g_lost_cancel.store(h, std::memory_order_release); }

std::shared_ptr<cancel_func::state> make_cancel_state(std::shared_ptr<const cancel_ctx> c, detail::source_location w) {
  auto s = std::make_shared<cancel_func::state>();
  s->ctx = std::move(c);
  s->where = w;
  return s;
}

// Go panics the same way on a nil parent (a context made from a null context_impl).
void require_parent(const context& parent) {
  if (!parent.impl()) throw goro::panic("cannot create context from nil parent");
}

context with_value_erased(const context& parent, const void* key, const char* key_name,
                          std::shared_ptr<const void> value, std::string value_text) {
  require_parent(parent);
  return context(std::make_shared<value_ctx>(parent, key, key_name, std::move(value), std::move(value_text)));
}

}  // namespace detail

// ---- the public constructors ----------------------------------------------------------------

context::context() : impl_(detail::background_impl()) {}

context background() { return context(); }

context todo() {
  static const std::shared_ptr<const context_impl> t = std::make_shared<detail::empty_ctx>("context.TODO");
  return context(t);
}

std::pair<context, cancel_func> with_cancel(const context& parent, detail::source_location where) {
  detail::require_parent(parent);
  auto c = std::make_shared<detail::cancel_ctx>(parent);
  detail::propagate_cancel(parent, c);
  return {context(c), cancel_func(detail::make_cancel_state(c, where))};
}

std::pair<context, cancel_cause_func> with_cancel_cause(const context& parent, detail::source_location where) {
  detail::require_parent(parent);
  auto c = std::make_shared<detail::cancel_ctx>(parent);
  detail::propagate_cancel(parent, c);
  return {context(c), cancel_cause_func(detail::make_cancel_state(c, where))};
}

std::pair<context, cancel_func> with_deadline_cause(const context& parent, deadline_t d, error why,
                                                    detail::source_location where) {
  detail::require_parent(parent);
  if (auto cur = parent.deadline(); cur && *cur < d) {
    // The parent's deadline is earlier: the new one would never fire first.
    return with_cancel(parent, where);
  }
  auto c = std::make_shared<detail::timer_ctx>(parent, d);
  detail::propagate_cancel(parent, c);
  auto left = d - std::chrono::steady_clock::now();
  if (left <= std::chrono::nanoseconds(0)) {
    c->cancel(true, deadline_exceeded, why);
  } else {
    std::weak_ptr<const detail::timer_ctx> weak = c;
    // An after_func timer that the leak check names by this call's site while it is armed.
    auto t = detail::deadline_timer(
        std::chrono::duration_cast<std::chrono::nanoseconds>(left),
        [weak, why] {
          if (auto self = weak.lock()) self->cancel(true, deadline_exceeded, why);
        },
        where);
    // Created before taking mu_ (arming wakes an M: not under a spinlock others spin on);
    // if the context was cancelled meanwhile (by its parent, or by this very timer), the
    // timer is not needed.
    std::lock_guard<detail::spinlock> lk(c->mu_);
    if (!c->err_) {
      c->timer_ = std::move(t);
    } else {
      (void)t.stop();
    }
  }
  return {context(c), cancel_func(detail::make_cancel_state(c, where))};
}

std::pair<context, cancel_func> with_deadline(const context& parent, deadline_t d, detail::source_location where) {
  return with_deadline_cause(parent, d, {}, where);
}

std::pair<context, cancel_func> with_timeout(const context& parent, std::chrono::nanoseconds timeout,
                                             detail::source_location where) {
  return with_deadline_cause(parent, std::chrono::steady_clock::now() + timeout, {}, where);
}

std::pair<context, cancel_func> with_timeout_cause(const context& parent, std::chrono::nanoseconds timeout,
                                                   error why, detail::source_location where) {
  return with_deadline_cause(parent, std::chrono::steady_clock::now() + timeout, std::move(why), where);
}

context without_cancel(const context& parent) {
  detail::require_parent(parent);
  return context(std::make_shared<detail::without_cancel_ctx>(parent));
}

error cause(const context& ctx) {
  auto* c = static_cast<const detail::cancel_ctx*>(ctx.impl()->value(&detail::cancel_ctx_key));
  if (c == nullptr) return ctx.err();
  return c->current_cause();
}

}  // namespace goro
