#pragma once
// The diagnostics report sink. Every report goro makes at run time (a goroutine running too
// long without yielding, and the detectors of later modules) goes to one place: stderr by
// default, or a handler the program installs. Reports are also structured data.

#include <cstdint>
#include <functional>
#include <string>

namespace goro {

struct report {
  std::string kind;            // stable identifier, e.g. "long-running"
  std::uint64_t goroutine = 0; // the goroutine concerned, 0 if none
  std::string text;            // the stable human-readable text (ends without a newline)
};

using report_handler = std::function<void(const report&)>;

// Installs h as the sink (empty restores stderr). Thread-safe; reports made concurrently
// with the change go to either the old or the new sink.
void set_report_handler(report_handler h);

}  // namespace goro
