// Propagation across user-defined contexts (Go's TestCustomContextPropagation and
// afterFuncContext tests), the lostcancel report, and go(ctx, fn).

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "context_test_util.h"
#include "goro/goro.h"
#include "support/goro_test.h"

namespace {

using namespace std::chrono_literals;
using ctx_test::as_cancel;
using ctx_test::is_done;
using goro_test::Procs;

class Propagation : public Procs {};
GORO_INSTANTIATE_PROCS(Propagation);

// (a) Wraps a library context and returns its done channel and values: a child attaches
// directly to the library context inside.
class wrap_ctx final : public goro::context_impl {
 public:
  explicit wrap_ctx(goro::context inner) : inner_(std::move(inner)) {}
  std::optional<goro::deadline_t> deadline() const override { return inner_.deadline(); }
  goro::recv_chan<> done() const override { return inner_.done(); }
  goro::error err() const override { return inner_.err(); }
  const void* value(const void* key) const override { return inner_.impl()->value(key); }
  std::string describe() const override { return "wrap"; }

 private:
  goro::context inner_;
};

// (b) Has a done channel of its own: the library watches it from a goroutine.
class own_done_ctx final : public goro::context_impl {
 public:
  std::optional<goro::deadline_t> deadline() const override { return std::nullopt; }
  goro::recv_chan<> done() const override { return done_; }
  goro::error err() const override {
    std::lock_guard<std::mutex> lk(mu_);
    return err_;
  }
  const void* value(const void*) const override { return nullptr; }
  std::string describe() const override { return "own"; }
  void cancel() {
    std::lock_guard<std::mutex> lk(mu_);
    if (err_) return;
    err_ = goro::canceled;
    done_.close();
  }

 private:
  goro::chan<> done_ = goro::make_chan<>();
  mutable std::mutex mu_;
  goro::error err_;
};

// (c) Go's afterFuncer: a done channel that never closes, and an after_func hook through
// which the library registers instead of starting a goroutine.
class hook_ctx final : public goro::context_impl {
 public:
  std::optional<goro::deadline_t> deadline() const override { return std::nullopt; }
  goro::recv_chan<> done() const override { return never_; }
  goro::error err() const override {
    std::lock_guard<std::mutex> lk(mu_);
    return err_;
  }
  const void* value(const void*) const override { return nullptr; }
  std::string describe() const override { return "hook"; }
  std::function<bool()> after_func(std::function<void()> f) const override {
    std::lock_guard<std::mutex> lk(mu_);
    int id = next_++;
    fns_[id] = std::move(f);
    return [this, id] {
      std::lock_guard<std::mutex> lk2(mu_);
      stops_++;
      return fns_.erase(id) == 1;
    };
  }
  // Cancels: runs the registered functions inline (on the caller).
  void cancel() {
    std::map<int, std::function<void()>> fns;
    {
      std::lock_guard<std::mutex> lk(mu_);
      err_ = goro::canceled;
      fns.swap(fns_);
    }
    for (auto& [id, f] : fns) f();
  }
  std::size_t registered() const {
    std::lock_guard<std::mutex> lk(mu_);
    return fns_.size();
  }
  int stops() const {
    std::lock_guard<std::mutex> lk(mu_);
    return stops_;
  }

 private:
  goro::chan<> never_ = goro::make_chan<>();
  mutable std::mutex mu_;
  goro::error err_;
  mutable std::map<int, std::function<void()>> fns_;
  mutable int next_ = 0;
  mutable int stops_ = 0;
};

// Waits (bounded) until only `n` goroutines exist.
bool wait_goroutines(std::size_t n) {
  for (int i = 0; i < 5000; i++) {
    if (goro::num_goroutine() == n) return true;
    goro::sleep(1ms);
  }
  return goro::num_goroutine() == n;
}

TEST_P(Propagation, WrappedLibraryParentPropagatesDirectly) {
  run([] {
    auto [inner, cancel_inner] = goro::with_cancel(goro::background());
    goro::context parent(std::make_shared<wrap_ctx>(inner));
    auto [child, cancel_child] = goro::with_cancel(parent);
    EXPECT_EQ(child.describe(), "wrap.WithCancel");
    EXPECT_EQ(as_cancel(inner)->child_count(), 1u) << "the child attaches to the wrapped context";
    EXPECT_EQ(goro::num_goroutine(), 1u) << "no watcher goroutine for a wrapped library context";
    cancel_inner();
    EXPECT_TRUE(is_done(child)) << "cancelled before cancel() returned";
    EXPECT_EQ(child.err(), goro::canceled);
    cancel_child();
  });
}

TEST_P(Propagation, OwnDoneChannelParentIsWatchedByAGoroutine) {
  run([] {
    auto parent_impl = std::make_shared<own_done_ctx>();
    goro::context parent(parent_impl);
    auto [child, cancel_child] = goro::with_cancel(parent);
    EXPECT_EQ(goro::num_goroutine(), 2u) << "one watcher goroutine";
    parent_impl->cancel();
    ASSERT_TRUE(ctx_test::wait_done(child));
    EXPECT_EQ(child.err(), goro::canceled);
    EXPECT_TRUE(wait_goroutines(1)) << "the watcher exits once the parent is done";
    cancel_child();
  });
}

TEST_P(Propagation, CancellingTheChildStopsTheWatcher) {
  run([] {
    auto parent_impl = std::make_shared<own_done_ctx>();
    goro::context parent(parent_impl);
    {
      auto [child, cancel_child] = goro::with_cancel(parent);
      auto [t, cancel_t] = goro::with_timeout(parent, 1h);
      EXPECT_EQ(goro::num_goroutine(), 3u);
      cancel_child();
      cancel_t();
      EXPECT_TRUE(wait_goroutines(1)) << "watchers outlived their children";
      EXPECT_FALSE(parent_impl->err());
    }
    // A child that expires on its own also stops its watcher.
    auto [t, cancel_t] = goro::with_timeout(parent, 2ms);
    ASSERT_TRUE(ctx_test::wait_done(t));
    EXPECT_TRUE(wait_goroutines(1));
    cancel_t();
  });
}

TEST_P(Propagation, AfterFuncHookParent) {
  run([] {
    auto parent_impl = std::make_shared<hook_ctx>();
    goro::context parent(parent_impl);
    auto [child, cancel_child] = goro::with_cancel(parent);
    EXPECT_EQ(parent_impl->registered(), 1u);
    EXPECT_EQ(goro::num_goroutine(), 1u) << "the hook replaces the watcher goroutine";
    parent_impl->cancel();
    EXPECT_TRUE(is_done(child)) << "cancelled through the hook";
    EXPECT_EQ(child.err(), goro::canceled);
    cancel_child();

    // The child cancelled first: the hook's stop is called.
    auto parent2 = std::make_shared<hook_ctx>();
    auto [c2, cancel_c2] = goro::with_cancel(goro::context(parent2));
    EXPECT_EQ(parent2->registered(), 1u);
    cancel_c2();
    EXPECT_EQ(parent2->stops(), 1);
    EXPECT_EQ(parent2->registered(), 0u);
    parent2->cancel();
    EXPECT_EQ(c2.err(), goro::canceled);

    // after_func on a hook context goes through the hook too.
    auto parent3 = std::make_shared<hook_ctx>();
    auto ran = goro::make_chan<>(1);
    auto stop = goro::after_func(goro::context(parent3), [ran] { ran.send(); });
    EXPECT_EQ(parent3->registered(), 1u);
    parent3->cancel();
    ran.recv();
    EXPECT_FALSE(stop());
  });
}

TEST_P(Propagation, LostCancelIsReported) {
  std::mutex mu;
  std::vector<goro::report> reports;
  goro::set_report_handler([&](const goro::report& r) {
    std::lock_guard<std::mutex> lk(mu);
    reports.push_back(r);
  });
  unsigned line = 0;
  run([&] {
    {
      line = __LINE__ + 1;
      auto [c, cancel] = goro::with_cancel(goro::background());
      auto copy = cancel;
    }
    {
      auto [c, cancel] = goro::with_timeout(goro::background(), 1h);
      auto copy = cancel;
      copy();  // calling any copy is enough
    }
    {
      auto [c, cancel] = goro::with_cancel_cause(goro::background());
      cancel(goro::error());
    }
  });
  goro::set_report_handler({});
  std::lock_guard<std::mutex> lk(mu);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].kind, "lostcancel");
  std::string where = std::string(__FILE__) + ":" + std::to_string(line);
  EXPECT_NE(reports[0].text.find(where), std::string::npos) << reports[0].text;
}

// Dropped children leave their parent when destroyed (each also reported as lostcancel).
TEST_P(Propagation, DroppedChildrenLeaveTheParent) {
  std::atomic<long> lost{0};
  goro::set_report_handler([&](const goro::report& r) {
    if (r.kind == "lostcancel") lost++;
  });
  const long n = goro_test::scaled(10000, 10);
  run([&] {
    auto [parent, cancel_parent] = goro::with_cancel(goro::background());
    for (long i = 0; i < n; i++) {
      auto [c, cancel] = goro::with_cancel(parent);
      ASSERT_EQ(as_cancel(parent)->child_count(), 1u);
    }
    EXPECT_EQ(as_cancel(parent)->child_count(), 0u);
    cancel_parent();
  });
  goro::set_report_handler({});
  EXPECT_EQ(lost.load(), n);
}

struct flag_on_destroy {
  std::shared_ptr<std::atomic<bool>> flag;
  explicit flag_on_destroy(std::shared_ptr<std::atomic<bool>> f) : flag(std::move(f)) {}
  flag_on_destroy(flag_on_destroy&& o) noexcept = default;
  ~flag_on_destroy() {
    if (flag) flag->store(true);
  }
};

TEST_P(Propagation, GoWithContextKeepsItAlive) {
  run([] {
    static const goro::context_key<flag_on_destroy> key{"flag"};
    auto destroyed = std::make_shared<std::atomic<bool>>(false);
    auto release = goro::make_chan<>();
    auto started = goro::make_chan<>(1);
    {
      goro::context c = goro::with_value(goro::background(), key, flag_on_destroy(destroyed));
      // The function holds no reference to c: only go(ctx, fn) keeps it alive.
      goro::go(c, [release, started] {
        started.send();
        release.recv();
      });
    }
    started.recv();
    goro::sleep(2ms);
    EXPECT_FALSE(destroyed->load()) << "the context died while its goroutine ran";
    release.send();
    for (int i = 0; i < 5000 && !destroyed->load(); i++) goro::sleep(1ms);
    EXPECT_TRUE(destroyed->load()) << "the context outlived its goroutine";
  });
}

}  // namespace
