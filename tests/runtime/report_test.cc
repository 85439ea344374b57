// The long-running report: sysmon notices a goroutine that holds its P without a scheduling
// point for longer than the threshold and reports it through the report sink.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "goro/goro.h"
#include "park_test_util.h"
#include "support/goro_test.h"

namespace {

using namespace std::chrono_literals;
using clk = std::chrono::steady_clock;

struct captured {
  std::mutex mu;
  std::vector<goro::report> reports;
  std::size_t count() {
    std::lock_guard<std::mutex> lk(mu);
    return reports.size();
  }
};

// Restores the default sink when the test ends, even on failure.
struct handler_scope {
  explicit handler_scope(captured& c) {
    goro::set_report_handler([&c](const goro::report& r) {
      std::lock_guard<std::mutex> lk(c.mu);
      c.reports.push_back(r);
    });
  }
  ~handler_scope() { goro::set_report_handler(nullptr); }
};

TEST(Report, LongRunningGoroutineIsReported) {
  captured cap;
  handler_scope scope(cap);
  goro::options opts;
  opts.procs = 2;
  opts.long_running_threshold = 20ms;
  std::uint64_t busy_id = 0;
  unsigned busy_line = 0;
  goro::run(opts, [&] {
    rt_test::event done;
    // Busy without a scheduling point until the report arrives (at most 20 s).
    // clang-format off
    busy_line = __LINE__; goro::go([&] {
      // clang-format on
      busy_id = goro::this_goroutine::id();
      auto deadline = clk::now() + 20s;
      while (cap.count() == 0 && clk::now() < deadline) {
      }
      done.set();
    });
    done.wait();
  });
  std::lock_guard<std::mutex> lk(cap.mu);
  ASSERT_FALSE(cap.reports.empty()) << "no long-running report within 20 s";
  const goro::report& r = cap.reports.front();
  EXPECT_EQ(r.kind, "long-running");
  EXPECT_EQ(r.goroutine, busy_id);
  EXPECT_NE(r.text.find("goroutine " + std::to_string(busy_id) + " has been running for"), std::string::npos) << r.text;
  EXPECT_NE(r.text.find("report_test.cc:" + std::to_string(busy_line)), std::string::npos) << r.text;
  EXPECT_EQ(r.text.find('\n'), std::string::npos);
  // The same as data (goro/report.h).
  EXPECT_EQ(r.goroutines, std::vector<std::uint64_t>{busy_id});
  ASSERT_EQ(r.sites.size(), 1u);
  EXPECT_EQ(r.sites[0].role, "created");
  EXPECT_EQ(r.sites[0].goroutine, busy_id);
  EXPECT_NE(r.sites[0].file.find("report_test.cc"), std::string::npos) << r.sites[0].file;
  EXPECT_EQ(r.sites[0].line, busy_line);
  ASSERT_EQ(r.values.size(), 1u);
  EXPECT_EQ(r.values[0].name, "running_ms");
  EXPECT_GE(r.values[0].value, 20);
}

}  // namespace
