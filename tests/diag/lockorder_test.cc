// The lock-order checker (GORO_LOCKORDER=1, options::lock_order; src/diag/lockorder.cc):
// an inversion is reported the first time the second order is taken, even though the two
// orders never run at the same time and nothing deadlocks.

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "diag/lockorder.h"
#include "goro/goro.h"
#include "support/report_catcher.h"
#include "support/goro_test.h"

namespace {

// Collects the lock-order reports; installed for the duration of a test.
struct report_catcher : goro_test::report_catcher {
  report_catcher() : goro_test::report_catcher("lock-order-inversion") {}
};

std::string addr(const void* p) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%p", p);
  return buf;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// Whether `line` contains the fragments in this order.
bool in_order(const std::string& line, std::initializer_list<std::string> fragments) {
  std::size_t at = 0;
  for (const std::string& f : fragments) {
    at = line.find(f, at);
    if (at == std::string::npos) return false;
    at += f.size();
  }
  return true;
}

// A site in a report is "function (path:line)".
std::string site(const char* function) { return std::string(function) + " ("; }
std::string file_line(int line) { return "lockorder_test.cc:" + std::to_string(line) + ")"; }

// The lock sites, recorded by the goroutines below for the expectations (atomics: nothing
// else orders the goroutine's store and the test's load for ThreadSanitizer).
std::atomic<int> g_ab_first{0}, g_ab_second{0}, g_ba_first{0}, g_ba_second{0};

[[gnu::noinline]] void lock_ab(goro::mutex& a, goro::mutex& b) {
  g_ab_first.store(__LINE__ + 1);
  a.lock();
  g_ab_second.store(__LINE__ + 1);
  b.lock();
  b.unlock();
  a.unlock();
}

[[gnu::noinline]] void lock_ba(goro::mutex& a, goro::mutex& b) {
  g_ba_first.store(__LINE__ + 1);
  b.lock();
  g_ba_second.store(__LINE__ + 1);
  a.lock();
  a.unlock();
  b.unlock();
}

// Runs fn as a goroutine and waits for it; returns its id.
template <class F>
std::uint64_t in_goroutine(F fn) {
  std::atomic<std::uint64_t> id{0};
  goro::wait_group wg;
  wg.go([&] {
    id = goro::this_goroutine::id();
    fn();
  });
  wg.wait();
  return id.load();
}

// The checker switched on through the environment, at 1, 2 and 4 processors.
class LockOrder : public goro_test::Procs {
 protected:
  void SetUp() override { setenv("GORO_LOCKORDER", "1", 1); }
  void TearDown() override { unsetenv("GORO_LOCKORDER"); }
};
GORO_INSTANTIATE_PROCS(LockOrder);

TEST_P(LockOrder, InversionAtDifferentTimesIsReportedOnceWithBothSites) {
  report_catcher reports;
  run([&] {
    goro::mutex a, b;
    std::uint64_t first = in_goroutine([&] { lock_ab(a, b); });
    EXPECT_TRUE(reports.get().empty()) << "one order alone is no inversion";
    // Later, another goroutine takes them the other way round: nothing deadlocks, as the
    // first goroutine is long gone, but the two could have.
    std::uint64_t second = in_goroutine([&] { lock_ba(a, b); });
    auto all = reports.get();
    ASSERT_EQ(all.size(), 1u);
    const goro::report& r = all[0];
    EXPECT_EQ(r.goroutine, second);
    auto ls = lines(r.text);
    ASSERT_EQ(ls.size(), 3u) << r.text;
    const std::string A = "sync.Mutex " + addr(&a), B = "sync.Mutex " + addr(&b);
    EXPECT_EQ(ls[0], "lock-order inversion (potential deadlock): cycle in the lock-order graph: " + B + " => " + A +
                         " => " + B);
    // This goroutine: holds b (taken at the first line of lock_ba), takes a.
    EXPECT_TRUE(in_order(ls[1], {"  goroutine " + std::to_string(second) + " locks " + A + " at ",
                                 site("lock_ba"), file_line(g_ba_second), " while holding " + B + " (locked at ",
                                 site("lock_ba"), file_line(g_ba_first) + ")"}))
        << ls[1];
    // The recorded opposite edge: the first goroutine held a and took b.
    EXPECT_TRUE(in_order(ls[2], {"  goroutine " + std::to_string(first) + " locked " + B + " at ",
                                 site("lock_ab"), file_line(g_ab_second), " while holding " + A + " (locked at ",
                                 site("lock_ab"), file_line(g_ab_first) + ")"}))
        << ls[2];
    // The same as data: edge i goes from objects[i] to objects[i + 1] (cyclic), taken by
    // goroutines[i] at its "lock" site while holding the first at its "held" site.
    EXPECT_EQ(r.goroutines, (std::vector<std::uint64_t>{second, first}));
    ASSERT_EQ(r.objects.size(), 2u);
    EXPECT_EQ(r.objects[0].address, &b);
    EXPECT_EQ(r.objects[1].address, &a);
    EXPECT_EQ(r.objects[0].type, "sync.Mutex");
    ASSERT_EQ(r.sites.size(), 4u);
    const struct {
      const char* role;
      std::uint64_t goroutine;
      const char* function;
      int line;
    } want[] = {{"lock", second, "lock_ba", g_ba_second},
                {"held", second, "lock_ba", g_ba_first},
                {"lock", first, "lock_ab", g_ab_second},
                {"held", first, "lock_ab", g_ab_first}};
    for (std::size_t i = 0; i < 4; i++) {
      EXPECT_EQ(r.sites[i].role, want[i].role);
      EXPECT_EQ(r.sites[i].goroutine, want[i].goroutine);
      EXPECT_NE(r.sites[i].function.find(want[i].function), std::string::npos) << r.sites[i].function;
      EXPECT_NE(r.sites[i].file.find("lockorder_test.cc"), std::string::npos) << r.sites[i].file;
      EXPECT_EQ(r.sites[i].line, static_cast<unsigned>(want[i].line));
    }

    // The same pair again, in either order and from new goroutines: no second report.
    in_goroutine([&] { lock_ba(a, b); });
    in_goroutine([&] { lock_ab(a, b); });
    EXPECT_EQ(reports.get().size(), 1u);
  });
}

TEST_P(LockOrder, ConsistentOrderIsNeverReported) {
  report_catcher reports;
  run([&] {
    goro::mutex a, b, c;
    goro::rw_mutex rw;
    goro::wait_group wg;
    for (int i = 0; i < 8; i++) {
      wg.go([&, i] {
        for (int n = 0; n < 50; n++) {
          // Always a before b before rw before c, some of them skipped.
          std::lock_guard<goro::mutex> la(a);
          if ((n + i) % 2 == 0) {
            std::lock_guard<goro::mutex> lb(b);
            std::shared_lock<goro::rw_mutex> lr(rw);
            std::lock_guard<goro::mutex> lc(c);
            goro::yield();
          } else {
            std::lock_guard<goro::mutex> lc(c);
          }
        }
      });
    }
    wg.wait();
    EXPECT_TRUE(reports.get().empty());
    // Four locks with edges between them, nothing held.
    EXPECT_EQ(goro::detail::lockorder_tracked(), 4u);
  });
}

TEST_P(LockOrder, ThreeMutexCycle) {
  report_catcher reports;
  run([&] {
    goro::mutex a, b, c;
    auto take = [](goro::mutex& x, goro::mutex& y) {
      std::lock_guard<goro::mutex> lx(x);
      std::lock_guard<goro::mutex> ly(y);
    };
    in_goroutine([&] { take(a, b); });
    in_goroutine([&] { take(b, c); });
    EXPECT_TRUE(reports.get().empty());
    std::uint64_t last = in_goroutine([&] { take(c, a); });
    auto all = reports.get();
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0].goroutine, last);
    auto ls = lines(all[0].text);
    ASSERT_EQ(ls.size(), 4u) << all[0].text;
    const std::string A = "sync.Mutex " + addr(&a), B = "sync.Mutex " + addr(&b), C = "sync.Mutex " + addr(&c);
    EXPECT_EQ(ls[0], "lock-order inversion (potential deadlock): cycle in the lock-order graph: " + C + " => " + A +
                         " => " + B + " => " + C);
    EXPECT_TRUE(in_order(ls[1], {" locks " + A, " while holding " + C})) << ls[1];
    EXPECT_TRUE(in_order(ls[2], {" locked " + B, " while holding " + A})) << ls[2];
    EXPECT_TRUE(in_order(ls[3], {" locked " + C, " while holding " + B})) << ls[3];
    for (std::size_t i = 1; i < ls.size(); i++) EXPECT_NE(ls[i].find("lockorder_test.cc:"), std::string::npos) << ls[i];
  });
}

TEST_P(LockOrder, RwMutexTakesPartOnBothSides) {
  report_catcher reports;
  run([&] {
    goro::rw_mutex rw;
    goro::mutex m;
    // Read side then the mutex, here...
    std::uint64_t reader = in_goroutine([&] {
      std::shared_lock<goro::rw_mutex> lr(rw);
      std::lock_guard<goro::mutex> lm(m);
    });
    // ...the mutex then the write side there.
    std::uint64_t writer = in_goroutine([&] {
      std::lock_guard<goro::mutex> lm(m);
      std::lock_guard<goro::rw_mutex> lw(rw);
    });
    auto all = reports.get();
    ASSERT_EQ(all.size(), 1u);
    auto ls = lines(all[0].text);
    ASSERT_EQ(ls.size(), 3u) << all[0].text;
    const std::string R = "sync.RWMutex " + addr(&rw), M = "sync.Mutex " + addr(&m);
    EXPECT_EQ(ls[0], "lock-order inversion (potential deadlock): cycle in the lock-order graph: " + M + " => " + R +
                         " => " + M);
    EXPECT_TRUE(in_order(ls[1], {"goroutine " + std::to_string(writer) + " locks " + R, "while holding " + M + " (locked at"}))
        << ls[1];
    EXPECT_TRUE(
        in_order(ls[2], {"goroutine " + std::to_string(reader) + " locked " + M, "while holding " + R + " (read-locked at"}))
        << ls[2];

    // Two read locks in opposite orders deadlock too once writers wait on both (writer
    // preference), so they are an inversion as well.
    goro::rw_mutex r1, r2;
    in_goroutine([&] {
      std::shared_lock<goro::rw_mutex> l1(r1);
      std::shared_lock<goro::rw_mutex> l2(r2);
    });
    in_goroutine([&] {
      std::shared_lock<goro::rw_mutex> l2(r2);
      std::shared_lock<goro::rw_mutex> l1(r1);
    });
    all = reports.get();
    ASSERT_EQ(all.size(), 2u);
    EXPECT_NE(all[1].text.find(" read-locks sync.RWMutex " + addr(&r1)), std::string::npos) << all[1].text;
    EXPECT_NE(all[1].text.find("(read-locked at"), std::string::npos) << all[1].text;
  });
}

TEST_P(LockOrder, TryLockMakesNoEdgeToTheTriedLock) {
  report_catcher reports;
  run([&] {
    goro::mutex a, b;
    goro::rw_mutex rw;
    // a held, b and rw try-locked: a try_lock cannot wait, so no a => b or a => rw edge...
    in_goroutine([&] {
      std::lock_guard<goro::mutex> la(a);
      ASSERT_TRUE(b.try_lock());
      b.unlock();
      ASSERT_TRUE(rw.try_lock());
      rw.unlock();
      ASSERT_TRUE(rw.try_lock_shared());
      rw.unlock_shared();
    });
    // ...and the opposite orders with blocking locks are no inversion.
    in_goroutine([&] {
      std::lock_guard<goro::mutex> lb(b);
      std::lock_guard<goro::mutex> la(a);
    });
    in_goroutine([&] {
      std::lock_guard<goro::rw_mutex> lr(rw);
      std::lock_guard<goro::mutex> la(a);
    });
    EXPECT_TRUE(reports.get().empty());

    // But a try-locked mutex is held: what is locked under it is ordered after it.
    goro::mutex c, d;
    in_goroutine([&] {
      ASSERT_TRUE(c.try_lock());
      d.lock();
      d.unlock();
      c.unlock();
    });
    in_goroutine([&] {
      std::lock_guard<goro::mutex> ld(d);
      std::lock_guard<goro::mutex> lc(c);
    });
    auto all = reports.get();
    ASSERT_EQ(all.size(), 1u);
    EXPECT_NE(all[0].text.find("sync.Mutex " + addr(&c) + " => sync.Mutex " + addr(&d)), std::string::npos)
        << all[0].text;
  });
}

TEST_P(LockOrder, DestroyedMutexLeavesTheGraph) {
  report_catcher reports;
  run([&] {
    // std::optional reuses its storage: the new mutexes have the old addresses.
    std::optional<goro::mutex> a, b;
    std::optional<goro::rw_mutex> rw;
    a.emplace();
    b.emplace();
    rw.emplace();
    const void* old_a = &*a;
    in_goroutine([&] {
      lock_ab(*a, *b);
      std::lock_guard<goro::mutex> la(*a);
      std::lock_guard<goro::rw_mutex> lr(*rw);
    });
    EXPECT_EQ(goro::detail::lockorder_tracked(), 3u);
    a.reset();
    b.reset();
    rw.reset();
    EXPECT_EQ(goro::detail::lockorder_tracked(), 0u) << "destroyed locks leave the graph";
    a.emplace();
    b.emplace();
    rw.emplace();
    ASSERT_EQ(&*a, old_a);
    // New mutexes at the same addresses, taken in the other order: no false report.
    in_goroutine([&] {
      lock_ba(*a, *b);
      std::lock_guard<goro::rw_mutex> lr(*rw);
      std::lock_guard<goro::mutex> la(*a);
    });
    EXPECT_TRUE(reports.get().empty());
  });
}

TEST_P(LockOrder, UnlockByAnotherGoroutineEndsTheHolding) {
  report_catcher reports;
  run([&] {
    goro::mutex a, b;
    goro::rw_mutex rw;
    auto locked = goro::make_chan<int>();
    auto unlocked = goro::make_chan<int>();
    goro::wait_group wg;
    wg.go([&] {
      a.lock();
      rw.lock_shared();
      locked.send(1);
      unlocked.recv();  // another goroutine released both
      // So this is not "b under a" (nor under rw).
      std::lock_guard<goro::mutex> lb(b);
    });
    wg.go([&] {
      locked.recv();
      a.unlock();
      rw.unlock_shared();
      unlocked.send(1);
    });
    wg.wait();
    // Nothing held; two locks with the one edge a => rw (both taken by the first goroutine).
    EXPECT_EQ(goro::detail::lockorder_tracked(), 2u);
    in_goroutine([&] {
      std::lock_guard<goro::mutex> lb(b);
      std::lock_guard<goro::mutex> la(a);
      std::lock_guard<goro::rw_mutex> lr(rw);
    });
    EXPECT_TRUE(reports.get().empty());
  });
}

TEST_P(LockOrder, CondWaitRelockHoldsTheMutexAgain) {
  report_catcher reports;
  run([&] {
    goro::mutex mu, x;
    goro::cond cv(mu);
    bool ready = false;
    goro::wait_group wg;
    wg.go([&] {
      std::unique_lock<goro::mutex> lk(mu);
      while (!ready) cv.wait();  // unlocks mu, then re-locks it
      std::lock_guard<goro::mutex> lx(x);  // under the re-locked mu: mu => x
    });
    goro::sleep(std::chrono::milliseconds(1));
    {
      std::lock_guard<goro::mutex> lk(mu);
      ready = true;
    }
    cv.broadcast();
    wg.wait();
    in_goroutine([&] {
      std::lock_guard<goro::mutex> lx(x);
      std::lock_guard<goro::mutex> lk(mu);
    });
    EXPECT_EQ(reports.get().size(), 1u);
  });
}

// --- switching the checker on and off -----------------------------------------------------

void invert(goro::mutex& a, goro::mutex& b) {
  in_goroutine([&] { lock_ab(a, b); });
  in_goroutine([&] { lock_ba(a, b); });
}

TEST(LockOrderMode, OffByDefaultNoReportNoTracking) {
  unsetenv("GORO_LOCKORDER");
  report_catcher reports;
  goro::run([&] {
    goro::mutex a, b;
    in_goroutine([&] {
      std::lock_guard<goro::mutex> la(a);
      EXPECT_EQ(goro::detail::lockorder_tracked(), 0u);
    });
    invert(a, b);
    EXPECT_EQ(goro::detail::lockorder_tracked(), 0u);
  });
  EXPECT_TRUE(reports.get().empty());
}

TEST(LockOrderMode, OptionOverridesTheEnvironment) {
  report_catcher reports;
  setenv("GORO_LOCKORDER", "1", 1);
  goro::options off;
  off.lock_order = -1;
  goro::run(off, [&] {
    goro::mutex a, b;
    invert(a, b);
    EXPECT_EQ(goro::detail::lockorder_tracked(), 0u);
  });
  unsetenv("GORO_LOCKORDER");
  EXPECT_TRUE(reports.get().empty());

  goro::options on;
  on.lock_order = 1;
  goro::run(on, [&] {
    goro::mutex a, b;
    invert(a, b);
  });
  EXPECT_EQ(reports.get().size(), 1u);
  EXPECT_EQ(goro::detail::lockorder_tracked(), 0u) << "run() clears the checker when it returns";
}

TEST(LockOrderMode, BadEnvironmentValue) {
  setenv("GORO_LOCKORDER", "maybe", 1);
  EXPECT_THROW(goro::run([] {}), std::invalid_argument);
  unsetenv("GORO_LOCKORDER");
}

}  // namespace
