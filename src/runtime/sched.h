#pragma once
// The scheduler's state: P (processor: run queue, timers, caches), M (OS thread) and the
// global scheduler (Go's schedt). See docs/design.md, "Runtime", for the whole picture.
//
// Lock order (outermost first; see docs/design.md for the whole library):
//   sched.lock  >  p::timer_lock  >  the registry's lock
// Never switch goroutines or block the thread while holding any of them (park()'s unlock
// function is the one exception, by design).

#include <atomic>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "arch/context.h"
#include "runtime/g.h"
#include "runtime/park.h"
#include "runtime/poller.h"
#include "runtime/racy.h"
#include "runtime/spinlock.h"

namespace goro::detail {

enum class p_status : std::uint8_t {
  idle,     // on sched.pidle; no M
  running,  // owned by an M that runs goroutines or looks for work
  syscall,  // its M is inside blocking(); sysmon may take it back (syscall -> idle)
};

// A processor: the right to run goroutines, with its local run queue.
//
// Run queue invariants (Go's runq): ring[head..tail) are runnable g's. Only the owner P's M
// writes tail and runnext-from-empty; any M may advance head by CAS (stealing). runnext, if
// set, runs before the ring. A g is in at most one queue.
struct p {
  static constexpr std::uint32_t kRunqSize = 256;

  int id = 0;
  std::atomic<p_status> status{p_status::idle};
  racy<m*> owner;      // the M holding it (read by sysmon without a lock)
  p* link = nullptr;   // sched.pidle link (sched.lock)

  std::atomic<std::uint32_t> runq_head{0};
  std::atomic<std::uint32_t> runq_tail{0};
  std::atomic<g*> runq[kRunqSize] = {};
  std::atomic<g*> runnext{nullptr};
  std::uint32_t runnext_streak = 0;  // owner only: consecutive runs taken from runnext

  // Scheduling ticks, read by sysmon.
  std::atomic<std::uint32_t> schedtick{0};
  std::atomic<std::uint32_t> syscalltick{0};

  // Timers (see timer.h).
  spinlock timer_lock;
  std::vector<timer*> timers;  // 4-ary min-heap by when (timer_lock)
  std::atomic<std::int64_t> timer0{0};

  // Caches, owner only: dead g's (without stacks) and free stacks.
  g* gfree = nullptr;
  int ngfree = 0;
  std::vector<stack> stack_cache;
  std::uint64_t goid_next = 0, goid_end = 0;

  // Sysmon's view (sysmon thread only).
  std::uint32_t sysmon_schedtick = 0;
  std::int64_t sysmon_schedwhen = 0;
  std::uint32_t sysmon_reported = ~0u;
  std::uint32_t sysmon_syscalltick = 0;
  std::int64_t sysmon_syscallwhen = 0;
};

// What a goroutine asks its M's scheduler context to do after switching to it.
enum class post_action : std::uint8_t { none, park, yield, exit, syscall_no_p };

// A note: a one-shot futex event an M sleeps on (Go's note).
class note {
 public:
  void sleep();   // until wakeup(); then clears
  void wakeup();  // at most one pending
 private:
  std::atomic<std::uint32_t> key_{0};
};

struct m {
  int id = 0;
  arch::context g0;     // the thread's own stack: the scheduler context
  racy<g*> curg;        // the goroutine it runs (read by the goroutine via current_g())
  racy<p*> pp;          // the P it holds, or null (read by the goroutine)
  racy<p*> oldp;        // the P it held when it entered blocking() (written by goroutines)
  p* nextp = nullptr;   // P handed over by startm() (sched.lock)
  bool spinning = false;
  note park;
  m* link = nullptr;    // sched.midle link (sched.lock)
  std::thread thread;
  int tid = 0;  // the thread's kernel id, set when it starts (the deadlock check's thread census)
  void* altstack = nullptr;

  // Post-switch request from the goroutine (see post_action).
  racy<post_action> action;
  racy<unlock_fn> unlockf;
  racy<void*> unlockarg;

  std::uint64_t fastrand = 0;
};

struct sched_t {
  std::mutex lock;
  // Global run queue (lock).
  g* runq_head = nullptr;
  g* runq_tail = nullptr;
  std::atomic<std::int32_t> runq_size{0};
  // Idle P's and M's (lock).
  p* pidle = nullptr;
  std::atomic<std::int32_t> npidle{0};
  m* midle = nullptr;
  std::vector<m*> allm;  // (lock)
  std::atomic<std::int32_t> nmspinning{0};

  std::vector<p*> allp;  // immutable while running
  int nprocs = 0;

  // The event source idle M's wait on (timers now, network I/O later): at most one M
  // waits in it; poll_until is its deadline (0 = none), valid while polling is true.
  poller poll;
  std::atomic<bool> polling{false};
  std::atomic<std::int64_t> poll_until{0};

  std::atomic<bool> shutdown{false};
  std::atomic<std::uint64_t> goid_gen{0};
  std::atomic<std::int64_t> ngoroutines{0};
  std::atomic<bool> main_done{false};

  std::size_t stack_size = 0;
  std::int64_t longrun_ns = 0;
};

extern sched_t* g_sched;

// A call into the runtime from a thread that is not an M: ready() or go() from a plain
// thread, goroutines(), num_goroutine(). run() stops admitting such calls and waits until
// none is in flight before it frees the scheduler, so a plain thread whose ready() lets
// goroutine 1 return cannot find the scheduler freed under it; a call admitted too late
// sees null and must not touch the runtime. (Calls on M's need no guard: run() joins every
// M first.)
class external_call {
 public:
  external_call();  // counts the call, then sees g_sched or null (see run.cc)
  ~external_call();
  external_call(const external_call&) = delete;
  external_call& operator=(const external_call&) = delete;
  sched_t* sched() const { return s_; }

 private:
  sched_t* s_;
};

// The M of the calling thread (null on threads that are not M's).
m* current_m();

// Scheduler operations (sched.cc).
void runqput(p* pp, g* gp, bool next);
void globrunqput(g* gp);
void wakep();
void startm(p* pp, bool spinning);
void handoffp(p* pp);
void pidleput(p* pp);  // sched.lock held
p* pidleget();         // sched.lock held
void mstart(m* mp);
void set_state(g* gp, g_state from, g_state to);
void wake_poller_for(std::int64_t when);

// Goroutine lifecycle (spawn.cc).
void g_entry(void* arg);
void gfree_put(p* pp, g* gp);
// go(ctx, fn): spawn and record the context the goroutine runs under.
void spawn_with_context(routine& r, std::shared_ptr<const void> ctx);

// Called on goroutine 1 when run()'s function returns (goro::testing's leak check).
extern std::atomic<void (*)()> g_main_exit_check;

// Registry (registry.cc): every g ever allocated.
void registry_init();
void registry_destroy();
// A new chunk of n g's (spawn.cc): they stay until run() ends.
void registry_add_chunk(g* chunk, std::size_t n);
// Which run() is active (or was last): registry_init() advances it at each start, from 1.
// Lets per-run records outlive their run without being mistaken for the next run's
// (timers abandoned at shutdown, time/pending.h).
std::uint64_t run_serial();
// Calls fn for every g that is a goroutine as the walk passes it, without stopping spawns
// or exits: fn reads the identity with read_identity() (g.h) and the other fields as the
// racy snapshot they are. Any thread, while run() is active.
void registry_for_each(void (*fn)(g*, void*), void* arg);

// Fatal errors (fatal.cc): print Go-style and exit with status 2.
[[noreturn]] void fatal(const char* msg);
[[noreturn]] void fatal_stack_overflow(g* gp);
void install_fault_handler();
void thread_signal_stack_init(m* mp);
void thread_signal_stack_free(m* mp);

// Sysmon (sysmon.cc).
void sysmon_start();
void sysmon_stop();

}  // namespace goro::detail
