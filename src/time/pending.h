#pragma once
// The armed timers that can still start work: what the leak check lists besides goroutines
// (goro::testing::find_leaks, goro::debug::pending_timers). A goroutine that such a timer
// will start does not exist yet, so a goroutine leak check alone misses it.

#include <cstdint>
#include <vector>

#include "goro/detail/task.h"

namespace goro::detail {

// What a timer_state is (immutable; time/timer.cc).
enum class timer_kind : std::uint8_t {
  channel,           // new_timer() / after(): sends once on its channel; never listed
  ticker,            // new_ticker(): ticks until stopped
  after_func,        // after_func(): starts a goroutine when it fires
  context_deadline,  // a context's deadline (with_deadline/with_timeout): cancels it
};

struct pending_timer_snap {
  timer_kind kind = timer_kind::after_func;
  site where;              // the after_func, new_ticker or with_deadline/with_timeout call
  std::int64_t when = 0;   // when it fires next (clock_now() units)
  std::int64_t period = 0;  // a ticker's period (ns), else 0
};

// Appends every ticker, after_func and context-deadline timer of the current run that is
// armed and has not fired (an after_func whose function started, or any stopped timer, is
// not). Not a consistent snapshot across timers: each one is read under its own lock. Any
// thread; nothing is appended when no run() is active. O(armed timers of every kind).
void pending_timers(std::vector<pending_timer_snap>& out);

}  // namespace goro::detail
