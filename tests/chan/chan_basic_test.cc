#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "support/goro_test.h"

using goro_test::Procs;

class ChanBasic : public Procs {};
GORO_INSTANTIATE_PROCS(ChanBasic);

TEST_P(ChanBasic, UnbufferedPingPong) {
  run([] {
    auto ping = goro::make_chan<int>();
    auto pong = goro::make_chan<int>();
    goro::go([ping, pong] {
      for (auto v : ping) pong.send(v + 1);
      pong.close();
    });
    long sum = 0;
    for (int i = 0; i < 10000; i++) {
      ping.send(i);
      sum += *pong.recv();
    }
    ping.close();
    EXPECT_FALSE(pong.recv().has_value());
    EXPECT_EQ(sum, 10000L * 9999 / 2 + 10000);
  });
}

TEST_P(ChanBasic, BufferedFifoAndClose) {
  run([] {
    auto ch = goro::make_chan<std::string>(3);
    ch.send("a");
    ch.send(std::string("b"));
    EXPECT_EQ(ch.len(), 2u);
    EXPECT_EQ(ch.cap(), 3u);
    ch.close();
    EXPECT_EQ(*ch.recv(), "a");
    EXPECT_EQ(*ch.recv(), "b");
    EXPECT_FALSE(ch.recv());
    EXPECT_THROW(ch.send("c"), goro::panic);
    EXPECT_THROW(ch.close(), goro::panic);
  });
}

TEST_P(ChanBasic, MoveOnly) {
  run([] {
    auto ch = goro::make_chan<std::unique_ptr<int>>();
    goro::go([ch] { ch.send(std::make_unique<int>(7)); });
    auto v = ch.recv();
    ASSERT_TRUE(v);
    EXPECT_EQ(**v, 7);
  });
}

TEST_P(ChanBasic, SelectBasic) {
  run([] {
    auto a = goro::make_chan<int>();
    auto b = goro::make_chan<int>();
    goro::go([a] { a.send(1); });
    int got = 0;
    int fired = goro::select(goro::recv(a, [&](int v) { got = v; }), goro::recv(b, [&](int v) { got = 100 + v; }));
    EXPECT_EQ(fired, 0);
    EXPECT_EQ(got, 1);
    int d = goro::select(goro::recv(b), goro::default_case());
    EXPECT_EQ(d, 1);
    goro::chan<> done = goro::make_chan<>();
    goro::go([done] { done.close(); });
    bool ok = true;
    goro::select(goro::recv(done, [&](bool k) { ok = k; }));
    EXPECT_FALSE(ok);
  });
}
