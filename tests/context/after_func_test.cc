// goro::after_func(ctx, f): Go 1.21's context.AfterFunc tests (TestAfterFunc*), written anew.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>

#include "context_test_util.h"
#include "goro/goro.h"
#include "support/goro_test.h"

namespace {

using namespace std::chrono_literals;
using ctx_test::as_cancel;
using goro_test::Procs;

class ContextAfterFunc : public Procs {};
GORO_INSTANTIATE_PROCS(ContextAfterFunc);

// Receives from c, failing the test if nothing comes within 5 s.
template <class T>
bool recv_bounded(const goro::chan<T>& c) {
  bool timed_out = false;
  auto guard = goro::new_timer(5s);
  goro::select(goro::recv(c), goro::recv(guard.c(), [&] { timed_out = true; }));
  guard.stop();
  EXPECT_FALSE(timed_out) << "nothing within 5 s";
  return !timed_out;
}

TEST_P(ContextAfterFunc, CalledAfterCancelInNewGoroutine) {
  run([] {
    auto [c, cancel] = goro::with_cancel(goro::background());
    auto ran = goro::make_chan<std::uint64_t>(1);
    auto stop = goro::after_func(c, [ran] { ran.send(goro::this_goroutine::id()); });
    goro::sleep(5ms);
    EXPECT_EQ(ran.try_recv().status, goro::chan_status::would_block) << "f ran before cancel";
    cancel();
    auto id = ran.recv();
    ASSERT_TRUE(id.has_value());
    EXPECT_NE(*id, goro::this_goroutine::id());
    EXPECT_FALSE(stop()) << "stop after f started";
    EXPECT_EQ(as_cancel(c)->child_count(), 0u);
  });
}

TEST_P(ContextAfterFunc, CalledAfterTimeout) {
  run([] {
    auto [c, cancel] = goro::with_timeout(goro::background(), 5ms);
    auto ran = goro::make_chan<>(1);
    auto stop = goro::after_func(c, [ran] { ran.send(); });
    EXPECT_TRUE(recv_bounded(ran));
    EXPECT_EQ(c.err(), goro::deadline_exceeded);
    cancel();
  });
}

TEST_P(ContextAfterFunc, CalledImmediatelyOnCancelledContext) {
  run([] {
    auto [c, cancel] = goro::with_cancel(goro::background());
    cancel();
    auto ran = goro::make_chan<>(1);
    auto stop = goro::after_func(c, [ran] { ran.send(); });
    EXPECT_TRUE(recv_bounded(ran));
    EXPECT_FALSE(stop());
  });
}

TEST_P(ContextAfterFunc, NotCalledAfterStop) {
  run([] {
    auto [c, cancel] = goro::with_cancel(goro::background());
    std::atomic<int> runs{0};
    auto stop = goro::after_func(c, [&] { runs++; });
    EXPECT_TRUE(stop());
    EXPECT_FALSE(stop()) << "second stop";
    EXPECT_EQ(as_cancel(c)->child_count(), 0u) << "stop removes the registration";
    cancel();
    goro::sleep(10ms);
    EXPECT_EQ(runs.load(), 0);
  });
}

// f runs asynchronously: cancel() returns even while f is blocked.
TEST_P(ContextAfterFunc, CalledAsynchronously) {
  run([] {
    auto [c, cancel] = goro::with_cancel(goro::background());
    auto release = goro::make_chan<>();
    auto finished = goro::make_chan<>(1);
    auto stop = goro::after_func(c, [release, finished] {
      release.recv();
      finished.send();
    });
    cancel();  // must not wait for f
    release.send();
    EXPECT_TRUE(recv_bounded(finished));
  });
}

TEST_P(ContextAfterFunc, CalledOnlyOnce) {
  run([] {
    auto [c, cancel] = goro::with_cancel(goro::background());
    auto ran = goro::make_chan<>(3);
    auto stop = goro::after_func(c, [ran] { ran.send(); });
    cancel();
    cancel();
    EXPECT_TRUE(recv_bounded(ran));
    EXPECT_FALSE(stop());
    goro::sleep(10ms);
    EXPECT_EQ(ran.try_recv(), goro::chan_status::would_block);
  });
}

// Discarding the stop function does not unregister f (Go: the parent holds the registration).
TEST_P(ContextAfterFunc, DiscardedStopStillRuns) {
  run([] {
    auto [c, cancel] = goro::with_cancel(goro::background());
    auto ran = goro::make_chan<>(1);
    (void)goro::after_func(c, [ran] { ran.send(); });
    EXPECT_EQ(as_cancel(c)->child_count(), 1u);
    cancel();
    EXPECT_TRUE(recv_bounded(ran));
  });
}

TEST_P(ContextAfterFunc, NeverCancelledContextNeverRuns) {
  run([] {
    std::atomic<int> runs{0};
    auto stop = goro::after_func(goro::background(), [&] { runs++; });
    goro::sleep(2ms);
    EXPECT_TRUE(stop());
    EXPECT_EQ(runs.load(), 0);
    (void)goro::after_func(goro::with_value(goro::background(), goro::context_key<int>{}, 1), [&] { runs++; });
    EXPECT_EQ(runs.load(), 0);
  });
}

}  // namespace
