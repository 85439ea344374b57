// The report sink's structured data (goro/report.h) for the channel leak report and its
// switch (the monitor's reports: tests/leak/misuse_test.cc; long-running:
// tests/runtime/report_test.cc; lock order, deadlock, SIGQUIT: their tests here), and the
// stack high-water mark in goroutine_info and in dumps.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

#include "goro/debug.h"
#include "goro/goro.h"
#include "support/report_catcher.h"

using namespace std::chrono_literals;

namespace {

using goro_test::report_catcher;

// A receiver of a channel whose last send-capable handle dies here.
[[gnu::noinline]] std::uint64_t drop_the_sender() {
  auto ch = goro::make_chan<int>();
  auto id = goro::make_chan<std::uint64_t>(1);
  goro::go([in = goro::recv_chan<int>(ch), id] {
    id.send(goro::this_goroutine::id());
    (void)in.recv();  // nobody will ever send or close
  });
  auto receiver = *id.recv();
  while (goro::goroutines().back().state != goro::goroutine_state::waiting) goro::sleep(1ms);
  return receiver;
}  // the last send-capable handle dies here

TEST(Report, ChannelLeakAsData) {
  report_catcher reports("leak");
  goro::run([&] {
    std::uint64_t receiver = drop_the_sender();
    auto got = reports.get();
    ASSERT_EQ(got.size(), 1u);
    const goro::report& r = got[0];
    EXPECT_EQ(r.goroutines, std::vector<std::uint64_t>{receiver});
    ASSERT_EQ(r.objects.size(), 1u);
    EXPECT_EQ(r.objects[0].type, "chan");
    char addr[32];
    std::snprintf(addr, sizeof addr, "%p", r.objects[0].address);
    EXPECT_NE(r.text.find(std::string("on channel ") + addr + ","), std::string::npos) << r.text;
    ASSERT_EQ(r.sites.size(), 1u);
    EXPECT_EQ(r.sites[0].role, "dropped");
    EXPECT_NE(r.sites[0].function.find("drop_the_sender"), std::string::npos) << r.sites[0].function;
    EXPECT_NE(r.sites[0].file.find("report_test.cc"), std::string::npos) << r.sites[0].file;
    EXPECT_NE(r.sites[0].pc, nullptr);
  });
}

TEST(Report, ChannelLeakReportCanBeTurnedOff) {
  report_catcher reports("leak");
  goro::options o;
  o.detect_channel_leaks = -1;
  goro::run(o, [&] { drop_the_sender(); });
  EXPECT_TRUE(reports.get().empty());
  ::setenv("GORO_CHANLEAK", "0", 1);
  goro::run([&] { drop_the_sender(); });
  ::unsetenv("GORO_CHANLEAK");
  EXPECT_TRUE(reports.get().empty());
  goro::run([&] { drop_the_sender(); });
  EXPECT_EQ(reports.get().size(), 1u) << "on by default";
}

// A goroutine parked with ~40 KiB of stack in use.
[[gnu::noinline]] void park_deep(goro::chan<> release) {
  // The array's address escapes into empty asm statements around the park, so the whole
  // array is in the frame there (see misuse_test.cc's StackCloseToOverflow).
  volatile char big[40 * 1024];
  big[0] = 1;
  big[sizeof big - 1] = big[0];
  asm volatile("" : : "r"(big) : "memory");
  release.recv();
  asm volatile("" : : "r"(big) : "memory");
}

// The dump's header block of goroutine `id`: "goroutine id [...]:".
std::string header_of(const std::string& dump, std::uint64_t id) {
  std::string head = "goroutine " + std::to_string(id) + " [";
  auto at = dump.find(head);
  if (at == std::string::npos) return "";
  return dump.substr(at, dump.find('\n', at) - at);
}

TEST(Report, StackHighWaterInGoroutineInfoAndOnRequestInDumps) {
  for (int shown : {1, -1}) {
    goro::options o;
    o.stack_size = 64 * 1024;
    o.dump_stack_usage = shown;
    goro::run(o, [&] {
      auto release = goro::make_chan<>();
      goro::wait_group wg;
      wg.go([release] { park_deep(release); });
      goro::goroutine_info deep;
      do {
        goro::sleep(1ms);
        deep = goro::goroutines().back();
      } while (deep.state != goro::goroutine_state::waiting);
      EXPECT_GE(deep.stack_high_water, 40u * 1024);
      EXPECT_LT(deep.stack_high_water, 64u * 1024);
      EXPECT_EQ(deep.stack_size, 64u * 1024);
      std::string header = header_of(goro::debug::goroutines_text(2), deep.id);
      if (shown > 0) {
        EXPECT_EQ(header, "goroutine " + std::to_string(deep.id) + " [chan receive, stack high-water " +
                              std::to_string(deep.stack_high_water) + " of 65536 bytes]:");
      } else {
        EXPECT_EQ(header, "goroutine " + std::to_string(deep.id) + " [chan receive]:");
      }
      release.close();
      wg.wait();
    });
  }
}

TEST(Report, DumpStackSettingFromTheEnvironment) {
  ::setenv("GORO_DUMP_STACK", "1", 1);
  std::string dump;
  goro::run([&] {
    auto release = goro::make_chan<>();
    goro::wait_group wg;
    wg.go([release] { release.recv(); });
    while (goro::goroutines().back().state != goro::goroutine_state::waiting) goro::sleep(1ms);
    dump = goro::debug::goroutines_text(2);
    release.close();
    wg.wait();
  });
  ::unsetenv("GORO_DUMP_STACK");
  EXPECT_NE(dump.find(" [chan receive, stack high-water "), std::string::npos) << dump;
}

}  // namespace
