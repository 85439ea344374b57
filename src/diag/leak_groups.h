#pragma once
// The grouped report of long-blocked goroutines (goro::debug::blocked_groups() and
// leak_report(), goro/leak.h) against an explicit baseline: how the diagnostics monitor makes
// its periodic report (kind "leak-report") without sharing the public functions' baseline.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "goro/leak.h"
#include "goro/report.h"

namespace goro::detail {

// The group counts of a reader's previous grouped report, from which its next report's
// growth is computed. Each reader has its own, so that one's reports do not move another's
// baseline: the periodic report keeps one in the monitor (monitor thread only); the public
// goro::debug::blocked_groups() and leak_report() share another (leak.cc, under its lock).
// Not synchronized: its owner serializes the calls that use it. Counts of an earlier run()
// are dropped at the first call in a new one: a new run() is a new program.
struct blocked_baseline {
  using key = std::tuple<std::string, std::string, std::string>;  // (wait reason, blocked at, created at)
  std::map<key, std::size_t> counts;
  std::uint64_t run = 0;  // the run() the counts are from (run_serial(), runtime/sched.h)
};

// A group and its two sites as data (the periodic report's fields): group.blocked_at and
// group.created_at are their site_text() (diag/sites.h); each holds its first goroutine's.
struct blocked_group_sites {
  goro::debug::blocked_group group;
  report_site blocked;  // role "blocked": the innermost visible frame; no pc, function or file
                        // when the stack was unavailable (group.blocked_at is then empty)
  report_site created;  // role "created": the go() call (created_site())
};

// goro::debug::blocked_groups() with each group's growth taken against `base`, which then
// holds this call's counts. Any thread or goroutine while a run() is active.
std::vector<blocked_group_sites> blocked_groups(std::chrono::milliseconds min_wait, blocked_baseline& base);

// The periodic report of those groups, the top `top` (kind "leak-report", goroutine 0): its
// text is goro::debug::leak_report()'s without the final newline (a report's text has none),
// its fields as goro/report.h lists them.
report leak_report(std::chrono::milliseconds min_wait, std::size_t top, blocked_baseline& base);

}  // namespace goro::detail
