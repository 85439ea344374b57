// park()/ready(): the primitive under every blocking operation. Parking at scale, the
// unlock-after-switch protocol, wake-ups across threads, and scheduling fairness around it
// (runnext, the global queue).

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <semaphore>
#include <thread>
#include <vector>

#include "goro/goro.h"
#include "park_test_util.h"
#include "runtime/park.h"
#include "runtime/spinlock.h"
#include "support/goro_test.h"

namespace {

using goro::detail::g;
using goro::detail::park;
using goro::detail::ready;
using goro_test::Procs;
using goro_test::run_checked;
using rt_test::countdown;
using rt_test::event;
using rt_test::sema1;

class ParkTest : public Procs {};
GORO_INSTANTIATE_PROCS(ParkTest);

// A million goroutines parked at once, then all released. Prints the memory each parked
// goroutine costs (resident set growth / count): a stack is reserved, not committed, so a
// parked goroutine costs about one touched stack page plus its g.
struct parking_lot {
  std::vector<std::atomic<g*>> slots;
  std::atomic<long> parked{0};
  event all_parked;
  explicit parking_lot(long n) : slots(static_cast<std::size_t>(n)) {}
};
parking_lot* g_lot = nullptr;

bool park_in_slot(g* gp, void* slot) {
  static_cast<std::atomic<g*>*>(slot)->store(gp, std::memory_order_release);
  if (g_lot->parked.fetch_add(1, std::memory_order_acq_rel) + 1 == static_cast<long>(g_lot->slots.size())) {
    g_lot->all_parked.set();
  }
  return true;
}

TEST(ParkScale, MillionParkedAtOnceThenReleased) {
  const long n = rt_test::max_live(goro_test::scaled(1'000'000));
  parking_lot lot(n);
  g_lot = &lot;
  std::atomic<long> resumed{0};
  run_checked(2, [&] {
    const long rss0 = rt_test::rss_bytes();
    countdown finished(n);
    for (long i = 0; i < n; i++) {
      goro::go([&, i] {
        park(&park_in_slot, &lot.slots[static_cast<std::size_t>(i)], goro::detail::wait_reason::semacquire, &lot);
        resumed.fetch_add(1, std::memory_order_relaxed);
        finished.arrive();
      });
    }
    lot.all_parked.wait();
    const long rss1 = rt_test::rss_bytes();
    EXPECT_EQ(goro::num_goroutine(), static_cast<std::size_t>(n) + 1);
    EXPECT_EQ(resumed.load(), 0);
    const double per = static_cast<double>(rss1 - rss0) / static_cast<double>(n);
    std::printf("[ memory   ] %ld goroutines parked at once: RSS +%.1f MiB, %.0f bytes per parked goroutine\n", n,
                static_cast<double>(rss1 - rss0) / (1 << 20), per);
    ::testing::Test::RecordProperty("bytes_per_parked_goroutine", static_cast<int>(per));
    // Stacks are reserved, not committed: far less than a whole stack each.
    if (!goro_test::sanitized()) {
      EXPECT_LT(per, 32 * 1024.0);
    }
    for (auto& slot : lot.slots) ready(slot.load(std::memory_order_acquire));
    finished.wait();
  });
  EXPECT_EQ(resumed.load(), n);
  g_lot = nullptr;
}

// The unlock function runs only after the goroutine is switched out, and returning false
// calls the park off: the goroutine resumes at once, unreadied.
TEST_P(ParkTest, UnlockFalseCancelsThePark) {
  run([&] {
    int calls = 0;
    for (int i = 0; i < 1000; i++) {
      park([](g*, void* arg) { return ++*static_cast<int*>(arg), false; }, &calls,
           goro::detail::wait_reason::semacquire, nullptr);
    }
    EXPECT_EQ(calls, 1000);
    // The goroutine is running again, not waiting.
    for (const auto& info : goro::goroutines()) {
      if (info.id == 1) {
        EXPECT_EQ(info.state, goro::goroutine_state::running);
        EXPECT_TRUE(info.wait_reason.empty());
      }
    }
  });
}

// The protocol of park.h, as channels use it: a waiter queues itself under the object's
// lock (plain fields), parks, and the lock is released by the unlock function on the
// scheduler stack; a waker takes the lock, dequeues the waiter, writes the value into a
// plain field and readies it. Many producers and consumers on every P; every value arrives
// exactly once. Under TSan this checks the happens-before annotations of park/ready.
struct mailbox {
  goro::detail::spinlock lock;
  // (lock)
  std::vector<g*> waiters;
  std::vector<long*> waiter_slots;
  std::vector<long> values;
};

bool unlock_mailbox(g*, void* arg) {
  static_cast<mailbox*>(arg)->lock.unlock();
  return true;
}

long mailbox_get(mailbox& mb) {
  mb.lock.lock();
  if (!mb.values.empty()) {
    long v = mb.values.back();
    mb.values.pop_back();
    mb.lock.unlock();
    return v;
  }
  long slot = -1;  // written by the waker before ready()
  mb.waiters.push_back(goro::detail::current_g());
  mb.waiter_slots.push_back(&slot);
  park(&unlock_mailbox, &mb, goro::detail::wait_reason::chan_receive, &mb);
  return slot;
}

void mailbox_put(mailbox& mb, long v) {
  mb.lock.lock();
  if (!mb.waiters.empty()) {
    g* gp = mb.waiters.back();
    long* slot = mb.waiter_slots.back();
    mb.waiters.pop_back();
    mb.waiter_slots.pop_back();
    mb.lock.unlock();
    *slot = v;
    ready(gp);
    return;
  }
  mb.values.push_back(v);
  mb.lock.unlock();
}

TEST_P(ParkTest, WaiterQueuedUnderLockThenParked) {
  const long producers = 8, consumers = 8, per = goro_test::scaled(20000, 20);
  std::vector<std::atomic<int>> seen(static_cast<std::size_t>(producers * per));
  run([&] {
    mailbox mb;
    countdown done(producers + consumers);
    for (long c = 0; c < consumers; c++) {
      goro::go([&] {
        for (long i = 0; i < per; i++) seen[static_cast<std::size_t>(mailbox_get(mb))].fetch_add(1);
        done.arrive();
      });
    }
    for (long p = 0; p < producers; p++) {
      goro::go([&, p] {
        for (long i = 0; i < per; i++) {
          mailbox_put(mb, p * per + i);
          if (i % 16 == 0) goro::yield();
        }
        done.arrive();
      });
    }
    done.wait();
  });
  for (std::size_t i = 0; i < seen.size(); i++) ASSERT_EQ(seen[i].load(), 1) << "value " << i;
}

// No lost wake-ups: tokens circulate around a ring of goroutines, each hop a park/ready
// hand-off, a million hops in all. Several tokens at once keep every P busy, so hand-offs
// cross threads; a goroutine spins a little before passing its token on so that the
// readied one is often stolen by another thread and parks and wakes race for real.
TEST_P(ParkTest, MillionHandoffsLoseNoWakeups) {
  constexpr int kRing = 8, kTokens = 4;
  const long hops_total = goro_test::scaled(1'000'000, 20);
  std::atomic<long> hops{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread::id> where(kRing);
  std::atomic<int> threads_seen{0};
  run([&] {
    sema1 sem[kRing];
    countdown done(kRing);
    for (int i = 0; i < kRing; i++) {
      goro::go([&, i] {
        std::thread::id last{};
        for (;;) {
          sem[i].acquire();
          if (stop.load(std::memory_order_acquire)) break;
          if (std::this_thread::get_id() != last) {
            last = std::this_thread::get_id();
            threads_seen.fetch_add(1, std::memory_order_relaxed);
          }
          if (hops.fetch_add(1, std::memory_order_relaxed) + 1 >= hops_total) {
            stop.store(true, std::memory_order_release);
            for (auto& s : sem) s.release();
            break;
          }
          for (int k = 0; k < 20; k++) goro::detail::cpu_relax();
          sem[(i + 1) % kRing].release();
        }
        done.arrive();
      });
    }
    for (int t = 0; t < kTokens; t++) sem[t * kRing / kTokens].release();
    done.wait();
  });
  EXPECT_GE(hops.load(), hops_total);
  if (GetParam() > 1) {
    std::printf("[ info     ] %d thread changes seen by ring members\n", threads_seen.load());
  }
}

// Wake-ups from a plain thread, which has no P: ready() queues globally and must wake an M
// even when every P is idle. A goroutine and an OS thread hand a token back and forth.
TEST_P(ParkTest, ReadyFromPlainThread) {
  const long rounds = goro_test::scaled(5000, 5);
  std::binary_semaphore to_thread{0};
  sema1 to_goroutine;
  std::atomic<bool> thread_done{false};
  std::thread th([&] {
    for (long i = 0; i < rounds; i++) {
      to_thread.acquire();
      to_goroutine.release();
    }
    thread_done.store(true);
  });
  goro::options opts;
  opts.procs = GetParam();
  opts.detect_deadlock = -1;  // the waker is a plain thread, invisible to the check
  goro::run(opts, [&] {
    for (long i = 0; i < rounds; i++) {
      to_thread.release();
      to_goroutine.acquire();
    }
  });
  th.join();
  EXPECT_TRUE(thread_done.load());
}

// Two goroutines ping-ponging through park/ready on one P keep handing each other the
// runnext slot. A third runnable goroutine waiting in the ring must still get to run within
// a bounded number of hand-offs (the runnext streak limit), not after the pair stops.
TEST(ParkFairness, RunnextPairDoesNotStarveTheRing) {
  constexpr long kLimit = 100000;  // the pair gives up here, so a failure cannot hang
  std::atomic<long> hops{0};
  std::atomic<bool> third_ran{false};
  std::atomic<long> hops_when_queued{-1}, hops_when_ran{-1};
  run_checked(1, [&] {
    sema1 a, b;
    countdown done(3);
    auto stop = [&] { return third_ran.load() || hops.load() >= kLimit; };
    goro::go([&] {  // A
      for (int mine = 1;; mine++) {
        a.acquire();
        if (stop()) {
          b.release();
          break;
        }
        hops.fetch_add(1);
        if (mine == 5) {
          // The third goroutine goes to runnext, and readying B right after pushes it
          // into the ring behind the pair.
          goro::go([&] {
            hops_when_ran.store(hops.load());
            third_ran.store(true);
            done.arrive();
          });
          hops_when_queued.store(hops.load());
        }
        b.release();
      }
      done.arrive();
    });
    goro::go([&] {  // B
      for (;;) {
        b.acquire();
        if (stop()) {
          a.release();
          break;
        }
        hops.fetch_add(1);
        a.release();
      }
      done.arrive();
    });
    a.release();
    done.wait();
  });
  ASSERT_TRUE(third_ran.load());
  ASSERT_GE(hops_when_queued.load(), 5);
  EXPECT_LE(hops_when_ran.load() - hops_when_queued.load(), 100)
      << "the runnable goroutine waited " << hops_when_ran.load() - hops_when_queued.load() << " hand-offs";
}

// A goroutine on the global queue runs within a bounded number of scheduling rounds even
// while the P's local queue never empties (the every-61-ticks check). With one P, go() from
// a plain thread queues globally.
TEST(ParkFairness, GlobalQueueIsNotStarvedByLocalWork) {
  constexpr long kLimit = 1'000'000;
  std::atomic<long> yields{0};
  std::atomic<bool> started{false}, global_ran{false};
  std::atomic<long> yields_queued{-1}, yields_when_ran{-1};
  run_checked(1, [&] {
    countdown done(3);
    for (int k = 0; k < 2; k++) {  // two yielders: the local queue is never empty
      goro::go([&] {
        while (!global_ran.load() && yields.load() < kLimit) {
          yields.fetch_add(1);
          started.store(true);
          goro::yield();
        }
        done.arrive();
      });
    }
    std::thread th([&] {
      while (!started.load()) std::this_thread::yield();
      goro::go([&] {
        yields_when_ran.store(yields.load());
        global_ran.store(true);
        done.arrive();
      });
      // Read after go() returned: the goroutine was queued before this (so the count below
      // never overstates its wait, however long this thread was descheduled).
      yields_queued.store(yields.load());
    });
    done.wait();
    goro::blocking([&] { th.join(); });
  });
  ASSERT_TRUE(global_ran.load());
  EXPECT_LE(yields_when_ran.load() - yields_queued.load(), 200)
      << "the globally queued goroutine waited " << yields_when_ran.load() - yields_queued.load() << " yields";
}

}  // namespace
