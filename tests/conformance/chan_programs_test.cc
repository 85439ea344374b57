// Ports of the whole programs in Go's test/chan/: sieve1.go, goroutines.go, fifo.go,
// doubleselect.go, select2.go and zerosize.go. Where a Go program leaves its goroutines
// running forever (the sieve), the port adds a quit channel so that the fixture's leak check
// stays meaningful; the channel traffic under test is unchanged.

#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "conformance/chan_helpers.h"
#include "support/goro_test.h"

namespace {

using chan_conformance::done_group;
using goro_test::Procs;

class ChanPrograms : public Procs {};
GORO_INSTANTIATE_PROCS(ChanPrograms);

// sieve1.go: a chain of filter goroutines, one per prime found so far.
TEST_P(ChanPrograms, Sieve) {
  run([] {
    goro::chan<> quit = goro::make_chan<>();
    std::atomic<int> running{0};
    auto spawn = [&running](auto fn) {
      running.fetch_add(1);
      goro::go([fn, &running]() mutable {
        fn();
        running.fetch_sub(1);
      });
    };
    // Each blocking step also watches quit; true means "stop".
    auto generate = [quit](goro::send_chan<int> ch) {
      for (int i = 2;; i++) {
        bool stop = false;
        goro::select(goro::send(ch, i), goro::recv(quit, [&] { stop = true; }));
        if (stop) return;
      }
    };
    auto filter = [quit](goro::recv_chan<int> in, goro::send_chan<int> out, int prime) {
      for (;;) {
        int i = 0;
        bool stop = false;
        goro::select(goro::recv(in, [&](int v) { i = v; }), goro::recv(quit, [&] { stop = true; }));
        if (stop) return;
        if (i % prime != 0) {
          goro::select(goro::send(out, i), goro::recv(quit, [&] { stop = true; }));
          if (stop) return;
        }
      }
    };
    auto primes = goro::make_chan<int>();
    spawn([=, &spawn] {
      auto ch = goro::make_chan<int>();
      spawn([=] { generate(ch); });
      for (;;) {
        std::optional<int> prime;
        bool stop = false;
        goro::select(goro::recv(ch, [&](int v) { prime = v; }), goro::recv(quit, [&] { stop = true; }));
        if (stop) return;
        goro::select(goro::send(primes, *prime), goro::recv(quit, [&] { stop = true; }));
        if (stop) return;
        auto ch1 = goro::make_chan<int>();
        spawn([=] { filter(ch, ch1, *prime); });
        ch = ch1;
      }
    });
    // The first 100 primes, computed independently.
    std::vector<int> want;
    for (int n = 2; want.size() < 100; n++) {
      bool is_prime = true;
      for (int p : want) is_prime = is_prime && n % p != 0;
      if (is_prime) want.push_back(n);
    }
    for (int p : want) ASSERT_EQ(*primes.recv(), p);
    quit.close();
    while (running.load() != 0) goro::yield();
  });
}

// goroutines.go: a chain of n goroutines, each passing one value from its right to its left.
TEST_P(ChanPrograms, GoroutineChain) {
  run([] {
    const long n = goro_test::scaled(10000);
    auto leftmost = goro::make_chan<int>();
    goro::chan<int> left = leftmost;
    goro::chan<int> right;
    for (long i = 0; i < n; i++) {
      right = goro::make_chan<int>();
      goro::go([left, right] { left.send(*right.recv() + 1); });
      left = right;
    }
    goro::go([right] { right.send(1); });
    EXPECT_EQ(*leftmost.recv(), 1 + n);
  });
}

// fifo.go, AsynchFifo: a buffered channel is a FIFO.
TEST_P(ChanPrograms, AsynchFifo) {
  run([] {
    constexpr int kN = 10;
    auto ch = goro::make_chan<int>(kN);
    for (int i = 0; i < kN; i++) ch.send(i);
    for (int i = 0; i < kN; i++) EXPECT_EQ(*ch.recv(), i);
  });
}

// fifo.go, SynchFifo: a daisy chain of goroutines reads an unbuffered channel in turn; each
// must get the value sent in its turn.
TEST_P(ChanPrograms, SynchFifo) {
  run([] {
    constexpr int kN = 10;
    auto ch = goro::make_chan<int>();
    auto in = goro::make_chan<int>();
    auto start = in;
    std::atomic<int> bad{0};
    for (int i = 0; i < kN; i++) {
      auto out = goro::make_chan<int>();
      goro::go([ch, i, in, out, &bad] {
        in.recv();
        if (*ch.recv() != i) bad.fetch_add(1);
        out.send(1);
      });
      in = out;
    }
    start.send(0);
    for (int i = 0; i < kN; i++) ch.send(i);
    in.recv();
    EXPECT_EQ(bad.load(), 0);
  });
}

// doubleselect.go: a select whose four send cases all have parked receivers must deliver each
// value exactly once.
TEST_P(ChanPrograms, DoubleSelect) {
  run([] {
    const int iterations = static_cast<int>(goro_test::scaled(100000, 20));
    goro::chan<int> c[4] = {goro::make_chan<int>(), goro::make_chan<int>(), goro::make_chan<int>(),
                            goro::make_chan<int>()};
    auto cmux = goro::make_chan<int>();
    auto done = goro::make_chan<bool>();
    goro::go([c, iterations] {
      for (int i = 0; i < iterations; i++) {
        goro::select(goro::send(c[0], i), goro::send(c[1], i), goro::send(c[2], i), goro::send(c[3], i));
      }
      for (auto& ch : c) ch.close();
    });
    for (auto& ch : c) {
      goro::go([out = goro::send_chan<int>(cmux), in = goro::recv_chan<int>(ch), done] {
        for (int v : in) out.send(v);
        done.send(true);
      });
    }
    goro::go([done, cmux] {
      for (int i = 0; i < 4; i++) done.recv();
      cmux.close();
    });
    std::vector<bool> seen(static_cast<std::size_t>(iterations));
    int n = 0;
    for (int v : cmux) {
      ASSERT_FALSE(seen[static_cast<std::size_t>(v)]) << "duplicate value " << v;
      seen[static_cast<std::size_t>(v)] = true;
      n++;
    }
    EXPECT_EQ(n, iterations);
  });
}

// select2.go: a receive select with a dummy case that must never fire.
TEST_P(ChanPrograms, SelectWithIdleCase) {
  run([] {
    const int n = static_cast<int>(goro_test::scaled(100000, 20));
    auto c = goro::make_chan<int>();
    auto dummy = goro::make_chan<int>();
    for (int round = 0; round < 2; round++) {
      goro::go([c, n] {
        for (int i = 0; i < n; i++) c.send(1);
      });
      int got = 0;
      for (int i = 0; i < n; i++) {
        goro::select(goro::recv(c, [&](int v) { got += v; }), goro::recv(dummy, [] { FAIL() << "dummy fired"; }));
      }
      EXPECT_EQ(got, n);
    }
  });
}

// zerosize.go and more: channels of elements without state behave like any other channel.
struct empty {};

TEST_P(ChanPrograms, ZeroSizeElements) {
  run([] {
    for (std::size_t cap : {0u, 1u, 3u}) {
      goro::chan<> v = goro::make_chan<>(cap);
      auto e = goro::make_chan<empty>(cap);
      EXPECT_EQ(v.cap(), cap);
      EXPECT_EQ(e.cap(), cap);
      for (std::size_t i = 0; i < cap; i++) {
        v.send();
        e.send(empty{});
      }
      EXPECT_EQ(v.len(), cap);
      EXPECT_EQ(e.len(), cap);
      EXPECT_EQ(v.try_send(), goro::chan_status::would_block);
      EXPECT_EQ(e.try_send(empty{}), goro::chan_status::would_block);
      // One more through a parked sender, then drain: cap+1 values in all.
      goro::go([v, e] {
        v.send();
        e.send(empty{});
      });
      std::size_t nv = 0, ne = 0;
      for (std::size_t i = 0; i <= cap; i++) {
        EXPECT_TRUE(v.recv());
        nv++;
        EXPECT_TRUE(e.recv().has_value());
        ne++;
      }
      EXPECT_EQ(nv, cap + 1);
      EXPECT_EQ(ne, cap + 1);
      EXPECT_EQ(v.len(), 0u);
      EXPECT_EQ(v.try_recv(), goro::chan_status::would_block);
      v.close();
      e.close();
      EXPECT_FALSE(v.recv());
      EXPECT_EQ(v.try_recv(), goro::chan_status::closed);
      EXPECT_FALSE(e.recv().has_value());
    }
    // A huge buffer of nothing costs nothing.
    goro::chan<> big = goro::make_chan<>(std::size_t{1} << 40);
    for (int i = 0; i < 1000; i++) big.send();
    EXPECT_EQ(big.len(), 1000u);
    // select over void channels.
    goro::chan<> a = goro::make_chan<>(1);
    int fired = goro::select(goro::send(a), goro::recv(a));
    EXPECT_EQ(fired, 0);
    bool ok = false;
    fired = goro::select(goro::send(a), goro::recv(a, [&](bool k) { ok = k; }));
    EXPECT_EQ(fired, 1);
    EXPECT_TRUE(ok);
  });
}

}  // namespace
