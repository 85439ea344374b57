#pragma once
// The dump gate: while a goroutine dump is in progress no M switches to a goroutine, so the
// stacks being unwound hold still. Only the dumper pays; the scheduler's hot path pays one
// relaxed load.
//
// Protocol (an asymmetric Dekker handshake, like folly's asymmetric_thread_fence_light/heavy):
//  - An M that is about to resume gp first marks it running (set_state), then calls
//    dump_gate(gp) before it touches gp's context or stack. dump_gate() is a compiler
//    barrier plus a relaxed load of g_execute_slow: no fence instruction.
//  - The dumper raises g_execute_slow, then runs heavy_barrier() (membarrier(2)): every other
//    thread executes a full fence at some point during that call. For each M, either its
//    load of g_execute_slow comes after that point (it sees the gate and waits in
//    dump_gate_wait() before touching gp), or its "running" store came before it (the
//    dumper, reading states after heavy_barrier() returns, sees gp running and leaves its
//    stack alone).
//  - A goroutine the dumper sees waiting or runnable therefore cannot resume until the gate
//    is lowered; its saved context and stack are stable.
//  - An M waiting at the gate records gp in a list the dumper can read, so a goroutine that
//    was about to resume is still dumped with its stack (as runnable), not as "running".

#include <atomic>
#include <cstdint>

namespace goro::detail {

struct g;

// Non-zero while execute() must take its slow path (execute_hooks() in sched.cc): the low
// bits count the dumps in progress (dumps may overlap), kTracingBit is set while an
// execution-tracer table is installed (trace.cc). One word, so that the scheduler's hot path
// tests both with one load.
extern std::atomic<std::uint32_t> g_execute_slow;
constexpr std::uint32_t kTracingBit = 1u << 31;

inline bool dumping(std::uint32_t word) { return (word & ~kTracingBit) != 0; }

// Slow path of dump_gate(): waits until no dump is in progress.
[[gnu::noinline, gnu::cold]] void dump_gate_wait(g* gp);

// Call on the scheduler context after gp is marked running and before gp's context is
// touched or switched to. execute() inlines the same test, shared with the tracer's.
inline void dump_gate(g* gp) {
  // Keeps the caller's state store before the load (pairs with heavy_barrier() in the
  // dumper; see the file comment). Costs no instruction.
  std::atomic_signal_fence(std::memory_order_seq_cst);
  if (dumping(g_execute_slow.load(std::memory_order_relaxed))) [[unlikely]] {
    dump_gate_wait(gp);
  }
}

// The dumper's side: raise() closes the gate and returns once every M either waits at it
// or is known (by gp's state) to be past it; lower() opens it again.
void dump_gate_raise();
void dump_gate_lower();
// True if gp is held at the gate (call between raise and lower): its context is stable.
bool dump_gate_holds(const g* gp);

// Registers the process for expedited membarrier(2) (once; cheap to call again).
void heavy_barrier_init();

}  // namespace goro::detail
