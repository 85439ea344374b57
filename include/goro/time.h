#pragma once
// Timers and tickers, Go's time package (with Go 1.23+ semantics), on the runtime's clock.
//
//   goro::timer t = goro::new_timer(50ms);
//   goro::select(goro::recv(t.c(), [](auto when) { ... }), goro::recv(done));
//   auto tick = goro::new_ticker(10ms);  ... tick.stop();
//   goro::select(goro::recv(goro::after(1s), [] { /* timeout */ }), ...);
//   goro::timer f = goro::after_func(1s, [] { ... });  // runs in its own goroutine
//
// Guarantees:
//  - A timer sends the current time on c() once, at or after its deadline; a ticker sends
//    every period and drops ticks for a slow receiver (the channel holds at most one).
//  - stop() and reset() (Go 1.23): after either returns, no value from the old arming can
//    be received from c(). stop() returns true if it stopped an active timer (false if it had
//    fired or been stopped); reset() returns whether the timer was active before.
//  - Nothing here parks the caller; receiving on c() does (wait reason "chan receive" or
//    "select").
//  - Timers cost no thread: they live in the scheduler's per-processor heaps.
//  - Handles are shared: copies refer to the same timer. An armed timer stays alive until
//    it fires or is stopped, even without handles (so goro::after() works); a ticker keeps
//    ticking until stopped, so always stop tickers (goro's leak diagnostics report those
//    that are not).
//  - Functions that start nothing may be called from any thread; after_func's function
//    runs on a new goroutine ("created by" its after_func call site).

#include <chrono>
#include <functional>
#include <memory>
#include <source_location>

#include "goro/chan.h"

namespace goro {

using time_point = std::chrono::steady_clock::time_point;

namespace detail {
struct timer_state;
}
class ticker;

class timer {
 public:
  timer() = default;  // no timer: c() is nil, stop() and reset() are invalid
  // The channel the timer sends on (nil for after_func timers, as in Go).
  recv_chan<time_point> c() const;
  bool stop() const;
  bool reset(std::chrono::nanoseconds d) const;
  explicit operator bool() const { return s_ != nullptr; }

 private:
  friend timer new_timer(std::chrono::nanoseconds);
  friend timer after_func(std::chrono::nanoseconds, std::function<void()>, std::source_location);
  friend class ticker;
  friend ticker new_ticker(std::chrono::nanoseconds);
  explicit timer(std::shared_ptr<detail::timer_state> s) : s_(std::move(s)) {}
  std::shared_ptr<detail::timer_state> s_;
};

class ticker {
 public:
  ticker() = default;
  recv_chan<time_point> c() const { return t_.c(); }
  void stop() const { t_.stop(); }
  // Changes the period and restarts the ticker; d must be positive.
  void reset(std::chrono::nanoseconds d) const;

 private:
  friend ticker new_ticker(std::chrono::nanoseconds);
  explicit ticker(timer t) : t_(std::move(t)) {}
  timer t_;
};

// A timer that sends the time on c() after d.
timer new_timer(std::chrono::nanoseconds d);
// A ticker with period d; throws goro::panic("non-positive interval for NewTicker") if d <= 0.
ticker new_ticker(std::chrono::nanoseconds d);
// new_timer(d).c(): a channel that receives the time once after d.
recv_chan<time_point> after(std::chrono::nanoseconds d);
// Runs f in its own goroutine after d; stop() before then prevents it.
timer after_func(std::chrono::nanoseconds d, std::function<void()> f,
                 std::source_location where = std::source_location::current());

}  // namespace goro
