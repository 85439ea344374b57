#pragma once
// Source sites for reports: a code address or a recorded creation site turned into a
// goro::report_site, and the "function (file:line)" text the reports print for one.

#include <cstdint>
#include <string>

#include "goro/detail/task.h"
#include "goro/report.h"

namespace goro::detail {

// The site of code address pc: the innermost frame of the user's code (frames of std:: and
// goro:: are passed over: lock() is usually reached through inlined std::lock_guard or
// std::unique_lock constructors, which say nothing useful). When every frame is such a
// frame, the innermost one if `fallback`, else none: then function, file and line stay
// empty (as they do when pc cannot be symbolized). Takes the symbolizer's lock; may load
// debug information (~100 ms the first time), so not for sysmon.
report_site code_site(const void* pc, const char* role, std::uint64_t goroutine, bool fallback = true);

// The site a goroutine was created at: its go() call as std::source_location recorded it
// (the function named as in a dump's "created by" line: pretty_function_name(), snapshot.h),
// else (go(fn, args...)) its code address, as code_site(). Also for other sites recorded the
// same way (a timer's arming call).
report_site created_site(const site& s, std::uint64_t goroutine);

// "function (file:line)" ("?" for an unknown file); the address ("0x...") when only pc is
// known, "?" when nothing is.
std::string site_text(const report_site& s);

// "0x..." for an object's address, as the reports print it.
std::string address_text(const void* p);

}  // namespace goro::detail
