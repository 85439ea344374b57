#pragma once
// Goroutine dumps, in the text formats Go prints, for people and for the tools that parse
// Go's output (panicparse, goleak-style checks, pprof's debug=1 reader).
//
// Guarantees:
//  - A dump is consistent: while it is taken no goroutine resumes (a scheduler that is about
//    to switch to one waits a moment), so every parked goroutine is shown with the stack it
//    is really parked on. The calling goroutine keeps running and comes first, with its
//    live stack. A goroutine executing on another thread at that moment, or inside
//    goro::blocking(), is shown as Go shows one running elsewhere: "goroutine running on
//    other thread; stack unavailable".
//  - Stacks are unwound with the DWARF call-frame information every x86-64 binary carries
//    (.eh_frame), so code built without frame pointers unwinds. Function names, file:line
//    and inlined calls need debug information (-g); without it frames show only names.
//  - goro's own frames are hidden, as Go hides runtime.*: a goroutine parked in a channel
//    receive shows the user's functions down to the one that called into goro.
//  - Cost is paid at dump time only: every code address is symbolized once and cached, so
//    dumping 100,000 goroutines parked in the same few places takes well under a second.
// Callable from any goroutine or thread while goro::run() is active; outside it, a dump
// lists no goroutines. Not async-signal-safe (SIGQUIT dumps come from a helper thread; see
// docs/diagnostics.md).

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace goro::debug {

// Writes every goroutine to out.
//  level 2: Go's traceback (runtime.Stack(buf, true), pprof goroutine?debug=2): per
//           goroutine `goroutine N [wait reason, M minutes]:`, its frames (function, then
//           TAB file:line +0xoffset; inlined calls as `name(...)`), and
//           `created by F in goroutine P` with its file:line. With GORO_DUMP_STACK=1
//           (options::dump_stack_usage) the header has one more item, the goroutine's stack
//           high-water mark: `[chan receive, stack high-water 41248 of 65536 bytes]`.
//  level 1: Go's grouped profile (pprof goroutine?debug=1): identical stacks counted once,
//           `count @ pc pc ...` followed by `#\tpc\tfunction+0xoff\tfile:line` lines.
// Throws std::invalid_argument for any other level.
void write_goroutines(std::ostream& out, int level = 2);

// The same text as a string.
std::string goroutines_text(int level = 2);

// One frame of a goroutine's stack, innermost first.
struct frame {
  std::string function;  // qualified name with parameters, "(...)" for an inlined call
  std::string file;      // empty when unknown
  unsigned line = 0;
  bool inlined = false;
  std::uintptr_t pc = 0;  // the return address the frame was found at
};

// The visible frames of goroutine `id` (goro's own frames hidden, as in dumps). nullopt if
// no such goroutine exists; an empty vector if its stack is unavailable (running on another
// thread, inside blocking(), or not started yet).
std::optional<std::vector<frame>> goroutine_stack(std::uint64_t id);

}  // namespace goro::debug
