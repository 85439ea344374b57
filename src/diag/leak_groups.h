#pragma once
// The grouped report of long-blocked goroutines (goro::debug::blocked_groups() and
// leak_report(), goro/leak.h) against an explicit baseline: how the diagnostics monitor makes
// its periodic report (kind "leak-report") without sharing the public functions' baseline.

#include <chrono>
#include <cstddef>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "goro/leak.h"

namespace goro::detail {

// The group counts of a reader's previous grouped report, from which its next report's
// growth is computed. Each reader has its own, so that one's reports do not move another's
// baseline: the periodic report keeps one in the monitor (monitor thread only); the public
// goro::debug::blocked_groups() and leak_report() share another (leak.cc, under its lock).
// Not synchronized: its owner serializes the calls that use it.
struct blocked_baseline {
  using key = std::tuple<std::string, std::string, std::string>;  // (wait reason, blocked at, created at)
  std::map<key, std::size_t> counts;
};

// goro::debug::blocked_groups() with each group's growth taken against `base`, which then
// holds this call's counts. Any thread or goroutine while a run() is active.
std::vector<goro::debug::blocked_group> blocked_groups(std::chrono::milliseconds min_wait, blocked_baseline& base);

// goro::debug::leak_report()'s text for those groups, the top `top`, without the final
// newline (a report's text has none).
std::string leak_report(std::chrono::milliseconds min_wait, std::size_t top, blocked_baseline& base);

}  // namespace goro::detail
