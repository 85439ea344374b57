// Contexts under concurrency: Go's TestSimultaneousCancels and TestInterlockedCancels,
// cancellation observed by goroutines parked in select, and a tree of many goroutines.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "context_test_util.h"
#include "goro/goro.h"
#include "support/goro_test.h"

namespace {

using namespace std::chrono_literals;
using ctx_test::is_done;
using goro_test::Procs;

class ContextConcurrency : public Procs {};
GORO_INSTANTIATE_PROCS(ContextConcurrency);

// Many goroutines cancel the same context at once; whichever cancel() returns, the whole
// subtree is cancelled by then (as in Go, where a late cancel waits for the first).
TEST_P(ContextConcurrency, SimultaneousCancels) {
  run([] {
    const int rounds = static_cast<int>(goro_test::scaled(200, 4));
    const int cancellers = 8;
    for (int r = 0; r < rounds; r++) {
      auto [root, cancel_root] = goro::with_cancel(goro::background());
      std::vector<goro::context> kids;
      std::vector<goro::cancel_func> kid_cancels;
      for (int i = 0; i < 10; i++) {
        auto [k, ck] = goro::with_cancel(root);
        auto [g, cg] = goro::with_timeout(k, 1h);
        kids.push_back(k);
        kids.push_back(g);
        kid_cancels.push_back(ck);
        kid_cancels.push_back(cg);
      }
      std::atomic<int> bad{0};
      goro::wait_group wg;
      auto start = goro::make_chan<>();
      for (int i = 0; i < cancellers; i++) {
        // Structured bindings are captured through init-captures: clang 14 cannot capture
        // them directly (P1091, C++20, arrived in clang 16).
        wg.go([&, i, &cancel_root = cancel_root] {
          start.recv();
          if (i % 2 == 0) {
            cancel_root();
          } else {
            kid_cancels[static_cast<std::size_t>(i)]();
            cancel_root();
          }
          for (const auto& k : kids) {
            if (!k.err() || !is_done(k)) bad++;
          }
        });
      }
      start.close();
      wg.wait();
      EXPECT_EQ(bad.load(), 0) << "round " << r << ": a cancel() returned before its subtree was cancelled";
      for (auto& f : kid_cancels) f();
    }
  });
}

// Cancelling a parent while its children are being cancelled and created concurrently.
TEST_P(ContextConcurrency, InterlockedCancels) {
  run([] {
    const int rounds = static_cast<int>(goro_test::scaled(200, 4));
    for (int r = 0; r < rounds; r++) {
      auto [parent, cancel_parent] = goro::with_cancel(goro::background());
      auto [child, cancel_child] = goro::with_timeout(parent, 1h);
      goro::wait_group wg;
      wg.go([&cancel_child = cancel_child] { cancel_child(); });
      wg.go([&cancel_parent = cancel_parent] { cancel_parent(); });
      wg.go([&child = child] {
        for (int i = 0; i < 20; i++) {
          auto [c, cancel] = goro::with_cancel(child);
          cancel();
        }
      });
      wg.wait();
      EXPECT_EQ(child.err(), goro::canceled);
      EXPECT_EQ(ctx_test::as_cancel(parent)->child_count(), 0u);
      EXPECT_EQ(ctx_test::as_cancel(child)->child_count(), 0u);
    }
  });
}

TEST_P(ContextConcurrency, SelectOnDoneWakes) {
  run([] {
    auto [c, cancel] = goro::with_cancel(goro::background());
    auto never = goro::make_chan<int>();
    auto woke = goro::make_chan<goro::error>(1);
    goro::go([c = c, never, woke] {
      int chosen = goro::select(goro::recv(never), goro::recv(c.done()));
      EXPECT_EQ(chosen, 1);
      woke.send(c.err());
    });
    goro::sleep(2ms);
    cancel();
    EXPECT_EQ(*woke.recv(), goro::canceled) << "a receive that sees done closed sees err set";
  });
}

// A tree of contexts with many goroutines, each parked on its own context's done channel:
// cancelling the root wakes all of them, and each sees err() set.
TEST_P(ContextConcurrency, TreeOfGoroutinesAllObserveCancel) {
  run([] {
    const long total = goro_test::scaled(10000, 10);
    const long fan = 100;
    auto [root, cancel_root] = goro::with_cancel(goro::background());
    std::vector<goro::cancel_func> mids;
    std::atomic<long> observed{0}, wrong{0};
    goro::wait_group started, finished;
    for (long m = 0; m < fan; m++) {
      auto [mid, cancel_mid] = goro::with_cancel(root);
      mids.push_back(cancel_mid);
      for (long i = m; i < total; i += fan) {
        started.add(1);
        finished.go([&, mid = mid] {
          auto [leaf, cancel_leaf] = goro::with_cancel(mid);
          started.done();
          leaf.done().recv();
          if (leaf.err() == goro::canceled) {
            observed++;
          } else {
            wrong++;
          }
          cancel_leaf();
        });
      }
    }
    started.wait();
    cancel_root();
    finished.wait();
    EXPECT_EQ(observed.load(), total);
    EXPECT_EQ(wrong.load(), 0);
    for (auto& f : mids) f();
  });
}

// cancel() from a plain thread wakes goroutines parked on done().
TEST_P(ContextConcurrency, CancelFromPlainThread) {
  run([] {
    auto [c, cancel] = goro::with_cancel(goro::background());
    goro::wait_group wg;
    for (int i = 0; i < 10; i++) wg.go([c = c] { c.done().recv(); });
    std::thread th([cancel = cancel] { cancel(); });
    // Joined inside blocking(): a plain thread is invisible to the runtime's deadlock check,
    // so some M must stay busy until it has cancelled (see src/diag/deadlock.cc).
    goro::blocking([&] { th.join(); });
    wg.wait();
    EXPECT_EQ(c.err(), goro::canceled);
  });
}

}  // namespace
