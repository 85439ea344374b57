#pragma once
// The diagnostics monitor thread (monitor.cc): started and stopped with the runtime.

#include <chrono>

namespace goro::detail {

// Starts the monitor thread with the settings diag_start() read (diag/settings.h), unless
// the monitor is off (GORO_DIAG_INTERVAL_MS <= 0, options::monitor_interval < 0).
void monitor_start();
// Stops and joins it (no-op if not running).
void monitor_stop();

// How long the monitor sleeps before its next pass: the interval, or 50 times as long as the
// cheaper of its last pass and the one before (`before`, zero before the first pass) took,
// whichever is longer. A pure function, for the tests.
std::chrono::milliseconds monitor_wait(std::chrono::milliseconds interval, std::chrono::nanoseconds last,
                                       std::chrono::nanoseconds before);

}  // namespace goro::detail
