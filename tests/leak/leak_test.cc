// Leak detection: goleak's checks (goro/testing.h) and their messages, their GoogleTest
// integrations (goro/testing/gtest.h), the pending timers they list, and the run-time grouping
// of long-parked goroutines with its periodic report (goro/leak.h).

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "goro/goro.h"
#include "support/report_catcher.h"
#include "goro/leak.h"
#include "goro/testing.h"
#include "goro/testing/gtest.h"

using namespace std::chrono_literals;

namespace {

// Its creator as "created by" names it: clang 14's source_location stand-in
// (__builtin_FUNCTION) gives functions without their scope.
#if defined(__clang__)
const std::string kReceiverCreator = "leak_a_ranging_receiver";
#else
const std::string kReceiverCreator = "(anonymous namespace)::leak_a_ranging_receiver";
#endif

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

// How many goroutines are parked for `reason` ("chan receive"...).
int parked(std::string_view reason) {
  int n = 0;
  for (const auto& g : goro::goroutines()) n += g.wait_reason == reason ? 1 : 0;
  return n;
}

}  // namespace

TEST(Leaks, FindLeaksIsNilWhenEverythingFinished) {
  goro::run([] {
    for (int i = 0; i < 10; i++) goro::go([] { goro::sleep(1ms); });
    goro::error e = goro::testing::find_leaks();
    EXPECT_FALSE(e) << e.message();
  });
}

TEST(Leaks, FindLeaksNamesTheRangingReceiverInGoleaksWords) {
  goro::run([] {
    auto ch = goro::make_chan<int>();
    leak_a_ranging_receiver(ch);
    goro::testing::leak_options opts;
    opts.grace = 50ms;
    goro::error e = goro::testing::find_leaks(opts);
    ASSERT_TRUE(e);
    std::string text = e.message();
    // goleak's title line, then the goroutine's block of Go's traceback, in brackets.
    std::uint64_t id = 0;
    for (const auto& g : goro::goroutines()) id = g.id != goro::this_goroutine::id() ? g.id : id;
    const std::string head = "found unexpected goroutines:\n[Goroutine " + std::to_string(id) +
                             " in state chan receive, with ";
    ASSERT_TRUE(text.starts_with(head)) << text;
    const std::size_t title_end = text.find('\n', head.size());
    const std::string top = text.substr(head.size(), title_end - head.size());
    EXPECT_TRUE(top.ends_with(" on top of the stack:")) << text;
    EXPECT_NE(top.find("leak_a_ranging_receiver"), std::string::npos) << text;
    const std::string block = text.substr(title_end + 1);
    EXPECT_TRUE(block.starts_with("goroutine " + std::to_string(id) + " [chan receive]:\n")) << text;
    EXPECT_NE(block.find("leak_a_ranging_receiver"), std::string::npos) << text;
    EXPECT_NE(block.find("\ncreated by " + kReceiverCreator + " in goroutine 1\n\t"), std::string::npos) << text;
    EXPECT_NE(block.find("leak_test.cc:"), std::string::npos) << text;
    EXPECT_TRUE(block.ends_with("\n]")) << text;
    ch.close();  // let it go
  });
}

TEST(Leaks, SeveralLeaksAreJoinedAsGoPrintsASlice) {
  goro::run([] {
    auto ch = goro::make_chan<int>();
    leak_a_ranging_receiver(ch);
    leak_a_ranging_receiver(ch);
    goro::testing::leak_options opts;
    opts.grace = 20ms;
    goro::error e = goro::testing::find_leaks(opts);
    ASSERT_TRUE(e);
    std::string text = e.message();
    // "[A\n B]": the first entry's block ends with the empty line that separates blocks in a
    // dump, then comes the space of Go's slice formatting.
    EXPECT_TRUE(text.starts_with("found unexpected goroutines:\n[Goroutine ")) << text;
    std::size_t entries = 0;
    for (std::size_t at = 0; (at = text.find("Goroutine ", at)) != std::string::npos; at++) entries++;
    EXPECT_EQ(entries, 2u) << text;
    const std::size_t second = text.find("\n\n Goroutine ");
    ASSERT_NE(second, std::string::npos) << text;
    EXPECT_NE(text.find(" in state chan receive, with ", second), std::string::npos) << text;
    EXPECT_TRUE(text.ends_with("\n]")) << text;
    EXPECT_EQ(text.find("\n\n\n"), std::string::npos) << text;
    ch.close();
  });
}

TEST(Leaks, FindLeaksNamesTheAbandonedResultSender) {
  goro::run([] {
    leak_after_timeout();
    // The sender parks once it has reported its leak (kind "leak"), which takes a while the
    // first time (loading the debug information): find_leaks() should see it parked.
    while (parked("chan send") == 0) goro::sleep(1ms);
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

namespace {

goro::testing::leak_options grace_of(std::chrono::milliseconds grace) {
  goro::testing::leak_options opts;
  opts.grace = grace;
  return opts;
}

}  // namespace

TEST(Leaks, VerifyNoLeaksFailsTheCurrentTest) {
  // goleak.VerifyNone: a non-fatal failure of the test that calls it, with Find's message.
  goro::chan<int> ch;
  EXPECT_NONFATAL_FAILURE_ON_ALL_THREADS(goro::run([&] {
                                           ch = goro::make_chan<int>();
                                           leak_a_ranging_receiver(ch);
                                           goro::testing::verify_no_leaks(grace_of(20ms));
                                           ch.close();  // the failure above does not stop the test
                                         }),
                                         "found unexpected goroutines:\n[Goroutine ");
  goro::run([] {
    goro::go([] { goro::sleep(1ms); });
    goro::testing::verify_no_leaks(grace_of(5s));  // waits for it, and passes
  });
}

TEST(Leaks, LeakCheckEnvironmentFailsALeakingTest) {
  // What a user's test binary gets from leak_check_environment between its SetUp() and
  // TearDown(): the check runs when the main function of run() returns, and fails the test
  // with the leaked goroutine's dump. (LeakGtest below runs it installed in a binary's main.)
  goro::testing::leak_check_environment env(grace_of(30ms));
  env.SetUp();
  goro::chan<int> ch;
  EXPECT_NONFATAL_FAILURE_ON_ALL_THREADS(goro::run([&] {
                                           ch = goro::make_chan<int>();
                                           leak_a_ranging_receiver(ch);
                                         }),
                                         "leak_a_ranging_receiver");
  env.TearDown();
  goro::testing::gtest_leak_options() = {};
  goro::run([&] {  // removed by TearDown(): nothing checks this run
    ch = goro::make_chan<int>();
    leak_a_ranging_receiver(ch);
  });
}

// n more ranging receivers on ch, and waits until `total` goroutines are parked receiving:
// parked, not just slept past (a loaded machine may not have run them yet).
namespace {
void leak_receivers(goro::chan<int> ch, int n, int total) {
  for (int i = 0; i < n; i++) leak_a_ranging_receiver(ch);
  while (parked("chan receive") < total) goro::sleep(1ms);
}
}  // namespace

TEST(Leaks, BlockedGroupsGroupAndCountGrowth) {
  goro::run([] {
    auto ch = goro::make_chan<int>();
    leak_receivers(ch, 5, 5);
    auto groups = goro::debug::blocked_groups(0ms);
    ASSERT_FALSE(groups.empty());
    EXPECT_EQ(groups[0].count, 5u);
    EXPECT_EQ(groups[0].growth, 5);
    EXPECT_EQ(groups[0].wait_reason, "chan receive");
    EXPECT_NE(groups[0].created_at.find("leak_a_ranging_receiver"), std::string::npos) << groups[0].created_at;
    leak_receivers(ch, 3, 8);
    std::string text = goro::debug::leak_report(0ms);
    EXPECT_NE(text.find("8 x [chan receive] (+3 since the last report"), std::string::npos) << text;
    EXPECT_NE(text.find("created at"), std::string::npos) << text;
    ch.close();
  });
}

// A new run() is a new program: the growth of its first report counts from nothing, not from
// the goroutines an earlier run() abandoned.
TEST(Leaks, BlockedGroupsGrowthStartsAfreshInEachRun) {
  for (int run = 0; run < 2; run++) {
    goro::run([] {
      auto ch = goro::make_chan<int>();
      leak_receivers(ch, 2, 2);
      auto groups = goro::debug::blocked_groups(0ms);
      ASSERT_FALSE(groups.empty());
      EXPECT_EQ(groups[0].count, 2u);
      EXPECT_EQ(groups[0].growth, 2);
      ch.close();
    });
  }
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
    EXPECT_TRUE(text.ends_with("leak_test.cc:" + std::to_string(g_cleanup_line))) << text;
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
    EXPECT_TRUE(e.message().ends_with("leak_test.cc:" + std::to_string(line))) << e.message();
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
    EXPECT_TRUE(e.message().ends_with("leak_test.cc:" + std::to_string(line))) << e.message();
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

TEST(LeakedTimers, GoroutinesFirstThenTimers) {
  goro::run([] {
    auto ch = goro::make_chan<int>();
    leak_a_ranging_receiver(ch);
    goro::timer t = arm_forgotten_cleanup();
    goro::error e = goro::testing::find_leaks(short_grace());
    ASSERT_TRUE(e);
    std::string text = e.message();
    EXPECT_TRUE(text.starts_with("found unexpected goroutines:\n[Goroutine ")) << text;
    EXPECT_NE(text.find("\n]\n\nfound 1 pending timer(s) still armed after 20 ms:\nafter_func timer [fires in "),
              std::string::npos)
        << text;
    t.stop();
    ch.close();
  });
}

TEST(LeakedTimers, LeakCheckEnvironmentFailsATestThatLeavesATimerArmed) {
  goro::testing::leak_check_environment env(short_grace());
  env.SetUp();
  EXPECT_NONFATAL_FAILURE_ON_ALL_THREADS(goro::run([] { (void)arm_forgotten_cleanup(); }),
                                         "after_func timer [fires in");
  env.TearDown();
  goro::testing::gtest_leak_options() = {};
}

namespace {

using reports_of = goro_test::report_catcher;

}  // namespace

TEST(Leaks, LastSendHandleDroppedIsReportedAtOnce) {
  reports_of reports("leak");
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
  reports_of reports("leak");
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
  reports_of reports("leak");
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

// The GoogleTest integrations installed in a test binary's main(), as a user installs them:
// leak/gtest_check_main.cc, run as a program of its own.
namespace {

struct program_result {
  int status = -1;  // the exit status, -1 if it did not exit
  std::string output;  // stdout and stderr
};

program_result run_gtest_check(const std::string& args) {
  program_result r;
  const std::string cmd = std::string(GORO_LEAK_GTEST_CHECK) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) r.output.append(buf, n);
  const int st = pclose(p);
  if (st != -1 && WIFEXITED(st)) r.status = WEXITSTATUS(st);
  return r;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST(LeakGtest, LeakCheckEnvironmentFailsTheLeakingTestOnly) {
  program_result r = run_gtest_check("env --gtest_filter=Clean.*:Leaky.*");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_TRUE(has(r.output, "[       OK ] Clean.FinishesItsGoroutines")) << r.output;
  EXPECT_TRUE(has(r.output, "[  FAILED  ] Leaky.LeavesAReceiverBehind")) << r.output;
  // The failure prints the leaked goroutine, in goleak's words and Go's format.
  EXPECT_TRUE(has(r.output, "found unexpected goroutines:\n[Goroutine ")) << r.output;
  EXPECT_TRUE(has(r.output, " in state chan receive, with ")) << r.output;
  EXPECT_TRUE(has(r.output, "leave_a_receiver_behind")) << r.output;
  EXPECT_TRUE(has(r.output, "gtest_check_main.cc:")) << r.output;
  EXPECT_FALSE(has(r.output, "goleak: Errors on successful test run")) << r.output;
}

TEST(LeakGtest, LeakCheckEnvironmentPassesACleanBinary) {
  program_result r = run_gtest_check("env --gtest_filter=Clean.*");
  EXPECT_EQ(r.status, 0) << r.output;
}

TEST(LeakGtest, VerifyTestMainFailsTheBinaryAfterPassingTests) {
  // goleak.VerifyTestMain: every test passes, then the binary reports the leak and exits 1.
  program_result r = run_gtest_check("main --gtest_filter=Clean.*:Leaky.*");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_TRUE(has(r.output, "[  PASSED  ] 2 tests.")) << r.output;
  EXPECT_TRUE(has(r.output, "goleak: Errors on successful test run: found unexpected goroutines:\n[Goroutine "))
      << r.output;
  EXPECT_TRUE(has(r.output, "leave_a_receiver_behind")) << r.output;
  EXPECT_TRUE(has(r.output, "\n]\n(left by the goro::run() of test Leaky.LeavesAReceiverBehind)\n")) << r.output;
}

TEST(LeakGtest, VerifyTestMainLooksOnlyAtASuccessfulRun) {
  program_result failed = run_gtest_check("main --gtest_filter=Leaky.*:Failing.*");
  EXPECT_EQ(failed.status, 1) << failed.output;
  EXPECT_TRUE(has(failed.output, "[  FAILED  ] Failing.FailsOnItsOwn")) << failed.output;
  EXPECT_FALSE(has(failed.output, "goleak:")) << failed.output;
  program_result clean = run_gtest_check("main --gtest_filter=Clean.*");
  EXPECT_EQ(clean.status, 0) << clean.output;
  EXPECT_FALSE(has(clean.output, "goleak:")) << clean.output;
}

// The periodic leak report (GORO_LEAK_REPORT_S, kind "leak-report"), end to end.
namespace {

// Sets environment variables for a scope (run() reads the GORO_* settings when it starts).
class scoped_env {
 public:
  void set(const char* name, const char* value) {
    const char* old = std::getenv(name);
    saved_.emplace_back(name, old != nullptr ? std::optional<std::string>(old) : std::nullopt);
    ::setenv(name, value, 1);
  }
  ~scoped_env() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
      if (it->second) {
        ::setenv(it->first.c_str(), it->second->c_str(), 1);
      } else {
        ::unsetenv(it->first.c_str());
      }
    }
  }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

// The count and growth of the [chan receive] group in a report's text ({0, 0} if absent).
std::pair<long, long> receivers_in(const std::string& text) {
  const std::size_t at = text.find(" x [chan receive] (");
  if (at == std::string::npos) return {0, 0};
  const std::size_t line = text.rfind('\n', at) + 1;
  long count = 0, growth = 0;
  if (std::sscanf(text.c_str() + line, " %ld x [chan receive] (%ld since the last report", &count, &growth) != 2) {
    return {-1, -1};
  }
  return {count, growth};
}

}  // namespace

TEST(LeakReport, PeriodicReportCountsGroupsAndTheirGrowthSinceItsOwnLastReport) {
  scoped_env env;
  env.set("GORO_DIAG_INTERVAL_MS", "5");
  env.set("GORO_LEAK_REPORT_S", "0.02");  // fractions of a second are allowed
  // The receivers, not the main goroutine (it sleeps 1 ms at a time).
  env.set("GORO_LEAK_MIN_S", "0.05");
  reports_of reports("leak-report");
  goro::run([&] {
    // Waits, calling blocked_groups() all the while as a user's own monitoring might, until a
    // periodic report shows `n` receivers.
    auto wait_for_report_of = [&](long n) {
      const auto deadline = std::chrono::steady_clock::now() + 60s;
      for (;;) {
        (void)goro::debug::blocked_groups(0ms);
        auto got = reports.get();
        if (!got.empty() && receivers_in(got.back().text).first == n) return true;
        if (std::chrono::steady_clock::now() > deadline) return false;
        goro::sleep(1ms);
      }
    };
    auto ch = goro::make_chan<int>();
    for (int i = 0; i < 3; i++) leak_a_ranging_receiver(ch);
    while (parked("chan receive") < 3) goro::sleep(1ms);
    ASSERT_TRUE(wait_for_report_of(3));
    for (int i = 0; i < 2; i++) leak_a_ranging_receiver(ch);
    while (parked("chan receive") < 5) goro::sleep(1ms);
    ASSERT_TRUE(wait_for_report_of(5));

    // Each report's growth is its count minus the previous periodic report's: the user's
    // calls in between (a baseline of their own) change nothing.
    auto got = reports.get();
    long prev = 0;
    bool saw_growth_to_five = false;
    for (const auto& r : got) {
      EXPECT_EQ(r.goroutine, 0u);
      EXPECT_NE(r.text.back(), '\n') << r.text;
      EXPECT_NE(r.text.find(" goroutine(s) blocked for more than 50 ms, in "), std::string::npos) << r.text;
      auto [count, growth] = receivers_in(r.text);
      ASSERT_GE(count, 0) << r.text;
      EXPECT_EQ(growth, count - prev) << r.text;
      if (count == 5 && prev < 5) {
        saw_growth_to_five = true;
        EXPECT_NE(r.text.find("5 x [chan receive] (+" + std::to_string(5 - prev) + " since the last report"),
                  std::string::npos)
            << r.text;
        EXPECT_NE(r.text.find("created at " + kReceiverCreator), std::string::npos) << r.text;
        // As data: the receivers are the largest group, so the first listed.
        ASSERT_GE(r.sites.size(), 2u) << r.text;
        const goro::report_site& blocked = r.sites[0];
        const goro::report_site& created = r.sites[1];
        EXPECT_EQ(blocked.role, "blocked");
        EXPECT_NE(blocked.function.find("leak_a_ranging_receiver"), std::string::npos) << blocked.function;
        EXPECT_TRUE(blocked.file.ends_with("leak_test.cc")) << blocked.file;
        EXPECT_NE(blocked.line, 0u);
        EXPECT_NE(blocked.pc, nullptr);
        EXPECT_EQ(created.role, "created");
        EXPECT_EQ(created.function, kReceiverCreator);
        EXPECT_TRUE(created.file.ends_with("leak_test.cc")) << created.file;
        EXPECT_NE(created.line, 0u);
        EXPECT_NE(r.text.find(" (" + blocked.file + ":" + std::to_string(blocked.line) + ")\n      created at " +
                              created.function + " (" + created.file + ":" + std::to_string(created.line) + ")"),
                  std::string::npos)
            << r.text;
        std::vector<std::pair<std::string, std::int64_t>> values;
        for (const auto& v : r.values) values.emplace_back(v.name, v.value);
        ASSERT_GE(values.size(), 5u) << r.text;
        EXPECT_EQ(values[0], std::make_pair(std::string("min_wait_ms"), std::int64_t{50}));
        EXPECT_EQ(values[1].first, "total");
        EXPECT_GE(values[1].second, 5);
        EXPECT_EQ(values[2].first, "groups");
        EXPECT_GE(values[2].second, 1);
        EXPECT_EQ(values[3], std::make_pair(std::string("count"), std::int64_t{5}));
        EXPECT_EQ(values[4], std::make_pair(std::string("growth"), std::int64_t{5 - prev}));
        ASSERT_GE(r.goroutines.size(), 5u);
        std::string examples = "\n      e.g. goroutine";
        for (std::size_t i = 0; i < 5; i++) examples += " " + std::to_string(r.goroutines[i]);
        EXPECT_NE(r.text.find(examples), std::string::npos) << examples << "\n" << r.text;
      }
      prev = count;
    }
    EXPECT_TRUE(saw_growth_to_five);

    // And the user's calls have their own baseline: the previous user call.
    auto groups = goro::debug::blocked_groups(0ms);
    ASSERT_FALSE(groups.empty());
    EXPECT_EQ(groups[0].wait_reason, "chan receive");
    EXPECT_EQ(groups[0].count, 5u);
    EXPECT_EQ(groups[0].growth, 0);
    ch.close();
  });
}
