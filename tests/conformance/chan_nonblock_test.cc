// Non-blocking operations: a port of Go's test/chan/nonblock.go (try_send / try_recv and
// select with default, against goroutines that arrive later, on unbuffered and buffered
// channels), the non-blocking cases of test/chan/select3.go, and runtime/chan_test.go's
// TestNonblockRecvRace and TestNonblockSelectRace{,2}: a non-blocking operation observes the
// channels at one moment, even while racing with close.

#include <gtest/gtest.h>

#include <string>

#include "conformance/chan_helpers.h"
#include "support/goro_test.h"

namespace {

using goro_test::Procs;

class ChanNonblock : public Procs {};
GORO_INSTANTIATE_PROCS(ChanNonblock);

// Lets other goroutines run between two non-blocking attempts (nonblock.go's sleep()).
void pause(int attempt) {
  if (attempt % 64 == 63) {
    goro::sleep(std::chrono::microseconds(10));
  } else {
    goro::yield();
  }
}
constexpr int kMaxTries = 1000000;  // a bound against hangs, far beyond what is ever needed

// nonblock.go for one element type: values v1 (to receivers) and v2 (from senders).
template <class T>
void nonblock_round(std::size_t buffer, T v1, T v2, bool via_select) {
  auto c = goro::make_chan<T>(buffer);
  auto sync = goro::make_chan<bool>();
  auto try_recv = [&](T* out) {
    if (!via_select) {
      auto r = c.try_recv();
      if (r) *out = std::move(*r.value);
      return r.status == goro::chan_status::ok;
    }
    return goro::select(goro::recv(c, [&](T v) { *out = std::move(v); }), goro::default_case()) == 0;
  };
  auto try_send = [&](const T& v) {
    if (!via_select) return c.try_send(v) == goro::chan_status::ok;
    return goro::select(goro::send(c, v), goro::default_case()) == 0;
  };

  // Nobody is there: both fail.
  T got{};
  EXPECT_FALSE(try_recv(&got)) << "blocked receive succeeded";
  if (buffer == 0) {
    EXPECT_FALSE(try_send(v1)) << "blocked send succeeded";
  }

  // Test receivers: a receiver arrives later; a non-blocking send eventually succeeds.
  goro::go([c, sync, v1] {
    EXPECT_EQ(*c.recv(), v1);
    sync.send(true);
  });
  int tries = 0;
  while (!try_send(v1)) {
    ASSERT_LT(++tries, kMaxTries) << "receiver never arrived";
    pause(tries);
  }
  sync.recv();

  // Test senders: a sender arrives later; a non-blocking receive eventually succeeds.
  goro::go([c, sync, v2] {
    c.send(v2);
    sync.send(true);
  });
  if (buffer > 0) sync.recv();
  tries = 0;
  while (!try_recv(&got)) {
    ASSERT_LT(++tries, kMaxTries) << "sender never arrived";
    pause(tries);
  }
  EXPECT_EQ(got, v2);
  if (buffer == 0) sync.recv();
}

TEST_P(ChanNonblock, NonblockGo) {
  run([] {
    for (bool via_select : {false, true}) {
      for (std::size_t buffer : {0u, 1u}) {
        nonblock_round<std::int32_t>(buffer, 123, 234, via_select);
        nonblock_round<std::int64_t>(buffer, 123456, 234567, via_select);
        nonblock_round<bool>(buffer, true, true, via_select);
        nonblock_round<std::string>(buffer, "hello", "hello again", via_select);
      }
    }
  });
}

// The non-blocking rows of select3.go and the basic outcomes of try_* in every state.
TEST_P(ChanNonblock, NeverBlocks) {
  run([] {
    goro::chan<int> nilch;
    auto closedch = goro::make_chan<int>();
    closedch.close();

    // Nil channels are never ready: the default runs, try_* would block.
    EXPECT_EQ(goro::select(goro::send(nilch, 7, [] { ADD_FAILURE(); }), goro::default_case()), 1);
    EXPECT_EQ(goro::select(goro::recv(nilch, [] { ADD_FAILURE(); }), goro::default_case()), 1);
    EXPECT_EQ(nilch.try_send(7), goro::chan_status::would_block);
    EXPECT_EQ(nilch.try_recv().status, goro::chan_status::would_block);
    EXPECT_EQ(nilch.len(), 0u);
    EXPECT_EQ(nilch.cap(), 0u);
    // Sending to a buffered channel with free space never blocks.
    {
      auto ch = goro::make_chan<int>(1);
      ch.send(7);
      EXPECT_EQ(ch.try_send(8), goro::chan_status::would_block);
      EXPECT_EQ(*ch.try_recv().value, 7);
      EXPECT_EQ(ch.try_recv().status, goro::chan_status::would_block);
    }
    // Receiving from a closed channel never blocks and yields the zero value.
    for (int i = 0; i < 10; i++) {
      EXPECT_FALSE(closedch.recv().has_value());
      auto r = closedch.try_recv();
      EXPECT_EQ(r.status, goro::chan_status::closed);
      EXPECT_FALSE(r.value.has_value());
      int x = -1;
      bool ok = true;
      goro::select(goro::recv(closedch, [&](int v, bool k) { x = v, ok = k; }));
      EXPECT_EQ(x, 0);
      EXPECT_FALSE(ok);
      x = -1;
      goro::select(goro::recv(closedch, [&](int v) { x = v; }));
      EXPECT_EQ(x, 0);
    }
    // Selects with default cases don't block.
    EXPECT_EQ(goro::select(goro::default_case()), 0);
    // Selects with ready channels don't block.
    {
      auto ch = goro::make_chan<int>(1);
      EXPECT_EQ(goro::select(goro::send(ch, 7), goro::default_case([] { ADD_FAILURE(); })), 0);
      EXPECT_EQ(goro::select(goro::recv(ch, [](int v) { EXPECT_EQ(v, 7); }), goro::default_case([] { ADD_FAILURE(); })),
                0);
    }
    // The default case may come first; its position is what select() returns.
    {
      auto ch = goro::make_chan<int>(1);
      EXPECT_EQ(goro::select(goro::default_case(), goro::send(ch, 1)), 1);
      EXPECT_EQ(goro::select(goro::default_case(), goro::send(ch, 1)), 0);
    }
    // Sending to a closed channel panics, with or without default.
    EXPECT_THROW(closedch.send(7), goro::panic);
    EXPECT_THROW(goro::select(goro::send(closedch, 7)), goro::panic);
    EXPECT_THROW(goro::select(goro::send(closedch, 7), goro::default_case()), goro::panic);
  });
}

// TestNonblockRecvRace: a receive with default on a channel that holds a value (and is then
// closed and drained by another goroutine) must never take the default.
TEST_P(ChanNonblock, NonblockRecvRace) {
  run([] {
    const int n = static_cast<int>(goro_test::scaled(10000, 10));
    auto failures = goro::make_chan<int>(1);
    for (int i = 0; i < n; i++) {
      auto c = goro::make_chan<int>(1);
      c.send(1);
      auto done = goro::make_chan<>();
      goro::go([c, done, failures] {
        if (goro::select(goro::recv(c), goro::default_case()) == 1) failures.try_send(1);
        done.close();
      });
      c.close();
      c.recv();
      done.recv();
    }
    EXPECT_EQ(failures.len(), 0u) << "a non-blocking receive missed a ready channel";
  });
}

// The same race through try_recv.
TEST_P(ChanNonblock, TryRecvRace) {
  run([] {
    const int n = static_cast<int>(goro_test::scaled(10000, 10));
    auto failures = goro::make_chan<int>(1);
    for (int i = 0; i < n; i++) {
      auto c = goro::make_chan<int>(1);
      c.send(1);
      auto done = goro::make_chan<>();
      goro::go([c, done, failures] {
        if (c.try_recv().status == goro::chan_status::would_block) failures.try_send(1);
        done.close();
      });
      c.close();
      c.recv();
      done.recv();
    }
    EXPECT_EQ(failures.len(), 0u) << "try_recv missed a ready channel";
  });
}

// A non-blocking receive that reports "closed" means closed AND drained: a value sent before
// the close is never skipped, even when the receive first looked while the channel was
// still empty and open (the re-check of the lock-free fast path).
TEST_P(ChanNonblock, ClosedMeansDrained) {
  run([] {
    const int n = static_cast<int>(goro_test::scaled(20000, 40));
    int lost = 0;
    for (int i = 0; i < n; i++) {
      auto c = goro::make_chan<int>(1);
      auto got = goro::make_chan<int>(1);
      bool via_select = i % 2 == 1;
      goro::go([c, got, via_select] {
        int values = 0;
        for (;;) {
          goro::chan_status st;
          if (via_select) {
            st = goro::chan_status::would_block;
            goro::select(goro::recv(c, [&](std::optional<int> v) {
                           st = v ? goro::chan_status::ok : goro::chan_status::closed;
                         }),
                         goro::default_case());
          } else {
            st = c.try_recv().status;
          }
          if (st == goro::chan_status::ok) values++;
          if (st == goro::chan_status::closed) break;
          if (st == goro::chan_status::would_block) goro::yield();
        }
        got.send(values);
      });
      c.send(7);
      c.close();
      if (*got.recv() != 1) lost++;
    }
    EXPECT_EQ(lost, 0) << "a non-blocking receive reported closed before draining";
  });
}

// TestNonblockSelectRace{,2}: c1 is ready before c2 becomes ready and before c1 is drained, so
// a non-blocking select over both always finds one of them ready.
TEST_P(ChanNonblock, NonblockSelectRace) {
  run([] {
    const int n = static_cast<int>(goro_test::scaled(20000, 40));
    for (bool close_c2 : {false, true}) {
      auto done = goro::make_chan<bool>(1);
      int failures = 0;
      for (int i = 0; i < n; i++) {
        auto c1 = goro::make_chan<int>(1);
        auto c2 = goro::make_chan<int>(1);
        c1.send(1);
        goro::go([c1, c2, done] {
          int fired = goro::select(goro::recv(c1), goro::recv(c2), goro::default_case());
          done.send(fired != 2);
        });
        if (close_c2) {
          c2.close();
        } else {
          c2.send(1);
        }
        goro::select(goro::recv(c1), goro::default_case());
        if (!*done.recv()) failures++;
      }
      EXPECT_EQ(failures, 0) << "no channel was ready (close_c2=" << close_c2 << ")";
    }
  });
}

}  // namespace
