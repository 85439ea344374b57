#pragma once
#include "goro/report.h"

namespace goro::detail {
// Sends r to the installed sink (stderr when none). Not async-signal-safe.
void emit_report(const report& r);
// Sends r to the installed handler only; false, sending nothing, when none is installed.
// For reports that are printed to stderr in their own format anyway (the deadlock).
bool emit_report_to_handler(const report& r);
}  // namespace goro::detail
