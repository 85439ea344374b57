// go() with plain functions, not lambdas: go(f), go(&f) and go(f, args...), as in Go's
// `go f()` and `go f(x)`.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>

#include "goro/goro.h"
#include "support/goro_test.h"

namespace {

using goro_test::Procs;

class GoFunctionTest : public Procs {};
GORO_INSTANTIATE_PROCS(GoFunctionTest);

// What the functions below report to (a plain function captures nothing).
std::atomic<int> g_sum{0};
goro::wait_group* g_wg = nullptr;
goro::chan<int>* g_release = nullptr;

void add_one() {
  g_sum += 1;
  g_wg->done();
}

void add_ten() noexcept {
  g_sum += 10;
  g_wg->done();
}

void add_n(int n) {
  g_sum += n;
  g_wg->done();
}

void add_into(std::atomic<int>* to, int n, long m) noexcept {
  *to += n * static_cast<int>(m);
  g_wg->done();
}

void wait_for_release() { (void)g_release->recv(); }

TEST_P(GoFunctionTest, PlainFunctionsAndFunctionPointers) {
  run([] {
    goro::wait_group wg;
    g_wg = &wg;
    g_sum = 0;
    wg.add(4);
    goro::go(add_one);   // a function lvalue
    goro::go(&add_one);  // a function pointer
    void (*fp)() = add_one;
    goro::go(fp);       // a function pointer variable
    goro::go(add_ten);  // a noexcept function
    wg.wait();
    EXPECT_EQ(g_sum.load(), 13);
    g_wg = nullptr;
  });
}

TEST_P(GoFunctionTest, PlainFunctionsWithArguments) {
  run([] {
    goro::wait_group wg;
    g_wg = &wg;
    g_sum = 0;
    std::atomic<int> other{0};
    wg.add(3);
    goro::go(add_n, 42);
    goro::go(&add_n, 8);
    goro::go(add_into, &other, 3, 5L);  // several arguments, a noexcept function
    wg.wait();
    EXPECT_EQ(g_sum.load(), 50);
    EXPECT_EQ(other.load(), 15);
    g_wg = nullptr;
  });
}

// go(f) records the line of the call as the creation site, like go([] {...}).
TEST_P(GoFunctionTest, CreationSiteIsTheCall) {
  run([] {
    auto release = goro::make_chan<int>();
    g_release = &release;
    const unsigned line = __LINE__ + 1;
    goro::go(wait_for_release);
    // Once it waits, it has read g_release (and `release` outlives its use).
    goro::goroutine_info other;
    for (;;) {
      auto all = goro::goroutines();
      ASSERT_EQ(all.size(), 2u);
      other = all[0].id == goro::this_goroutine::id() ? all[1] : all[0];
      if (other.state == goro::goroutine_state::waiting) break;
      goro::sleep(std::chrono::milliseconds(1));
    }
    ASSERT_NE(other.created_file, nullptr);
    EXPECT_NE(std::strstr(other.created_file, "go_function_test.cc"), nullptr) << other.created_file;
    EXPECT_EQ(other.created_line, line);
    release.close();
    g_release = nullptr;
  });
}

}  // namespace
