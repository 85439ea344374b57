#pragma once
// The diagnostics settings (docs/configuration.md): read once at run() start from
// goro::options and the GORO_* environment. An option overrides the environment, which
// overrides the default; a malformed environment value is an error that names the variable.

#include <atomic>
#include <cstdint>

#include "goro/runtime.h"

namespace goro::detail {

struct diag_settings {
  bool deadlock = true;                       // GORO_DEADLOCK
  bool lock_order = false;                    // GORO_LOCKORDER
  sigquit_mode sigquit = sigquit_mode::exit;  // GORO_SIGQUIT (never unset here)
  bool dump_stack = false;                    // GORO_DUMP_STACK
  // The monitor (monitor.cc). Zero turns a detector off.
  std::int64_t interval_ms = 500;   // GORO_DIAG_INTERVAL_MS; 0: no monitor at all
  std::int64_t lockhold_ms = 1000;  // GORO_LOCKHOLD_MS
  std::int64_t ctxignore_ms = 1000; // GORO_CTXIGNORE_MS
  std::int64_t stackwarn_pct = 75;  // GORO_STACKWARN_PCT
  std::int64_t leak_report_ms = 0;      // GORO_LEAK_REPORT_S (seconds, may have a fraction)
  std::int64_t leak_min_ms = 60'000;   // GORO_LEAK_MIN_S (likewise; >= 0)
  bool partial_deadlock = true;     // GORO_PARTIAL_DEADLOCK
  // Reports made outside the monitor.
  bool lost_cancel = true;          // GORO_LOSTCANCEL
  bool chan_leak = true;            // GORO_CHANLEAK
};

// Reads the settings for a run() with these options. Throws std::invalid_argument naming
// the environment variable or option at fault. Changes nothing.
diag_settings read_diag_settings(const options& opts);

// The settings of the active run(), or of the last one (defaults before the first).
// Written by diag_start() before any goroutine or diagnostics thread exists; read-only while
// run() is active.
const diag_settings& diag_config();
void set_diag_config(const diag_settings& s);

// The switches read on any thread, also outside run() (a cancel function dropped on a plain
// thread after run() returned, a dump taken then): relaxed atomics, written by
// set_diag_config(); they keep the last run()'s value afterwards.
extern std::atomic<bool> g_lostcancel_on;
extern std::atomic<bool> g_chanleak_on;
extern std::atomic<bool> g_dump_stack_on;

}  // namespace goro::detail
