#include "support/goro_test.h"

#include <chrono>
#include <sstream>

namespace goro_test {

bool sanitized() {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  return true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
  return true;
#else
  return false;
#endif
#else
  return false;
#endif
}

long scaled(long n, long divisor) { return sanitized() ? (n / divisor > 0 ? n / divisor : 1) : n; }

void run_checked(int procs, const std::function<void()>& body) {
  goro::options opts;
  opts.procs = procs;
  std::string leaked = goro::run(opts, [&] {
    body();
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (goro::num_goroutine() > 1 && std::chrono::steady_clock::now() < deadline) {
      goro::sleep(std::chrono::milliseconds(1));
    }
    std::ostringstream out;
    for (const auto& g : goro::goroutines()) {
      if (g.id == goro::this_goroutine::id()) continue;
      out << "goroutine " << g.id << " [" << goro::to_string(g.state);
      if (!g.wait_reason.empty()) out << ": " << g.wait_reason;
      out << "] created at " << (g.created_file ? g.created_file : "?") << ":" << g.created_line << "\n";
    }
    return out.str();
  });
  EXPECT_EQ(leaked, "") << "goroutines left behind by the test";
}

}  // namespace goro_test
