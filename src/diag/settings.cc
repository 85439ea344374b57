// Reading the diagnostics settings: goro::options, then GORO_* environment variables, then
// the defaults (docs/configuration.md has the table).

#include "diag/settings.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

namespace goro::detail {

std::atomic<bool> g_lostcancel_on{true};
std::atomic<bool> g_chanleak_on{true};
std::atomic<bool> g_dump_stack_on{false};

namespace {

diag_settings g_config;  // see diag_config()

const char* env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : nullptr;
}

[[noreturn]] void bad_env(const char* name, const char* value, const char* must) {
  throw std::invalid_argument(std::string("goro::run: environment variable ") + name + "=\"" + value + "\" " +
                              must);
}

// A switch: 1, on, true or 0, off, false.
bool env_bool(const char* name, bool fallback) {
  const char* v = env(name);
  if (v == nullptr) return fallback;
  if (std::strcmp(v, "0") == 0 || std::strcmp(v, "off") == 0 || std::strcmp(v, "false") == 0) return false;
  if (std::strcmp(v, "1") == 0 || std::strcmp(v, "on") == 0 || std::strcmp(v, "true") == 0) return true;
  bad_env(name, v, "must be 0 or 1");
}

std::int64_t env_int(const char* name, std::int64_t fallback) {
  const char* v = env(name);
  if (v == nullptr) return fallback;
  char* end = nullptr;
  errno = 0;
  long long x = std::strtoll(v, &end, 10);
  if (end == v || *end != '\0') bad_env(name, v, "is not an integer");
  if (errno == ERANGE) bad_env(name, v, "is out of range");
  return x;
}

// A duration in seconds, possibly with a fraction ("0.5"), as whole milliseconds; zero or
// negative is 0.
std::int64_t env_seconds_as_ms(const char* name, std::int64_t fallback_ms) {
  const char* v = env(name);
  if (v == nullptr) return fallback_ms;
  char* end = nullptr;
  double x = std::strtod(v, &end);
  if (end == v || *end != '\0' || !std::isfinite(x)) bad_env(name, v, "is not a number of seconds");
  if (x >= 1e9) bad_env(name, v, "is out of range");
  return x > 0 ? static_cast<std::int64_t>(x * 1000 + 0.5) : 0;
}

// The options' convention for switches: positive on, negative off, zero asks the
// environment (then the default).
bool choose(int option, const char* name, bool fallback) {
  return option > 0 || (option == 0 && env_bool(name, fallback));
}

// A threshold or period where the result 0 means "off": a positive option is used as it
// is, a negative one turns it off, zero asks the environment, where zero or negative is off.
std::int64_t threshold(std::int64_t option, const char* name, std::int64_t fallback) {
  if (option != 0) return option > 0 ? option : 0;
  std::int64_t v = env_int(name, fallback);
  return v > 0 ? v : 0;
}

sigquit_mode sigquit_setting(sigquit_mode option) {
  if (option != sigquit_mode::unset) return option;
  const char* v = env("GORO_SIGQUIT");
  if (v == nullptr || std::strcmp(v, "exit") == 0) return sigquit_mode::exit;
  if (std::strcmp(v, "dump") == 0) return sigquit_mode::dump;
  if (std::strcmp(v, "off") == 0 || std::strcmp(v, "0") == 0) return sigquit_mode::off;
  bad_env("GORO_SIGQUIT", v, "must be exit, dump or off");
}

}  // namespace

diag_settings read_diag_settings(const options& o) {
  diag_settings s;
  s.deadlock = choose(o.detect_deadlock, "GORO_DEADLOCK", s.deadlock);
  s.lock_order = choose(o.lock_order, "GORO_LOCKORDER", s.lock_order);
  s.sigquit = sigquit_setting(o.sigquit);
  s.dump_stack = choose(o.dump_stack_usage, "GORO_DUMP_STACK", s.dump_stack);

  s.interval_ms = threshold(o.monitor_interval.count(), "GORO_DIAG_INTERVAL_MS", s.interval_ms);
  s.lockhold_ms = threshold(o.lock_held_threshold.count(), "GORO_LOCKHOLD_MS", s.lockhold_ms);
  s.ctxignore_ms = threshold(o.context_ignored_threshold.count(), "GORO_CTXIGNORE_MS", s.ctxignore_ms);
  if (o.stack_warning_percent > 100) {
    throw std::invalid_argument("goro::run: options::stack_warning_percent must be at most 100");
  }
  s.stackwarn_pct = threshold(o.stack_warning_percent, "GORO_STACKWARN_PCT", s.stackwarn_pct);
  if (s.stackwarn_pct > 100) bad_env("GORO_STACKWARN_PCT", env("GORO_STACKWARN_PCT"), "must be at most 100");
  if (o.leak_report_interval.count() != 0) {
    s.leak_report_ms = o.leak_report_interval.count() > 0 ? o.leak_report_interval.count() : 0;
  } else {
    s.leak_report_ms = env_seconds_as_ms("GORO_LEAK_REPORT_S", s.leak_report_ms);
  }
  if (o.leak_report_min_wait.count() != 0) {
    s.leak_min_ms = o.leak_report_min_wait.count() > 0 ? o.leak_report_min_wait.count() : 0;
  } else {
    s.leak_min_ms = env_seconds_as_ms("GORO_LEAK_MIN_S", s.leak_min_ms);
  }
  s.partial_deadlock = choose(o.detect_partial_deadlock, "GORO_PARTIAL_DEADLOCK", s.partial_deadlock);

  s.lost_cancel = choose(o.detect_lost_cancel, "GORO_LOSTCANCEL", s.lost_cancel);
  s.chan_leak = choose(o.detect_channel_leaks, "GORO_CHANLEAK", s.chan_leak);
  return s;
}

const diag_settings& diag_config() { return g_config; }

void set_diag_config(const diag_settings& s) {
  g_config = s;
  g_lostcancel_on.store(s.lost_cancel, std::memory_order_relaxed);
  g_chanleak_on.store(s.chan_leak, std::memory_order_relaxed);
  g_dump_stack_on.store(s.dump_stack, std::memory_order_relaxed);
}

}  // namespace goro::detail
