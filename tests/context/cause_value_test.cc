// Causes, values and without_cancel: Go's TestCause table, TestValues, TestWithoutCancel,
// written anew.

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "context_test_util.h"
#include "goro/goro.h"
#include "support/goro_test.h"

namespace {

using namespace std::chrono_literals;
using ctx_test::is_done;
using goro_test::Procs;

class CauseValueTest : public Procs {};
GORO_INSTANTIATE_PROCS(CauseValueTest);

// A user-defined context that forwards everything to an inner one, optionally with an error
// of its own (Go's tests' customContext / "without value").
class wrapper final : public goro::context_impl {
 public:
  wrapper(goro::context inner, goro::error own_err = {}, bool forward_values = true)
      : inner_(std::move(inner)), own_err_(std::move(own_err)), forward_values_(forward_values) {}
  std::optional<goro::deadline_t> deadline() const override { return inner_.deadline(); }
  goro::recv_chan<> done() const override { return inner_.done(); }
  goro::error err() const override { return own_err_ ? own_err_ : inner_.err(); }
  const void* value(const void* key) const override { return forward_values_ ? inner_.impl()->value(key) : nullptr; }
  std::string describe() const override { return "wrapper"; }

 private:
  goro::context inner_;
  goro::error own_err_;
  bool forward_values_;
};

struct cause_case {
  const char* name;
  // Builds the context; cleanups cancel everything it created.
  std::function<goro::context(std::vector<std::function<void()>>& cleanups)> make;
  goro::error err;
  goro::error cause;
};

TEST_P(CauseValueTest, CauseTable) {
  run([] {
    const goro::error cause_err("cause");
    const goro::error parent_cause("parentCause");
    const goro::error child_cause("childCause");
    const goro::error custom_err("custom");
    using cl = std::vector<std::function<void()>>;
    const std::vector<cause_case> cases = {
        {"Background", [](cl&) { return goro::background(); }, {}, {}},
        {"TODO", [](cl&) { return goro::todo(); }, {}, {}},
        {"WithCancel",
         [](cl&) {
           auto [c, cancel] = goro::with_cancel(goro::background());
           cancel();
           return c;
         },
         goro::canceled, goro::canceled},
        {"WithCancelCause",
         [&](cl&) {
           auto [c, cancel] = goro::with_cancel_cause(goro::background());
           cancel(cause_err);
           return c;
         },
         goro::canceled, cause_err},
        {"WithCancelCause nil",
         [](cl&) {
           auto [c, cancel] = goro::with_cancel_cause(goro::background());
           cancel(goro::error());
           return c;
         },
         goro::canceled, goro::canceled},
        {"parent cause before child",
         [&](cl&) {
           auto [p, cancel_p] = goro::with_cancel_cause(goro::background());
           auto [c, cancel_c] = goro::with_cancel_cause(p);
           cancel_p(parent_cause);
           cancel_c(child_cause);
           return c;
         },
         goro::canceled, parent_cause},
        {"parent cause after child",
         [&](cl&) {
           auto [p, cancel_p] = goro::with_cancel_cause(goro::background());
           auto [c, cancel_c] = goro::with_cancel_cause(p);
           cancel_c(child_cause);
           cancel_p(parent_cause);
           return c;
         },
         goro::canceled, child_cause},
        {"parent cause before nil child",
         [&](cl&) {
           auto [p, cancel_p] = goro::with_cancel_cause(goro::background());
           auto [c, cancel_c] = goro::with_cancel(p);
           cancel_p(parent_cause);
           cancel_c();
           return c;
         },
         goro::canceled, parent_cause},
        {"first cause wins",
         [&](cl&) {
           auto [c, cancel] = goro::with_cancel_cause(goro::background());
           cancel(cause_err);
           cancel(child_cause);
           return c;
         },
         goro::canceled, cause_err},
        {"WithTimeout",
         [](cl& cleanups) {
           auto [c, cancel] = goro::with_timeout(goro::background(), 0ns);
           cleanups.push_back(cancel);
           return c;
         },
         goro::deadline_exceeded, goro::deadline_exceeded},
        {"WithTimeout canceled",
         [](cl&) {
           auto [c, cancel] = goro::with_timeout(goro::background(), 0ns);
           cancel();
           return c;
         },
         goro::deadline_exceeded, goro::deadline_exceeded},
        {"WithTimeoutCause",
         [&](cl& cleanups) {
           auto [c, cancel] = goro::with_timeout_cause(goro::background(), 0ns, cause_err);
           cleanups.push_back(cancel);
           return c;
         },
         goro::deadline_exceeded, cause_err},
        {"WithTimeoutCause canceled",
         [&](cl&) {
           auto [c, cancel] = goro::with_timeout_cause(goro::background(), 0ns, cause_err);
           cancel();
           return c;
         },
         goro::deadline_exceeded, cause_err},
        {"WithTimeout expired before the parent's cancel",
         [&](cl&) {
           auto [p, cancel_p] = goro::with_cancel_cause(goro::background());
           auto [c, cancel_c] = goro::with_timeout(p, 0ns);
           cancel_p(parent_cause);
           cancel_c();
           return c;
         },
         goro::deadline_exceeded, goro::deadline_exceeded},
        {"WithTimeout cancelled by its parent first",
         [&](cl&) {
           auto [p, cancel_p] = goro::with_cancel_cause(goro::background());
           auto [c, cancel_c] = goro::with_timeout(p, 1h);
           cancel_p(parent_cause);
           cancel_c();
           return c;
         },
         goro::canceled, parent_cause},
        {"WithValue",
         [&](cl&) {
           static const goro::context_key<int> key{"k"};
           auto [p, cancel_p] = goro::with_cancel_cause(goro::background());
           cancel_p(cause_err);
           return goro::with_value(p, key, 1);
         },
         goro::canceled, cause_err},
        {"custom context",
         [&](cl&) {
           auto [p, cancel_p] = goro::with_cancel_cause(goro::background());
           cancel_p(cause_err);
           return goro::context(std::make_shared<wrapper>(p));
         },
         goro::canceled, cause_err},
        {"custom context with its own error",
         [&](cl&) {
           auto [p, cancel_p] = goro::with_cancel_cause(goro::background());
           cancel_p(cause_err);
           return goro::context(std::make_shared<wrapper>(p, custom_err, false));
         },
         custom_err, custom_err},
        {"custom context without values",
         [&](cl&) {
           auto [p, cancel_p] = goro::with_cancel_cause(goro::background());
           cancel_p(cause_err);
           return goro::context(std::make_shared<wrapper>(p, goro::error(), false));
         },
         goro::canceled, goro::canceled},
        {"WithoutCancel",
         [&](cl&) {
           auto [p, cancel_p] = goro::with_cancel_cause(goro::background());
           cancel_p(cause_err);
           return goro::without_cancel(p);
         },
         {}, {}},
        {"WithoutCancel then WithCancel",
         [&](cl&) {
           auto [p, cancel_p] = goro::with_cancel_cause(goro::background());
           cancel_p(cause_err);
           auto [c, cancel_c] = goro::with_cancel(goro::without_cancel(p));
           cancel_c();
           return c;
         },
         goro::canceled, goro::canceled},
    };
    for (const auto& tc : cases) {
      std::vector<std::function<void()>> cleanups;
      goro::context c = tc.make(cleanups);
      EXPECT_EQ(c.err(), tc.err) << tc.name << ": err " << c.err().message();
      EXPECT_EQ(goro::cause(c), tc.cause) << tc.name << ": cause " << goro::cause(c).message();
      for (auto& f : cleanups) f();
    }
  });
}

TEST_P(CauseValueTest, CauseOfLiveContextIsNil) {
  run([] {
    auto [c, cancel] = goro::with_cancel_cause(goro::background());
    EXPECT_FALSE(goro::cause(c));
    auto [t, cancel_t] = goro::with_timeout_cause(c, 1h, goro::error("late"));
    EXPECT_FALSE(goro::cause(t));
    cancel_t();
    EXPECT_EQ(goro::cause(t), goro::canceled) << "cancel of a timeout-cause context: cause canceled";
    cancel(goro::error());
  });
}

TEST_P(CauseValueTest, TimeoutCauseOnExpiry) {
  run([] {
    goro::error why("too slow");
    auto [c, cancel] = goro::with_timeout_cause(goro::background(), 5ms, why);
    ASSERT_TRUE(ctx_test::wait_done(c));
    EXPECT_EQ(c.err(), goro::deadline_exceeded);
    EXPECT_EQ(goro::cause(c), why);
    cancel();
  });
}

TEST_P(CauseValueTest, Values) {
  run([] {
    static const goro::context_key<std::string> k1{"k1"};
    static const goro::context_key<std::string> k2{"k2"};
    static const goro::context_key<std::string> k1_twin{"k1"};  // same type and name: a different key
    static const goro::context_key<int> k3{"k3"};
    goro::context c0 = goro::background();
    EXPECT_EQ(c0.value(k1), nullptr);
    goro::context c1 = goro::with_value(c0, k1, "c1k1");
    goro::context c2 = goro::with_value(c1, k2, "c2k2");
    goro::context c3 = goro::with_value(c2, k3, 7);
    goro::context c4 = goro::with_value(c3, k1, "c4k1");  // shadows c1's k1
    auto [c5, cancel5] = goro::with_cancel(c4);
    goro::context c6 = goro::with_value(c5, k1_twin, "twin");
    auto str = [](const std::string* s) { return s != nullptr ? *s : std::string("<nil>"); };
    EXPECT_EQ(str(c1.value(k1)), "c1k1");
    EXPECT_EQ(str(c1.value(k2)), "<nil>");
    EXPECT_EQ(str(c2.value(k1)), "c1k1");
    EXPECT_EQ(str(c2.value(k2)), "c2k2");
    ASSERT_NE(c3.value(k3), nullptr);
    EXPECT_EQ(*c3.value(k3), 7);
    EXPECT_EQ(str(c4.value(k1)), "c4k1");
    EXPECT_EQ(str(c4.value(k2)), "c2k2");
    EXPECT_EQ(str(c5.value(k1)), "c4k1") << "values through with_cancel";
    EXPECT_EQ(str(c5.value(k1_twin)), "<nil>") << "keys with the same type and name collided";
    EXPECT_EQ(str(c6.value(k1_twin)), "twin");
    EXPECT_EQ(str(c6.value(k1)), "c4k1");
    EXPECT_EQ(str(goro::without_cancel(c6).value(k2)), "c2k2");
    cancel5();
    EXPECT_EQ(str(c6.value(k1)), "c4k1") << "values survive cancellation";
    EXPECT_EQ(c6.err(), goro::canceled) << "with_value forwards err()";
  });
}

TEST_P(CauseValueTest, WithoutCancel) {
  run([] {
    static const goro::context_key<int> key{"key"};
    auto [p, cancel_p] = goro::with_timeout(goro::with_value(goro::background(), key, 5), 1h);
    goro::context c = goro::without_cancel(p);
    cancel_p();
    ASSERT_EQ(p.err(), goro::canceled);
    EXPECT_TRUE(c.done().is_nil());
    EXPECT_FALSE(c.err());
    EXPECT_FALSE(goro::cause(c));
    EXPECT_FALSE(c.deadline().has_value());
    ASSERT_NE(c.value(key), nullptr);
    EXPECT_EQ(*c.value(key), 5);
    // A child of it is not cancelled by the original parent.
    auto [child, cancel_child] = goro::with_cancel(c);
    EXPECT_FALSE(child.err());
    EXPECT_FALSE(is_done(child));
    cancel_child();
  });
}

}  // namespace
