#pragma once
#include "goro/report.h"

namespace goro::detail {
// Sends r to the installed sink. Not async-signal-safe.
void emit_report(const report& r);
}  // namespace goro::detail
