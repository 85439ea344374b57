// The misuse detectors of the diagnostics monitor (src/diag/monitor.cc): each test provokes
// one of the guide's bug patterns and asserts goro's report.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "goro/goro.h"
#include "support/report_catcher.h"
#include "goro/mutex.h"
#include "goro/rw_mutex.h"
#include "runtime/park.h"

using namespace std::chrono_literals;

namespace {

using goro_test::report_catcher;

// The sites of a report with this role, in order.
std::vector<goro::report_site> sites(const goro::report& r, const std::string& role) {
  std::vector<goro::report_site> out;
  for (const auto& s : r.sites) {
    if (s.role == role) out.push_back(s);
  }
  return out;
}

// A site in this file at this line.
bool here(const goro::report_site& s, unsigned line) {
  return s.file.find("misuse_test.cc") != std::string::npos && s.line == line && !s.function.empty();
}

std::int64_t value(const goro::report& r, const std::string& name) {
  for (const auto& v : r.values) {
    if (v.name == name) return v.value;
  }
  return -1;
}

std::string addr(const void* p) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%p", p);
  return buf;
}

// The tests below end every goroutine they start, deadlocked ones included (a lock may be
// unlocked by another goroutine than its holder, as in Go): a goroutine abandoned by run()
// while parked on a goro lock would leave its waiter record in the runtime's semaphore table.

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
    std::atomic<bool> both_wait{false};
    goro::wait_group wg;
    unsigned lock_line = 0;
    wg.go([&] {
      lock_line = __LINE__, mu.lock();
      holder = goro::this_goroutine::id();
      // Not blocked until both waiters are parked, so that the report counts both.
      while (!both_wait.load()) goro::yield();
      release.recv();  // "I/O" under the lock: parked while others wait
      mu.unlock();
    });
    goro::sleep(5ms);
    for (int i = 0; i < 2; i++) wg.go([&] { std::lock_guard<goro::mutex> lk(mu); });
    for (int parked = 0; parked < 2;) {
      goro::sleep(1ms);
      parked = 0;
      for (const auto& g : goro::goroutines()) parked += g.wait_reason == "sync.Mutex.Lock";
    }
    both_wait = true;
    ASSERT_TRUE(reports.wait());
    release.close();
    wg.wait();
    auto r = reports.get().front();
    EXPECT_EQ(r.goroutine, holder);
    EXPECT_NE(r.text.find("holds sync.Mutex " + addr(&mu) + " (locked at "), std::string::npos) << r.text;
    EXPECT_NE(r.text.find("while blocked in [chan receive]"), std::string::npos) << r.text;
    EXPECT_NE(r.text.find("2 goroutine(s) wait for it"), std::string::npos) << r.text;
    EXPECT_NE(r.text.find("misuse_test.cc:" + std::to_string(lock_line) + ")"), std::string::npos)
        << "names the lock site: " << r.text;
    // The same as data.
    ASSERT_EQ(r.goroutines.size(), 3u);
    EXPECT_EQ(r.goroutines[0], holder);
    ASSERT_EQ(r.objects.size(), 1u);
    EXPECT_EQ(r.objects[0].type, "sync.Mutex");
    EXPECT_EQ(r.objects[0].address, &mu);
    auto locked = sites(r, "locked");
    ASSERT_EQ(locked.size(), 1u);
    EXPECT_TRUE(here(locked[0], lock_line)) << locked[0].file << ":" << locked[0].line;
    EXPECT_EQ(locked[0].goroutine, holder);
    EXPECT_NE(locked[0].pc, nullptr);
    auto created = sites(r, "created");
    ASSERT_EQ(created.size(), 1u);
    EXPECT_NE(created[0].file.find("misuse_test.cc"), std::string::npos) << created[0].file;
    EXPECT_GE(value(r, "blocked_ms"), 50);
  });
}

// A goroutine holds a mutex and sleeps `each` at a time, again and again, until a report
// has come; another goroutine waits for the mutex. check(report, holder, mutex) then runs on
// goroutine 1.
template <class Check>
void holder_sleeps_under_lock(std::chrono::milliseconds each, report_catcher& reports, Check check) {
  goro::run([&] {
    goro::mutex mu;
    std::atomic<bool> done{false};
    auto locked = goro::make_chan<std::uint64_t>(1);
    goro::wait_group wg;
    wg.go([&] {
      std::lock_guard<goro::mutex> lk(mu);
      locked.send(goro::this_goroutine::id());
      while (!done.load()) goro::sleep(each);
    });
    auto holder = locked.recv();
    wg.go([&] { std::lock_guard<goro::mutex> lk(mu); });
    bool got = reports.wait();
    done = true;
    wg.wait();
    ASSERT_TRUE(got);
    check(reports.get().front(), *holder, mu);
  });
}

// The holder sleeps with the lock held (the guide's "sleep under a lock"). Each sleep is long
// enough for the monitor to see it; the holder sleeps again until the report has come.
TEST(Misuse, MutexHeldWhileItsHolderSleeps) {
  fast_monitor();
  report_catcher reports("lock-held-while-blocked");
  holder_sleeps_under_lock(300ms, reports, [](const goro::report& r, std::uint64_t holder, const goro::mutex& mu) {
    EXPECT_EQ(r.goroutine, holder);
    EXPECT_NE(r.text.find("goroutine " + std::to_string(holder) + " holds sync.Mutex " + addr(&mu)),
              std::string::npos)
        << r.text;
    EXPECT_NE(r.text.find("while blocked in [sleep] for "), std::string::npos) << r.text;
    EXPECT_NE(r.text.find("1 goroutine(s) wait for it"), std::string::npos) << r.text;
    ASSERT_EQ(r.objects.size(), 1u);
    EXPECT_EQ(r.objects[0].address, &mu);
  });
}

// Short sleeps, each only just over the threshold (50 ms): the monitor (every 10 ms) sees at
// most one pass per sleep in which the holder has been blocked long enough. The report must
// still come: what a second pass confirms is that the waiter waits for this holder, not that
// the holder is still in the same sleep.
TEST(Misuse, MutexHeldAcrossManyShortSleeps) {
  fast_monitor();
  report_catcher reports("lock-held-while-blocked");
  holder_sleeps_under_lock(55ms, reports, [](const goro::report& r, std::uint64_t holder, const goro::mutex&) {
    EXPECT_EQ(r.goroutine, holder);
  });
}

// The holder is inside goro::blocking() (a blocking system call under the lock). Options
// instead of the environment this time.
TEST(Misuse, MutexHeldWhileItsHolderIsInABlockingCall) {
  report_catcher reports("lock-held-while-blocked");
  goro::options o;
  o.monitor_interval = 10ms;
  o.lock_held_threshold = 50ms;
  goro::run(o, [&] {
    goro::mutex mu;
    std::atomic<bool> release{false};
    auto locked = goro::make_chan<std::uint64_t>(1);
    goro::wait_group wg;
    wg.go([&] {
      std::lock_guard<goro::mutex> lk(mu);
      locked.send(goro::this_goroutine::id());
      goro::blocking([&] {
        while (!release.load()) std::this_thread::sleep_for(1ms);
      });
    });
    auto holder = locked.recv();
    wg.go([&] { std::lock_guard<goro::mutex> lk(mu); });
    bool got = reports.wait();
    release = true;
    wg.wait();
    ASSERT_TRUE(got);
    auto r = reports.get().front();
    EXPECT_EQ(r.goroutine, *holder);
    EXPECT_NE(r.text.find("holds sync.Mutex " + addr(&mu)), std::string::npos) << r.text;
    EXPECT_NE(r.text.find("while blocked in a blocking call for "), std::string::npos) << r.text;
    EXPECT_NE(r.text.find("1 goroutine(s) wait for it"), std::string::npos) << r.text;
  });
}

TEST(Misuse, PartialDeadlockCycleReportedWhileTheRestRuns) {
  fast_monitor();
  report_catcher reports("partial-deadlock");
  std::atomic<long> ticks{0};
  goro::run([&] {
    goro::mutex a, b;
    auto both_hold = goro::make_chan<int>(2);
    auto go_on = goro::make_chan<>();
    std::uint64_t id_a = 0, id_b = 0;  // who holds a, b
    unsigned line_a = 0, line_b = 0;   // where they took them
    goro::wait_group wg;
    wg.go([&] {
      line_a = __LINE__, a.lock();
      id_a = goro::this_goroutine::id();
      both_hold.send(1);
      go_on.recv();
      b.lock();  // waits for the other goroutine
      b.unlock();
      // a was unlocked by the test to end the deadlock.
    });
    wg.go([&] {
      line_b = __LINE__, b.lock();
      id_b = goro::this_goroutine::id();
      both_hold.send(2);
      go_on.recv();
      a.lock();
      a.unlock();
      b.unlock();
    });
    both_hold.recv();
    both_hold.recv();
    go_on.close();
    // The rest of the program keeps running.
    wg.go([&] {
      for (int i = 0; i < 50; i++, ticks++) goro::sleep(1ms);
    });
    bool got = reports.wait();
    while (ticks.load() < 50) goro::sleep(1ms);
    a.unlock();  // for its holder, which waits for b: the deadlock ends
    wg.wait();
    ASSERT_TRUE(got);
    auto r = reports.get().front();
    EXPECT_NE(r.text.find("partial deadlock: 2 goroutines"), std::string::npos) << r.text;
    // Both goroutines, both mutexes, both acquire sites: the holder of a waits for b, whose
    // holder waits for a.
    const std::string a_waits = "goroutine " + std::to_string(id_a) + " waits for sync.Mutex " + addr(&b) +
                                " held by goroutine " + std::to_string(id_b) + " (locked at ";
    const std::string b_waits = "goroutine " + std::to_string(id_b) + " waits for sync.Mutex " + addr(&a) +
                                " held by goroutine " + std::to_string(id_a) + " (locked at ";
    for (const auto& [line_start, lock_line] : {std::pair{a_waits, line_b}, std::pair{b_waits, line_a}}) {
      auto at = r.text.find(line_start);
      ASSERT_NE(at, std::string::npos) << line_start << "\n" << r.text;
      auto eol = r.text.find('\n', at);
      std::string line = r.text.substr(at, eol == std::string::npos ? std::string::npos : eol - at);
      EXPECT_NE(line.find("misuse_test.cc:" + std::to_string(lock_line) + ")); created at "), std::string::npos)
          << line;
    }
    // The same as data: goroutine i waits for objects[i], held by goroutine i+1 (cyclic).
    ASSERT_EQ(r.goroutines.size(), 2u);
    EXPECT_EQ((std::set<std::uint64_t>(r.goroutines.begin(), r.goroutines.end())), (std::set<std::uint64_t>{id_a, id_b}));
    EXPECT_EQ(r.goroutine, r.goroutines[0]);
    ASSERT_EQ(r.objects.size(), 2u);
    for (std::size_t i = 0; i < 2; i++) {
      EXPECT_EQ(r.objects[i].type, "sync.Mutex");
      EXPECT_EQ(r.objects[i].address, r.goroutines[i] == id_a ? static_cast<const void*>(&b) : &a);
    }
    auto locked = sites(r, "locked");
    ASSERT_EQ(locked.size(), 2u);
    for (std::size_t i = 0; i < 2; i++) {
      const std::uint64_t holder = r.goroutines[(i + 1) % 2];
      EXPECT_EQ(locked[i].goroutine, holder);
      EXPECT_TRUE(here(locked[i], holder == id_a ? line_a : line_b)) << locked[i].file << ":" << locked[i].line;
    }
    EXPECT_EQ(sites(r, "created").size(), 2u);
  });
  EXPECT_EQ(reports.get().size(), 1u) << "a cycle is reported once";
}

// A writer waits for a reader to leave an rw_mutex while the reader waits for a mutex the
// writer holds: the cycle goes through a read lock, which only the readers' own records
// (src/diag/rw_readers.h) can show.
TEST(Misuse, PartialDeadlockThroughAReadLock) {
  fast_monitor();
  report_catcher reports("partial-deadlock");
  goro::run([&] {
    goro::rw_mutex rw;
    goro::mutex mu;
    bool recorded = false;
    rw.lock_shared();
    for (const auto& rl : goro::detail::current_g()->read_locks) recorded = recorded || rl.rw.get() == &rw;
    rw.unlock_shared();
    if (!recorded) GTEST_SKIP() << "rw_mutex does not record its readers yet (diag/rw_readers.h hooks)";
    auto both_hold = goro::make_chan<int>(2);
    auto go_on = goro::make_chan<>();
    std::uint64_t reader = 0, writer = 0;
    unsigned line_r = 0, line_m = 0;
    goro::wait_group wg;
    wg.go([&] {
      line_r = __LINE__, rw.lock_shared();
      reader = goro::this_goroutine::id();
      both_hold.send(1);
      go_on.recv();
      mu.lock();  // held by the writer
      mu.unlock();
      rw.unlock_shared();
    });
    wg.go([&] {
      line_m = __LINE__, mu.lock();
      writer = goro::this_goroutine::id();
      both_hold.send(2);
      go_on.recv();
      rw.lock();  // waits for the reader to leave
      rw.unlock();
      // mu was unlocked by the test to end the deadlock.
    });
    both_hold.recv();
    both_hold.recv();
    go_on.close();
    bool got = reports.wait();
    mu.unlock();  // for the writer: the reader gets it, leaves, and lets the writer in
    wg.wait();
    ASSERT_TRUE(got);
    auto r = reports.get().front();
    EXPECT_NE(r.text.find("goroutine " + std::to_string(writer) + " waits for sync.RWMutex " + addr(&rw) +
                          " held for reading by goroutine " + std::to_string(reader) + " (read-locked at "),
              std::string::npos)
        << r.text;
    EXPECT_NE(r.text.find("misuse_test.cc:" + std::to_string(line_r) + ")"), std::string::npos) << r.text;
    EXPECT_NE(r.text.find("goroutine " + std::to_string(reader) + " waits for sync.Mutex " + addr(&mu) +
                          " held by goroutine " + std::to_string(writer) + " (locked at "),
              std::string::npos)
        << r.text;
    EXPECT_NE(r.text.find("misuse_test.cc:" + std::to_string(line_m) + ")"), std::string::npos) << r.text;
    auto read_locked = sites(r, "read-locked");
    ASSERT_EQ(read_locked.size(), 1u);
    EXPECT_EQ(read_locked[0].goroutine, reader);
    EXPECT_TRUE(here(read_locked[0], line_r)) << read_locked[0].file << ":" << read_locked[0].line;
  });
}

// A reader holding an rw_mutex while it sleeps keeps a writer out (and, behind the writer,
// every new reader).
TEST(Misuse, ReadLockHeldWhileItsHolderSleeps) {
  fast_monitor();
  report_catcher reports("lock-held-while-blocked");
  goro::run([&] {
    goro::rw_mutex rw;
    bool recorded = false;
    rw.lock_shared();
    for (const auto& rl : goro::detail::current_g()->read_locks) recorded = recorded || rl.rw.get() == &rw;
    rw.unlock_shared();
    if (!recorded) GTEST_SKIP() << "rw_mutex does not record its readers yet (diag/rw_readers.h hooks)";
    auto ids = goro::make_chan<std::uint64_t>(2);
    std::atomic<bool> done{false};
    unsigned line = 0;
    goro::wait_group wg;
    wg.go([&] {
      line = __LINE__, rw.lock_shared();
      ids.send(goro::this_goroutine::id());
      while (!done.load()) goro::sleep(300ms);
      rw.unlock_shared();
    });
    auto reader = ids.recv();
    wg.go([&] {
      ids.send(goro::this_goroutine::id());
      rw.lock();
      rw.unlock();
    });
    auto writer = ids.recv();
    bool got = reports.wait();
    done = true;
    wg.wait();
    ASSERT_TRUE(got);
    auto r = reports.get().front();
    EXPECT_EQ(r.goroutine, *reader);
    EXPECT_NE(r.text.find("goroutine " + std::to_string(*reader) + " holds sync.RWMutex " + addr(&rw) +
                          " for reading (read-locked at "),
              std::string::npos)
        << r.text;
    EXPECT_NE(r.text.find("misuse_test.cc:" + std::to_string(line) + ")) while blocked in [sleep] for "),
              std::string::npos)
        << r.text;
    EXPECT_NE(r.text.find("1 goroutine(s) wait for it: " + std::to_string(*writer) + ";"), std::string::npos)
        << r.text;
    EXPECT_EQ(sites(r, "read-locked").size(), 1u);
  });
}

// options::detect_partial_deadlock < 0 turns the report off. A lock held while blocked, set
// up after the cycle formed and reported in the same pass as the cycle would be, shows that
// the monitor looked.
TEST(Misuse, PartialDeadlockReportCanBeTurnedOff) {
  report_catcher reports("");
  goro::options o;
  o.monitor_interval = 10ms;
  o.lock_held_threshold = 150ms;  // more than the 100 ms a cycle's goroutines must wait
  o.detect_partial_deadlock = -1;
  goro::run(o, [&] {
    goro::mutex a, b, c;
    std::atomic<bool> done{false};
    auto held = goro::make_chan<int>(3);
    auto go_on = goro::make_chan<>();
    goro::wait_group wg;
    wg.go([&] {
      a.lock();
      held.send(1);
      go_on.recv();
      b.lock();
      b.unlock();
    });
    wg.go([&] {
      b.lock();
      held.send(2);
      go_on.recv();
      a.lock();
      a.unlock();
      b.unlock();
    });
    held.recv();
    held.recv();
    go_on.close();
    // Only now the lock held while blocked: its report comes at least 150 ms after the
    // cycle's goroutines parked, so that pass saw the cycle too.
    wg.go([&] {
      std::lock_guard<goro::mutex> lk(c);
      held.send(3);
      while (!done.load()) goro::sleep(600ms);
    });
    held.recv();
    wg.go([&] { std::lock_guard<goro::mutex> lk(c); });
    auto end = std::chrono::steady_clock::now() + 10s;
    while (reports.get("lock-held-while-blocked").empty() && std::chrono::steady_clock::now() < end) {
      goro::sleep(5ms);
    }
    done = true;
    a.unlock();  // ends the cycle
    wg.wait();
    ASSERT_FALSE(reports.get("lock-held-while-blocked").empty());
    EXPECT_TRUE(reports.get("partial-deadlock").empty()) << reports.get("partial-deadlock").front().text;
  });
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
    EXPECT_EQ(all[0].goroutines, std::vector<std::uint64_t>{id.load()});
    ASSERT_EQ(all[0].objects.size(), 1u);
    EXPECT_EQ(all[0].objects[0].type, "context.Context");
    EXPECT_EQ(all[0].objects[0].address, ctx.impl().get());
    auto created = sites(all[0], "created");
    ASSERT_EQ(created.size(), 1u);
    EXPECT_NE(created[0].file.find("misuse_test.cc"), std::string::npos);
    EXPECT_GE(value(all[0], "since_cancel_ms"), 50);
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
    auto where = sites(all[0], "context");
    ASSERT_EQ(where.size(), 1u);
    EXPECT_NE(where[0].file.find("misuse_test.cc"), std::string::npos);
    EXPECT_NE(all[0].text.find(":" + std::to_string(where[0].line) + " (in "), std::string::npos) << all[0].text;
    EXPECT_FALSE(where[0].function.empty());
    // Named as in the structured site, Go's way: no return type or "[with ...]".
    EXPECT_NE(all[0].text.find(" (in " + where[0].function + ") "), std::string::npos) << all[0].text;
    EXPECT_EQ(all[0].text.find("[with"), std::string::npos) << all[0].text;
  });
}

TEST(Misuse, LostCancelReportCanBeTurnedOff) {
  report_catcher reports("lostcancel");
  goro::options o;
  o.detect_lost_cancel = -1;
  goro::run(o, [&] {
    auto [ctx, cancel] = goro::with_cancel(goro::background());
    (void)ctx;
  });
  EXPECT_TRUE(reports.get().empty());
  ::setenv("GORO_LOSTCANCEL", "0", 1);
  goro::run([&] {
    auto [ctx, cancel] = goro::with_cancel(goro::background());
    (void)ctx;
  });
  ::unsetenv("GORO_LOSTCANCEL");
  EXPECT_TRUE(reports.get().empty());
  goro::run([&] {
    auto [ctx, cancel] = goro::with_cancel(goro::background());
    (void)ctx;
  });
  EXPECT_EQ(reports.get().size(), 1u) << "on again by default";
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
    EXPECT_EQ(value(r, "stack_size"), 65536);
    EXPECT_GE(value(r, "stack_used"), 40 * 1024);
    EXPECT_EQ(r.goroutines.size(), 1u);
    EXPECT_EQ(sites(r, "created").size(), 1u);
  });
  unsetenv("GORO_STACKWARN_PCT");
}

// The monitor's settings: an option overrides the environment, a malformed environment value
// is an error naming the variable.
TEST(Misuse, MonitorSettings) {
  for (const char* name : {"GORO_DIAG_INTERVAL_MS", "GORO_LOCKHOLD_MS", "GORO_CTXIGNORE_MS", "GORO_STACKWARN_PCT",
                           "GORO_LEAK_REPORT_S", "GORO_LEAK_MIN_S", "GORO_SIGQUIT", "GORO_DUMP_STACK",
                           "GORO_PARTIAL_DEADLOCK", "GORO_LOSTCANCEL", "GORO_CHANLEAK"}) {
    std::string saved = std::getenv(name) != nullptr ? std::getenv(name) : "";
    ::setenv(name, "12abc", 1);
    try {
      goro::run([] {});
      ADD_FAILURE() << name << " accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
    }
    if (saved.empty()) {
      ::unsetenv(name);
    } else {
      ::setenv(name, saved.c_str(), 1);
    }
  }
  ::setenv("GORO_STACKWARN_PCT", "150", 1);
  EXPECT_THROW(goro::run([] {}), std::invalid_argument);
  goro::options o;
  o.stack_warning_percent = 50;  // the option wins: the environment is not read
  EXPECT_NO_THROW(goro::run(o, [] {}));
  ::unsetenv("GORO_STACKWARN_PCT");
  o.stack_warning_percent = 101;
  EXPECT_THROW(goro::run(o, [] {}), std::invalid_argument);
  ::setenv("GORO_LOCKHOLD_MS", "soon", 1);
  goro::options lockhold;
  lockhold.lock_held_threshold = std::chrono::milliseconds(-1);
  EXPECT_NO_THROW(goro::run(lockhold, [] {}));
  ::setenv("GORO_LOCKHOLD_MS", "50", 1);  // fast_monitor()'s
  ::setenv("GORO_LEAK_REPORT_S", "0.5", 1);  // seconds may have a fraction
  EXPECT_NO_THROW(goro::run([] {}));
  ::unsetenv("GORO_LEAK_REPORT_S");
}

// A goroutine that exits holding a read lock (another may release it: Go allows it) leaves
// its records on its g. The next goroutine on that g is not their reader: the records carry
// the id of the goroutine that wrote them (g::read_locks_of), readers skip other ids, and the
// new goroutine's first read lock clears them.
TEST(Misuse, ReadLockRecordsDoNotOutliveTheirGoroutine) {
  goro::options o;
  o.procs = 1;
  goro::run(o, [] {
    goro::rw_mutex rw;
    goro::detail::g* first = nullptr;
    goro::wait_group wg;
    wg.go([&] {
      rw.lock_shared();
      first = goro::detail::current_g();
    });
    wg.wait();
    wg.go([&] {
      goro::detail::g* gp = goro::detail::current_g();
      const std::uint64_t id = goro::this_goroutine::id();
      if (gp == first) {
        EXPECT_NE(gp->read_locks_of.get(), id) << "the records are the exited goroutine's";
      }
      goro::rw_mutex other;
      other.lock_shared();
      EXPECT_EQ(gp->read_locks_of.get(), id);
      int held = 0;
      for (const auto& rl : gp->read_locks) held += rl.rw.get() != nullptr ? 1 : 0;
      EXPECT_EQ(held, 1) << "only this goroutine's read lock is recorded";
      other.unlock_shared();
    });
    wg.wait();
    rw.unlock_shared();
  });
}
