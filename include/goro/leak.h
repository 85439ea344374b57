#pragma once
// Leaked goroutines, found at run time: goroutines parked for a long time, grouped by
// (wait reason, where they block, where they were created), with counts and growth since
// the previous report, the largest groups first (the guide's "top blocking call chains").
//
// What is guaranteed and what is a heuristic:
//  - Provable leaks are reported the moment they happen (kind "leak", see
//    docs/diagnostics.md): a goroutine parked receiving on a channel for which no
//    send-capable handle (chan<T> or send_chan<T>) exists any more can never wake, nor can
//    one parked sending once no receive-capable handle exists. This is exact for
//    goroutines that hold only the other direction (capture recv_chan<T> in a receiver);
//    a goroutine that itself holds a chan<T> keeps the channel "reachable" and is not
//    reported this way. Select waiters are not reported (another case may still fire).
//  - Everything else here is a heuristic: a goroutine parked longer than a threshold is
//    "probably leaked"; growth of a group between reports is the strong signal.
//  - Pending timers (pending_timers()) are exact: each one listed is armed now and will
//    start work when it fires. Whether that work is wanted is the caller's judgement.
// Callable from any thread or goroutine while goro::run() is active.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace goro::debug {

struct blocked_group {
  std::string wait_reason;  // Go's words: "chan receive", "select", "sync.Mutex.Lock"...
  std::string blocked_at;   // innermost visible frame: "function (file:line)"
  std::string created_at;   // the go() call: "function (file:line)"
  std::size_t count = 0;
  long growth = 0;  // count minus this group's count at the previous call (see blocked_groups())
  std::chrono::seconds longest{0};
  std::vector<std::uint64_t> ids;  // up to 8 examples
};

// Goroutines parked for at least min_wait, grouped, the largest groups first. Each call
// also becomes the baseline for the next call's `growth`: calls of blocked_groups() and
// leak_report() share one baseline (serialized by a lock), which starts empty in each run():
// a new run() is a new program, so its first call's growth is its count. The periodic report
// (GORO_LEAK_REPORT_S, kind "leak-report") keeps its own: calling these does not change the
// growth it reports, nor does it change theirs.
std::vector<blocked_group> blocked_groups(std::chrono::milliseconds min_wait);

// blocked_groups() as text, the top `top` groups, in the format of the periodic leak report
// (docs/diagnostics.md), ending with a newline.
std::string leak_report(std::chrono::milliseconds min_wait, std::size_t top = 3);

// An armed timer that will start work when it fires, which a goroutine leak check alone
// cannot see (the goroutine does not exist yet): an after_func timer (its function will run
// on a new goroutine), a ticker never stopped, or the deadline timer of a context made by
// with_deadline()/with_timeout() whose cancel function has not been called. Plain timers
// (new_timer(), after()) only send on a channel and are not listed.
struct pending_timer {
  std::string kind;      // "after_func", "ticker" or "context deadline"
  std::string armed_at;  // the after_func, new_ticker or with_deadline call: "function (file:line)"
  std::chrono::nanoseconds remaining{0};  // until it fires (a ticker: its next tick); 0 when due
  std::chrono::nanoseconds period{0};     // a ticker's period; 0 otherwise
};

// Every pending timer of the active run(), the soonest first: armed, not stopped, and (for
// after_func) whose function has not started. Empty when no run() is active. Each timer is
// read under its own lock, so a timer that fires or is stopped meanwhile may be listed or
// not. O(armed timers).
std::vector<pending_timer> pending_timers();

}  // namespace goro::debug
