#pragma once
// G: a goroutine. The runtime's unit of scheduling (Go's runtime.g).

#include <atomic>
#include <cstdint>
#include <memory>

#include "arch/context.h"
#include "goro/detail/task.h"
#include "runtime/racy.h"
#include "runtime/stack.h"
#include "runtime/timer.h"
#include "runtime/wait_reason.h"

namespace goro::detail {

struct m;

// The life of a goroutine. Transitions go through set_state() (sched.cc), which checks the
// state it leaves.
enum class g_state : std::uint8_t {
  idle,      // on a P's free list; not a goroutine right now (no id, no registry entry)
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

  // Identity: written by the spawner before publication, read-only while alive.
  std::uint64_t id = 0;
  std::uint64_t parent_id = 0;
  site created;

  // Diagnostics, always on. Written by the goroutine itself (or its scheduler context),
  // read by registry snapshots on any thread.
  std::atomic<g_state> state{g_state::idle};
  racy<wait_reason> reason;
  racy<const void*> wait_obj;
  racy<std::int64_t> wait_since;  // clock::now() at park or blocking() entry; 0 otherwise

  // The context the goroutine was started under by go(ctx, fn) (a context_impl), or null.
  // Written by the spawner before publication; released when the goroutine exits.
  std::shared_ptr<const void> start_ctx;

  // Deepest stack use seen at a scheduling point, in bytes (written by the g's M on g0
  // after each switch out; read by the diagnostics monitor).
  racy<std::uint32_t> stack_hw;

  // The rw_mutexes this goroutine holds for reading, as far as recorded (diag/rw_readers.h):
  // a writer that waits for readers to leave waits for these goroutines, which the
  // partial-deadlock detector must know. Written by the goroutine itself (rw pc first, then
  // rw; rw null marks a free slot), read by the diagnostics monitor; cleared at spawn.
  struct read_lock {
    racy<const void*> rw;
    racy<const void*> pc;  // return address of the lock_shared() call
  };
  static constexpr int kReadLocks = 4;
  read_lock read_locks[kReadLocks];

  // The M running this g (null when not running). Written by that M's scheduler context.
  racy<m*> cur_m;

  // Link for the global run queue and the free lists; owned by whichever list holds the g.
  g* schedlink = nullptr;

  // Registry: protected by the lock of registry shard reg_shard.
  g* reg_prev = nullptr;
  g* reg_next = nullptr;
  std::uint16_t reg_shard = 0;

  // The timer used by sleep(): armed only while the g sleeps.
  timer sleep_timer;

  // A word a waker hands to the g it readies (for example which select case fired). Written
  // by the waker before ready(), read by the g after it resumes; ready() is the edge.
  racy<std::uintptr_t> param;
};

}  // namespace goro::detail
