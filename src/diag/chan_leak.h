#pragma once
// The report of a provable channel leak (kind "leak"), made by src/chan when the last handle
// of one direction dies while goroutines wait on the other side.

#include <cstdint>
#include <vector>

namespace goro::detail {

// ids: the goroutines parked forever (not empty); receivers: true if they wait to receive
// (the last send-capable handle died), false if they wait to send; pc: a return address in
// the code that destroyed the last handle (null if unknown). Nothing when the report is off
// (GORO_CHANLEAK=0, options::detect_channel_leaks < 0).
void report_chan_leak(const std::vector<std::uint64_t>& ids, bool receivers, const void* chan, const void* pc);

}  // namespace goro::detail
