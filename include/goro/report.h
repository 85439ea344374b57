#pragma once
// The diagnostics report sink. Every report goro makes at run time (a goroutine running too
// long without yielding, a misuse detector's finding, a leak, a SIGQUIT dump, the global
// deadlock) goes to one place: stderr by default, or a handler the program installs.
//
// A report is text for people and data for tools. `text` is the stable human-readable
// message (what stderr shows after "goro: "); the vectors hold what the text names, so that a
// tool never parses the text: the goroutine ids, the objects (locks, channels, contexts) with
// their addresses, the source sites with function, file and line, and the numbers. What each
// kind fills, in this order (a vector not listed stays empty; kinds may gain entries later,
// never lose them, so look sites up by role and values by name):
//
//  long-running             goroutines [g]; sites: created; values: running_ms
//  lock-held-while-blocked  goroutines [holder, its waiters...]; objects [the lock];
//                           sites: locked or read-locked (the holder's lock call), created
//                           (the holder's go() call); values: blocked_ms
//  partial-deadlock         goroutines [g1, ..., gn]: gi waits for the lock objects[i], held
//                           by g(i+1) (gn's by g1); sites, for each gi in turn: locked or
//                           read-locked (where the holder g(i+1) took objects[i]), created (gi)
//  context-ignored          goroutines [g]; objects [the context]; sites: created;
//                           values: since_cancel_ms
//  lostcancel               sites: context (the with_cancel/with_timeout/... call)
//  stack-high-water         goroutines [g]; sites: created; values: stack_used, stack_size
//  leak                     goroutines [the leaked ones]; objects [the channel];
//                           sites: dropped (where its last handle of the other side died)
//  lock-order-inversion     edge i takes objects[i + 1] while holding objects[i] (cyclic);
//                           goroutines [the goroutine of each edge]; sites, for each edge in
//                           turn: lock or read-lock (the second lock), held or read-held
//                           (where it had taken the first)
//  sigquit, deadlock        goroutines [every goroutine in the dump, in its order]
//  possible-deadlock        goroutines [the goroutines asleep, by id]; values: threads (how many
//                           threads started outside goro may still wake one), then one tid per
//                           thread, in the text's order
//  leak-report              goroutines [the example ids of each group listed, group by group];
//                           sites, for each group listed in turn: blocked (its innermost visible
//                           frame; function, file and pc empty when the stack was unavailable),
//                           created (its go() call), both with goroutine 0 (they stand for the
//                           whole group); values: min_wait_ms, total (goroutines blocked), groups
//                           (all of them, listed or not), then for each group listed in turn
//                           count and growth
//
// Object types are Go's names: "sync.Mutex", "sync.RWMutex", "chan", "context.Context". A site
// recorded as a code address (a lock call, go(fn, args...)) is symbolized to the innermost
// frame of the user's code and keeps its pc; when that fails, function, file and line are
// empty. A site recorded by std::source_location has no pc; its function is named as a
// goroutine dump's "created by" line names it (no return type, parameters or template
// arguments: "main()::{lambda}", "(anonymous namespace)::start").
//
// "deadlock" is special: the handler, if one is installed, receives it on a runtime thread
// just before the process prints Go's text to stderr and exits with status 2. It must not wait
// for goroutines (none will run again) and cannot prevent the exit.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace goro {

// A lock, channel or context a report names.
struct report_object {
  std::string type;              // "sync.Mutex", "sync.RWMutex", "chan", "context.Context"
  const void* address = nullptr;
};

// A place in the program a report names.
struct report_site {
  std::string role;              // what happened there, per kind (table above)
  std::uint64_t goroutine = 0;   // the goroutine that was there; 0 if none or not known
  std::string function;          // qualified name; empty when unknown
  std::string file;              // empty when unknown
  unsigned line = 0;             // 0 when unknown
  const void* pc = nullptr;      // the code address it was recorded as, if it was
};

// A number a report states ("blocked_ms", 1200).
struct report_value {
  std::string name;
  std::int64_t value = 0;
};

struct report {
  std::string kind;            // stable identifier, e.g. "long-running"
  std::uint64_t goroutine = 0; // the goroutine concerned, 0 if none
  std::string text;            // the stable human-readable text (ends without a newline)
  // Structured data (the table above).
  std::vector<std::uint64_t> goroutines;
  std::vector<report_object> objects;
  std::vector<report_site> sites;
  std::vector<report_value> values;
};

using report_handler = std::function<void(const report&)>;

// Installs h as the sink (empty restores stderr). Thread-safe; reports made concurrently
// with the change go to either the old or the new sink. The handler runs on the thread
// that made the report (a goroutine, the diagnostics monitor, sysmon, a runtime thread);
// it may block its thread but should return promptly.
void set_report_handler(report_handler h);

}  // namespace goro
