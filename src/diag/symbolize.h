#pragma once
// Turning code addresses into Go-style frames: function, file:line, inlined calls. Backed by
// libdw (elfutils) on the running process; every address is resolved once and cached, so a
// dump of many goroutines with the same few stacks costs little beyond the first.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace goro::detail {

// One source-level frame. A single code address expands to several when calls were inlined:
// the inlined ones first (innermost first), the function the code physically belongs to
// last.
struct sym_frame {
  std::string name;    // qualified, no return type, no parameters ("ns::worker"); may be "?"
  std::string params;  // "(int) const" for a physical frame, "(...)" for an inlined one
  std::string file;    // empty when unknown
  unsigned line = 0;
  bool inlined = false;
  bool runtime = false;  // goro's own frame: hidden in dumps, as Go hides runtime.*
  bool glue = false;     // std::invoke-style glue: hidden next to runtime frames
};

struct sym_pc {
  std::uintptr_t pc = 0;      // the return address (or exact pc) it was looked up for
  std::uintptr_t entry = 0;   // start of the physical function, 0 if unknown
  std::vector<sym_frame> frames;
  // Pre-rendered text of each frame in the Go traceback format (level 2), same order.
  std::vector<std::string> text;
};

// Looks up pc (a return address: its line is that of the call, pc - 1). The result lives
// until the process ends. Thread-safe; callers that look up many addresses should hold a
// symbolizer_lock for the whole batch.
const sym_pc& symbolize(std::uintptr_t pc);

// Holds the symbolizer for a batch of lookups (the lock is recursive).
class symbolizer_lock {
 public:
  symbolizer_lock();
  ~symbolizer_lock();
  symbolizer_lock(const symbolizer_lock&) = delete;
  symbolizer_lock& operator=(const symbolizer_lock&) = delete;
};

// Splits a demangled C++ function name (or GCC's std::source_location::function_name())
// into the qualified name without its return type, and its parameter list plus qualifiers
// (empty if it has none), without the template arguments GCC appends to a source_location
// name. "void ns::f<int>(int) const" -> {"ns::f<int>", "(int) const"};
// "int goro::run(F&&) [with F = int (*)()]" -> {"goro::run", "(F&&)"}.
struct split_name {
  std::string name;
  std::string params;
};
split_name split_function_name(std::string_view full);
// The same as views into `full`: allocates nothing (fatal errors use it, in signal handlers).
struct split_name_view {
  std::string_view name;
  std::string_view params;
};
split_name_view split_function_name_view(std::string_view full) noexcept;

// Whether a (split) function name is a goro runtime frame or std::invoke-style glue.
bool is_runtime_function(std::string_view name);
bool is_glue_function(std::string_view name);

}  // namespace goro::detail
