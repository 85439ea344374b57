#pragma once
// Helpers shared by the channel conformance tests (ports of Go's test/chan/ programs and
// runtime/chan_test.go).
//
// Where Go's tests sleep "long enough" for a goroutine to block (time.Sleep(time.Millisecond)
// before checking that a receive did not complete), these tests ask the runtime instead:
// wait_parked() polls goro::goroutines() until the goroutine is parked. A parked goroutine
// resumes only through ready(), so "parked with reason R" is a fact, not a guess, and no
// assertion depends on timing. The polling itself is bounded so that a bug fails the test
// instead of hanging it.
//
// gtest's assertions are thread-safe and work inside goroutines, but SCOPED_TRACE is not
// usable there: gtest keeps the trace stack per thread, and a goroutine that parks may
// resume on another thread.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "goro/goro.h"

namespace chan_conformance {

// The snapshot entry of goroutine `id`, if it is alive.
inline std::optional<goro::goroutine_info> find_goroutine(std::uint64_t id) {
  for (const auto& g : goro::goroutines()) {
    if (g.id == id) return g;
  }
  return std::nullopt;
}

// Waits until goroutine `id` is parked (state waiting) and returns its snapshot entry. Fails
// the test (and returns nullopt) if that does not happen within a generous bound. Must run
// on a goroutine.
inline std::optional<goro::goroutine_info> wait_parked(std::uint64_t id) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  for (int i = 0;; i++) {
    auto g = find_goroutine(id);
    if (g && g->state == goro::goroutine_state::waiting) return g;
    if (std::chrono::steady_clock::now() > deadline) {
      ADD_FAILURE() << "goroutine " << id << " did not park";
      return std::nullopt;
    }
    if (i < 100) {
      goro::yield();
    } else {
      goro::sleep(std::chrono::microseconds(100));
    }
  }
}

// Waits until goroutine `id` is parked and checks its wait reason (and, when given, the
// object it waits on).
inline void expect_parked(std::uint64_t id, std::string_view reason, const void* object = nullptr) {
  auto g = wait_parked(id);
  ASSERT_TRUE(g.has_value());
  EXPECT_EQ(g->wait_reason, reason);
  if (object != nullptr) {
    EXPECT_EQ(g->wait_object, object);
  }
}

// The id a spawned goroutine publishes as its first action, so its parent can find it.
class goroutine_id {
 public:
  void publish() { id_.store(goro::this_goroutine::id(), std::memory_order_release); }
  // Waits (yielding) until publish() ran. Must run on a goroutine.
  std::uint64_t get() const {
    std::uint64_t v;
    while ((v = id_.load(std::memory_order_acquire)) == 0) goro::yield();
    return v;
  }

 private:
  std::atomic<std::uint64_t> id_{0};
};

// Go's sync.WaitGroup for the tests, built only on channels (goro's own wait_group lives in
// another module and is tested there): done() from each of n goroutines, wait() for all.
class done_group {
 public:
  explicit done_group(std::size_t n) : n_(n), ch_(goro::make_chan<>(n)) {}
  void done() const { ch_.send(); }
  void wait() const {
    for (std::size_t i = 0; i < n_; i++) ch_.recv();
  }

 private:
  std::size_t n_;
  goro::chan<> ch_;
};

// What a goroutine that must throw goro::panic reports back.
inline std::string panic_message(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const goro::panic& p) {
    return p.what();
  } catch (...) {
    return "<not a goro::panic>";
  }
}

}  // namespace chan_conformance
