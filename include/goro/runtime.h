#pragma once
// The goro runtime: goroutines on an M:N work-stealing scheduler (Go's G-M-P model).
//
// Guarantees:
//  - goro::run(fn) starts the runtime, runs fn as goroutine 1 and returns its result when it
//    returns, like Go's main. Goroutines still alive at that point are abandoned as Go
//    abandons them at exit: they never run again and their stacks are freed without
//    unwinding (destructors of their locals do not run). Their function objects, started or
//    not, are destroyed by run() on its own thread, so what they captured is released.
//    Goroutines executing on a thread at that moment (there is no preemption of C++ code)
//    are abandoned at their next scheduling point, and run() waits for that; a goroutine
//    inside blocking() is abandoned when its call returns, and run() waits for the call.
//  - go(fn) happens before fn starts (Go's memory model): everything the caller wrote is
//    visible to the new goroutine.
//  - Functions marked "goroutine only" throw std::logic_error when called outside a
//    goroutine: a clear error instead of a crash.
//  - Only one run() may be active in a process at a time; it can be started again after it
//    returns.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

#include "goro/detail/task.h"

namespace goro {

// What SIGQUIT does while run() is active (GORO_SIGQUIT).
enum class sigquit_mode : std::uint8_t {
  unset,  // GORO_SIGQUIT decides, else exit
  exit,   // print "SIGQUIT: quit" and every goroutine's stack to stderr, exit with status 2 (Go)
  dump,   // send the same text to the report sink (kind "sigquit") and keep running
  off,    // leave SIGQUIT alone
};

// Runtime configuration. Zero means "default" for every field; environment variables
// (documented in docs/configuration.md) override the defaults, options override both.
struct options {
  // Number of processors (Go's GOMAXPROCS). Default: GORO_MAXPROCS, else hardware threads.
  int procs = 0;
  // Size of each goroutine stack in bytes, rounded up to pages. Default: GORO_STACK_SIZE,
  // else 256 KiB. Stacks are reserved, not committed: untouched pages cost no memory.
  std::size_t stack_size = 0;
  // Report a goroutine that runs this long without a scheduling point. Default:
  // GORO_LONGRUN_MS, else 100 ms. A negative value disables the report.
  std::chrono::milliseconds long_running_threshold{0};
  // Go's global deadlock check: when every goroutine is blocked and nothing can wake one,
  // print "fatal error: all goroutines are asleep - deadlock!" and a dump, and exit with
  // status 2. Default: GORO_DEADLOCK (0 disables), else on. Positive: on; negative: off.
  int detect_deadlock = 0;
  // The lock-order checker, a debug mode: report a lock-order inversion among goro mutexes
  // and rw_mutexes (A then B here, B then A there) the first time it is seen, before it
  // can deadlock (docs/diagnostics.md). Costs a global lock per lock operation while on.
  // Default: GORO_LOCKORDER (1 enables), else off. Positive: on; negative: off.
  int lock_order = 0;

  // What SIGQUIT does while run() is active. Default: GORO_SIGQUIT, else exit.
  sigquit_mode sigquit = sigquit_mode::unset;
  // Level-2 goroutine dumps (write_goroutines, SIGQUIT, the deadlock report) show each
  // goroutine's stack high-water mark in its header. Default: GORO_DUMP_STACK (1 enables),
  // else off. Positive: on; negative: off.
  int dump_stack_usage = 0;

  // The diagnostics monitor (docs/diagnostics.md, "Misuse detectors"): a thread that looks
  // for misuse patterns at least this often. Default: GORO_DIAG_INTERVAL_MS, else 500 ms.
  // A negative value turns the monitor, and every detector it runs, off.
  std::chrono::milliseconds monitor_interval{0};
  // Report a goroutine that holds a lock others wait for while it is itself blocked this
  // long. Default: GORO_LOCKHOLD_MS, else 1000 ms. Negative disables the report.
  std::chrono::milliseconds lock_held_threshold{0};
  // Report a goroutine started with go(ctx, fn) still alive this long after ctx was
  // cancelled. Default: GORO_CTXIGNORE_MS, else 1000 ms. Negative disables the report.
  std::chrono::milliseconds context_ignored_threshold{0};
  // Report a goroutine whose stack use at a scheduling point passes this percentage of its
  // stack. Default: GORO_STACKWARN_PCT, else 75. Negative disables; above 100 is an error.
  int stack_warning_percent = 0;
  // The periodic report of goroutines blocked longer than leak_report_min_wait, grouped
  // (kind "leak-report"). Default: GORO_LEAK_REPORT_S, else off. Negative: off.
  std::chrono::milliseconds leak_report_interval{0};
  // Its threshold. Default: GORO_LEAK_MIN_S, else 60 s. Negative: no minimum.
  std::chrono::milliseconds leak_report_min_wait{0};
  // Partial deadlocks (a cycle of goroutines waiting for each other's locks) found by the
  // monitor. Default: GORO_PARTIAL_DEADLOCK (0 disables), else on. Positive: on; negative: off.
  int detect_partial_deadlock = 0;

  // A cancel function dropped without being called ("lostcancel"). Default:
  // GORO_LOSTCANCEL (0 disables), else on. Positive: on; negative: off.
  int detect_lost_cancel = 0;
  // Goroutines provably leaked on a channel whose other side has no handle left (kind
  // "leak"). Default: GORO_CHANLEAK (0 disables), else on. Positive: on; negative: off.
  int detect_channel_leaks = 0;
};

namespace detail {
struct run_state;
void run_main(const options& opts, routine main);
void spawn(routine r);
// pc == nullptr: the site is spawn_from_pc's own return address.
[[gnu::noinline]] void spawn_from_pc(routine r, const void* pc);
}  // namespace detail

// Starts the runtime, runs fn() as goroutine 1 and returns what it returns. Blocks the
// calling thread, which must not be a goroutine. See the file comment for what happens to
// goroutines still alive when fn returns.
template <class F>
auto run(const options& opts, F&& fn) -> std::invoke_result_t<F&> {
  using R = std::invoke_result_t<F&>;
  if constexpr (std::is_void_v<R>) {
    detail::run_main(opts, [&fn] { fn(); });
  } else {
    std::optional<R> result;
    detail::run_main(opts, [&fn, &result] { result.emplace(fn()); });
    return std::move(*result);
  }
}
template <class F>
auto run(F&& fn) -> std::invoke_result_t<F&> {
  return run(options{}, std::forward<F>(fn));
}

// Starts a goroutine running fn(). Callable from a goroutine, inside blocking(), or from a
// plain thread while run() is active (also while goroutine 1 returns: run() waits for such
// calls in flight); throws std::logic_error when no run() is active. The creation site
// (file:line of this call) is recorded for diagnostics.
inline void go(detail::routine fn) { detail::spawn(fn); }

// Starts a goroutine running fn(args...), with the arguments decay-copied (moved from
// rvalues) like std::thread's. The creation site is recorded as a code address.
class context;

template <class F, class A0, class... A>
  requires(!std::is_same_v<std::remove_cvref_t<F>, context>)
[[gnu::always_inline]] inline void go(F&& fn, A0&& a0, A&&... rest) {
  auto bound = [f = std::forward<F>(fn),
                args = std::make_tuple(std::forward<A0>(a0), std::forward<A>(rest)...)]() mutable {
    std::apply(f, std::move(args));
  };
  // The site is the return address of this call, in the function that called go() (go()
  // is inlined there; its own return address would name that function's caller). The
  // empty asm keeps the call from becoming a tail call, which would lose that frame.
  detail::spawn_from_pc(detail::routine(std::move(bound)), nullptr);
  asm volatile("" ::: "memory");
}

// Gives up the processor so other runnable goroutines run; returns later. Goroutine only.
void yield();

// Parks the goroutine (never the thread) for at least d. Goroutine only. d <= 0 yields.
void sleep(std::chrono::nanoseconds d);
template <class Rep, class Period>
void sleep(std::chrono::duration<Rep, Period> d) {
  // Compared in floating point first: a duration out of nanoseconds' range (hours::max(),
  // -hours::max()) saturates instead of overflowing in the conversion.
  const double ns = std::chrono::duration<double, std::nano>(d).count();
  if (ns >= 9.2e18) {
    sleep(std::chrono::nanoseconds::max());
  } else if (ns <= 0) {
    sleep(std::chrono::nanoseconds::zero());
  } else {
    sleep(std::chrono::duration_cast<std::chrono::nanoseconds>(d));
  }
  asm volatile("");  // not a tail call: the caller stays in its goroutine's traceback
}
// Parks until the steady clock reaches t. Goroutine only.
void sleep_until(std::chrono::steady_clock::time_point t);

// Runs fn() on the calling goroutine's thread while that thread gives its processor to other
// goroutines if the call takes long (Go's system-call hand-off): use it around anything that
// blocks the OS thread (file I/O, a blocking C library call). fn must not park the goroutine
// (no channel, mutex or sleep inside); doing so is a fatal error. Goroutine only.
template <class F>
auto blocking(F&& fn) -> std::invoke_result_t<F&>;

namespace detail {
void blocking_enter();
void blocking_exit();
}  // namespace detail

template <class F>
auto blocking(F&& fn) -> std::invoke_result_t<F&> {
  struct exit_guard {
    ~exit_guard() { detail::blocking_exit(); }
  };
  detail::blocking_enter();
  exit_guard guard;
  return fn();
}

namespace this_goroutine {
// The running goroutine's id: 1 for the goroutine running run()'s function, then counting
// up as in Go. 0 when called outside a goroutine.
std::uint64_t id();
}  // namespace this_goroutine

// Number of goroutines that exist now (Go's runtime.NumGoroutine). 0 outside run().
std::size_t num_goroutine();
// Number of processors of the running runtime (Go's GOMAXPROCS). 0 outside run().
int procs();

}  // namespace goro
