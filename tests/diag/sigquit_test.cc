// SIGQUIT: "SIGQUIT: quit", the dump of every goroutine, exit status 2, as Go; taken by the
// diagnostics thread, so it works when every goroutine and every M is wedged.

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "child.h"
#include "goro/goro.h"

using namespace std::chrono_literals;
using diag_test::exit_code;

namespace diag_test_scenarios {

[[gnu::noinline]] void wedged_receiver(goro::chan<int> c) {
  auto v = c.recv();
  asm volatile("" ::"r"(v.has_value()));
}

[[gnu::noinline]] void wedged_locker(goro::mutex& mu) {
  mu.lock();
  mu.unlock();
  asm volatile("");
}

// Goroutines parked in a channel receive and a mutex, one spinning on its thread without
// ever yielding, and main sleeping (or, with `everywhere`, spinning too: then no processor
// ever reaches a scheduling point again); "ready" once they are all in place.
void wedge(bool spin, bool everywhere, goro::sigquit_mode sigquit) {
  goro::options o;
  o.procs = 2;
  o.sigquit = sigquit;
  o.long_running_threshold = std::chrono::milliseconds(-1);
  goro::run(o, [spin, everywhere] {
    auto c = goro::make_chan<int>();
    static goro::mutex mu;
    mu.lock();
    goro::go([c] { wedged_receiver(c); });
    goro::go([] { wedged_locker(mu); });
    if (spin) {
      goro::go([] {
        for (;;) asm volatile("pause");  // never yields: its M is wedged
      });
    }
    goro::sleep(50ms);
    std::puts("ready");
    std::fflush(stdout);
    if (everywhere) {
      for (;;) asm volatile("pause");
    }
    for (;;) goro::sleep(10ms);
  });
}

void wedge(bool spin, bool everywhere) { wedge(spin, everywhere, goro::sigquit_mode::unset); }

}  // namespace diag_test_scenarios

namespace {

#if defined(__SANITIZE_THREAD__)
// ThreadSanitizer delivers a signal to a thread only at its next intercepted call: a
// thread spinning in user code would hold SIGQUIT forever.
constexpr bool kCanSpin = false;
#else
constexpr bool kCanSpin = true;
#endif

// The record of goroutine `header` ("goroutine N [reason]:") in a dump: up to the blank line.
std::string record_of(const std::string& dump, const std::string& header) {
  std::size_t at = dump.find("\n\n" + header + "\n");
  if (at == std::string::npos) return "";
  std::size_t end = dump.find("\n\n", at + 2);
  return dump.substr(at + 2, end == std::string::npos ? std::string::npos : end - at - 2);
}

TEST(DISABLED_Child, Wedged) {
  if (!diag_test::in_child()) GTEST_SKIP();
  diag_test_scenarios::wedge(kCanSpin, false);
}

TEST(DISABLED_Child, WedgedEverywhere) {
  if (!diag_test::in_child()) GTEST_SKIP();
  diag_test_scenarios::wedge(kCanSpin, kCanSpin);
}

void print_reports() {
  goro::set_report_handler([](const goro::report& r) {
    std::string ids;
    for (auto id : r.goroutines) ids += " " + std::to_string(id);
    std::printf("report %s: %zu bytes, goroutines%s, starts with %s\n", r.kind.c_str(), r.text.size(), ids.c_str(),
                r.text.substr(0, r.text.find('\n')).c_str());
    std::fflush(stdout);
  });
}

TEST(DISABLED_Child, WedgedReportOnly) {
  if (!diag_test::in_child()) GTEST_SKIP();
  print_reports();
  diag_test_scenarios::wedge(false, false);
}

TEST(DISABLED_Child, WedgedReportOnlyByOption) {
  if (!diag_test::in_child()) GTEST_SKIP();
  print_reports();
  diag_test_scenarios::wedge(false, false, goro::sigquit_mode::dump);
}

// ThreadSanitizer runs a program's signal handler only when the receiving thread reaches
// one of its interception points; a thread blocked in a raw futex syscall (an idle M) may
// never do so, and the handler then never runs (observed: nothing within 120 s).
#define SKIP_UNDER_TSAN()                                                                   \
  if (!kCanSpin) GTEST_SKIP() << "ThreadSanitizer may defer SIGQUIT forever for a thread " \
                                 "blocked outside its interceptors"

TEST(Sigquit, DumpsEveryGoroutineAndExits2) {
  SKIP_UNDER_TSAN();
  diag_test::child c("Wedged");
  ASSERT_TRUE(c.wait_for_line("ready")) << c.out() << c.err();
  kill(c.pid(), SIGQUIT);
  int status = c.finish();
  const std::string& e = c.err();
  EXPECT_EQ(exit_code(status), 2) << e;
  EXPECT_EQ(e.rfind("SIGQUIT: quit\nPC=0x", 0), 0u) << e;
  EXPECT_NE(e.find(" sigcode="), std::string::npos) << e;
  // Goroutine 1 wakes every 10 ms: the signal may catch it running.
  EXPECT_TRUE(e.find("\n\ngoroutine 1 [sleep]:\n") != std::string::npos ||
              e.find("\n\ngoroutine 1 [running]:\n") != std::string::npos)
      << e;
  EXPECT_NE(e.find("\n\ngoroutine 2 [chan receive]:\ndiag_test_scenarios::wedged_receiver(goro::chan<int>)\n\t"),
            std::string::npos)
      << e;
  // The user's frame; the frame of goro::mutex::lock itself may come first (clang does not
  // inline it; Go shows sync.(*Mutex).Lock too).
  EXPECT_NE(record_of(e, "goroutine 3 [sync.Mutex.Lock]:").find("\ndiag_test_scenarios::wedged_locker(goro::mutex&)\n\t"),
            std::string::npos)
      << e;
  if (kCanSpin) {
    EXPECT_NE(e.find("\n\ngoroutine 4 [running]:\n\tgoroutine running on other thread; stack unavailable\ncreated by "),
              std::string::npos)
        << e;
  }
  EXPECT_NE(e.find("sigquit_test.cc:"), std::string::npos) << e;
  // clang's source_location fallback names the creating lambda "operator()", unqualified.
  EXPECT_TRUE(e.find("created by diag_test_scenarios::wedge") != std::string::npos ||
              e.find("created by operator()") != std::string::npos)
      << e;
  EXPECT_NE(e.find(" in goroutine 1\n\t"), std::string::npos) << e;
}

// Both processors run goroutines that never yield, and the other goroutines are parked:
// no scheduler code runs anywhere, and the dump still shows everything.
TEST(Sigquit, DumpWorksWhenEveryProcessorIsWedged) {
  SKIP_UNDER_TSAN();
  diag_test::child c("WedgedEverywhere");
  ASSERT_TRUE(c.wait_for_line("ready")) << c.out() << c.err();
  std::this_thread::sleep_for(20ms);  // goroutine 1 is in its spin loop by now
  kill(c.pid(), SIGQUIT);
  int status = c.finish();
  const std::string& e = c.err();
  EXPECT_EQ(exit_code(status), 2) << e;
  EXPECT_EQ(e.rfind("SIGQUIT: quit\nPC=0x", 0), 0u) << e;
  // The goroutine the signal landed on is shown with its stack; the other running one as Go
  // shows a goroutine running on another thread.
  EXPECT_NE(e.find("\n\ngoroutine 1 [running]:\n"), std::string::npos) << e;
  EXPECT_NE(e.find("\n\ngoroutine 4 [running]:\n"), std::string::npos) << e;
  EXPECT_NE(e.find("goroutine running on other thread; stack unavailable"), std::string::npos) << e;
  EXPECT_NE(e.find("\n\ngoroutine 2 [chan receive]:\ndiag_test_scenarios::wedged_receiver(goro::chan<int>)\n\t"),
            std::string::npos)
      << e;
  // The user's frame; the frame of goro::mutex::lock itself may come first (clang does not
  // inline it; Go shows sync.(*Mutex).Lock too).
  EXPECT_NE(record_of(e, "goroutine 3 [sync.Mutex.Lock]:").find("\ndiag_test_scenarios::wedged_locker(goro::mutex&)\n\t"),
            std::string::npos)
      << e;
}

// GORO_SIGQUIT=dump: the dump goes to the report sink and the program keeps running. The
// same with options::sigquit, which overrides the environment.
TEST(Sigquit, DumpModeReportsAndContinues) {
  SKIP_UNDER_TSAN();
  for (bool by_option : {false, true}) {
    diag_test::child c(by_option ? "WedgedReportOnlyByOption" : "WedgedReportOnly",
                       {by_option ? "GORO_SIGQUIT=exit" : "GORO_SIGQUIT=dump"});
    ASSERT_TRUE(c.wait_for_line("ready")) << c.out() << c.err();
    kill(c.pid(), SIGQUIT);
    auto deadline = std::chrono::steady_clock::now() + 60s;
    while (c.out().find("report sigquit") == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      c.wait_for_line("never", std::chrono::seconds(1));
    }
    EXPECT_NE(c.out().find("report sigquit: "), std::string::npos) << c.out();
    EXPECT_NE(c.out().find("starts with SIGQUIT: quit"), std::string::npos) << c.out();
    EXPECT_NE(c.out().find(", goroutines 1 2 3, "), std::string::npos) << c.out();
    // Still alive: the default action is back only after run() ends; kill it.
    EXPECT_EQ(kill(c.pid(), 0), 0);
    kill(c.pid(), SIGKILL);
    c.finish();
  }
}

}  // namespace
