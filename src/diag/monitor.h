#pragma once
// The diagnostics monitor thread (monitor.cc): started and stopped with the runtime.

namespace goro::detail {

// Starts the monitor thread with the settings diag_start() read (diag/settings.h), unless
// the monitor is off (GORO_DIAG_INTERVAL_MS <= 0, options::monitor_interval < 0).
void monitor_start();
// Stops and joins it (no-op if not running).
void monitor_stop();

}  // namespace goro::detail
