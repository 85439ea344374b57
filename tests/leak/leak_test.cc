// Leak detection: goleak-style checks (goro/testing.h), their GoogleTest integration, the
// pending timers they list, and the run-time grouping of long-parked goroutines
// (goro/leak.h).

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "goro/goro.h"
#include "goro/leak.h"
#include "goro/testing.h"
#include "goro/testing/gtest.h"

using namespace std::chrono_literals;

namespace {

// The guide's first leak: a receiver ranging over a channel its sender never closes.
void leak_a_ranging_receiver(goro::chan<int> ch) {
  goro::go([in = goro::recv_chan<int>(ch)] {
    for (int v : in) (void)v;
  });
  ch.send(1);
}

// The classic "result channel nobody reads after a timeout".
void leak_after_timeout() {
  auto result = goro::make_chan<int>();
  goro::go([out = goro::send_chan<int>(result)] {
    goro::sleep(2ms);  // slow work
    out.send(42);      // nobody will ever receive this
  });
  goro::select(goro::recv(result), goro::recv(goro::after(1ms)));
}

}  // namespace

TEST(Leaks, FindLeaksIsNilWhenEverythingFinished) {
  goro::run([] {
    for (int i = 0; i < 10; i++) goro::go([] { goro::sleep(1ms); });
    goro::error e = goro::testing::find_leaks();
    EXPECT_FALSE(e) << e.message();
  });
}

TEST(Leaks, FindLeaksNamesTheRangingReceiver) {
  goro::run([] {
    auto ch = goro::make_chan<int>();
    leak_a_ranging_receiver(ch);
    goro::testing::leak_options opts;
    opts.grace = 50ms;
    goro::error e = goro::testing::find_leaks(opts);
    ASSERT_TRUE(e);
    std::string text = e.message();
    EXPECT_NE(text.find("found 1 unexpected goroutine(s)"), std::string::npos) << text;
    EXPECT_NE(text.find("[chan receive]"), std::string::npos) << text;
    EXPECT_NE(text.find("created by"), std::string::npos) << text;
    EXPECT_NE(text.find("leak_test.cc"), std::string::npos) << text;
    EXPECT_NE(text.find("leak_a_ranging_receiver"), std::string::npos) << text;
    ch.close();  // let it go
  });
}

TEST(Leaks, FindLeaksNamesTheAbandonedResultSender) {
  goro::run([] {
    leak_after_timeout();
    goro::testing::leak_options opts;
    opts.grace = 50ms;
    goro::error e = goro::testing::find_leaks(opts);
    ASSERT_TRUE(e);
    EXPECT_NE(e.message().find("[chan send]"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("leak_after_timeout"), std::string::npos) << e.message();
  });
}

TEST(Leaks, IgnoreListsAndIgnoreCurrent) {
  goro::run([] {
    auto ch = goro::make_chan<int>();
    leak_a_ranging_receiver(ch);
    goro::testing::leak_options opts;
    opts.grace = 20ms;
    opts.ignore = {"leak_a_ranging_receiver"};
    EXPECT_FALSE(goro::testing::find_leaks(opts));
    goro::testing::leak_options current;
    current.grace = 20ms;
    current.ignore_ids = goro::testing::snapshot_current();
    EXPECT_FALSE(goro::testing::find_leaks(current));
    ch.close();
  });
}

TEST(Leaks, GtestIntegrationFailsALeakingTest) {
  // What a user's test binary gets from leak_check_environment: the check runs when the
  // main function of run() returns, and fails the test with the leaked goroutine's dump.
  goro::testing::gtest_leak_options().grace = 30ms;
  goro::testing::set_main_exit_check([] { goro::testing::expect_no_leaks(); });
  goro::chan<int> ch;
  EXPECT_NONFATAL_FAILURE_ON_ALL_THREADS(goro::run([&] {
                                           ch = goro::make_chan<int>();
                                           leak_a_ranging_receiver(ch);
                                         }),
                                         "leak_a_ranging_receiver");
  goro::testing::set_main_exit_check(nullptr);
  goro::testing::gtest_leak_options() = {};
}

TEST(Leaks, BlockedGroupsGroupAndCountGrowth) {
  goro::run([] {
    auto ch = goro::make_chan<int>();
    for (int i = 0; i < 5; i++) leak_a_ranging_receiver(ch);
    goro::sleep(20ms);
    auto groups = goro::debug::blocked_groups(10ms);
    ASSERT_FALSE(groups.empty());
    EXPECT_EQ(groups[0].count, 5u);
    EXPECT_EQ(groups[0].growth, 5);
    EXPECT_EQ(groups[0].wait_reason, "chan receive");
    EXPECT_NE(groups[0].created_at.find("leak_a_ranging_receiver"), std::string::npos) << groups[0].created_at;
    for (int i = 0; i < 3; i++) leak_a_ranging_receiver(ch);
    goro::sleep(20ms);
    std::string text = goro::debug::leak_report(10ms);
    EXPECT_NE(text.find("8 x [chan receive] (+3 since the last report"), std::string::npos) << text;
    EXPECT_NE(text.find("created at"), std::string::npos) << text;
    ch.close();
  });
}

namespace {

// The line of the after_func call below, for the reports' "armed by" site.
unsigned g_cleanup_line = 0;

// The forgotten timer: an after_func armed for later whose handle nobody stops.
goro::timer arm_forgotten_cleanup(std::chrono::nanoseconds d = 1h) {
  g_cleanup_line = __LINE__ + 1;
  return goro::after_func(d, [] {});
}

goro::testing::leak_options short_grace() {
  goro::testing::leak_options opts;
  opts.grace = 20ms;
  return opts;
}

}  // namespace

TEST(LeakedTimers, AfterFuncNeverStoppedIsReportedWithItsSite) {
  goro::run([] {
    goro::timer t = arm_forgotten_cleanup();
    goro::error e = goro::testing::find_leaks(short_grace());
    ASSERT_TRUE(e);
    std::string text = e.message();
    EXPECT_EQ(text.find("goroutine"), std::string::npos) << "only the timer leaks:\n" << text;
    EXPECT_NE(text.find("found 1 pending timer(s) still armed after 20 ms:\n"), std::string::npos) << text;
    EXPECT_NE(text.find("after_func timer [fires in 59m5"), std::string::npos) << text;
    EXPECT_NE(text.find("armed by "), std::string::npos) << text;
    EXPECT_NE(text.find("arm_forgotten_cleanup"), std::string::npos) << text;
    EXPECT_NE(text.find("leak_test.cc:" + std::to_string(g_cleanup_line) + "\n"), std::string::npos) << text;
    EXPECT_TRUE(t.stop());
  });
}

TEST(LeakedTimers, PendingTimersAsData) {
  goro::run([] {
    goro::timer t = arm_forgotten_cleanup();
    auto timers = goro::debug::pending_timers();
    ASSERT_EQ(timers.size(), 1u);
    EXPECT_EQ(timers[0].kind, "after_func");
    EXPECT_NE(timers[0].armed_at.find("arm_forgotten_cleanup"), std::string::npos) << timers[0].armed_at;
    EXPECT_NE(timers[0].armed_at.find("leak_test.cc:" + std::to_string(g_cleanup_line) + ")"), std::string::npos)
        << timers[0].armed_at;
    EXPECT_GT(timers[0].remaining, 59min);
    EXPECT_LE(timers[0].remaining, 1h);
    EXPECT_EQ(timers[0].period, 0ns);
    t.stop();
    EXPECT_TRUE(goro::debug::pending_timers().empty());
  });
}

TEST(LeakedTimers, StoppedOrFiredTimersAreNotReported) {
  goro::run([] {
    goro::timer stopped = arm_forgotten_cleanup();
    EXPECT_TRUE(stopped.stop());
    auto ran = goro::make_chan<>(1);
    goro::timer fired = goro::after_func(1ms, [ran] { ran.send(); });
    ran.recv();  // its function has run
    goro::error e = goro::testing::find_leaks(short_grace());
    EXPECT_FALSE(e) << e.message();
    // Plain timers only send on their channel: never listed.
    goro::timer plain = goro::new_timer(1h);
    EXPECT_FALSE(goro::testing::find_leaks(short_grace()));
    plain.stop();
  });
}

TEST(LeakedTimers, ATimerDueWithinTheGracePeriodIsNotALeak) {
  goro::run([] {
    std::atomic<bool> ran{false};
    goro::timer t = goro::after_func(5ms, [&ran] { ran = true; });
    goro::testing::leak_options opts;
    opts.grace = 10s;  // the check returns as soon as the timer has fired and its goroutine ended
    goro::error e = goro::testing::find_leaks(opts);
    EXPECT_FALSE(e) << e.message();
    EXPECT_TRUE(ran.load());
  });
}

TEST(LeakedTimers, IgnoreListMatchesTheArmingSite) {
  goro::run([] {
    goro::timer t = arm_forgotten_cleanup();
    goro::testing::leak_options opts = short_grace();
    opts.ignore = {"arm_forgotten_cleanup"};
    EXPECT_FALSE(goro::testing::find_leaks(opts));
    opts.ignore = {"leak_test.cc"};
    EXPECT_FALSE(goro::testing::find_leaks(opts));
    opts.ignore = {"something_else"};
    EXPECT_TRUE(goro::testing::find_leaks(opts));
    t.stop();
  });
}

TEST(LeakedTimers, TickerNeverStoppedIsReported) {
  goro::run([] {
    const unsigned line = __LINE__ + 1;
    goro::ticker tick = goro::new_ticker(1h);
    goro::error e = goro::testing::find_leaks(short_grace());
    ASSERT_TRUE(e);
    EXPECT_NE(e.message().find("ticker [every 1h0m0s, next tick in 59m5"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("leak_test.cc:" + std::to_string(line) + "\n"), std::string::npos) << e.message();
    tick.stop();
    EXPECT_FALSE(goro::testing::find_leaks(short_grace()));
  });
}

TEST(LeakedTimers, ContextDeadlineNotCancelledIsReportedAtItsCreation) {
  goro::run([] {
    const unsigned line = __LINE__ + 1;
    auto [ctx, cancel] = goro::with_timeout(goro::background(), 1h);
    goro::error e = goro::testing::find_leaks(short_grace());
    ASSERT_TRUE(e);
    EXPECT_NE(e.message().find("context deadline timer [expires in 59m5"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("leak_test.cc:" + std::to_string(line) + "\n"), std::string::npos) << e.message();
    cancel();
    EXPECT_FALSE(goro::testing::find_leaks(short_grace()));
    EXPECT_EQ(ctx.err(), goro::canceled);
  });
}

TEST(LeakedTimers, TimersAbandonedByAnEarlierRunAreNotThisRunsLeaks) {
  goro::run([] { (void)arm_forgotten_cleanup(); });  // abandoned when run() returns
  goro::run([] {
    EXPECT_TRUE(goro::debug::pending_timers().empty());
    goro::error e = goro::testing::find_leaks(short_grace());
    EXPECT_FALSE(e) << e.message();
  });
}

TEST(LeakedTimers, GtestIntegrationFailsATestThatLeavesATimerArmed) {
  goro::testing::gtest_leak_options().grace = 20ms;
  goro::testing::set_main_exit_check([] { goro::testing::expect_no_leaks(); });
  EXPECT_NONFATAL_FAILURE_ON_ALL_THREADS(goro::run([] { (void)arm_forgotten_cleanup(); }),
                                         "after_func timer [fires in");
  goro::testing::set_main_exit_check(nullptr);
  goro::testing::gtest_leak_options() = {};
}

namespace {

// Collects reports of kind "leak".
struct leak_reports {
  std::mutex mu;
  std::vector<goro::report> got;
  leak_reports() {
    goro::set_report_handler([this](const goro::report& r) {
      if (r.kind != "leak") return;
      std::lock_guard<std::mutex> lk(mu);
      got.push_back(r);
    });
  }
  ~leak_reports() { goro::set_report_handler(nullptr); }
  std::vector<goro::report> get() {
    std::lock_guard<std::mutex> lk(mu);
    return got;
  }
};

}  // namespace

TEST(Leaks, LastSendHandleDroppedIsReportedAtOnce) {
  leak_reports reports;
  goro::run([&] {
    std::uint64_t receiver = 0;
    {
      auto ch = goro::make_chan<int>();
      goro::go([in = goro::recv_chan<int>(ch), &receiver] {
        receiver = goro::this_goroutine::id();
        (void)in.recv();  // nobody will ever send or close
      });
      goro::sleep(5ms);      // let it park
      EXPECT_TRUE(reports.get().empty());
    }  // the last send-capable handle dies here
    auto got = reports.get();
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].goroutine, receiver);
    EXPECT_NE(got[0].text.find("leaked: blocked forever in [chan receive]"), std::string::npos) << got[0].text;
    EXPECT_NE(got[0].text.find("last handle able to send on or close it was destroyed in"), std::string::npos)
        << got[0].text;
    // Names the function that dropped the handle (the line may be the inlined destructor's).
    EXPECT_NE(got[0].text.find("LastSendHandleDroppedIsReportedAtOnce"), std::string::npos) << got[0].text;
  });
}

TEST(Leaks, LastReceiveHandleDroppedLeaksTheSender) {
  leak_reports reports;
  goro::run([&] {
    {
      auto ch = goro::make_chan<int>();
      goro::go([out = goro::send_chan<int>(ch)] { out.send(1); });
      goro::sleep(5ms);
    }
    auto got = reports.get();
    ASSERT_EQ(got.size(), 1u);
    EXPECT_NE(got[0].text.find("[chan send]"), std::string::npos) << got[0].text;
  });
}

TEST(Leaks, NoReportWhenClosedOrWhenTheReceiverHoldsBothDirections) {
  leak_reports reports;
  goro::run([&] {
    {
      // Closed before the last sender goes: the receiver wakes, nothing leaks.
      auto ch = goro::make_chan<int>();
      goro::wait_group wg;
      wg.go([in = goro::recv_chan<int>(ch)] { (void)in.recv(); });
      goro::sleep(2ms);
      ch.close();
      wg.wait();
    }
    {
      // A receiver holding a chan<T> itself could still send: not provable, not reported.
      auto ch = goro::make_chan<int>();
      goro::go([ch] { (void)ch.recv(); });
      goro::sleep(2ms);
    }
    EXPECT_TRUE(reports.get().empty());
  });
}
