#pragma once
// Execution-tracer hooks: the scheduler reports each goroutine and processor transition to
// one installed hook table. The execution tracer (a later module: Chrome trace events, Go's
// trace viewer) is built on this; tests and tools may install their own table.
//
// Cost: with no table installed, each hook site is one relaxed load of a global pointer and
// a branch predicted not taken (measured in docs/performance.md). With a table installed,
// every event takes a clock reading and an indirect call on the thread where it happens.
//
// Rules for a hook function:
//  - It runs inside the scheduler, on whatever thread the event happens (a goroutine's stack,
//    a scheduler stack, the timer thread, or a plain thread calling goro APIs), possibly on
//    several threads at once: it must be thread-safe.
//  - It must not block the thread for long, throw, or call goro operations that park, yield,
//    spawn or ready a goroutine (it may read goro::goroutines()' data it was given, allocate,
//    take a short std::mutex).
//  - Events of one goroutine arrive in the order they happened; events of different threads
//    are not ordered except by their timestamps.

#include <cstdint>
#include <string_view>

namespace goro::trace {

enum class event_kind : std::uint8_t {
  go_create,       // a goroutine was spawned: goroutine = new id, peer = the parent's id
                   // (0 from a plain thread), pc = its creation site
  go_start,        // a goroutine starts or resumes running on processor `proc`
  go_yield,        // the running goroutine gave up its processor and stays runnable
  go_park,         // the running goroutine blocks: reason = Go's wait reason, object = what
                   // it waits on (channel, mutex...) or null
  go_ready,        // a parked goroutine was made runnable: goroutine = the woken one,
                   // peer = the goroutine that woke it (0 from a timer or a plain thread)
  go_end,          // a goroutine returned (or its exception was reported)
  blocking_enter,  // the running goroutine entered goro::blocking(): it may lose its P
  blocking_exit,   // ... and returned from it
  steal,           // processor `proc` stole `count` goroutines from processor `peer`
  thread_sleep,    // a thread (M `thread`) found no work and goes to sleep
  thread_wake,     // ... and woke with processor `proc`
};
std::string_view to_string(event_kind k);

struct event {
  event_kind kind = event_kind::go_create;
  std::int64_t when_ns = 0;      // the runtime clock (steady, nanoseconds)
  std::uint64_t goroutine = 0;   // the goroutine the event is about (0 for steal/thread_*)
  std::uint64_t peer = 0;        // see event_kind
  int proc = -1;                 // the processor (P) involved, -1 if none
  int thread = -1;               // the runtime thread (M) it happened on, -1 for other threads
  std::uint32_t count = 0;       // steal: how many goroutines moved
  std::string_view reason;       // go_park: the wait reason, in Go's words
  const void* object = nullptr;  // go_park: the object waited on
  const void* pc = nullptr;      // go_create: a code address in the creation site
  const char* file = nullptr;    // go_create: the creation site's file when known, else null
  unsigned line = 0;             // go_create: its line
};

// The table. `on_event` receives every event; `user` is passed back unchanged.
struct hooks {
  void (*on_event)(const event& e, void* user) = nullptr;
  void* user = nullptr;
};

// Installs `h` (null uninstalls). The table must stay valid until it is replaced and the
// events in flight have returned: uninstall, then keep it alive until goro::run returns (or
// for a short grace period if run() is still active). May be called at any time, from any
// thread, also before or between goro::run calls.
void set_hooks(const hooks* h) noexcept;
const hooks* current_hooks() noexcept;

}  // namespace goro::trace
