// select: ports of runtime/chan_test.go's TestSelfSelect, TestSelectFairness,
// TestPseudoRandomSend, TestSelectDuplicateChannel and TestSelectStress, the blocking rows of
// test/chan/select3.go, and the rule that the cases not chosen leave no trace.

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "conformance/chan_helpers.h"
#include "support/goro_test.h"

namespace {

using chan_conformance::done_group;
using chan_conformance::expect_parked;
using chan_conformance::goroutine_id;
using goro_test::Procs;

class ChanSelect : public Procs {};
GORO_INSTANTIATE_PROCS(ChanSelect);

// TestSelfSelect: a select with a send and a receive case on one channel never pairs with
// itself, and two such selects do not deadlock.
TEST_P(ChanSelect, SelfSelect) {
  run([] {
    for (std::size_t cap : {0u, 10u}) {
      auto c = goro::make_chan<int>(cap);
      auto self_receives = goro::make_chan<int>(2);
      done_group wg(2);
      for (int p = 0; p < 2; p++) {
        goro::go([c, cap, p, wg, self_receives] {
          auto check = [&](int v) {
            if (cap == 0 && v == p) self_receives.try_send(p);
          };
          for (int i = 0; i < 1000; i++) {
            if (p == 0 || i % 2 == 0) {
              goro::select(goro::send(c, p), goro::recv(c, check));
            } else {
              goro::select(goro::recv(c, check), goro::send(c, p));
            }
          }
          wg.done();
        });
      }
      wg.wait();
      EXPECT_EQ(self_receives.len(), 0u) << "a select received its own value (cap " << cap << ")";
    }
  });
}

// A lone select with both cases on one unbuffered channel blocks (select3.go: "select should
// not get confused if it sees itself") until another goroutine takes one side.
TEST_P(ChanSelect, SelfSelectBlocks) {
  run([] {
    auto c = goro::make_chan<int>();
    goroutine_id id;
    auto result = goro::make_chan<int>(1);
    goro::go([c, &id, result] {
      id.publish();
      int fired = goro::select(goro::send(c, 1), goro::recv(c));
      result.send(fired);
    });
    expect_parked(id.get(), "select");
    EXPECT_EQ(*c.recv(), 1);
    EXPECT_EQ(*result.recv(), 0);
  });
}

// TestSelectFairness: with two channels always ready, each is chosen about half the time.
// The bound is Go's: more than 10 standard deviations from the mean fails.
TEST_P(ChanSelect, Fairness) {
  run([] {
    constexpr int kTrials = 10000;
    auto c1 = goro::make_chan<char>(kTrials + 1);
    auto c2 = goro::make_chan<char>(kTrials + 1);
    for (int i = 0; i < kTrials + 1; i++) {
      c1.send(1);
      c2.send(2);
    }
    auto c3 = goro::make_chan<char>();
    auto c4 = goro::make_chan<char>();
    auto out = goro::make_chan<char>();
    auto done = goro::make_chan<>();
    done_group wg(1);
    goro::go([=] {
      for (;;) {
        char b = 0;
        auto take = [&](char v) { b = v; };
        goro::select(goro::recv(c3, take), goro::recv(c4, take), goro::recv(c1, take), goro::recv(c2, take));
        bool stop = false;
        goro::select(goro::send(out, b), goro::recv(done, [&] { stop = true; }));
        if (stop) break;
      }
      wg.done();
    });
    int cnt1 = 0, cnt2 = 0;
    for (int i = 0; i < kTrials; i++) {
      char b = *out.recv();
      if (b == 1) {
        cnt1++;
      } else if (b == 2) {
        cnt2++;
      } else {
        FAIL() << "unexpected value " << int(b);
      }
    }
    const double mean = kTrials * 0.5;
    const double stddev = std::sqrt(kTrials * 0.5 * (1 - 0.5));
    EXPECT_LE(std::abs(cnt1 - mean), 10 * stddev) << "unfair select: " << cnt1 << ", " << cnt2;
    done.close();
    wg.wait();
  });
}

// TestPseudoRandomSend: two send cases of different values on one channel are both chosen.
TEST_P(ChanSelect, PseudoRandomSend) {
  run([] {
    constexpr int kN = 100;
    for (std::size_t cap : {std::size_t{0}, std::size_t{kN}}) {
      auto c = goro::make_chan<int>(cap);
      std::vector<int> l(kN);
      done_group wg(1);
      goro::go([c, &l, wg] {
        for (int i = 0; i < kN; i++) {
          goro::yield();
          l[static_cast<std::size_t>(i)] = *c.recv();
        }
        wg.done();
      });
      for (int i = 0; i < kN; i++) goro::select(goro::send(c, 1), goro::send(c, 0));
      wg.wait();
      int n0 = 0, n1 = 0;
      for (int v : l) {
        n0 += (v + 1) % 2;
        n1 += v;
      }
      EXPECT_GT(n0, kN / 10) << "cap " << cap;
      EXPECT_GT(n1, kN / 10) << "cap " << cap;
    }
  });
}

// TestSelectDuplicateChannel: a select may wait on one channel twice; when another case
// wins, both of its waiters leave the channel's queue, and a later send reaches the next
// receiver instead of the departed select.
TEST_P(ChanSelect, DuplicateChannel) {
  run([] {
    auto c = goro::make_chan<int>();
    auto d = goro::make_chan<int>();
    auto e = goro::make_chan<int>();
    goroutine_id a, b;
    auto b_got = goro::make_chan<int>(1);
    goro::go([=, &a] {
      a.publish();
      int fired = goro::select(goro::recv(c), goro::recv(c), goro::recv(d));
      EXPECT_EQ(fired, 2);
      e.send(9);
    });
    expect_parked(a.get(), "select");  // A is queued on c first
    goro::go([=, &b] {
      b.publish();
      b_got.send(*c.recv());
    });
    expect_parked(b.get(), "chan receive", c.core());  // then B
    d.send(7);  // wakes A, which dequeues itself from c (twice)
    EXPECT_EQ(*e.recv(), 9);
    c.send(8);  // must reach B
    EXPECT_EQ(*b_got.recv(), 8);
  });
}

// Exactly one case fires when one channel appears in several ready cases.
TEST_P(ChanSelect, DuplicateChannelReadyFiresOnce) {
  run([] {
    auto c = goro::make_chan<int>(1);
    int counts[3] = {};
    for (int i = 0; i < 300; i++) {
      c.send(i);
      int fired = goro::select(goro::recv(c, [&](int v) { EXPECT_EQ(v, i); }), goro::recv(c, [&](int v) { EXPECT_EQ(v, i); }),
                               goro::recv(c, [&](int v) { EXPECT_EQ(v, i); }));
      counts[fired]++;
      EXPECT_EQ(c.len(), 0u);
    }
    for (int n : counts) EXPECT_GT(n, 0) << "a ready duplicate case is never chosen";
  });
}

// The cases not chosen leave no trace: after a select fires on one channel, a later send on
// another of its channels is not consumed by a stale waiter, does not hang, and reaches a
// later receiver.
TEST_P(ChanSelect, CasesNotChosenLeaveNoTrace) {
  run([] {
    for (int round = 0; round < 50; round++) {
      auto a = goro::make_chan<int>();
      auto b = goro::make_chan<int>();
      auto s = goro::make_chan<int>();
      goroutine_id id;
      auto fired = goro::make_chan<int>(1);
      goro::go([=, &id] {
        id.publish();
        fired.send(goro::select(goro::recv(a), goro::recv(b), goro::send(s, 5)));
      });
      expect_parked(id.get(), "select");
      a.send(1);
      EXPECT_EQ(*fired.recv(), 0);
      // b and s have no waiter left: non-blocking operations fail...
      EXPECT_EQ(b.try_send(2), goro::chan_status::would_block);
      EXPECT_EQ(s.try_recv().status, goro::chan_status::would_block);
      EXPECT_EQ(goro::select(goro::send(b, 2), goro::recv(s), goro::default_case()), 2);
      // ...and blocking ones pair with the next goroutine, not the departed select.
      auto got = goro::make_chan<int>(1);
      goro::go([b, got] { got.send(*b.recv()); });
      b.send(3);
      EXPECT_EQ(*got.recv(), 3);
      goro::go([s] { s.send(6); });
      EXPECT_EQ(*s.recv(), 6);
    }
  });
}

// Nil channels in a select are never ready; the others work normally (select3.go's nil rows,
// and the nil-ing idiom of TestSelectStress).
TEST_P(ChanSelect, NilChannelCases) {
  run([] {
    goro::chan<int> nilch;
    auto c = goro::make_chan<int>();
    for (int i = 0; i < 100; i++) {
      goro::go([c, i] { c.send(i); });
      int got = -1;
      int fired = goro::select(goro::recv(nilch, [] { ADD_FAILURE(); }), goro::send(nilch, 1, [] { ADD_FAILURE(); }),
                               goro::recv(c, [&](int v) { got = v; }));
      EXPECT_EQ(fired, 2);
      EXPECT_EQ(got, i);
    }
  });
}

// select3.go's "always blocks" rows on non-nil channels: the goroutine parks in "select"
// (or "chan receive") and is released only by the operation that completes it.
TEST_P(ChanSelect, BlocksUntilReady) {
  run([] {
    // A receive-only select on an empty channel.
    {
      auto ch = goro::make_chan<int>();
      goroutine_id id;
      goro::go([ch, &id] {
        id.publish();
        goro::select(goro::recv(ch, [](std::optional<int> v) { EXPECT_FALSE(v); }));
      });
      expect_parked(id.get(), "select");
      ch.close();
    }
    // A send-only select on a full channel.
    {
      auto ch = goro::make_chan<int>(1);
      ch.send(0);
      goroutine_id id;
      goro::go([ch, &id] {
        id.publish();
        goro::select(goro::send(ch, 1));
      });
      expect_parked(id.get(), "select");
      EXPECT_EQ(*ch.recv(), 0);
      EXPECT_EQ(*ch.recv(), 1);
    }
  });
}

// A select with more cases than fit its inline scratch space (8): every case can fire, by
// the first pass and after parking, and nil cases among them stay idle.
TEST_P(ChanSelect, ManyCases) {
  run([] {
    constexpr int kN = 12;
    goro::chan<int> cs[kN];
    for (int i = 0; i < kN; i++) {
      if (i % 4 != 3) cs[i] = goro::make_chan<int>(i % 2);  // every fourth stays nil
    }
    auto sel = [&](int* fired_value) {
      auto h = [fired_value](int v) { *fired_value = v; };
      return goro::select(goro::recv(cs[0], h), goro::recv(cs[1], h), goro::recv(cs[2], h), goro::recv(cs[3], h),
                          goro::recv(cs[4], h), goro::recv(cs[5], h), goro::recv(cs[6], h), goro::recv(cs[7], h),
                          goro::recv(cs[8], h), goro::recv(cs[9], h), goro::recv(cs[10], h), goro::recv(cs[11], h));
    };
    for (int round = 0; round < 3; round++) {
      for (int i = 0; i < kN; i++) {
        if (!cs[i]) continue;
        int v = -1;
        if (i % 2 == 1) {
          cs[i].send(100 + i);  // buffered: ready before the select (first pass)
          EXPECT_EQ(sel(&v), i);
        } else {
          goro::go([c = cs[i], i] { c.send(100 + i); });  // may arrive after it parks
          EXPECT_EQ(sel(&v), i);
        }
        EXPECT_EQ(v, 100 + i);
      }
    }
    // Nothing left behind on any channel.
    for (auto& c : cs) {
      if (c) {
        EXPECT_EQ(c.try_recv().status, goro::chan_status::would_block);
      }
    }
  });
}

// TestSelectStress: four plain senders, four plain receivers, one select over four sends and
// one select over four receives, on channels of capacity 0, 0, 2 and 3, with cases switched
// off by nil-ing them once their quota is done. Nothing may deadlock or get lost.
TEST_P(ChanSelect, Stress) {
  run([] {
    const int n = static_cast<int>(goro_test::scaled(10000, 20));
    goro::chan<int> c[4] = {goro::make_chan<int>(), goro::make_chan<int>(), goro::make_chan<int>(2),
                            goro::make_chan<int>(3)};
    done_group wg(10);
    for (int k = 0; k < 4; k++) {
      goro::go([ch = c[k], n, wg] {
        for (int i = 0; i < n; i++) ch.send(0);
        wg.done();
      });
      goro::go([ch = c[k], n, wg] {
        for (int i = 0; i < n; i++) ch.recv();
        wg.done();
      });
    }
    goro::go([c, n, wg] {
      int cnt[4] = {};
      goro::chan<int> c1[4] = {c[0], c[1], c[2], c[3]};
      auto sent = [&](int k) {
        return [&, k] {
          if (++cnt[k] == n) c1[k] = {};
        };
      };
      for (int i = 0; i < 4 * n; i++) {
        goro::select(goro::send(c1[3], 0, sent(3)), goro::send(c1[2], 0, sent(2)), goro::send(c1[0], 0, sent(0)),
                     goro::send(c1[1], 0, sent(1)));
      }
      wg.done();
    });
    goro::go([c, n, wg] {
      int cnt[4] = {};
      goro::chan<int> c1[4] = {c[0], c[1], c[2], c[3]};
      auto got = [&](int k) {
        return [&, k] {
          if (++cnt[k] == n) c1[k] = {};
        };
      };
      for (int i = 0; i < 4 * n; i++) {
        goro::select(goro::recv(c1[0], got(0)), goro::recv(c1[1], got(1)), goro::recv(c1[2], got(2)),
                     goro::recv(c1[3], got(3)));
      }
      wg.done();
    });
    wg.wait();
    for (auto& ch : c) EXPECT_EQ(ch.len(), 0u);
  });
}

// select5-style stress: many goroutines selecting over sends and receives on shared
// channels of mixed capacities; every value sent is received exactly once.
TEST_P(ChanSelect, ManySelectors) {
  run([] {
    constexpr int kSenders = 8;
    constexpr int kReceivers = 8;
    const int per_sender = static_cast<int>(goro_test::scaled(2000, 10));
    const int total = kSenders * per_sender;
    goro::chan<int> cs[4] = {goro::make_chan<int>(), goro::make_chan<int>(1), goro::make_chan<int>(),
                             goro::make_chan<int>(4)};
    auto quit = goro::make_chan<>();
    auto sums = goro::make_chan<long>(kReceivers);
    std::vector<std::atomic<int>> seen(static_cast<std::size_t>(total));
    std::atomic<int> received{0};
    for (int s = 0; s < kSenders; s++) {
      goro::go([cs, s, per_sender] {
        for (int i = 0; i < per_sender; i++) {
          int v = s * per_sender + i;
          goro::select(goro::send(cs[0], v), goro::send(cs[1], v), goro::send(cs[2], v), goro::send(cs[3], v));
        }
      });
    }
    for (int r = 0; r < kReceivers; r++) {
      goro::go([cs, quit, sums, &seen, &received] {
        long sum = 0;
        for (bool stop = false; !stop;) {
          auto take = [&](int v) {
            seen[static_cast<std::size_t>(v)].fetch_add(1);
            received.fetch_add(1);
            sum += v;
          };
          goro::select(goro::recv(cs[0], take), goro::recv(cs[1], take), goro::recv(cs[2], take),
                       goro::recv(cs[3], take), goro::recv(quit, [&] { stop = true; }));
        }
        sums.send(sum);
      });
    }
    while (received.load() < total) goro::yield();
    quit.close();
    long sum = 0;
    for (int r = 0; r < kReceivers; r++) sum += *sums.recv();
    EXPECT_EQ(sum, static_cast<long>(total) * (total - 1) / 2);
    for (int v = 0; v < total; v++) ASSERT_EQ(seen[static_cast<std::size_t>(v)].load(), 1) << "value " << v;
  });
}

}  // namespace
