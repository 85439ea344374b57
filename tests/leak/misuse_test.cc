// The misuse detectors of the diagnostics monitor (src/diag/monitor.cc): each test provokes
// one of the guide's bug patterns and asserts goro's report.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "goro/goro.h"
#include "goro/mutex.h"

using namespace std::chrono_literals;

namespace {

// Collects reports of one kind; installed for the duration of a test.
class report_catcher {
 public:
  explicit report_catcher(std::string kind) : kind_(std::move(kind)) {
    goro::set_report_handler([this](const goro::report& r) {
      if (r.kind != kind_) return;
      std::lock_guard<std::mutex> lk(mu_);
      reports_.push_back(r);
    });
  }
  ~report_catcher() { goro::set_report_handler(nullptr); }
  std::vector<goro::report> get() {
    std::lock_guard<std::mutex> lk(mu_);
    return reports_;
  }
  // Parks (sleeping) until a report arrived or the deadline passed.
  bool wait(std::chrono::milliseconds max = 5000ms) {
    auto end = std::chrono::steady_clock::now() + max;
    while (std::chrono::steady_clock::now() < end) {
      if (!get().empty()) return true;
      goro::sleep(5ms);
    }
    return false;
  }

 private:
  std::string kind_;
  std::mutex mu_;
  std::vector<goro::report> reports_;
};

// Fast monitor settings for these tests.
void fast_monitor() {
  setenv("GORO_DIAG_INTERVAL_MS", "10", 1);
  setenv("GORO_LOCKHOLD_MS", "50", 1);
  setenv("GORO_CTXIGNORE_MS", "50", 1);
}

}  // namespace

TEST(Misuse, SleepWhileHoldingAMutexOthersWaitFor) {
  fast_monitor();
  report_catcher reports("lock-held-while-blocked");
  goro::run([&] {
    goro::mutex mu;
    auto release = goro::make_chan<>();
    std::uint64_t holder = 0;
    goro::wait_group wg;
    wg.go([&] {
      std::lock_guard<goro::mutex> lk(mu);
      holder = goro::this_goroutine::id();
      release.recv();  // "I/O" under the lock: parked while others wait
    });
    goro::sleep(5ms);
    for (int i = 0; i < 2; i++) wg.go([&] { std::lock_guard<goro::mutex> lk(mu); });
    ASSERT_TRUE(reports.wait());
    release.close();
    wg.wait();
    auto r = reports.get().front();
    EXPECT_EQ(r.goroutine, holder);
    EXPECT_NE(r.text.find("holds sync.Mutex"), std::string::npos) << r.text;
    EXPECT_NE(r.text.find("while blocked in [chan receive]"), std::string::npos) << r.text;
    EXPECT_NE(r.text.find("2 goroutine(s) wait for it"), std::string::npos) << r.text;
    EXPECT_NE(r.text.find("misuse_test.cc"), std::string::npos) << "names the lock site: " << r.text;
  });
}

TEST(Misuse, PartialDeadlockCycleReportedWhileTheRestRuns) {
  fast_monitor();
  report_catcher reports("partial-deadlock");
  std::atomic<long> ticks{0};
  goro::run([&] {
    // Leaked on purpose: the two goroutines stay deadlocked and run() abandons them.
    auto* a = new goro::mutex;
    auto* b = new goro::mutex;
    auto both_hold = goro::make_chan<int>(2);
    auto go_on = goro::make_chan<>();
    goro::go([=] {
      a->lock();
      both_hold.send(1);
      go_on.recv();
      b->lock();  // waits for the other goroutine
    });
    goro::go([=] {
      b->lock();
      both_hold.send(2);
      go_on.recv();
      a->lock();
    });
    both_hold.recv();
    both_hold.recv();
    go_on.close();
    // The rest of the program keeps running.
    goro::go([&] {
      for (int i = 0; i < 50; i++, ticks++) goro::sleep(1ms);
    });
    ASSERT_TRUE(reports.wait());
    auto r = reports.get().front();
    EXPECT_NE(r.text.find("partial deadlock: 2 goroutines"), std::string::npos) << r.text;
    EXPECT_NE(r.text.find("waits for sync.Mutex"), std::string::npos) << r.text;
    EXPECT_NE(r.text.find("held by goroutine"), std::string::npos) << r.text;
    EXPECT_NE(r.text.find("misuse_test.cc"), std::string::npos) << r.text;
    while (ticks.load() < 50) goro::sleep(1ms);
  });
  EXPECT_EQ(reports.get().size(), 1u) << "a cycle is reported once";
}

TEST(Misuse, GoroutineIgnoringItsContextCancellation) {
  fast_monitor();
  report_catcher reports("context-ignored");
  goro::run([&] {
    auto [ctx, cancel] = goro::with_cancel(goro::background());
    auto stop = goro::make_chan<>();
    std::atomic<std::uint64_t> id{0};
    goro::go(ctx, [&, stop] {
      id = goro::this_goroutine::id();
      stop.recv();  // never looks at ctx.done()
    });
    // A well-behaved one must not be reported.
    goro::go(ctx, [ctx = ctx] { ctx.done().recv(); });  // init-capture: clang 14 cannot capture a binding
    goro::sleep(5ms);
    cancel();
    ASSERT_TRUE(reports.wait());
    stop.close();
    auto all = reports.get();
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0].goroutine, id.load());
    EXPECT_NE(all[0].text.find("after its context was cancelled"), std::string::npos) << all[0].text;
    EXPECT_NE(all[0].text.find("context.Background.WithCancel: context canceled"), std::string::npos) << all[0].text;
    EXPECT_NE(all[0].text.find("parked in [chan receive]"), std::string::npos) << all[0].text;
    goro::sleep(5ms);
  });
}

TEST(Misuse, LostCancel) {
  report_catcher reports("lostcancel");
  goro::run([&] {
    {
      auto [ctx, cancel] = goro::with_cancel(goro::background());
      (void)ctx;
    }  // dropped without calling: reported
    {
      auto [ctx, cancel] = goro::with_timeout(goro::background(), 1h);
      auto copy = cancel;
      copy();  // called through a copy: fine
    }
    auto all = reports.get();
    ASSERT_EQ(all.size(), 1u);
    EXPECT_NE(all[0].text.find("misuse_test.cc"), std::string::npos) << all[0].text;
    EXPECT_NE(all[0].text.find("was dropped without being called"), std::string::npos) << all[0].text;
  });
}

TEST(Misuse, StackCloseToOverflow) {
  fast_monitor();
  setenv("GORO_STACKWARN_PCT", "50", 1);
  report_catcher reports("stack-high-water");
  goro::options opts;
  opts.stack_size = 64 * 1024;
  goro::run(opts, [&] {
    auto release = goro::make_chan<>();
    goro::wait_group wg;
    wg.go([&] {
      // ~40 KiB of frame, then park at that depth. The array's address escapes into empty
      // asm statements around the park, so the whole array must be in the frame there:
      // with only volatile accesses, clang keeps just the elements accessed (16 bytes).
      volatile char big[40 * 1024];
      big[0] = 1;
      big[sizeof big - 1] = big[0];
      asm volatile("" : : "r"(big) : "memory");
      release.recv();
      asm volatile("" : : "r"(big) : "memory");  // also: no tail call
    });
    ASSERT_TRUE(reports.wait());
    release.close();
    wg.wait();
    auto r = reports.get().front();
    EXPECT_NE(r.text.find("of its 65536-byte stack"), std::string::npos) << r.text;
  });
  unsetenv("GORO_STACKWARN_PCT");
}
