// Go's global deadlock report: "fatal error: all goroutines are asleep - deadlock!", a
// blank line, every goroutine's stack, exit status 2. And no false report while anything
// (a sleeper, a timer, a blocking() call) can still wake a goroutine.
//
// Each scenario runs in a child process (child.h): a deadlock ends the process.

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "child.h"
#include "goro/goro.h"
#include "runtime/park.h"

using namespace std::chrono_literals;
using diag_test::exit_code;
using diag_test::run_child;

namespace {

constexpr const char* kDeadlock = "fatal error: all goroutines are asleep - deadlock!\n\ngoroutine ";

[[gnu::noinline]] void wait_forever() {
  goro::detail::park(nullptr, nullptr, goro::detail::wait_reason::select_no_cases, nullptr);
  asm volatile("");
}

[[gnu::noinline]] void ping_pong_stuck(goro::chan<int> in, goro::chan<int> out) {
  auto v = in.recv();  // both goroutines wait here: nobody sends first
  out.send(v ? *v : 0);
}

// --- child scenarios -------------------------------------------------------------------

TEST(DISABLED_Child, SelectForever) {
  if (!diag_test::in_child()) GTEST_SKIP();
  goro::run([] { wait_forever(); });
}

TEST(DISABLED_Child, SendToSelf) {
  if (!diag_test::in_child()) GTEST_SKIP();
  goro::run([] {
    auto ch = goro::make_chan<int>();
    ch.send(1);  // unbuffered: nobody will ever receive
    ch.recv();
  });
}

// Two goroutines, each waiting to receive from the other: a global deadlock at 2 procs.
void each_waits_for_the_other() {
  goro::options o;
  o.procs = 2;
  goro::run(o, [] {
    auto a = goro::make_chan<int>(), b = goro::make_chan<int>();
    goro::wait_group wg;
    wg.go([a, b] { ping_pong_stuck(a, b); });
    wg.go([a, b] { ping_pong_stuck(b, a); });
    wg.wait();
  });
}

TEST(DISABLED_Child, EachWaitsForTheOther) {
  if (!diag_test::in_child()) GTEST_SKIP();
  each_waits_for_the_other();
}

TEST(DISABLED_Child, SleeperKeepsItAlive) {
  if (!diag_test::in_child()) GTEST_SKIP();
  goro::run([] {
    goro::go([] { wait_forever(); });  // blocked for good
    for (int i = 0; i < 30; i++) goro::sleep(10ms);  // main keeps sleeping: a timer is pending
    std::puts("finished");
  });
}

TEST(DISABLED_Child, BlockingKeepsItAlive) {
  if (!diag_test::in_child()) GTEST_SKIP();
  goro::run([] {
    auto done = goro::make_chan<int>();
    goro::go([done] {
      goro::blocking([] { std::this_thread::sleep_for(300ms); });  // no goroutine runnable meanwhile
      done.send(1);
    });
    done.recv();
    std::puts("finished");
  });
}

// A report handler is installed: it gets the report (kind "deadlock") first, then Go's text
// goes to stderr all the same.
TEST(DISABLED_Child, EachWaitsForTheOtherWithAHandler) {
  if (!diag_test::in_child()) GTEST_SKIP();
  goro::set_report_handler([](const goro::report& r) {
    std::string ids;
    for (auto id : r.goroutines) ids += " " + std::to_string(id);
    std::printf("report %s:%s; %s\n", r.kind.c_str(), ids.c_str(), r.text.substr(0, r.text.find('\n')).c_str());
    std::fflush(stdout);
  });
  each_waits_for_the_other();
}

// A plain thread wakes the goroutine after longer than the grace period: a thread started
// since run() began, so the check cannot call this a deadlock (it tells the sink instead).
TEST(DISABLED_Child, PlainThreadWakes) {
  if (!diag_test::in_child()) GTEST_SKIP();
  goro::run([] {
    auto ch = goro::make_chan<int>(1);
    std::thread th([ch] {
      std::this_thread::sleep_for(2s);  // far beyond the grace period plus a (sanitized) dump
      ch.try_send(1);
    });
    ch.recv();
    goro::blocking([&] { th.join(); });
    std::puts("finished");
  });
}

// A real deadlock while an unrelated plain thread lives on: not provable, so not fatal; the
// sink hears of it once. The thread ends the program after a while. The handler prints the
// report's fields on stdout and its text on stderr, as the default sink would.
TEST(DISABLED_Child, StuckBesideAPlainThread) {
  if (!diag_test::in_child()) GTEST_SKIP();
  goro::set_report_handler([](const goro::report& r) {
    std::string fields = "report " + r.kind + ": goroutines";
    for (auto id : r.goroutines) fields += " " + std::to_string(id);
    fields += "; values";
    for (const auto& v : r.values) fields += " " + v.name + "=" + std::to_string(v.value);
    std::printf("%s\n", fields.c_str());
    std::fflush(stdout);
    std::fprintf(stderr, "goro: %s\n", r.text.c_str());
  });
  std::thread watchdog;
  goro::run([&] {
    watchdog = std::thread([] {
      std::printf("watchdog tid %d\n", static_cast<int>(gettid()));
      std::fflush(stdout);
      std::this_thread::sleep_for(1500ms);
      std::fflush(stderr);
      std::_Exit(7);
    });
    goro::make_chan<int>().recv();  // nobody else can ever send
  });
}

// --- tests -----------------------------------------------------------------------------

TEST(Deadlock, MainBlockedForever) {
  auto r = run_child("SelectForever");
  EXPECT_EQ(exit_code(r.status), 2) << r.err;
  EXPECT_EQ(r.err.rfind(std::string(kDeadlock) + "1 [select (no cases)]:\n", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("wait_forever()\n\t"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("deadlock_test.cc:"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("created by"), std::string::npos) << "goroutine 1 has no creator\n" << r.err;
  EXPECT_EQ(r.err.back(), '\n');
}

TEST(Deadlock, SendAndReceiveInOneGoroutine) {
  auto r = run_child("SendToSelf");
  EXPECT_EQ(exit_code(r.status), 2) << r.err;
  EXPECT_EQ(r.err.rfind(std::string(kDeadlock) + "1 [chan send]:\n", 0), 0u) << r.err;
}

TEST(Deadlock, TwoGoroutinesWaitingForEachOther) {
  auto r = run_child("EachWaitsForTheOther");
  EXPECT_EQ(exit_code(r.status), 2) << r.err;
  EXPECT_EQ(r.err.rfind(std::string(kDeadlock) + "1 [sync.WaitGroup.Wait]:\n", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("\n\ngoroutine 2 [chan receive]:\n"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("\n\ngoroutine 3 [chan receive]:\n"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("ping_pong_stuck(goro::chan<int>, goro::chan<int>)\n\t"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("created by "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(" in goroutine 1\n"), std::string::npos) << r.err;
}

TEST(Deadlock, ReportSinkGetsItBeforeStderr) {
  auto r = run_child("EachWaitsForTheOtherWithAHandler");
  EXPECT_EQ(exit_code(r.status), 2) << r.err;
  EXPECT_EQ(r.err.rfind(std::string(kDeadlock) + "1 [sync.WaitGroup.Wait]:\n", 0), 0u) << r.err;
  EXPECT_NE(r.out.find("report deadlock: 1 2 3; fatal error: all goroutines are asleep - deadlock!\n"),
            std::string::npos)
      << r.out;
}

TEST(Deadlock, NoReportWhileAGoroutineSleeps) {
  auto r = run_child("SleeperKeepsItAlive");
  EXPECT_EQ(exit_code(r.status), 0) << r.err;
  EXPECT_NE(r.out.find("finished"), std::string::npos);
  EXPECT_EQ(r.err.find("deadlock"), std::string::npos) << r.err;
}

TEST(Deadlock, NoReportWhileInsideBlocking) {
  auto r = run_child("BlockingKeepsItAlive");
  EXPECT_EQ(exit_code(r.status), 0) << r.err;
  EXPECT_NE(r.out.find("finished"), std::string::npos);
}

TEST(Deadlock, PlainThreadWakerKeepsTheProgramAlive) {
  auto r = run_child("PlainThreadWakes");
  EXPECT_EQ(exit_code(r.status), 0) << r.err;
  EXPECT_NE(r.out.find("finished"), std::string::npos);
  EXPECT_EQ(r.err.find("fatal error"), std::string::npos) << r.err;
  // The wait outlasted the grace period: the sink was told, once.
  std::size_t at = r.err.find("all goroutines are asleep, but 1 thread started outside goro since run() began");
  EXPECT_NE(at, std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("all goroutines are asleep, but", at + 1), std::string::npos) << r.err;
}

TEST(Deadlock, StuckBesideAPlainThreadIsReportedButNotFatal) {
  auto r = run_child("StuckBesideAPlainThread");
  EXPECT_EQ(exit_code(r.status), 7) << r.err;  // the watchdog's exit: goro did not end it
  EXPECT_EQ(r.err.find("fatal error"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("may still wake one, so this is not reported as a deadlock"), std::string::npos) << r.err;
  // As data: the goroutine asleep, and the one foreign thread (the watchdog) by its id.
  const std::size_t at = r.out.find("watchdog tid ");
  ASSERT_NE(at, std::string::npos) << r.out;
  const int tid = std::atoi(r.out.c_str() + at + 13);
  EXPECT_NE(r.out.find("report possible-deadlock: goroutines 1; values threads=1 tid=" + std::to_string(tid) + "\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.err.find("(tid " + std::to_string(tid) + ")"), std::string::npos) << r.err;
}

TEST(Deadlock, BadSettingIsAnError) {
  ::setenv("GORO_DEADLOCK", "maybe", 1);
  EXPECT_THROW(goro::run([] {}), std::invalid_argument);
  ::unsetenv("GORO_DEADLOCK");
}

}  // namespace
