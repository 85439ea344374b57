// Ports of runtime/chan_test.go's TestChan (every capacity 0..N: blocking, non-blocking,
// closed, FIFO, many senders and receivers, len/cap), TestMultiConsumer and
// TestChanSendInterface (here: move-only elements), plus FIFO service of parked senders and
// receivers (fifo.go's promise, checked directly), element lifetimes and directional handles.

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <vector>

#include "conformance/chan_helpers.h"
#include "support/goro_test.h"

namespace {

using chan_conformance::done_group;
using chan_conformance::expect_parked;
using chan_conformance::goroutine_id;
using goro_test::Procs;

class ChanRuntime : public Procs {};
GORO_INSTANTIATE_PROCS(ChanRuntime);

TEST_P(ChanRuntime, Chan) {
  run([] {
    const int n = static_cast<int>(goro_test::scaled(40, 4));
    for (int cap_i = 0; cap_i < n; cap_i++) {
      const auto cap = static_cast<std::size_t>(cap_i);
      {
        // A receive from an empty channel blocks, in both spellings.
        auto c = goro::make_chan<int>(cap);
        std::atomic<bool> recv1{false}, recv2{false};
        goroutine_id id1, id2;
        done_group wg(2);
        goro::go([c, &recv1, &id1, wg] {
          id1.publish();
          c.recv();
          recv1 = true;
          wg.done();
        });
        goro::go([c, &recv2, &id2, wg] {
          id2.publish();
          goro::select(goro::recv(c, [](int, bool) {}));
          recv2 = true;
          wg.done();
        });
        expect_parked(id1.get(), "chan receive", c.core());
        expect_parked(id2.get(), "select");
        EXPECT_FALSE(recv1.load() || recv2.load()) << "receive from empty chan";
        // A non-blocking receive does not block.
        EXPECT_EQ(goro::select(goro::recv(c), goro::default_case()), 1);
        EXPECT_EQ(c.try_recv().status, goro::chan_status::would_block);
        c.send(0);
        c.send(0);
        wg.wait();
      }
      {
        // A send to a full channel blocks.
        auto c = goro::make_chan<int>(cap);
        for (int i = 0; i < cap_i; i++) c.send(i);
        std::atomic<bool> sent{false};
        goroutine_id id;
        done_group wg(1);
        goro::go([c, &sent, &id, wg] {
          id.publish();
          c.send(0);
          sent = true;
          wg.done();
        });
        expect_parked(id.get(), "chan send", c.core());
        EXPECT_FALSE(sent.load()) << "send to full chan";
        // A non-blocking send does not block.
        EXPECT_EQ(goro::select(goro::send(c, 0), goro::default_case()), 1);
        EXPECT_EQ(c.try_send(0), goro::chan_status::would_block);
        c.recv();
        wg.wait();
      }
      {
        // A closed channel delivers its buffer, then zero values.
        auto c = goro::make_chan<int>(cap);
        for (int i = 0; i < cap_i; i++) c.send(i);
        c.close();
        for (int i = 0; i < cap_i; i++) EXPECT_EQ(*c.recv(), i);
        EXPECT_FALSE(c.recv().has_value());
        int v = -1;
        bool ok = true;
        goro::select(goro::recv(c, [&](int x, bool k) { v = x, ok = k; }));
        EXPECT_EQ(v, 0);
        EXPECT_FALSE(ok);
      }
      {
        // close unblocks a receive.
        auto c = goro::make_chan<int>(cap);
        auto done = goro::make_chan<bool>();
        goroutine_id id;
        goro::go([c, done, &id] {
          id.publish();
          auto v = c.recv();
          done.send(!v.has_value());
        });
        expect_parked(id.get(), "chan receive", c.core());
        c.close();
        EXPECT_TRUE(*done.recv()) << "received non-zero from closed chan";
      }
      {
        // 100 integers arrive uncorrupted and in FIFO order, by recv and by select.
        auto c = goro::make_chan<int>(cap);
        goro::go([c] {
          for (int i = 0; i < 100; i++) c.send(i);
        });
        for (int i = 0; i < 100; i++) EXPECT_EQ(*c.recv(), i);
        goro::go([c] {
          for (int i = 0; i < 100; i++) c.send(i);
        });
        for (int i = 0; i < 100; i++) {
          goro::select(goro::recv(c, [&](int v, bool ok) {
            EXPECT_TRUE(ok);
            EXPECT_EQ(v, i);
          }));
        }
        // 4 senders and 4 receivers of 1000 values each: every value arrives P times.
        constexpr int kP = 4, kL = 1000;
        for (int p = 0; p < kP; p++) {
          goro::go([c] {
            for (int i = 0; i < kL; i++) c.send(i);
          });
        }
        auto done = goro::make_chan<std::map<int, int>>();
        for (int p = 0; p < kP; p++) {
          goro::go([c, done] {
            std::map<int, int> recv;
            for (int i = 0; i < kL; i++) recv[*c.recv()]++;
            done.send(std::move(recv));
          });
        }
        std::map<int, int> recv;
        for (int p = 0; p < kP; p++) {
          std::map<int, int> part = *done.recv();
          for (auto [k, v] : part) recv[k] += v;
        }
        EXPECT_EQ(recv.size(), std::size_t{kL});
        for (auto [k, v] : recv) EXPECT_EQ(v, kP) << "value " << k;
      }
      {
        // len and cap.
        auto c = goro::make_chan<int>(cap);
        EXPECT_EQ(c.len(), 0u);
        EXPECT_EQ(c.cap(), cap);
        for (int i = 0; i < cap_i; i++) c.send(i);
        EXPECT_EQ(c.len(), cap);
        EXPECT_EQ(c.cap(), cap);
      }
      // (SCOPED_TRACE cannot be used here, see chan_helpers.h.)
      ASSERT_FALSE(::testing::Test::HasFailure()) << "first failure at capacity " << cap;
    }
  });
}

// TestMultiConsumer: 23 workers range over one channel and forward to another; the sum and
// count of what comes out match what went in. (The feeder's `expect` is read after the
// result channel closes: a memory-model check as well.)
TEST_P(ChanRuntime, MultiConsumer) {
  run([] {
    constexpr int kWork = 23;
    const int niter = static_cast<int>(goro_test::scaled(271828, 20));
    static constexpr int pn[] = {2, 3, 7, 11, 13, 17, 19, 23, 27, 31};
    auto q = goro::make_chan<int>(kWork * 3);
    auto r = goro::make_chan<int>(kWork * 3);
    done_group wg(kWork);
    for (int w = 0; w < kWork; w++) {
      goro::go([q, r, w, wg] {
        for (int v : q) {
          // Mess with the FIFO-ish nature of range.
          if (pn[w % 10] == v) goro::yield();
          r.send(v);
        }
        wg.done();
      });
    }
    long expect = 0;
    goro::go([q, r, wg, niter, &expect] {
      for (int i = 0; i < niter; i++) {
        int v = pn[i % 10];
        expect += v;
        q.send(v);
      }
      q.close();  // no more work
      wg.wait();  // workers done
      r.close();  // so there can be no more results
    });
    int n = 0;
    long s = 0;
    for (int v : r) {
      n++;
      s += v;
    }
    EXPECT_EQ(n, niter);
    EXPECT_EQ(s, expect);
  });
}

// Parked senders are served in the order they parked, after the buffered values; parked
// receivers likewise.
TEST_P(ChanRuntime, ParkedWaitersAreServedFifo) {
  run([] {
    constexpr int kN = 6;
    for (std::size_t cap : {0u, 2u}) {
      auto c = goro::make_chan<int>(cap);
      for (std::size_t i = 0; i < cap; i++) c.send(-1);
      done_group wg(kN);
      for (int i = 0; i < kN; i++) {
        goroutine_id id;
        goro::go([c, i, &id, wg] {
          id.publish();
          c.send(i);
          wg.done();
        });
        expect_parked(id.get(), "chan send", c.core());  // queued before the next one starts
      }
      for (std::size_t i = 0; i < cap; i++) EXPECT_EQ(*c.recv(), -1);
      for (int i = 0; i < kN; i++) EXPECT_EQ(*c.recv(), i);
      wg.wait();
    }
    for (std::size_t cap : {0u, 2u}) {
      auto c = goro::make_chan<int>(cap);
      auto got = goro::make_chan<std::pair<int, int>>(kN);
      for (int i = 0; i < kN; i++) {
        goroutine_id id;
        goro::go([c, got, i, &id] {
          id.publish();
          got.send({i, *c.recv()});
        });
        expect_parked(id.get(), "chan receive", c.core());
      }
      for (int i = 0; i < kN; i++) c.send(100 + i);
      for (int i = 0; i < kN; i++) {
        auto [who, v] = *got.recv();
        EXPECT_EQ(v, 100 + who) << "receiver " << who << " was served out of turn";
      }
    }
  });
}

// TestChanSendInterface, C++ edition: move-only elements through every path (direct
// hand-off, buffer, parked sender into the buffer, select send and receive, try_*).
TEST_P(ChanRuntime, MoveOnlyElements) {
  run([] {
    using up = std::unique_ptr<int>;
    for (std::size_t cap : {0u, 1u, 3u}) {
      auto c = goro::make_chan<up>(cap);
      goro::go([c] {
        for (int i = 0; i < 20; i++) {
          if (i % 3 == 0) {
            c.send(std::make_unique<int>(i));
          } else if (i % 3 == 1) {
            goro::select(goro::send(c, std::make_unique<int>(i)));
          } else {
            auto p = std::make_unique<int>(i);
            while (c.try_send(std::move(p)) != goro::chan_status::ok) {
              ASSERT_NE(p, nullptr) << "a failed try_send consumed its argument";
              goro::yield();
            }
          }
        }
        c.close();
      });
      int next = 0;
      for (;;) {
        up v;
        bool ok = false;
        if (next % 2 == 0) {
          auto r = c.recv();
          ok = r.has_value();
          if (ok) v = std::move(*r);
        } else {
          goro::select(goro::recv(c, [&](std::optional<up> r) {
            ok = r.has_value();
            if (ok) v = std::move(*r);
          }));
        }
        if (!ok) break;
        ASSERT_NE(v, nullptr);
        EXPECT_EQ(*v, next++);
      }
      EXPECT_EQ(next, 20);
    }
  });
}

// Buffered elements are destroyed with the channel; every value is destroyed exactly once
// whichever path it took.
struct tracked {
  static inline std::atomic<int> live{0};
  int v;
  explicit tracked(int x) : v(x) { live++; }
  tracked(tracked&& o) noexcept : v(o.v) { live++; }
  tracked(const tracked& o) : v(o.v) { live++; }
  ~tracked() { live--; }
};

TEST_P(ChanRuntime, ElementLifetimes) {
  run([] {
    ASSERT_EQ(tracked::live.load(), 0);
    {
      auto c = goro::make_chan<tracked>(8);
      for (int i = 0; i < 5; i++) c.send(tracked(i));
      EXPECT_EQ(tracked::live.load(), 5);
      EXPECT_EQ(c.recv()->v, 0);
      EXPECT_EQ(tracked::live.load(), 4);
      // Wrap the ring around.
      for (int i = 5; i < 9; i++) c.send(tracked(i));
      EXPECT_EQ(tracked::live.load(), 8);
      EXPECT_EQ(c.len(), 8u);
    }
    EXPECT_EQ(tracked::live.load(), 0) << "buffered values must be destroyed with the channel";
    {
      auto c = goro::make_chan<tracked>(0);
      done_group wg(1);
      goro::go([c, wg] {
        {
          tracked t(7);
          c.send(t);  // by copy
          c.send(std::move(t));
        }  // t is gone before done(): the check below must not race with its destructor
        wg.done();
      });
      EXPECT_EQ(c.recv()->v, 7);
      EXPECT_EQ(c.recv()->v, 7);
      wg.wait();
    }
    EXPECT_EQ(tracked::live.load(), 0);
  });
}

// Directional handles: made implicitly from chan<T>, they refer to the same channel and keep
// it alive.
int sum_all(goro::recv_chan<int> in) {
  int s = 0;
  for (int v : in) s += v;
  return s;
}
void produce(goro::send_chan<int> out, int n) {
  for (int i = 1; i <= n; i++) out.send(i);
  out.close();
}

TEST_P(ChanRuntime, DirectionalHandles) {
  run([] {
    auto c = goro::make_chan<int>(2);
    goro::send_chan<int> s = c;
    goro::recv_chan<int> r = c;
    EXPECT_TRUE(s == goro::send_chan<int>(c));
    EXPECT_EQ(s.core(), r.core());
    EXPECT_EQ(r.cap(), 2u);
    goro::go(produce, c, 10);
    EXPECT_EQ(sum_all(c), 55);
    // The last handle keeps the channel alive.
    goro::recv_chan<int> only;
    {
      auto d = goro::make_chan<int>(1);
      d.send(5);
      only = d;
    }
    EXPECT_EQ(*only.recv(), 5);
    EXPECT_EQ(only.try_recv().status, goro::chan_status::would_block);
    // select over directional handles.
    auto e = goro::make_chan<int>(1);
    goro::send_chan<int> es = e;
    goro::recv_chan<int> er = e;
    EXPECT_EQ(goro::select(goro::send(es, 3)), 0);
    int got = 0;
    EXPECT_EQ(goro::select(goro::recv(er, [&](int v) { got = v; })), 0);
    EXPECT_EQ(got, 3);
    goro::send_chan<int> nil_s;
    goro::recv_chan<int> nil_r;
    EXPECT_TRUE(nil_s.is_nil());
    EXPECT_FALSE(nil_r);
    EXPECT_EQ(goro::select(goro::send(nil_s, 1), goro::recv(nil_r), goro::default_case()), 2);
  });
}

}  // namespace
