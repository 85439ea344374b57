// close() semantics: a port of Go's test/closedchan.go (every way of receiving from a closed
// channel, through plain operations, select, and select with default) plus the close cases
// of runtime/chan_test.go: parked receivers and senders woken by close, exact panic
// messages, and what a panicking sender leaves behind.

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "conformance/chan_helpers.h"
#include "support/goro_test.h"

namespace {

using chan_conformance::done_group;
using chan_conformance::expect_parked;
using chan_conformance::goroutine_id;
using goro_test::Procs;

class ChanClose : public Procs {};
GORO_INSTANTIATE_PROCS(ChanClose);

// closedchan.go's Chan interface: the same operations spelled three ways.
enum class impl { direct, select, select_default };

struct recv2 {
  int value;
  bool ok;
};

recv2 do_recv(impl how, const goro::chan<int>& c) {
  switch (how) {
    case impl::direct: {
      auto v = c.recv();
      return {v.value_or(0), v.has_value()};
    }
    case impl::select: {
      recv2 r{};
      goro::select(goro::recv(c, [&](int v, bool ok) { r = {v, ok}; }));
      return r;
    }
    case impl::select_default: {
      recv2 r{-1, true};
      int fired = goro::select(goro::recv(c, [&](int v, bool ok) { r = {v, ok}; }), goro::default_case());
      EXPECT_EQ(fired, 0) << "select with default on a closed channel must not take the default";
      return r;
    }
  }
  return {};
}

// Non-blocking receive: (value, selected, ok).
struct nbrecv {
  int value;
  bool selected;
  bool ok;
};

nbrecv do_nbrecv(impl how, const goro::chan<int>& c) {
  if (how == impl::direct) {
    auto r = c.try_recv();
    return {r.value.value_or(0), r.status != goro::chan_status::would_block, r.status == goro::chan_status::ok};
  }
  nbrecv r{0, false, false};
  goro::select(goro::recv(c, [&](int v, bool ok) { r = {v, true, ok}; }), goro::default_case());
  return r;
}

void do_send(impl how, const goro::chan<int>& c, int v) {
  switch (how) {
    case impl::direct: c.send(v); break;
    case impl::select: goro::select(goro::send(c, v)); break;
    case impl::select_default: goro::select(goro::send(c, v), goro::default_case()); break;
  }
}

void expect_send_panics(impl how, const goro::chan<int>& c, int v) {
  try {
    do_send(how, c, v);
    ADD_FAILURE() << "send on a closed channel did not panic";
  } catch (const goro::panic& p) {
    EXPECT_STREQ(p.what(), "send on closed channel");
  }
}

// test1: a closed, drained channel.
void test1(impl how, const goro::chan<int>& c) {
  for (int i = 0; i < 3; i++) {
    EXPECT_EQ(do_recv(how, c).value, 0);
    recv2 r = do_recv(how, c);
    EXPECT_EQ(r.value, 0);
    EXPECT_FALSE(r.ok);
    nbrecv nb = do_nbrecv(how, c);
    EXPECT_EQ(nb.value, 0);
    EXPECT_TRUE(nb.selected);
    EXPECT_FALSE(nb.ok);
  }
  expect_send_panics(how, c, 1);
  EXPECT_FALSE(c.recv().has_value()) << "the value of a failed send must be discarded";
  expect_send_panics(impl::direct, c, 2);
  EXPECT_FALSE(c.recv().has_value());
  // goro's try_send reports closed instead of panicking, and leaves its argument alone.
  auto p = std::make_unique<int>(3);
  auto cp = goro::make_chan<std::unique_ptr<int>>(1);
  cp.close();
  EXPECT_EQ(cp.try_send(std::move(p)), goro::chan_status::closed);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(*p, 3);
}

goro::chan<int> closed_sync() {
  auto c = goro::make_chan<int>();
  c.close();
  return c;
}

goro::chan<int> closed_async() {
  auto c = goro::make_chan<int>(2);
  c.send(1);
  c.close();
  return c;
}

TEST_P(ChanClose, ClosedChan) {
  run([] {
    for (impl how : {impl::direct, impl::select, impl::select_default}) {
      test1(how, closed_sync());
      // testasync1..4: the buffered value comes out first, by every kind of receive.
      {
        auto c = closed_async();
        EXPECT_EQ(do_recv(how, c).value, 1);
        test1(how, c);
      }
      {
        auto c = closed_async();
        recv2 r = do_recv(how, c);
        EXPECT_EQ(r.value, 1);
        EXPECT_TRUE(r.ok);
        test1(how, c);
      }
      {
        auto c = closed_async();
        nbrecv nb = do_nbrecv(how, c);
        EXPECT_EQ(nb.value, 1);
        EXPECT_TRUE(nb.selected);
        EXPECT_TRUE(nb.ok);
        test1(how, c);
      }
      ASSERT_FALSE(::testing::Test::HasFailure()) << "first failure with impl " << static_cast<int>(how);
    }
  });
}

TEST_P(ChanClose, ClosePanics) {
  run([] {
    goro::chan<int> nil;
    try {
      nil.close();
      ADD_FAILURE() << "close of nil channel did not panic";
    } catch (const goro::panic& p) {
      EXPECT_STREQ(p.what(), "close of nil channel");
    }
    auto c = goro::make_chan<int>();
    c.close();
    try {
      c.close();
      ADD_FAILURE() << "close of closed channel did not panic";
    } catch (const goro::panic& p) {
      EXPECT_STREQ(p.what(), "close of closed channel");
    }
    // Through a directional handle too.
    goro::send_chan<int> s = c;
    EXPECT_THROW(s.close(), goro::panic);
    try {
      s.send(1);
      ADD_FAILURE();
    } catch (const goro::panic& p) {
      EXPECT_STREQ(p.what(), "send on closed channel");
    }
  });
}

// Closing drains, then reports closed; a buffered channel keeps its values across close.
TEST_P(ChanClose, RecvDrainsThenClosed) {
  run([] {
    for (int cap : {1, 2, 5, 16}) {
      auto c = goro::make_chan<std::string>(static_cast<std::size_t>(cap));
      for (int i = 0; i < cap; i++) c.send(std::to_string(i));
      c.close();
      EXPECT_EQ(c.len(), static_cast<std::size_t>(cap));
      for (int i = 0; i < cap; i++) {
        auto v = c.recv();
        ASSERT_TRUE(v.has_value());
        EXPECT_EQ(*v, std::to_string(i));
      }
      EXPECT_EQ(c.len(), 0u);
      for (int i = 0; i < 3; i++) EXPECT_FALSE(c.recv().has_value());
      EXPECT_EQ(c.try_recv().status, goro::chan_status::closed);
    }
  });
}

// Every parked receiver wakes with "closed" (TestChan: "close unblocks receive").
TEST_P(ChanClose, CloseWakesParkedReceivers) {
  run([] {
    for (std::size_t cap : {0u, 1u, 4u}) {
      auto c = goro::make_chan<int>(cap);
      constexpr int kN = 5;
      auto results = goro::make_chan<bool>(kN);
      goroutine_id ids[kN];
      for (int i = 0; i < kN; i++) {
        goro::go([c, results, &id = ids[i], i] {
          id.publish();
          if (i % 2 == 0) {
            auto v = c.recv();
            results.send(!v.has_value());
          } else {
            bool closed = false;
            goro::select(goro::recv(c, [&](std::optional<int> v) { closed = !v; }));
            results.send(closed);
          }
        });
      }
      for (int i = 0; i < kN; i++) {
        expect_parked(ids[i].get(), i % 2 == 0 ? "chan receive" : "select", i % 2 == 0 ? c.core() : nullptr);
      }
      c.close();
      for (int i = 0; i < kN; i++) EXPECT_TRUE(*results.recv());
    }
  });
}

// Every parked sender wakes and panics with "send on closed channel"; its value is not
// delivered, buffered values still are.
TEST_P(ChanClose, CloseWakesParkedSendersWithPanic) {
  run([] {
    for (std::size_t cap : {0u, 2u}) {
      auto c = goro::make_chan<std::unique_ptr<int>>(cap);
      for (std::size_t i = 0; i < cap; i++) c.send(std::make_unique<int>(static_cast<int>(i)));
      constexpr int kN = 4;
      auto results = goro::make_chan<std::string>(kN);
      goroutine_id ids[kN];
      for (int i = 0; i < kN; i++) {
        goro::go([c, results, &id = ids[i], i] {
          id.publish();
          try {
            if (i % 2 == 0) {
              c.send(std::make_unique<int>(100 + i));
            } else {
              goro::select(goro::send(c, std::make_unique<int>(100 + i)));
            }
            results.send("sent");
          } catch (const goro::panic& p) {
            results.send(p.what());
          }
        });
      }
      for (int i = 0; i < kN; i++) {
        expect_parked(ids[i].get(), i % 2 == 0 ? "chan send" : "select", i % 2 == 0 ? c.core() : nullptr);
      }
      c.close();
      for (int i = 0; i < kN; i++) EXPECT_EQ(*results.recv(), "send on closed channel");
      for (std::size_t i = 0; i < cap; i++) {
        auto v = c.recv();
        ASSERT_TRUE(v.has_value());
        EXPECT_EQ(**v, static_cast<int>(i));
      }
      EXPECT_FALSE(c.recv().has_value());
    }
  });
}

// A goroutine that does not catch the panic of a parked send ends the program like an
// unrecovered Go panic.
TEST(ChanCloseDeath, UncaughtPanicInParkedSender) {
  ::testing::FLAGS_gtest_death_test_style = "threadsafe";
  EXPECT_EXIT(goro::run([] {
                auto c = goro::make_chan<int>();
                goroutine_id id;
                goro::go([c, &id] {
                  id.publish();
                  c.send(1);
                });
                expect_parked(id.get(), "chan send", c.core());
                c.close();
                for (;;) goro::sleep(std::chrono::milliseconds(1));
              }),
              ::testing::ExitedWithCode(2), "panic: send on closed channel");
}

// Range-for stops once the channel is closed and drained; values sent before close arrive.
TEST_P(ChanClose, RangeEndsWhenClosedAndDrained) {
  run([] {
    for (std::size_t cap : {0u, 1u, 10u}) {
      auto c = goro::make_chan<int>(cap);
      goro::go([c] {
        for (int i = 0; i < 100; i++) c.send(i);
        c.close();
      });
      int next = 0;
      for (int v : c) EXPECT_EQ(v, next++);
      EXPECT_EQ(next, 100);
      // Ranging over a closed, drained channel runs no iteration.
      for ([[maybe_unused]] int v : c) ADD_FAILURE();
      // Range over a receive-only handle, with a move-only element.
      auto u = goro::make_chan<std::unique_ptr<int>>(cap);
      goro::go([u] {
        for (int i = 0; i < 10; i++) u.send(std::make_unique<int>(i));
        u.close();
      });
      goro::recv_chan<std::unique_ptr<int>> r = u;
      int n = 0;
      for (auto& p : r) EXPECT_EQ(*p, n++);
      EXPECT_EQ(n, 10);
    }
  });
}

// close happens before a receive that returns because of it (the channel-close edge).
TEST_P(ChanClose, CloseHappensBeforeClosedReceive) {
  run([] {
    const int n = static_cast<int>(goro_test::scaled(2000, 10));
    for (int i = 0; i < n; i++) {
      auto c = goro::make_chan<>();
      auto shared = std::make_shared<int>(0);
      done_group done(1);
      goro::go([c, shared, done] {
        EXPECT_FALSE(c.recv());
        EXPECT_EQ(*shared, 42);
        done.done();
      });
      *shared = 42;
      c.close();
      done.wait();
    }
  });
}

}  // namespace
