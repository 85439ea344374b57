// goro::debug::write_goroutines: Go's traceback (level 2) and grouped (level 1) formats.

#include <gtest/gtest.h>

#include <atomic>
#include <iostream>
#include <chrono>
#include <sstream>
#include <string>

#include "diag/symbolize.h"
#include "goro/debug.h"
#include "goro/goro.h"
#include "goro/leak.h"
#include "runtime/clock.h"
#include "runtime/park.h"
#include "support/goro_test.h"

using namespace std::chrono_literals;

namespace {

// Where the goroutines below park, recorded for the expectations (written by the goroutine,
// read by the test: atomics, as nothing else orders the two for ThreadSanitizer).
std::atomic<int> g_recv_line{0};
std::atomic<int> g_lock_line{0};

[[gnu::noinline]] void diag_blocked_receiver(goro::chan<int> c) {
  g_recv_line.store(__LINE__ + 1);
  auto v = c.recv();
  asm volatile("" ::"r"(v.has_value()));  // keeps the call from being a tail call
}

[[gnu::noinline]] void diag_locker(goro::mutex& mu) {
  g_lock_line.store(__LINE__ + 1);
  mu.lock();
  mu.unlock();
  asm volatile("");
}

int count(const std::string& s, const std::string& what) {
  int n = 0;
  for (std::size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) n++;
  return n;
}

// The block of goroutine `id` in a level-2 dump.
std::string block_of(const std::string& dump, std::uint64_t id) {
  std::string head = "goroutine " + std::to_string(id) + " [";
  std::size_t b = dump.rfind(head, 0) == 0 ? 0 : dump.find("\n" + head);
  if (b == std::string::npos) return "";
  if (b != 0) b++;
  std::size_t e = dump.find("\n\n", b);
  return dump.substr(b, e == std::string::npos ? std::string::npos : e + 1 - b);
}

// gtest's SCOPED_TRACE is per thread, and a goroutine may move between threads: this
// prints the text at the end of the scope instead, if the test failed.
struct print_on_failure {
  explicit print_on_failure(const std::string& s) : text(s) {}
  ~print_on_failure() {
    if (::testing::Test::HasFailure()) std::cerr << "--- the text checked:\n" << text << "---\n";
  }
  const std::string& text;
};

class DumpTest : public goro_test::Procs {};
GORO_INSTANTIATE_PROCS(DumpTest);

TEST_P(DumpTest, TracebackShowsEveryGoroutineWithItsStack) {
  run([] {
    auto c = goro::make_chan<int>();
    goro::mutex mu;
    goro::wait_group wg;
    std::atomic<std::uint64_t> recv_id{0}, lock_id{0}, sleep_id{0};
    wg.go([&] {
      recv_id = goro::this_goroutine::id();
      diag_blocked_receiver(c);
    });
    mu.lock();
    wg.go([&] {
      lock_id = goro::this_goroutine::id();
      diag_locker(mu);
    });
    wg.go([&] {
      sleep_id = goro::this_goroutine::id();
      goro::sleep(200ms);
    });
    // Let them park.
    for (int i = 0; i < 2000; i++) {
      int waiting = 0;
      for (const auto& g : goro::goroutines()) waiting += g.state == goro::goroutine_state::waiting;
      if (waiting == 3) break;
      goro::sleep(1ms);
    }
    std::string dump = goro::debug::goroutines_text(2);
    print_on_failure show_dump(dump);

    // The caller comes first, running, with its live stack.
    const std::uint64_t self = goro::this_goroutine::id();
    EXPECT_EQ(dump.rfind("goroutine " + std::to_string(self) + " [running]:\n", 0), 0u);
    EXPECT_NE(block_of(dump, self).find("dump_test.cc:"), std::string::npos);
    // Blocks are separated by one empty line; the text ends with one newline.
    EXPECT_EQ(dump.back(), '\n');
    EXPECT_NE(dump.substr(dump.size() - 2), "\n\n");
    EXPECT_EQ(count(dump, "\n\ngoroutine "), count(dump, "goroutine ") - count(dump, "in goroutine ") - 1);

    std::string recv = block_of(dump, recv_id);
    EXPECT_EQ(recv.rfind("goroutine " + std::to_string(recv_id) + " [chan receive]:\n", 0), 0u);
    EXPECT_NE(recv.find("diag_blocked_receiver(goro::chan<int>)\n\t"), std::string::npos);
    EXPECT_NE(recv.find("dump_test.cc:" + std::to_string(g_recv_line.load()) + " +0x"), std::string::npos);
    EXPECT_NE(recv.find("created by "), std::string::npos);
    EXPECT_NE(recv.find(" in goroutine " + std::to_string(self) + "\n\t"), std::string::npos);
    // goro's own frames are hidden.
    EXPECT_EQ(recv.find("goro::detail::"), std::string::npos);
    EXPECT_EQ(recv.find("goro_arch_"), std::string::npos);
    EXPECT_EQ(recv.find("std::__invoke"), std::string::npos);

    std::string lock = block_of(dump, lock_id);
    EXPECT_EQ(lock.rfind("goroutine " + std::to_string(lock_id) + " [sync.Mutex.Lock]:\n", 0), 0u);
    EXPECT_NE(lock.find("diag_locker(goro::mutex&)\n\t"), std::string::npos);
    EXPECT_NE(lock.find("dump_test.cc:" + std::to_string(g_lock_line.load()) + " +0x"), std::string::npos);

    std::string sleeper = block_of(dump, sleep_id);
    EXPECT_EQ(sleeper.rfind("goroutine " + std::to_string(sleep_id) + " [sleep]:\n", 0), 0u);

    mu.unlock();
    c.close();
    wg.wait();
  });
}

// The creation site recorded as a code address (go(fn, args...)) is symbolized.
TEST_P(DumpTest, CreatedByFromACodeAddress) {
  run([] {
    auto c = goro::make_chan<int>();
    goro::go(diag_blocked_receiver, c);
    while (goro::goroutines().size() < 2 || goro::goroutines().back().state != goro::goroutine_state::waiting) {
      goro::sleep(1ms);
    }
    std::uint64_t id = goro::goroutines().back().id;
    std::string block = block_of(goro::debug::goroutines_text(2), id);
    print_on_failure show_block(block);
    EXPECT_NE(block.find("\ncreated by "), std::string::npos);
    EXPECT_NE(block.find("dump_test.cc:"), block.rfind("\ncreated by "));  // a frame and the site
    EXPECT_NE(block.find("TestBody"), std::string::npos) << "the site is in this test's body";
    c.close();
  });
}

// "N minutes" appears once a goroutine has waited a full minute (Go: integer minutes,
// always the word "minutes").
TEST(Dump, MinutesSuffix) {
  goro::options o;
  o.procs = 1;
  goro::run(o, [] {
    auto c = goro::make_chan<int>();
    std::atomic<goro::detail::g*> gs[3] = {};
    for (int i = 0; i < 3; i++) {
      goro::go([&, i] {
        gs[i] = goro::detail::current_g();
        c.recv();
      });
    }
    goro::sleep(20ms);
    auto ids = goro::goroutines();
    ASSERT_EQ(ids.size(), 4u);
    std::int64_t now = goro::detail::coarse_now();
    gs[0].load()->wait_since.set(now - 59'000'000'000);  // not yet a minute
    gs[1].load()->wait_since.set(now - 61'000'000'000);  // 1 minute
    gs[2].load()->wait_since.set(now - 300'500'000'000);  // 5 minutes
    std::string dump = goro::debug::goroutines_text(2);
    print_on_failure show_dump(dump);
    EXPECT_NE(dump.find("goroutine " + std::to_string(gs[0].load()->id.get()) + " [chan receive]:"), std::string::npos);
    EXPECT_NE(dump.find("goroutine " + std::to_string(gs[1].load()->id.get()) + " [chan receive, 1 minutes]:"), std::string::npos);
    EXPECT_NE(dump.find("goroutine " + std::to_string(gs[2].load()->id.get()) + " [chan receive, 5 minutes]:"), std::string::npos);
    c.close();
    goro::sleep(10ms);
  });
}

// Level 1: identical stacks are counted once (pprof goroutine debug=1).
TEST_P(DumpTest, GroupedFormat) {
  run([] {
    auto c = goro::make_chan<int>();
    goro::wait_group wg;
    for (int i = 0; i < 5; i++) {
      wg.go([c] { diag_blocked_receiver(c); });
    }
    for (int i = 0; i < 2000; i++) {
      int waiting = 0;
      for (const auto& g : goro::goroutines()) waiting += g.state == goro::goroutine_state::waiting;
      if (waiting == 5) break;
      goro::sleep(1ms);
    }
    std::string text = goro::debug::goroutines_text(1);
    print_on_failure show_text(text);
    EXPECT_EQ(text.rfind("goroutine profile: total 6\n", 0), 0u);
    std::size_t rec = text.find("\n5 @ 0x");
    ASSERT_NE(rec, std::string::npos);
    std::string record = text.substr(rec + 1, text.find("\n\n", rec) - rec);
    // "#\t0x<pc-1>\t<function>+0x<off>\t...<file>:<line>", TAB-aligned.
    std::size_t f = record.find("\tdiag_blocked_receiver+0x");
    if (f == std::string::npos) f = record.find("::diag_blocked_receiver+0x");
    ASSERT_NE(f, std::string::npos);
    std::size_t line_start = record.rfind('\n', f) + 1;
    std::string line = record.substr(line_start, record.find('\n', f) - line_start);
    EXPECT_EQ(line.rfind("#\t0x", 0), 0u) << line;
    EXPECT_NE(line.find("\t/"), std::string::npos) << line;
    EXPECT_EQ(line.substr(line.size() - std::to_string(g_recv_line.load()).size() - 13),
              "dump_test.cc:" + std::to_string(g_recv_line.load()))
        << line;
    EXPECT_EQ(record.find("goro::detail::"), std::string::npos);
    EXPECT_NE(text.find("\n1 @ "), std::string::npos);  // the caller
    EXPECT_EQ(text.substr(text.size() - 2), "\n\n");     // each record ends with an empty line
    c.close();
    wg.wait();
  });
}

TEST(Dump, GoroutineStack) {
  goro::run([] {
    auto c = goro::make_chan<int>();
    goro::go([c] { diag_blocked_receiver(c); });
    while (goro::goroutines().size() < 2 || goro::goroutines().back().state != goro::goroutine_state::waiting) {
      goro::sleep(1ms);
    }
    auto frames = goro::debug::goroutine_stack(goro::goroutines().back().id);
    ASSERT_TRUE(frames.has_value());
    ASSERT_FALSE(frames->empty());
    EXPECT_EQ(frames->front().function, "(anonymous namespace)::diag_blocked_receiver(goro::chan<int>)");
    EXPECT_NE(frames->front().file.find("dump_test.cc"), std::string::npos);
    EXPECT_EQ(frames->front().line, static_cast<unsigned>(g_recv_line.load()));
    EXPECT_FALSE(goro::debug::goroutine_stack(999999).has_value());
    auto self = goro::debug::goroutine_stack(goro::this_goroutine::id());
    ASSERT_TRUE(self.has_value());
    ASSERT_FALSE(self->empty());
    EXPECT_NE(self->front().file.find("dump_test.cc"), std::string::npos);
    c.close();
    goro::sleep(5ms);
  });
}

// Symbolizing needs more stack than a small goroutine stack has; the dump must not overflow
// the caller's.
TEST(Dump, FromASmallStack) {
  goro::options o;
  o.stack_size = 64 * 1024;
  goro::run(o, [] {
    std::string text = goro::debug::goroutines_text(2);
    EXPECT_EQ(text.rfind("goroutine 1 [running]:\n", 0), 0u) << text;
    EXPECT_NE(text.find("dump_test.cc:"), std::string::npos) << text;
  });
}

// A dump from inside goro::blocking() (where the goroutine has given up its processor).
TEST(Dump, FromInsideBlocking) {
  goro::run([] {
    std::string text = goro::blocking([] { return goro::debug::goroutines_text(2); });
    EXPECT_EQ(text.rfind("goroutine 1 [running]:\n", 0), 0u) << text;
  });
}

TEST(Dump, BadLevel) {
  EXPECT_THROW(goro::debug::goroutines_text(3), std::invalid_argument);
}

// Outside run() there are no goroutines: the dump is empty.
TEST(Dump, OutsideRun) { EXPECT_EQ(goro::debug::goroutines_text(2), ""); }

TEST(Symbolize, SplitFunctionName) {
  using goro::detail::split_function_name;
  auto s = split_function_name("void ns::f<int>(int) const");
  EXPECT_EQ(s.name, "ns::f<int>");
  EXPECT_EQ(s.params, "(int) const");
  s = split_function_name("main::{lambda()#1}::operator()() const");
  EXPECT_EQ(s.name, "main::{lambda()#1}::operator()");
  EXPECT_EQ(s.params, "() const");
  s = split_function_name("Suite_Test::TestBody()::<lambda()>");
  EXPECT_EQ(s.name, "Suite_Test::TestBody()::<lambda()>");
  EXPECT_EQ(s.params, "");
  s = split_function_name("(anonymous namespace)::worker(goro::chan<int>)");
  EXPECT_EQ(s.name, "(anonymous namespace)::worker");
  s = split_function_name("std::vector<int> make<int>(unsigned long)");
  EXPECT_EQ(s.name, "make<int>");
  s = split_function_name("bool operator<<(std::ostream&, int)");
  EXPECT_EQ(s.name, "operator<<");
  s = split_function_name("decltype(auto) std::__apply_impl<F, std::tuple<int>, 0ul>(F&&, std::tuple<int>&&)");
  EXPECT_EQ(s.name, "std::__apply_impl<F, std::tuple<int>, 0ul>");
  s = split_function_name("goro_arch_trampoline");
  EXPECT_EQ(s.name, "goro_arch_trampoline");
  EXPECT_EQ(s.params, "");
  // GCC's source_location names of template functions end with their arguments.
  s = split_function_name(
      "std::invoke_result_t<F&> goro::run(const goro::options&, F&&) [with F = main()::<lambda()>; "
      "std::invoke_result_t<F&> = int]");
  EXPECT_EQ(s.name, "goro::run");
  EXPECT_EQ(s.params, "(const goro::options&, F&&)");
  s = split_function_name("void ns::f(T) [with T = std::array<int, 2>]");
  EXPECT_EQ(s.name, "ns::f");
  EXPECT_EQ(s.params, "(T)");
  s = split_function_name("f(T)::<lambda()> [with T = int]");
  EXPECT_EQ(s.name, "f(T)::<lambda()>");
  s = split_function_name("std::string ns::label[abi:cxx11](int)");
  EXPECT_EQ(s.name, "ns::label[abi:cxx11]");
}

// Goroutine 1 was created by goro::run(), a template: wherever its creation site is printed,
// it reads as Go prints a function, without GCC's "[with F = ...]".
TEST(Dump, GoroutineOnesCreatorHasNoTemplateArguments) {
  goro::run([] {
    auto texts = goro::make_chan<std::string>(4);
    goro::go([texts] {
      // Goroutine 1 parks receiving below; the first send wakes it, so take every text first.
      while (goro::goroutines().front().state != goro::goroutine_state::waiting) goro::sleep(1ms);
      std::string grouped = goro::debug::goroutines_text(1);
      std::string traceback = goro::debug::goroutines_text(2);
      std::string report = goro::debug::leak_report(0ms);
      for (auto* t : {&grouped, &traceback, &report}) texts.send(std::move(*t));
    });
    for (int i = 0; i < 3; i++) {
      std::string text = *texts.recv();
      print_on_failure show_text(text);
      EXPECT_EQ(text.find("[with"), std::string::npos);
      if (i == 2) {  // the leak report
        // clang 14's source_location stand-in (__builtin_FUNCTION) names functions without
        // their scope: "run" where g++ gives "goro::run".
#if defined(__clang__)
        EXPECT_NE(text.find("\n      created at run ("), std::string::npos);
#else
        EXPECT_NE(text.find("\n      created at goro::run ("), std::string::npos);
#endif
        EXPECT_NE(text.find("runtime.h:"), std::string::npos);
      }
    }
  });
}

}  // namespace
