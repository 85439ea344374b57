// goro::context: the cancellation tree. Go's context_test.go and x_test.go (TestBackground,
// TestWithCancel, TestParentFinishesChild, TestChildFinishesFirst, TestCancelRemoves,
// TestWithCancelCanceledParent, TestDeadline, TestTimeout, TestCanceledTimeout,
// TestLayersCancel/Timeout), written anew.

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "context/context_impl.h"
#include "context_test_util.h"
#include "goro/goro.h"
#include "support/goro_test.h"

namespace {

using namespace std::chrono_literals;
using ctx_test::as_cancel;
using ctx_test::is_done;
using goro_test::Procs;

class ContextTest : public Procs {};
GORO_INSTANTIATE_PROCS(ContextTest);

TEST_P(ContextTest, BackgroundAndTodo) {
  run([] {
    for (auto [c, name] : {std::pair{goro::background(), "context.Background"}, std::pair{goro::todo(), "context.TODO"}}) {
      EXPECT_EQ(c.describe(), name);
      EXPECT_TRUE(c.done().is_nil());
      EXPECT_FALSE(c.err());
      EXPECT_FALSE(c.deadline().has_value());
      EXPECT_FALSE(goro::cause(c));
    }
    EXPECT_EQ(goro::context().impl(), goro::background().impl()) << "a default context is Background";
  });
}

TEST_P(ContextTest, WithCancel) {
  run([] {
    auto [c, cancel] = goro::with_cancel(goro::background());
    EXPECT_EQ(c.describe(), "context.Background.WithCancel");
    EXPECT_FALSE(c.done().is_nil());
    EXPECT_FALSE(is_done(c));
    EXPECT_FALSE(c.err());
    EXPECT_FALSE(c.deadline().has_value());
    cancel();
    EXPECT_TRUE(is_done(c));
    EXPECT_EQ(c.err(), goro::canceled);
    EXPECT_EQ(c.err().message(), "context canceled");
    cancel();  // idempotent
    EXPECT_EQ(c.err(), goro::canceled);
    EXPECT_EQ(goro::cause(c), goro::canceled);
  });
}

// A tree of depth 3 and fanout 3, mixing cancel, timeout and value contexts: cancelling the
// root cancels every descendant before cancel() returns.
TEST_P(ContextTest, ParentCancelsAllDescendantsBeforeReturning) {
  run([] {
    static const goro::context_key<int> key{"k"};
    auto [root, cancel_root] = goro::with_cancel(goro::background());
    std::vector<goro::context> nodes;
    std::vector<goro::cancel_func> cancels;
    std::function<void(const goro::context&, int)> grow = [&](const goro::context& parent, int depth) {
      if (depth == 3) return;
      for (int i = 0; i < 3; i++) {
        goro::context child;
        if (i == 0) {
          auto [c, f] = goro::with_cancel(parent);
          child = c;
          cancels.push_back(f);
        } else if (i == 1) {
          auto [c, f] = goro::with_timeout(parent, 1h);
          child = c;
          cancels.push_back(f);
        } else {
          child = goro::with_value(parent, key, depth);
        }
        nodes.push_back(child);
        grow(child, depth + 1);
      }
    };
    grow(root, 0);
    ASSERT_EQ(nodes.size(), 3u + 9u + 27u);
    for (const auto& n : nodes) ASSERT_FALSE(n.err());
    cancel_root();
    for (const auto& n : nodes) {
      EXPECT_TRUE(is_done(n)) << n.describe();
      EXPECT_EQ(n.err(), goro::canceled) << n.describe();
    }
    for (auto& f : cancels) f();
  });
}

TEST_P(ContextTest, ChildCancelDoesNotCancelParent) {
  run([] {
    auto [parent, cancel_parent] = goro::with_cancel(goro::background());
    auto [child, cancel_child] = goro::with_cancel(parent);
    auto [grandchild, cancel_grandchild] = goro::with_timeout(child, 1h);
    EXPECT_EQ(as_cancel(parent)->child_count(), 1u);
    cancel_child();
    EXPECT_EQ(child.err(), goro::canceled);
    EXPECT_EQ(grandchild.err(), goro::canceled);
    EXPECT_FALSE(parent.err());
    EXPECT_FALSE(is_done(parent));
    EXPECT_EQ(as_cancel(parent)->child_count(), 0u) << "the cancelled child stays in its parent";
    cancel_grandchild();
    cancel_parent();
  });
}

// Cancelled (and destroyed) children leave their parent: a long-lived parent does not grow.
TEST_P(ContextTest, CancelRemovesChild) {
  run([] {
    auto [parent, cancel_parent] = goro::with_cancel(goro::background());
    const auto* p = as_cancel(parent);
    const long n = goro_test::scaled(10000, 10);
    for (long i = 0; i < n; i++) {
      auto [c, cancel] = goro::with_cancel(parent);
      ASSERT_EQ(p->child_count(), 1u);
      cancel();
      ASSERT_EQ(p->child_count(), 0u);
    }
    for (long i = 0; i < n / 10; i++) {
      auto [c, cancel] = goro::with_timeout(parent, 1h);
      cancel();
      auto [c2, cancel2] = goro::with_cancel_cause(parent);
      cancel2(goro::error("x"));
      auto stop = goro::after_func(parent, [] {});
      EXPECT_TRUE(stop());
    }
    EXPECT_EQ(p->child_count(), 0u);
    cancel_parent();
  });
}

TEST_P(ContextTest, ChildrenOfCancelledParentAreBornCancelled) {
  run([] {
    auto [parent, cancel_parent] = goro::with_cancel_cause(goro::background());
    goro::error why("why");
    cancel_parent(why);
    auto [c, cancel] = goro::with_cancel(parent);
    EXPECT_TRUE(is_done(c));
    EXPECT_EQ(c.err(), goro::canceled);
    EXPECT_EQ(goro::cause(c), why);
    auto [t, cancel_t] = goro::with_timeout(parent, 1h);
    EXPECT_EQ(t.err(), goro::canceled) << "the parent's error, not deadline_exceeded";
    EXPECT_EQ(as_cancel(parent)->child_count(), 0u);
    cancel();
    cancel_t();
  });
}

TEST_P(ContextTest, DeadlineExpires) {
  run([] {
    auto d = std::chrono::steady_clock::now() + 20ms;
    auto [c, cancel] = goro::with_deadline(goro::background(), d);
    ASSERT_TRUE(c.deadline().has_value());
    EXPECT_EQ(*c.deadline(), d);
    EXPECT_EQ(c.describe().rfind("context.Background.WithDeadline(", 0), 0u) << c.describe();
    EXPECT_FALSE(c.err());
    ASSERT_TRUE(ctx_test::wait_done(c));
    EXPECT_GE(std::chrono::steady_clock::now(), d) << "cancelled before its deadline";
    EXPECT_EQ(c.err(), goro::deadline_exceeded);
    EXPECT_EQ(c.err().message(), "context deadline exceeded");
    EXPECT_EQ(goro::cause(c), goro::deadline_exceeded);
    cancel();
    EXPECT_EQ(c.err(), goro::deadline_exceeded) << "cancel after expiry keeps the first error";
  });
}

TEST_P(ContextTest, TimeoutThroughLayers) {
  run([] {
    static const goro::context_key<std::string> key{"layer"};
    auto [a, cancel_a] = goro::with_cancel(goro::background());
    goro::context b = goro::with_value(a, key, "v");
    auto [c, cancel_c] = goro::with_timeout(b, 10ms);
    auto [d, cancel_d] = goro::with_cancel(c);
    ASSERT_TRUE(ctx_test::wait_done(d));
    EXPECT_EQ(d.err(), goro::deadline_exceeded);
    EXPECT_EQ(c.err(), goro::deadline_exceeded);
    EXPECT_FALSE(a.err()) << "a timeout does not cancel upwards";
    cancel_d();
    cancel_c();
    cancel_a();
  });
}

TEST_P(ContextTest, CancelBeforeTimeout) {
  run([] {
    auto [c, cancel] = goro::with_timeout(goro::background(), 1h);
    cancel();
    EXPECT_EQ(c.err(), goro::canceled);
    EXPECT_EQ(goro::cause(c), goro::canceled);
  });
}

TEST_P(ContextTest, ChildDeadlineLaterThanParentsIsIgnored) {
  run([] {
    auto d = std::chrono::steady_clock::now() + 1h;
    auto [parent, cancel_parent] = goro::with_deadline(goro::background(), d);
    auto [child, cancel_child] = goro::with_deadline(parent, d + 1h);
    ASSERT_TRUE(child.deadline().has_value());
    EXPECT_EQ(*child.deadline(), d);
    auto [child2, cancel_child2] = goro::with_timeout(parent, 2h);
    EXPECT_EQ(*child2.deadline(), d);
    auto [sooner, cancel_sooner] = goro::with_deadline(parent, d - 30min);
    EXPECT_EQ(*sooner.deadline(), d - 30min) << "an earlier deadline applies";
    cancel_parent();
    EXPECT_EQ(child.err(), goro::canceled);
    EXPECT_EQ(sooner.err(), goro::canceled);
    cancel_child();
    cancel_child2();
    cancel_sooner();
  });
}

TEST_P(ContextTest, PassedDeadlineIsBornCancelled) {
  run([] {
    auto [c, cancel] = goro::with_deadline(goro::background(), std::chrono::steady_clock::now() - 1s);
    EXPECT_TRUE(is_done(c));
    EXPECT_EQ(c.err(), goro::deadline_exceeded);
    auto [z, cancel_z] = goro::with_timeout(goro::background(), 0ns);
    EXPECT_EQ(z.err(), goro::deadline_exceeded);
    auto [n, cancel_n] = goro::with_timeout(goro::background(), -5s);
    EXPECT_EQ(n.err(), goro::deadline_exceeded);
    cancel();
    cancel_z();
    cancel_n();
    EXPECT_EQ(c.err(), goro::deadline_exceeded);
  });
}

TEST_P(ContextTest, NilParentPanics) {
  run([] {
    goro::context nil(nullptr);
    static const goro::context_key<int> key{"k"};
    std::vector<std::function<void()>> derive = {
        [&] { (void)goro::with_cancel(nil); },
        [&] { (void)goro::with_cancel_cause(nil); },
        [&] { (void)goro::with_timeout(nil, 1h); },
        [&] { (void)goro::with_deadline_cause(nil, std::chrono::steady_clock::now(), goro::error("x")); },
        [&] { (void)goro::with_value(nil, key, 1); },
        [&] { (void)goro::without_cancel(nil); },
    };
    for (std::size_t i = 0; i < derive.size(); i++) {
      try {
        derive[i]();
        ADD_FAILURE() << "case " << i << " did not panic";
      } catch (const goro::panic& p) {
        EXPECT_EQ(std::string(p.what()), "cannot create context from nil parent") << "case " << i;
      }
    }
  });
}

TEST_P(ContextTest, DescribeNamesTheChain) {
  run([] {
    static const goro::context_key<std::string> key{"user"};
    static const goro::context_key<int> num{"n"};
    struct opaque {};
    static const goro::context_key<opaque> okey{"o"};
    auto [c, cancel] = goro::with_cancel(goro::todo());
    EXPECT_EQ(c.describe(), "context.TODO.WithCancel");
    auto v = goro::with_value(c, key, std::string("gopher"));
    EXPECT_EQ(v.describe(), "context.TODO.WithCancel.WithValue(user, gopher)");
    EXPECT_EQ(goro::with_value(v, num, 42).describe(),
              "context.TODO.WithCancel.WithValue(user, gopher).WithValue(n, 42)");
    EXPECT_EQ(goro::with_value(goro::background(), okey, opaque{}).describe(),
              "context.Background.WithValue(o, <not Stringer>)");
    EXPECT_EQ(goro::without_cancel(v).describe(), "context.TODO.WithCancel.WithValue(user, gopher).WithoutCancel");
    auto [cc, cancel_cc] = goro::with_cancel_cause(goro::background());
    EXPECT_EQ(cc.describe(), "context.Background.WithCancel");
    cancel();
    cancel_cc(goro::error());
  });
}

}  // namespace
