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
//  - stop() and reset() (Go 1.23's synchronous timer channels): after either returns, no
//    value from the old arming can be received from c(). A value that was sent but not yet
//    received is withdrawn and counts as not delivered, so stop() returns true unless the
//    timer had been stopped or its value received (or, for after_func, f started); reset()
//    returns the same "was still active" answer before re-arming. Unlike Go 1.23, c().len()
//    and c().cap() show the one-slot buffer behind this (Go reports 0 for both).
//  - Misuse, as in Go: stop()/reset() on a default-constructed timer throw goro::panic
//    ("time: Stop called on uninitialized Timer", "time: Reset called on uninitialized
//    Timer"); ticker::reset(d <= 0) throws "non-positive interval for Ticker.Reset", on a
//    default ticker "time: Reset called on uninitialized Ticker"; ticker::stop() on a default
//    ticker does nothing.
//  - Nothing here parks the caller; receiving on c() does (wait reason "chan receive" or
//    "select").
//  - Timers cost no thread: they live in the scheduler's per-processor heaps.
//  - Handles are shared: copies refer to the same timer. An armed timer stays alive until
//    it fires or is stopped, even without handles (so goro::after() works); a ticker keeps
//    ticking until stopped, so always stop tickers. goro's leak check
//    (goro::testing::find_leaks, goro/testing.h) lists the after_func timers and tickers
//    still armed, with the site that armed them; goro::debug::pending_timers()
//    (goro/leak.h) returns them as data. A timer still armed when run() returns is
//    abandoned with the runtime's heaps, like a goroutine: it never fires, and its state
//    stays allocated (reachable, so memory leak checkers do not report it). Handles must
//    not be used after run() returns.
//  - Functions that start nothing may be called from any thread; after_func's function
//    runs on a new goroutine ("created by" its after_func call site).

#include <chrono>
#include <functional>
#include <memory>

#include "goro/chan.h"
#include "goro/detail/source_location.h"

namespace goro {

using time_point = std::chrono::steady_clock::time_point;

class timer;
class ticker;
namespace detail {
struct timer_state;
// Not API: the timer that enforces a context's deadline (src/context): an after_func timer
// that the leak check attributes to the with_deadline() or with_timeout() call at `where`.
timer deadline_timer(std::chrono::nanoseconds d, std::function<void()> f, source_location where);
}  // namespace detail

class timer {
 public:
  timer() = default;  // no timer: c() is nil, stop() and reset() panic
  // The channel the timer sends on (nil for after_func timers, as in Go).
  recv_chan<time_point> c() const;
  // Stops the timer; true if it was still active (see the file comment). Never blocks.
  bool stop() const;
  // Stops the timer and arms it again to fire after d (d <= 0: at once); returns whether it
  // was still active. Never blocks.
  bool reset(std::chrono::nanoseconds d) const;
  explicit operator bool() const { return s_ != nullptr; }

 private:
  friend timer new_timer(std::chrono::nanoseconds);
  friend timer after_func(std::chrono::nanoseconds, std::function<void()>, detail::source_location);
  friend timer detail::deadline_timer(std::chrono::nanoseconds, std::function<void()>, detail::source_location);
  friend class ticker;
  friend ticker new_ticker(std::chrono::nanoseconds, detail::source_location);
  explicit timer(std::shared_ptr<detail::timer_state> s) : s_(std::move(s)) {}
  std::shared_ptr<detail::timer_state> s_;
};

class ticker {
 public:
  ticker() = default;
  recv_chan<time_point> c() const { return t_.c(); }
  // Stops the ticker: no tick is received after it returns (a pending one is withdrawn).
  void stop() const;
  // Changes the period and restarts the ticker (also a stopped one): the next tick comes d
  // from now; d must be positive.
  void reset(std::chrono::nanoseconds d) const;

 private:
  friend ticker new_ticker(std::chrono::nanoseconds, detail::source_location);
  explicit ticker(timer t) : t_(std::move(t)) {}
  timer t_;
};

// A timer that sends the time on c() after d.
timer new_timer(std::chrono::nanoseconds d);
// A ticker with period d; throws goro::panic("non-positive interval for NewTicker") if d <= 0.
// `where` (the caller) is what the leak check names for a ticker never stopped.
ticker new_ticker(std::chrono::nanoseconds d, detail::source_location where = detail::source_location::current());
// new_timer(d).c(): a channel that receives the time once after d.
recv_chan<time_point> after(std::chrono::nanoseconds d);
// Runs f in its own goroutine after d; stop() before then prevents it. `where` (the caller)
// is the goroutine's creation site, and what the leak check names while the timer is armed.
timer after_func(std::chrono::nanoseconds d, std::function<void()> f,
                 detail::source_location where = detail::source_location::current());

}  // namespace goro
