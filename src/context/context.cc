// The context tree (Go's context.go). Invariants:
//  - cancel_ctx::err_ goes from nil to non-nil once, under mu_, and done_ is closed right
//    after; children_ is emptied at that moment and never filled again (a child added
//    later is cancelled on the spot by propagate_cancel).
//  - A parent holds only weak references to its children; a child holds its parent. A
//    child leaves its parent's map when cancelled or destroyed, so parents do not grow.
//  - Lock order: a child never holds its own mu_ while taking its parent's mu_, and
//    cancellation walks down the tree after releasing the parent's lock: no cycles.

#include "context/context_impl.h"

#include <cstdio>

#include "goro/select.h"
#include "runtime/report.h"

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
  report r;
  r.kind = "lostcancel";
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "the cancel function returned by the context created at %s:%u (in %s) was dropped without being "
                "called; call it (for example with a scope guard) to release the context and its timer",
                file != nullptr ? file : "?", line, function != nullptr ? function : "?");
  r.text = buf;
  emit_report(r);
}

std::atomic<lost_cancel_hook> g_lost_cancel{&default_lost_cancel};

}  // namespace

// ---- cancel_ctx ---------------------------------------------------------------------------

cancel_ctx::cancel_ctx(context parent) : parent_(std::move(parent)), done_(make_chan<>()) {}

cancel_ctx::~cancel_ctx() {
  if (stop_parent_) {
    stop_parent_();
  } else if (const cancel_ctx* p = parent_cancel_ctx(parent_)) {
    p->remove_child(this);
  }
}

recv_chan<> cancel_ctx::done() const { return done_; }

error cancel_ctx::err() const {
  std::lock_guard<spinlock> lk(mu_);
  return err_;
}

const void* cancel_ctx::value(const void* key) const {
  return key == &cancel_ctx_key ? static_cast<const void*>(this) : parent_.impl()->value(key);
}

std::string cancel_ctx::describe() const { return parent_.describe() + ".WithCancel"; }

error cancel_ctx::cause_locked() const {
  std::lock_guard<spinlock> lk(mu_);
  return cause_;
}

void cancel_ctx::cancel(bool remove_from_parent, error err, error why) const {
  if (!why) why = err;
  std::vector<std::weak_ptr<const canceler>> kids;
  {
    std::lock_guard<spinlock> lk(mu_);
    if (err_) return;  // the first cancellation wins
    err_ = err;
    cause_ = why;
    kids.reserve(children_.size());
    for (auto& [ptr, weak] : children_) kids.push_back(weak);
    children_.clear();
  }
  done_.close();
  for (auto& weak : kids) {
    if (auto child = weak.lock()) child->cancel(false, err, why);
  }
  on_cancel();
  if (remove_from_parent) {
    if (stop_parent_) {
      stop_parent_();
    } else if (const cancel_ctx* p = parent_cancel_ctx(parent_)) {
      p->remove_child(this);
    }
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
  std::shared_ptr<const canceler> as_canceler(child, static_cast<const canceler*>(child.get()));
  if (d.try_recv() == chan_status::closed) {
    child->cancel(false, parent.err(), cause(parent));
    return;
  }
  if (const cancel_ctx* p = parent_cancel_ctx(parent)) {
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
  // A foreign parent without an after_func hook: watch it from a goroutine, until either
  // the parent or the child is done.
  recv_chan<> child_done = child->done_;
  goro::go([parent, child_done, cancel_child] {
    goro::select(goro::recv(parent.done(), [&] { cancel_child(); }), goro::recv(child_done));
  });
}

// ---- timer_ctx ----------------------------------------------------------------------------

std::optional<deadline_t> timer_ctx::deadline() const { return deadline_; }

std::string timer_ctx::describe() const {
  auto left = std::chrono::duration_cast<std::chrono::microseconds>(deadline_ - std::chrono::steady_clock::now());
  char buf[96];
  std::snprintf(buf, sizeof buf, ".WithDeadline(%+.3fms)", static_cast<double>(left.count()) / 1000.0);
  return parent_.describe() + buf;
}

void timer_ctx::on_cancel() const {
  std::lock_guard<spinlock> lk(mu_);
  if (timer_) timer_.stop();
}

// ---- cancel functions ---------------------------------------------------------------------

}  // namespace detail

struct cancel_func::state {
  std::shared_ptr<const detail::cancel_ctx> ctx;
  std::atomic<bool> called{false};
  std::source_location where;
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

std::shared_ptr<cancel_func::state> make_cancel_state(std::shared_ptr<const cancel_ctx> c, std::source_location w) {
  auto s = std::make_shared<cancel_func::state>();
  s->ctx = std::move(c);
  s->where = w;
  return s;
}

context with_value_erased(const context& parent, const void* key, const char* key_name,
                          std::shared_ptr<const void> value, std::string value_text) {
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

std::pair<context, cancel_func> with_cancel(const context& parent, std::source_location where) {
  auto c = std::make_shared<detail::cancel_ctx>(parent);
  detail::propagate_cancel(parent, c);
  return {context(c), cancel_func(detail::make_cancel_state(c, where))};
}

std::pair<context, cancel_cause_func> with_cancel_cause(const context& parent, std::source_location where) {
  auto c = std::make_shared<detail::cancel_ctx>(parent);
  detail::propagate_cancel(parent, c);
  return {context(c), cancel_cause_func(detail::make_cancel_state(c, where))};
}

std::pair<context, cancel_func> with_deadline_cause(const context& parent, deadline_t d, error why,
                                                    std::source_location where) {
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
    auto t = after_func(std::chrono::duration_cast<std::chrono::nanoseconds>(left), [weak, why] {
      if (auto self = weak.lock()) self->cancel(true, deadline_exceeded, why);
    });
    std::lock_guard<detail::spinlock> lk(c->mu_);
    if (!c->err_) {
      c->timer_ = std::move(t);
    } else {
      t.stop();
    }
  }
  return {context(c), cancel_func(detail::make_cancel_state(c, where))};
}

std::pair<context, cancel_func> with_deadline(const context& parent, deadline_t d, std::source_location where) {
  return with_deadline_cause(parent, d, {}, where);
}

std::pair<context, cancel_func> with_timeout(const context& parent, std::chrono::nanoseconds timeout,
                                             std::source_location where) {
  return with_deadline_cause(parent, std::chrono::steady_clock::now() + timeout, {}, where);
}

std::pair<context, cancel_func> with_timeout_cause(const context& parent, std::chrono::nanoseconds timeout,
                                                   error why, std::source_location where) {
  return with_deadline_cause(parent, std::chrono::steady_clock::now() + timeout, std::move(why), where);
}

context without_cancel(const context& parent) { return context(std::make_shared<detail::without_cancel_ctx>(parent)); }

error cause(const context& ctx) {
  auto* c = static_cast<const detail::cancel_ctx*>(ctx.impl()->value(&detail::cancel_ctx_key));
  if (c == nullptr) return ctx.err();
  return c->cause_locked();
}

}  // namespace goro
