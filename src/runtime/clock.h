#pragma once
// The runtime's clock. Every timer and every wait timestamp goes through clock_now(), so
// that virtual time for deterministic tests can later replace the source in one place.

#include <atomic>
#include <cstdint>
#include <ctime>

namespace goro::detail {

using clock_fn = std::int64_t (*)();

inline std::int64_t monotonic_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

// A cheaper, coarse reading (a few ms resolution) for wait-start stamps: diagnostics need
// seconds, not nanoseconds, and every park takes one.
inline std::int64_t coarse_monotonic_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

// The active clock sources; the monotonic clock unless a test installs others before run().
extern clock_fn g_clock;
extern clock_fn g_coarse_clock;
inline std::int64_t clock_now() { return g_clock(); }

// Wait-start stamps and diagnostics' "now": the coarse clock as sysmon last read it. Sysmon
// refreshes it on every wake-up (at least every 10 ms while run() is active; run() sets it
// before any goroutine starts), so a park pays one load instead of a clock call. A stamp is
// at most ~10 ms early, which diagnostics measuring seconds and minutes do not notice.
extern std::atomic<std::int64_t> g_coarse_tick;
inline std::int64_t coarse_now() { return g_coarse_tick.load(std::memory_order_relaxed); }
inline void coarse_tick_update() { g_coarse_tick.store(g_coarse_clock(), std::memory_order_relaxed); }

}  // namespace goro::detail
