// Provable channel leaks when the goroutine parks AFTER the other side's last handle died:
// the classic "result channel nobody reads after a timeout", where the slow sender gets to
// its send only after the caller gave up and dropped the channel.

#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "goro/goro.h"
#include "support/report_catcher.h"

namespace {

using namespace std::chrono_literals;

struct leak_reports : goro_test::report_catcher {
  leak_reports() : goro_test::report_catcher("leak") {}
};

// Waits (bounded) until n reports arrived.
std::vector<goro::report> wait_for(leak_reports& r, std::size_t n) {
  for (int i = 0; i < 2000 && r.get().size() < n; i++) goro::sleep(1ms);
  return r.get();
}

[[gnu::noinline]] void give_up_on_the_result() {
  auto result = goro::make_chan<int>();
  goro::go([out = goro::send_chan<int>(result)] {
    goro::sleep(20ms);  // the slow backend
    out.send(1);        // the caller is gone: nobody can ever receive
  });
  goro::select(goro::recv(result), goro::recv(goro::after(1ms)));
}  // the last receive-capable handle dies here, before the send

TEST(OrphanPark, SenderParkingAfterTheLastReceiverWasDroppedIsReported) {
  leak_reports reports;
  goro::run([&] {
    give_up_on_the_result();
    EXPECT_TRUE(reports.get().empty());  // the sender has not reached its send yet
    auto got = wait_for(reports, 1);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_NE(got[0].text.find("leaked: blocked forever in [chan send]"), std::string::npos) << got[0].text;
    EXPECT_NE(got[0].text.find("last handle able to receive from it was destroyed in"), std::string::npos)
        << got[0].text;
    // The site that dropped the handle, recorded when it happened.
    EXPECT_NE(got[0].text.find("give_up_on_the_result"), std::string::npos) << got[0].text;
    auto leaked = goro::goroutines();
    ASSERT_EQ(leaked.size(), 2u);
    EXPECT_EQ(got[0].goroutine, leaked[1].id);
    EXPECT_EQ(leaked[1].wait_reason, "chan send");
  });
}

TEST(OrphanPark, ReceiverParkingAfterTheLastSenderWasDroppedIsReported) {
  leak_reports reports;
  goro::run([&] {
    goro::go([in = goro::recv_chan<int>(goro::make_chan<int>())] {
      goro::sleep(5ms);
      (void)in.recv();  // the send side died with the temporary above
    });
    auto got = wait_for(reports, 1);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_NE(got[0].text.find("leaked: blocked forever in [chan receive]"), std::string::npos) << got[0].text;
    goro::sleep(5ms);
    EXPECT_EQ(reports.get().size(), 1u);  // once
  });
}

TEST(OrphanPark, NoReportWhenTheOperationCompletesOrTheChannelIsClosed) {
  leak_reports reports;
  goro::run([&] {
    {
      // A buffered send with room succeeds although nobody can receive: no park, no report.
      auto ch = goro::make_chan<int>(1);
      goro::send_chan<int> out = ch;
      ch = {};
      out.send(1);
    }
    {
      // Receiving what is buffered, then the close: never parks.
      auto ch = goro::make_chan<int>(1);
      ch.send(7);
      ch.close();
      goro::recv_chan<int> in = ch;
      ch = {};
      EXPECT_EQ(in.recv(), 7);
      EXPECT_EQ(in.recv(), std::nullopt);
    }
    {
      // A receiver whose sender still exists (it holds a send_chan) is not reported.
      auto ch = goro::make_chan<int>();
      goro::send_chan<int> out = ch;
      goro::wait_group wg;
      wg.go([in = goro::recv_chan<int>(ch)] { (void)in.recv(); });
      ch = {};
      goro::sleep(5ms);
      out.send(1);
      wg.wait();
    }
    goro::sleep(5ms);
    EXPECT_TRUE(reports.get().empty()) << reports.get().front().text;
  });
}

}  // namespace
