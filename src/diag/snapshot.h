#pragma once
// A consistent picture of every goroutine with its raw stack: what goroutine dumps, the
// deadlock report and SIGQUIT print. Taking one holds the dump gate (gate.h) only while
// stacks are unwound; symbolization happens afterwards.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "goro/detail/task.h"
#include "runtime/g.h"

namespace goro::detail {

struct g_snap {
  std::uint64_t id = 0;
  std::uint64_t parent_id = 0;
  g_state state = g_state::runnable;
  wait_reason reason = wait_reason::none;
  std::int64_t wait_since = 0;  // coarse clock; 0 when not waiting
  // The channel, mutex... it waits on (park()'s obj): what a formatter needs to name the
  // owner of a contended mutex next to its waiters.
  const void* wait_obj = nullptr;
  site created;
  std::uint32_t stack_hw = 0;  // g::stack_hw
  bool current = false;    // the goroutine taking the snapshot (its live stack)
  bool has_stack = false;  // false: running on another thread, or not started
  std::uint32_t pc_begin = 0, pc_count = 0;  // its return addresses in snapshot::pcs
};

struct snapshot {
  std::vector<g_snap> gs;  // the calling goroutine first, then by id
  std::vector<std::uintptr_t> pcs;
  std::int64_t now = 0;  // coarse clock, for "N minutes"
  // Nonzero: format_traceback() shows each goroutine's stack high-water mark against this
  // stack size (GORO_DUMP_STACK; take_snapshot() sets it).
  std::size_t show_stack_of = 0;
};

// Takes a snapshot of every goroutine (only_id != 0: of that one only). `self` is the
// calling goroutine or null (a plain thread, a scheduler context). The calling goroutine's
// stack starts at the caller of the public entry point (frames of goro::debug are hidden by
// the formatter anyway).
void take_snapshot(snapshot& out, g* self, std::uint64_t only_id = 0);
// The same, with self's stack already unwound (self_pcs, from unwind_current() on self's
// own stack): for a caller that takes the snapshot on another thread, because symbolizing
// needs more stack than a goroutine may have (see debug.cc).
void take_snapshot(snapshot& out, g* self, std::uint64_t only_id, const std::vector<std::uintptr_t>& self_pcs);

// Go's traceback of every goroutine in the snapshot (runtime.Stack(buf, true), pprof
// goroutine debug=2): blocks separated by one empty line, ending with one newline.
void format_traceback(const snapshot& s, std::string& out);

// Go's grouped goroutine profile (pprof goroutine debug=1).
void format_grouped(const snapshot& s, std::string& out);

// A source_location function name as the dumps print it after "created by": without return
// type or parameters, with GCC's spellings made to match the demangler's; "?" for null.
std::string pretty_function_name(const char* function);

// The frames to show for one goroutine, innermost first: each is (symbolized pc, index of
// the sub-frame within it). Runtime frames are hidden as Go hides runtime.*; if that would
// hide everything, all frames are shown.
struct visible_frame {
  const struct sym_pc* pc;
  std::size_t index;
};
void visible_frames(const std::uintptr_t* pcs, std::size_t n, std::vector<visible_frame>& out);

// Runs work on a helper thread and waits for it (rethrowing what it threw): symbolizing can
// need more stack than a goroutine has, and the first use loads debug information (~100 ms).
// On a goroutine the wait is inside blocking(), so its processor runs others meanwhile
// and sysmon does not report a long runner; already inside blocking() (the M has no P,
// and blocking() cannot nest) or on a plain thread, the thread simply waits.
void run_on_helper_thread(const std::function<void()>& work);

}  // namespace goro::detail
