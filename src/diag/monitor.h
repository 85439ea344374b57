#pragma once
// The diagnostics monitor thread (monitor.cc): started and stopped with the runtime.

namespace goro::detail {

// Reads the GORO_* settings (docs/configuration.md) and starts the monitor thread, unless
// GORO_DIAG_INTERVAL_MS <= 0.
void monitor_start();
// Stops and joins it (no-op if not running).
void monitor_stop();

}  // namespace goro::detail
