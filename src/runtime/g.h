#pragma once
// G: a goroutine. The runtime's unit of scheduling (Go's runtime.g).

#include <atomic>
#include <cstdint>
#include <memory>

#include "arch/context.h"
#include "goro/detail/task.h"
#include "runtime/racy.h"
#include "runtime/spinlock.h"
#include "runtime/stack.h"
#include "runtime/timer.h"
#include "runtime/wait_reason.h"

namespace goro::detail {

struct m;

// The life of a goroutine. Transitions go through set_state() (sched.cc), which checks the
// state it leaves.
enum class g_state : std::uint8_t {
  idle,      // on a P's free list; not a goroutine right now (id 0)
  runnable,  // on exactly one run queue (a P's runnext or ring, or the global queue)
  running,   // executing on an M that owns a P
  waiting,   // parked; on no run queue; whoever holds its wake-up calls ready()
  syscall,   // inside blocking(): running on an M that may have lost its P
  dead,      // returned; being recycled by its M's scheduler context
};

struct g {
  // Saved context while not running. Written by the switch on whichever thread runs it;
  // ownership passes with the run queues (whoever dequeued the g owns it).
  arch::context ctx;
  // The goroutine's function. Written by the spawner before the g is published (the publish
  // is the go()-happens-before-start edge), consumed by the goroutine itself.
  task_slot task;
  // Assigned when the goroutine first runs; returned when it exits.
  stack stk;

  // Identity: written by the spawner before publication, read-only while alive. Lock-free
  // readers on other threads (the registry, registry.cc) see every g ever allocated, idle
  // ones and ones being recycled included, so id doubles as a sequence number: exit sets
  // it to 0, the spawner writes the other fields (release stores) and the new id last.
  // A reader takes id (acquire), the fields (acquire), then id again: if both are the
  // same non-zero id, what it read belongs to that goroutine (read_identity()).
  racy<std::uint64_t> id;
  racy<std::uint64_t> parent_id;
  struct racy_site {
    racy<const char*> file;
    racy<const char*> function;
    racy<unsigned> line;
    racy<const void*> pc;
    site get() const { return {file.get(), function.get(), line.get(), pc.get()}; }
    site get_acquire() const { return {file.get_acquire(), function.get_acquire(), line.get_acquire(), pc.get_acquire()}; }
    void set_release(const site& s) {
      file.set_release(s.file);
      function.set_release(s.function);
      line.set_release(s.line);
      pc.set_release(s.pc);
    }
  } created;

  // Diagnostics, always on. Written by the goroutine itself (or its scheduler context),
  // read by registry snapshots on any thread. reason and wait_obj describe the current wait
  // only while state is waiting, wait_since only while it is waiting or syscall: park()
  // sets them and nothing clears them after (readers look at state first), which keeps
  // three stores off every wake-up.
  std::atomic<g_state> state{g_state::idle};
  racy<wait_reason> reason;
  racy<const void*> wait_obj;
  racy<std::int64_t> wait_since;  // coarse clock at park or blocking() entry

  // The context the goroutine was started under by go(ctx, fn) (a context_impl), or null.
  // Written by the spawner before publication, taken out by the goroutine when its function
  // returns; only ever non-null for go(ctx, fn), and then changed and read by others (the
  // diagnostics monitor) under ctx_lock only. The goroutine may test it without the lock:
  // nobody else writes it.
  std::shared_ptr<const void> start_ctx;
  spinlock ctx_lock;

  // For the stack high-water mark (stack_high_water() below): the lowest stack pointer
  // seen at a scheduling point (written by the g's M on g0 after each switch out; all ones
  // before the first), and the top of the stack the g runs on (written when the stack is
  // assigned). A pointer compare per switch; the subtraction is the reader's.
  racy<std::uintptr_t> min_sp;
  racy<std::uintptr_t> stack_top;

  // The rw_mutexes this goroutine holds for reading, as far as recorded (diag/rw_readers.h):
  // a writer that waits for readers to leave waits for these goroutines, which the
  // partial-deadlock detector must know. Written by the goroutine itself (rw pc first, then
  // rw; rw null marks a free slot), read by the diagnostics monitor.
  struct read_lock {
    racy<const void*> rw;
    racy<const void*> pc;  // return address of the lock_shared() call
  };
  static constexpr int kReadLocks = 4;
  read_lock read_locks[kReadLocks];
  // The goroutine (id) the records belong to: the first read lock a goroutine records
  // clears what an earlier goroutine on this g left (it may have exited holding one), and
  // readers ignore records of another id. Spawn pays nothing for it.
  racy<std::uint64_t> read_locks_of;

  // The M running this g (null when not running). Written by that M's scheduler context.
  racy<m*> cur_m;

  // Link for the global run queue and the free lists; owned by whichever list holds the g.
  g* schedlink = nullptr;

  // The timer used by sleep(): armed only while the g sleeps.
  timer sleep_timer;

  // A word a waker hands to the g it readies (for example which select case fired). Written
  // by the waker before ready(), read by the g after it resumes; ready() is the edge.
  racy<std::uintptr_t> param;
};

// A consistent copy of a g's identity for a reader on any thread (see g::id); false if
// the g is not a goroutine right now or was recycled while being read.
struct g_identity {
  std::uint64_t id = 0;
  std::uint64_t parent_id = 0;
  site created;
};
inline bool read_identity(const g* gp, g_identity& out) {
  out.id = gp->id.get_acquire();
  if (out.id == 0) return false;
  out.parent_id = gp->parent_id.get_acquire();
  out.created = gp->created.get_acquire();
  return gp->id.get_acquire() == out.id;
}

// Deepest stack use seen at a scheduling point, in bytes: a lower bound of the true peak
// (deeper calls between scheduling points are not seen). Racy reads from any thread: a
// value mixed from two lives of the g (a new stack, a reset) reads as 0, never as garbage.
inline std::uint32_t stack_high_water(const g* gp, std::size_t stack_size) {
  std::uintptr_t top = gp->stack_top.get(), sp = gp->min_sp.get();
  if (sp >= top || top - sp > stack_size) return 0;
  return static_cast<std::uint32_t>(top - sp);
}

}  // namespace goro::detail
