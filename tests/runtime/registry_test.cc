// goro::goroutines(): the consistent snapshot behind dumps and leak checks.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "goro/goro.h"
#include "park_test_util.h"
#include "support/goro_test.h"

namespace {

using goro::goroutine_info;
using goro::goroutine_state;
using goro_test::run_checked;
using rt_test::countdown;
using rt_test::event;
using namespace std::chrono_literals;
using clk = std::chrono::steady_clock;

const goroutine_info* find(const std::vector<goroutine_info>& all, std::uint64_t id) {
  for (const auto& info : all) {
    if (info.id == id) return &info;
  }
  return nullptr;
}

bool ends_with(const char* s, const char* suffix) {
  if (s == nullptr) return false;
  std::size_t n = std::strlen(s), k = std::strlen(suffix);
  return n >= k && std::strcmp(s + n - k, suffix) == 0;
}

TEST(Registry, SnapshotShowsStatesReasonsAndCreationSites) {
  run_checked(1, [&] {
    const auto before = clk::now();
    std::atomic<bool> stop{false}, in_blocking{false};
    std::atomic<std::uint64_t> sleeper_id{0}, blocker_id{0}, child_id{0}, grandchild_id{0};
    event grandchild_release;
    countdown done(5);  // sleeper, blocker, child, grandchild, and the runnable one below

    // The go() calls share a line with __LINE__ (clang-format off).
    // clang-format off
    const unsigned sleeper_line = __LINE__; goro::go([&] {
      sleeper_id = goro::this_goroutine::id();
      while (!stop.load()) goro::sleep(20ms);
      done.arrive();
    });
    const unsigned blocker_line = __LINE__; goro::go([&] {
      blocker_id = goro::this_goroutine::id();
      goro::blocking([&] {
        in_blocking = true;
        while (!stop.load()) std::this_thread::sleep_for(1ms);
      });
      done.arrive();
    });
    goro::go([&] {
      child_id = goro::this_goroutine::id();
      goro::go([&] {
        grandchild_id = goro::this_goroutine::id();
        grandchild_release.wait();
        done.arrive();
      });
      done.arrive();
    });
    // clang-format on

    // Let them all start: the sleeper asleep, the blocker inside its call, the grandchild
    // parked (bounded wait).
    std::vector<goroutine_info> snap;
    const goroutine_info* sleeper = nullptr;
    for (int i = 0; i < 10000; i++) {
      goro::sleep(1ms);
      snap = goro::goroutines();
      sleeper = find(snap, sleeper_id.load());
      const goroutine_info* gc = find(snap, grandchild_id.load());
      if (in_blocking.load() && sleeper != nullptr && sleeper->state == goroutine_state::waiting && gc != nullptr &&
          gc->state == goroutine_state::waiting) {
        break;
      }
    }
    // One more, runnable: with one P it cannot start while goroutine 1 runs.
    const unsigned runnable_line = __LINE__; goro::go([&] { done.arrive(); });
    snap = goro::goroutines();
    const auto after = clk::now();

    // Ordered by id; goroutine 1 is running and has no parent.
    for (std::size_t i = 1; i < snap.size(); i++) EXPECT_LT(snap[i - 1].id, snap[i].id);
    const goroutine_info* main = find(snap, 1);
    ASSERT_NE(main, nullptr);
    EXPECT_EQ(main->state, goroutine_state::running);
    EXPECT_EQ(main->parent_id, 0u);
    EXPECT_TRUE(main->wait_reason.empty());
    EXPECT_EQ(main->wait_since, clk::time_point{});

    sleeper = find(snap, sleeper_id.load());
    ASSERT_NE(sleeper, nullptr);
    EXPECT_EQ(sleeper->state, goroutine_state::waiting);
    EXPECT_EQ(sleeper->wait_reason, "sleep");
    EXPECT_EQ(sleeper->parent_id, 1u);
    // wait_since is a coarse clock reading (a few ms of resolution).
    EXPECT_GT(sleeper->wait_since, before - 100ms);
    EXPECT_LE(sleeper->wait_since, after);
    EXPECT_TRUE(ends_with(sleeper->created_file, "registry_test.cc")) << sleeper->created_file;
    EXPECT_EQ(sleeper->created_line, sleeper_line);
    EXPECT_NE(sleeper->created_function, nullptr);

    const goroutine_info* blocker = find(snap, blocker_id.load());
    ASSERT_NE(blocker, nullptr);
    EXPECT_EQ(blocker->state, goroutine_state::syscall);
    EXPECT_TRUE(blocker->wait_reason.empty());
    EXPECT_GT(blocker->wait_since, before - 100ms);
    EXPECT_EQ(blocker->created_line, blocker_line);

    // The child has finished; the grandchild's parent is the child.
    EXPECT_EQ(find(snap, child_id.load()), nullptr);
    const goroutine_info* gc = find(snap, grandchild_id.load());
    ASSERT_NE(gc, nullptr);
    EXPECT_EQ(gc->parent_id, child_id.load());
    EXPECT_EQ(gc->state, goroutine_state::waiting);
    EXPECT_EQ(gc->wait_reason, "semacquire");

    // The newest goroutine has not run yet.
    const goroutine_info& newest = snap.back();
    EXPECT_EQ(newest.state, goroutine_state::runnable);
    EXPECT_EQ(newest.created_line, runnable_line);
    EXPECT_EQ(newest.wait_since, clk::time_point{});
    EXPECT_TRUE(newest.wait_reason.empty());

    stop = true;
    grandchild_release.set();
    done.wait();
  });
}

// go(fn, args...) records the creation site as a code address instead of file:line.
TEST(Registry, GoWithArgumentsRecordsACodeAddress) {
  run_checked(1, [&] {
    event release, finished;
    goro::go(
        [&](int) {
          release.wait();
          finished.set();
        },
        1);
    auto snap = goro::goroutines();
    release.set();
    finished.wait();  // the events live on this stack: outlive the goroutine using them
    ASSERT_EQ(snap.size(), 2u);
    EXPECT_EQ(snap[1].created_file, nullptr);
    EXPECT_NE(snap[1].created_pc, nullptr);
  });
}

TEST(Registry, StateNames) {
  EXPECT_EQ(goro::to_string(goroutine_state::runnable), "runnable");
  EXPECT_EQ(goro::to_string(goroutine_state::running), "running");
  EXPECT_EQ(goro::to_string(goroutine_state::waiting), "waiting");
  EXPECT_EQ(goro::to_string(goroutine_state::syscall), "syscall");
  EXPECT_EQ(goro::to_string(goroutine_state::dead), "dead");
}

// A snapshot can be taken from a plain thread while goroutines come and go.
TEST(Registry, SnapshotFromAnotherThreadWhileSpawning) {
  std::atomic<bool> stop{false};
  std::atomic<long> snapshots{0};
  goro::options opts;
  opts.procs = 2;
  goro::run(opts, [&] {
    std::thread th([&] {
      while (!stop.load()) {
        auto snap = goro::goroutines();
        for (std::size_t i = 1; i < snap.size(); i++) ASSERT_LT(snap[i - 1].id, snap[i].id);
        snapshots.fetch_add(1);
      }
    });
    const long n = goro_test::scaled(20000, 20);
    // At least n spawns, and on until the thread has taken a few snapshots meanwhile.
    for (long round = 0; round < n / 100 || snapshots.load() < 3; round++) {
      countdown done(100);
      for (int i = 0; i < 100; i++) goro::go([&] { done.arrive(); });
      done.wait();
    }
    stop = true;
    goro::blocking([&] { th.join(); });
  });
  EXPECT_GT(snapshots.load(), 0);
}

}  // namespace

// The registry is read without stopping spawns and exits (registry.cc): a g seen by a walk
// may be recycled for another goroutine while its identity is read. Every goroutine seen must
// still carry its own identity, never a mix of two lives of its g.
TEST(Registry, SnapshotsDuringChurnNeverMixTwoGoroutines) {
  std::mutex lk;
  struct site {
    int spawner;    // which of the two spawners
    unsigned line;  // the line of the go() call that created it
  };
  std::map<std::uint64_t, site> site_of;  // goroutine id -> where it was created (lk)
  std::atomic<std::uint64_t> spawner_of[2] = {0, 0};
  std::atomic<bool> stop{false};
  std::atomic<long> checked{0};
  run_checked(2, [&] {
    std::thread reader([&] {
      while (!stop.load()) {
        for (const auto& info : goro::goroutines()) {
          EXPECT_NE(info.state, goroutine_state::dead) << "exiting goroutines are not in a snapshot";
          std::lock_guard<std::mutex> g(lk);
          auto it = site_of.find(info.id);
          if (it == site_of.end()) continue;  // not one of ours, or not yet noted
          EXPECT_EQ(info.created_line, it->second.line) << "goroutine " << info.id;
          EXPECT_EQ(info.parent_id, spawner_of[it->second.spawner].load()) << "goroutine " << info.id;
          checked++;
        }
      }
    });
    auto note = [&](int spawner, unsigned line) {
      std::lock_guard<std::mutex> g(lk);
      site_of[goro::this_goroutine::id()] = site{spawner, line};
    };
    // The go() call and the line it notes are on one line: the macro's.
#define GORO_TEST_GO_NOTING(k) one.go([&] { note(k, __LINE__); goro::yield(); })
    goro::wait_group spawners;
    for (int s = 0; s < 2; s++) {
      spawners.go([&, s] {
        spawner_of[s] = goro::this_goroutine::id();
        for (int i = 0; i < 4000 && (i < 200 || checked.load() < 2000); i++) {
          goro::wait_group one;
          if (s == 0) {
            GORO_TEST_GO_NOTING(0);
          } else {
            GORO_TEST_GO_NOTING(1);
          }
          one.wait();
        }
      });
    }
#undef GORO_TEST_GO_NOTING
    spawners.wait();
    stop = true;
    reader.join();
  });
  EXPECT_GT(checked.load(), 0);
  RecordProperty("checked", static_cast<int>(checked.load()));
}
