// goro::run(): starting and stopping the runtime, what happens to goroutines alive when
// goroutine 1 returns (abandoned), configuration, and misuse outside or inside run().

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include "goro/goro.h"
#include "park_test_util.h"
#include "runtime/sched.h"
#include "support/goro_test.h"

namespace {

using rt_test::countdown;
using rt_test::event;
using namespace std::chrono_literals;

// Checks that `fn` throws std::logic_error whose message contains `needle`.
template <class F>
void expect_logic_error(F fn, const std::string& needle) {
  try {
    fn();
    ADD_FAILURE() << "no exception; expected std::logic_error mentioning \"" << needle << "\"";
  } catch (const std::logic_error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << "message: " << e.what();
  } catch (...) {
    ADD_FAILURE() << "an exception other than std::logic_error";
  }
}

TEST(Run, ReturnsTheValueOfGoroutineOne) {
  EXPECT_EQ(goro::run([] { return 42; }), 42);
  auto p = goro::run([] { return std::make_unique<std::string>("move-only"); });
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(*p, "move-only");
  int side = 0;
  goro::run([&] { side = 7; });
  EXPECT_EQ(side, 7);
}

// run() is started and stopped 50 times in one process. Each time, goroutine 1 returns
// while other goroutines are parked, sleeping, never started, or inside blocking(): they
// are abandoned (runtime.h): they never run again, their function objects are destroyed,
// the destructors of their locals are not run, and a blocking() call is waited for but the
// goroutine does not continue after it.
TEST(Run, StartAndStopRepeatedlyAbandoningGoroutines) {
  auto token = std::make_shared<int>(0);
  std::atomic<int> local_destructors{0};
  std::atomic<int> continued_after_blocking{0};
  std::atomic<int> blocking_calls_finished{0};
  std::atomic<int> blocking_calls{0};
  struct local_tracker {
    std::atomic<int>* n;
    ~local_tracker() { n->fetch_add(1); }
  };
  for (int round = 0; round < 50; round++) {
    goro::options opts;
    opts.procs = 1 << (round % 3);
    const bool with_blocking = round % 5 == 0;
    int got = goro::run(opts, [&, round] {
      countdown parked(4);
      // Parked forever, holding a local with a destructor.
      goro::go([&, token] {
        local_tracker t{&local_destructors};
        parked.arrive();
        rt_test::park_forever();
      });
      // Sleeping for an hour, and "forever" (a duration that overflows any deadline).
      goro::go([&, token] {
        parked.arrive();
        goro::sleep(1h);
      });
      goro::go([&, token] {
        parked.arrive();
        goro::sleep(std::chrono::nanoseconds::max());
      });
      goro::go([&, token] {
        parked.arrive();
        goro::sleep(std::chrono::hours::max());  // out of nanoseconds' range: saturates
      });
      parked.wait();
      if (with_blocking) {
        blocking_calls.fetch_add(1);
        event in_call;
        goro::go([&, token] {
          goro::blocking([&] {
            in_call.set();
            // Return only once goroutine 1 has returned and the runtime is shutting down
            // (this M cannot be joined before, so the scheduler is still there).
            while (!goro::detail::g_sched->shutdown.load()) std::this_thread::sleep_for(1ms);
            blocking_calls_finished.fetch_add(1);
          });
          continued_after_blocking.fetch_add(1);
        });
        in_call.wait();
      }
      // Never started (with one P, goroutine 1 keeps it until it returns), or started
      // and parked: either way abandoned.
      for (int i = 0; i < 10; i++) {
        goro::go([token] { rt_test::park_forever(); });
      }
      return round;
    });
    EXPECT_EQ(got, round);
    EXPECT_EQ(goro::num_goroutine(), 0u);
  }
  EXPECT_EQ(token.use_count(), 1) << "abandoned goroutines' function objects were not destroyed";
  EXPECT_EQ(local_destructors.load(), 0) << "an abandoned goroutine was unwound";
  EXPECT_EQ(blocking_calls_finished.load(), blocking_calls.load()) << "run() returned before a blocking() call did";
  EXPECT_EQ(continued_after_blocking.load(), 0) << "a goroutine ran on after its blocking() call during shutdown";
}

// Goroutines running on other threads when goroutine 1 returns are abandoned at their next
// scheduling point; run() waits for that.
TEST(Run, RunningGoroutinesAreAbandonedAtTheirNextSchedulingPoint) {
  std::atomic<bool> at_point{false}, after_point{false};
  goro::options opts;
  opts.procs = 2;
  goro::run(opts, [&] {
    event started;
    goro::go([&] {
      started.set();
      std::this_thread::sleep_for(20ms);  // busy on its thread, no scheduling point
      at_point.store(true);
      goro::yield();
      after_point.store(true);
    });
    started.wait();
  });
  EXPECT_TRUE(at_point.load()) << "run() returned before the running goroutine reached a scheduling point";
  EXPECT_FALSE(after_point.load());
}

// Functions marked "goroutine only" throw std::logic_error outside run(), with a message
// that says why.
TEST(Run, GoroutineOnlyFunctionsThrowOutsideRun) {
  expect_logic_error([] { goro::yield(); }, "must be called on a goroutine");
  expect_logic_error([] { goro::sleep(1ms); }, "must be called on a goroutine");
  expect_logic_error([] { goro::sleep(0ms); }, "must be called on a goroutine");
  expect_logic_error([] { goro::sleep_until(std::chrono::steady_clock::now()); }, "must be called on a goroutine");
  expect_logic_error([] { goro::blocking([] { return 1; }); }, "must be called on a goroutine");
  expect_logic_error([] { goro::go([] {}); }, "not running");
  expect_logic_error([] { goro::go([](int) {}, 1); }, "not running");
  EXPECT_TRUE(goro::goroutines().empty());
  EXPECT_EQ(goro::this_goroutine::id(), 0u);
}

// While run() is active, a plain thread still may not park, but may start goroutines.
TEST(Run, PlainThreadDuringRun) {
  std::atomic<bool> ran{false};
  goro::options opts;
  opts.detect_deadlock = -1;  // goroutine 1 waits for a plain thread, invisible to the check
  goro::run(opts, [&] {
    event done;
    std::thread th([&] {
      expect_logic_error([] { goro::yield(); }, "must be called on a goroutine");
      expect_logic_error([] { goro::sleep(1ms); }, "must be called on a goroutine");
      goro::go([&] {
        ran.store(true);
        done.set();
      });
    });
    done.wait();
    goro::blocking([&] { th.join(); });
  });
  EXPECT_TRUE(ran.load());
}

// Plain threads calling go(), goroutines() and num_goroutine() while goroutine 1 returns:
// run() waits for the calls in flight before freeing the scheduler, later go() calls throw
// and later snapshots are empty. Nothing crashes (ASan) or races (TSan).
TEST(Run, PlainThreadCallsRacingTheEndOfRun) {
  for (int round = 0; round < 20; round++) {
    std::atomic<bool> started{false}, stop{false};
    std::atomic<long> spawned{0}, refused{0};
    std::thread th([&] {
      while (!stop.load()) {
        try {
          goro::go([] {});
          spawned.fetch_add(1);
          started.store(true);
        } catch (const std::logic_error&) {
          refused.fetch_add(1);
          if (started.load()) break;  // this run() is over
        }
        (void)goro::goroutines();
        (void)goro::num_goroutine();
      }
    });
    goro::options opts;
    opts.procs = 1 + round % 2;
    opts.detect_deadlock = -1;
    goro::run(opts, [&] {
      while (!started.load()) goro::yield();
    });
    stop.store(true);
    th.join();
    EXPECT_GT(spawned.load(), 0);
  }
}

// run() cannot be nested, nor run twice at once from two threads.
TEST(Run, NestedOrConcurrentRunThrows) {
  goro::run([&] {
    expect_logic_error([] { goro::run([] {}); }, "already running");
    goro::blocking([] {
      std::thread th([] { expect_logic_error([] { goro::run([] { return 1; }); }, "already running"); });
      th.join();
    });
  });
  // And after it returned, run() works again.
  EXPECT_EQ(goro::run([] { return 3; }), 3);
}

// Options and environment: procs, stack size, and their validation.
TEST(Run, OptionsAndEnvironment) {
  goro::options opts;
  opts.procs = 3;
  EXPECT_EQ(goro::run(opts, [] { return goro::procs(); }), 3);

  ::setenv("GORO_MAXPROCS", "2", 1);
  EXPECT_EQ(goro::run([] { return goro::procs(); }), 2);
  opts.procs = 1;  // options override the environment
  EXPECT_EQ(goro::run(opts, [] { return goro::procs(); }), 1);
  ::setenv("GORO_MAXPROCS", "two", 1);
  EXPECT_THROW(goro::run([] {}), std::invalid_argument);
  ::unsetenv("GORO_MAXPROCS");

  goro::options small;
  small.stack_size = 4096;
  EXPECT_THROW(goro::run(small, [] {}), std::invalid_argument);
  goro::options many;
  many.procs = 5000;
  EXPECT_THROW(goro::run(many, [] {}), std::invalid_argument);

  // A 64 KiB stack is enough for ordinary goroutines.
  goro::options s64;
  s64.stack_size = 64 * 1024;
  EXPECT_EQ(goro::run(s64, [] {
              std::atomic<int> n{0};
              countdown done(100);
              for (int i = 0; i < 100; i++) {
                goro::go([&] {
                  n.fetch_add(1);
                  done.arrive();
                });
              }
              done.wait();
              return n.load();
            }),
            100);
}

}  // namespace
