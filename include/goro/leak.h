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
  long growth = 0;  // count minus this group's count at the previous blocked_groups() call
  std::chrono::seconds longest{0};
  std::vector<std::uint64_t> ids;  // up to 8 examples
};

// Goroutines parked for at least min_wait, grouped, the largest groups first. Each call
// also becomes the baseline for the next call's `growth`.
std::vector<blocked_group> blocked_groups(std::chrono::milliseconds min_wait);

// blocked_groups() as text, the top `top` groups: the text of the periodic leak report
// (GORO_LEAK_REPORT_S) and of goro::testing's failures.
std::string leak_report(std::chrono::milliseconds min_wait, std::size_t top = 3);

}  // namespace goro::debug
