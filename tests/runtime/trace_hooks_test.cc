// The execution-tracer hook table: which events the scheduler reports, with what data, in
// what order for one goroutine; and that nothing is reported once the table is removed.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "goro/goro.h"
#include "support/goro_test.h"

namespace {

using namespace std::chrono_literals;
using goro::trace::event;
using goro::trace::event_kind;

// Records every event. Installed for the lifetime of the object.
class recorder {
 public:
  recorder() {
    table_.on_event = [](const event& e, void* self) { static_cast<recorder*>(self)->add(e); };
    table_.user = this;
    goro::trace::set_hooks(&table_);
  }
  ~recorder() { goro::trace::set_hooks(nullptr); }

  std::vector<event> events() {
    std::lock_guard<std::mutex> lk(lock_);
    return events_;
  }
  // The events about goroutine id, in the order they happened.
  std::vector<event> of(std::uint64_t id) {
    std::vector<event> out;
    for (const event& e : events()) {
      if (e.goroutine == id && e.kind != event_kind::steal && e.kind != event_kind::thread_sleep &&
          e.kind != event_kind::thread_wake) {
        out.push_back(e);
      }
    }
    return out;
  }
  std::size_t count(event_kind k) {
    auto ev = events();
    return static_cast<std::size_t>(std::count_if(ev.begin(), ev.end(), [k](const event& e) { return e.kind == k; }));
  }

 private:
  void add(const event& e) {
    std::lock_guard<std::mutex> lk(lock_);
    events_.push_back(e);
  }
  goro::trace::hooks table_;
  std::mutex lock_;
  std::vector<event> events_;
};

std::vector<event_kind> kinds(const std::vector<event>& ev) {
  std::vector<event_kind> out;
  for (const event& e : ev) out.push_back(e.kind);
  return out;
}

TEST(TraceHooks, OffByDefault) { EXPECT_EQ(goro::trace::current_hooks(), nullptr); }

TEST(TraceHooks, GoroutineLifeInOrder) {
  recorder rec;
  std::uint64_t child = 0;
  int chan_line = 0;
  const void* chan_obj = nullptr;
  goro_test::run_checked(1, [&] {
    auto c = goro::make_chan<int>();
    auto done = goro::make_chan<>();
    chan_line = __LINE__ + 1;
    goro::go([&, c, done] {
      child = goro::this_goroutine::id();
      EXPECT_EQ(c.recv(), 7);
      goro::yield();
      goro::blocking([] { std::this_thread::sleep_for(1ms); });
      done.close();
    });
    // The child parks on c first (1 processor: it runs when this goroutine waits).
    while (goro::goroutines().size() < 2 || goro::goroutines().back().state != goro::goroutine_state::waiting) {
      goro::sleep(1ms);
    }
    chan_obj = goro::goroutines().back().wait_object;
    c.send(7);
    done.recv();
  });
  ASSERT_NE(child, 0u);
  std::vector<event> ev = rec.of(child);
  std::vector<event_kind> k = kinds(ev);
  // create, start, park (chan receive), ready, start, yield, start, blocking in/out, then
  // (if the monitor took the processor during the blocking call: a start) the end.
  std::vector<event_kind> want = {event_kind::go_create,      event_kind::go_start,      event_kind::go_park,
                                  event_kind::go_ready,       event_kind::go_start,      event_kind::go_yield,
                                  event_kind::go_start,       event_kind::blocking_enter, event_kind::blocking_exit};
  ASSERT_GT(k.size(), want.size());
  for (std::size_t i = 0; i < want.size(); i++) {
    EXPECT_EQ(k[i], want[i]) << "event " << i << ": " << goro::trace::to_string(k[i]) << " instead of "
                             << goro::trace::to_string(want[i]);
  }
  EXPECT_EQ(k.back(), event_kind::go_end);
  for (std::size_t i = want.size(); i + 1 < k.size(); i++) EXPECT_EQ(k[i], event_kind::go_start);
  EXPECT_EQ(ev[0].peer, 1u);  // created by goroutine 1
  ASSERT_NE(ev[0].file, nullptr);
  EXPECT_NE(std::string(ev[0].file).find("trace_hooks_test.cc"), std::string::npos);
  EXPECT_EQ(ev[0].line, static_cast<unsigned>(chan_line));
  EXPECT_EQ(ev[1].proc, 0);
  EXPECT_EQ(ev[2].reason, "chan receive");
  EXPECT_EQ(ev[2].object, chan_obj);
  EXPECT_EQ(ev[3].peer, 1u);  // goroutine 1's send woke it
  for (std::size_t i = 1; i < ev.size(); i++) EXPECT_LE(ev[i - 1].when_ns, ev[i].when_ns);
  for (const event& e : ev) EXPECT_GE(e.thread, 0) << goro::trace::to_string(e.kind);
}

TEST(TraceHooks, TimerWakeHasNoWaker) {
  recorder rec;
  std::uint64_t id = 0;
  goro_test::run_checked(1, [&] {
    id = goro::this_goroutine::id();
    goro::sleep(2ms);
  });
  std::vector<event> ev = rec.of(id);
  auto park = std::find_if(ev.begin(), ev.end(), [](const event& e) { return e.kind == event_kind::go_park; });
  ASSERT_NE(park, ev.end());
  EXPECT_EQ(park->reason, "sleep");
  auto ready = std::find_if(park, ev.end(), [](const event& e) { return e.kind == event_kind::go_ready; });
  ASSERT_NE(ready, ev.end());
  EXPECT_EQ(ready->peer, 0u);
}

TEST(TraceHooks, StealAndThreadSleepWake) {
  recorder rec;
  constexpr int kChildren = 64;
  std::atomic<int> ran{0};
  goro_test::run_checked(2, [&] {
    // Goroutine 1 never gives up its processor while it waits, so the children, queued on
    // its processor, can only run if the other processor steals them.
    for (int i = 0; i < kChildren; i++) goro::go([&] { ran.fetch_add(1); });
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (ran.load() < kChildren && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
    EXPECT_EQ(ran.load(), kChildren);
    goro::sleep(5ms);  // nothing to run: the threads go to sleep (one waits for this timer)
  });
  std::size_t stolen = 0;
  for (const event& e : rec.events()) {
    if (e.kind != event_kind::steal) continue;
    EXPECT_NE(e.proc, static_cast<int>(e.peer));
    EXPECT_GE(e.count, 1u);
    stolen += e.count;
  }
  EXPECT_GE(stolen, 1u);
  // An M without work went to sleep at some point (at the latest during the final sleep)
  // and sleep/wake events name a thread.
  EXPECT_GE(rec.count(event_kind::thread_sleep), 1u);
  for (const event& e : rec.events()) {
    if (e.kind == event_kind::thread_sleep || e.kind == event_kind::thread_wake) {
      EXPECT_GE(e.thread, 0);
    }
  }
}

TEST(TraceHooks, NothingAfterUninstall) {
  std::size_t before;
  {
    recorder rec;
    goro_test::run_checked(2, [] {
      goro::wait_group wg;
      for (int i = 0; i < 10; i++) wg.go([] { goro::yield(); });
      wg.wait();
    });
    before = rec.events().size();
    EXPECT_GE(before, 30u);  // 10 creates, starts and ends at least
  }
  EXPECT_EQ(goro::trace::current_hooks(), nullptr);
  // A second table installed and removed outside run() sees nothing from a run without it.
  std::atomic<int> calls{0};
  goro::trace::hooks counting;
  counting.on_event = [](const event&, void* n) { static_cast<std::atomic<int>*>(n)->fetch_add(1); };
  counting.user = &calls;
  goro::trace::set_hooks(&counting);
  goro::trace::set_hooks(nullptr);
  goro_test::run_checked(2, [] {
    goro::wait_group wg;
    for (int i = 0; i < 10; i++) wg.go([] { goro::yield(); });
    wg.wait();
  });
  EXPECT_EQ(calls.load(), 0);
}

}  // namespace
