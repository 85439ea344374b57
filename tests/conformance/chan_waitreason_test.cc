// Each channel park has Go's wait reason, and names the channel it waits on, as seen by
// goro::goroutines() from another goroutine.
//
// The goroutines parked forever (nil channels, select with no cases or only nil cases) would
// fail the Procs fixture's leak check, so those tests use plain goro::run, which abandons
// them when the main goroutine returns (documented in goro/runtime.h). They capture nothing
// that owns memory, so nothing leaks when their stacks are dropped.

#include <gtest/gtest.h>

#include "conformance/chan_helpers.h"
#include "support/goro_test.h"

namespace {

using chan_conformance::expect_parked;
using chan_conformance::goroutine_id;
using goro_test::Procs;

class ChanWaitReason : public Procs {};
GORO_INSTANTIATE_PROCS(ChanWaitReason);

TEST_P(ChanWaitReason, ReceiveSendSelect) {
  run([] {
    auto c = goro::make_chan<int>();
    auto buffered = goro::make_chan<int>(1);
    buffered.send(0);
    goroutine_id r, s, sel;
    goro::go([c, &r] {
      r.publish();
      c.recv();
    });
    expect_parked(r.get(), "chan receive", c.core());
    goro::go([buffered, &s] {
      s.publish();
      buffered.send(1);
    });
    expect_parked(s.get(), "chan send", buffered.core());
    auto d = goro::make_chan<int>();
    goro::go([d, &sel] {
      sel.publish();
      goro::select(goro::recv(d), goro::send(d, 1));
    });
    expect_parked(sel.get(), "select");
    // Release them all; the wait reason is cleared once they run again.
    c.send(1);
    buffered.recv();
    buffered.recv();
    d.close();
  });
}

// A plain-run helper: starts fn as a goroutine, checks its park, and abandons it.
void expect_parks_forever(int procs, void (*fn)(), std::string_view reason) {
  goro::options opts;
  opts.procs = procs;
  goro::run(opts, [fn, reason] {
    goroutine_id id;
    goro::go([fn, &id] {
      id.publish();
      fn();
      ADD_FAILURE() << "a goroutine parked forever came back";
    });
    auto g = chan_conformance::wait_parked(id.get());
    ASSERT_TRUE(g.has_value());
    EXPECT_EQ(g->wait_reason, reason);
    // Still parked after others ran: nothing can wake it.
    for (int i = 0; i < 10; i++) goro::yield();
    g = chan_conformance::find_goroutine(id.get());
    ASSERT_TRUE(g.has_value());
    EXPECT_EQ(g->state, goro::goroutine_state::waiting);
  });
}

class ChanParkForever : public ::testing::TestWithParam<int> {};
GORO_INSTANTIATE_PROCS(ChanParkForever);

TEST_P(ChanParkForever, NilSend) {
  expect_parks_forever(GetParam(), [] { goro::chan<int>().send(1); }, "chan send (nil chan)");
  expect_parks_forever(GetParam(), [] { goro::chan<>().send(); }, "chan send (nil chan)");
  expect_parks_forever(GetParam(), [] { goro::send_chan<int>().send(1); }, "chan send (nil chan)");
}

TEST_P(ChanParkForever, NilReceive) {
  expect_parks_forever(GetParam(), [] { goro::chan<int>().recv(); }, "chan receive (nil chan)");
  expect_parks_forever(GetParam(), [] { goro::recv_chan<int>().recv(); }, "chan receive (nil chan)");
  expect_parks_forever(
      GetParam(), [] { for ([[maybe_unused]] int v : goro::chan<int>()) ADD_FAILURE(); }, "chan receive (nil chan)");
}

TEST_P(ChanParkForever, SelectNoCases) {
  expect_parks_forever(GetParam(), [] { goro::select(); }, "select (no cases)");
}

TEST_P(ChanParkForever, SelectOnlyNilCases) {
  expect_parks_forever(GetParam(), [] { goro::select(goro::recv(goro::chan<int>())); }, "select");
  expect_parks_forever(
      GetParam(), [] { goro::select(goro::recv(goro::chan<int>()), goro::send(goro::chan<int>(), 7)); }, "select");
}

// Blocking operations need a goroutine; on a plain thread they throw instead of crashing.
// Non-blocking ones work anywhere.
TEST(ChanOffGoroutine, BlockingOpsThrowNonBlockingWork) {
  auto c = goro::make_chan<int>(1);
  EXPECT_THROW(goro::chan<int>().recv(), std::logic_error);
  EXPECT_EQ(c.try_send(1), goro::chan_status::ok);
  EXPECT_THROW(c.send(2), std::logic_error);
  EXPECT_EQ(c.len(), 1u);
  EXPECT_EQ(*c.try_recv().value, 1);
  EXPECT_THROW(c.recv(), std::logic_error);
  EXPECT_THROW(goro::select(goro::recv(c)), std::logic_error);
  EXPECT_EQ(goro::select(goro::recv(c), goro::default_case()), 1);
  c.close();
  EXPECT_EQ(c.try_recv().status, goro::chan_status::closed);
}

}  // namespace
