// The channel rules of Go's memory model, as plain (non-atomic) data handed between
// goroutines. In every build these check values; in the ThreadSanitizer build (where any
// report fails the test) they also prove that TSan sees each happens-before edge:
//  - a send happens before the corresponding receive completes;
//  - the closing of a channel happens before a receive that returns because it is closed;
//  - a receive from an unbuffered channel happens before the corresponding send completes;
//  - the k-th receive on a channel of capacity C happens before the (k+C)-th send completes.
// The last test checks the converse: a real data race between two goroutines on one
// processor IS reported, so the annotations do not simply hide everything.

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "conformance/chan_helpers.h"
#include "support/goro_test.h"

#if defined(__SANITIZE_THREAD__)
#define CHAN_TEST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CHAN_TEST_TSAN 1
#endif
#endif

namespace {

using chan_conformance::done_group;
using goro_test::Procs;

class ChanMemoryModel : public Procs {};
GORO_INSTANTIATE_PROCS(ChanMemoryModel);

// Go's example: a = "hello, world"; c <- 0  ||  <-c; print(a). Through the buffer and by
// direct hand-off (whichever side arrives first), and through select.
TEST_P(ChanMemoryModel, SendHappensBeforeReceive) {
  run([] {
    const int rounds = static_cast<int>(goro_test::scaled(2000, 10));
    for (std::size_t cap : {0u, 1u, 8u}) {
      for (int i = 0; i < rounds; i++) {
        auto c = goro::make_chan<int>(cap);
        auto a = std::make_unique<std::string>();
        auto* pa = a.get();
        done_group wg(1);
        bool use_select = i % 2 == 1;
        goro::go([c, pa, wg, use_select] {
          *pa = "hello, world";  // plain write
          if (use_select) {
            goro::select(goro::send(c, 0));
          } else {
            c.send(0);
          }
          wg.done();
        });
        if (use_select) {
          goro::select(goro::recv(c));
        } else {
          c.recv();
        }
        EXPECT_EQ(*pa, "hello, world");  // plain read
        wg.wait();
      }
    }
  });
}

// Go's example: a = "hello, world"; <-c  ||  c <- 0; print(a), on an unbuffered channel.
TEST_P(ChanMemoryModel, UnbufferedReceiveHappensBeforeSendCompletes) {
  run([] {
    const int rounds = static_cast<int>(goro_test::scaled(2000, 10));
    for (int i = 0; i < rounds; i++) {
      auto c = goro::make_chan<int>();
      std::string a;
      done_group wg(1);
      bool use_select = i % 2 == 1;
      goro::go([c, &a, wg, use_select] {
        a = "hello, world";
        if (use_select) {
          goro::select(goro::recv(c));
        } else {
          c.recv();
        }
        wg.done();
      });
      if (use_select) {
        goro::select(goro::send(c, 0));
      } else {
        c.send(0);
      }
      EXPECT_EQ(a, "hello, world");
      wg.wait();
    }
  });
}

// Go's counting-semaphore example: with capacity C, the k-th receive happens before the
// (k+C)-th send completes. Receiver k writes slot k before its receive; the sender reads
// slot k after its (k+C)-th send.
TEST_P(ChanMemoryModel, KthReceiveHappensBeforeKPlusCthSend) {
  run([] {
    constexpr std::size_t kCap = 3;
    const int n = static_cast<int>(goro_test::scaled(3000, 10));
    auto c = goro::make_chan<int>(kCap);
    std::vector<int> slots(static_cast<std::size_t>(n));
    done_group wg(1);
    goro::go([c, &slots, n, wg] {
      for (int k = 0; k < n; k++) {
        slots[static_cast<std::size_t>(k)] = k + 1;  // before the k-th receive
        c.recv();
      }
      wg.done();
    });
    for (int k = 0; k < n + static_cast<int>(kCap); k++) {
      c.send(k);  // the k-th send (0-based)
      int r = k - static_cast<int>(kCap);
      if (r >= 0 && r < n) {
        EXPECT_EQ(slots[static_cast<std::size_t>(r)], r + 1);
      }
    }
    wg.wait();
  });
}

// close happens before a receive (or a select) that returns because the channel is closed.
TEST_P(ChanMemoryModel, CloseHappensBeforeClosedReceive) {
  run([] {
    const int rounds = static_cast<int>(goro_test::scaled(2000, 10));
    for (int i = 0; i < rounds; i++) {
      auto c = goro::make_chan<int>(i % 3);
      std::string a;
      goro::go([c, &a] {
        a = "closed";
        c.close();
      });
      switch (i % 3) {
        case 0: EXPECT_FALSE(c.recv().has_value()); break;
        case 1: goro::select(goro::recv(c, [](std::optional<int> v) { EXPECT_FALSE(v); })); break;
        case 2:
          while (c.try_recv().status != goro::chan_status::closed) goro::yield();
          break;
      }
      EXPECT_EQ(a, "closed");
    }
  });
}

// Ownership hand-off: a goroutine builds a structure with plain writes and sends a pointer;
// the receiver mutates it with plain writes and sends it back.
TEST_P(ChanMemoryModel, PointerHandOffRoundTrip) {
  run([] {
    struct blob {
      int data[64];
    };
    const int rounds = static_cast<int>(goro_test::scaled(5000, 10));
    auto to = goro::make_chan<blob*>(1);
    auto back = goro::make_chan<blob*>();
    goro::go([to, back] {
      for (blob* b : to) {
        for (int& x : b->data) x++;
        back.send(b);
      }
      back.close();
    });
    blob b{};
    for (int i = 0; i < rounds; i++) {
      for (int& x : b.data) x++;
      to.send(&b);
      blob* got = *back.recv();
      EXPECT_EQ(got->data[0], 2 * (i + 1));
    }
    to.close();
    EXPECT_FALSE(back.recv().has_value());
  });
}

#ifdef CHAN_TEST_TSAN
// A real race, with no channel in between: two goroutines on one processor write one plain
// int, interleaved by yield(). A goroutine switch is not synchronisation, so ThreadSanitizer
// must report it (exit code 66 under halt_on_error, or at exit otherwise).
int g_racy = 0;

TEST(ChanMemoryModelDeathTest, RealRaceIsReported) {
  ::testing::FLAGS_gtest_death_test_style = "threadsafe";
  EXPECT_EXIT(
      {
        goro::options opts;
        opts.procs = 1;
        goro::run(opts, [] {
          auto done = goro::make_chan<>(2);
          for (int i = 0; i < 2; i++) {
            goro::go([done] {
              for (int k = 0; k < 3; k++) {
                g_racy++;
                goro::yield();
              }
              done.send();
            });
          }
          done.recv();
          done.recv();
        });
        std::exit(0);
      },
      ::testing::ExitedWithCode(66), "WARNING: ThreadSanitizer: data race");
}
#endif

}  // namespace
