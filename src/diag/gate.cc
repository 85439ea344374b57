// The dump gate (see gate.h for the protocol).

#include "diag/gate.h"

#include <linux/membarrier.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <vector>

namespace goro::detail {

std::atomic<std::uint32_t> g_execute_slow{0};

namespace {

std::once_flag g_membarrier_once;
bool g_membarrier_ok = false;  // written once under g_membarrier_once

// The goroutines whose M waits at the gate (g_held_lock).
std::mutex g_held_lock;
std::vector<const g*> g_held;

// A full memory barrier executed by every thread of the process: the heavy half of the
// handshake. membarrier(2) where the kernel has it (Linux 4.14+); otherwise the classic
// fallback (.NET's FlushProcessWriteBuffers): changing the protection of a touched page
// makes the kernel interrupt every CPU running this process to flush its TLB, which
// serialises those CPUs.
void heavy_barrier() {
  heavy_barrier_init();
  if (g_membarrier_ok && syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) == 0) return;
  static std::mutex page_lock;
  static void* page = nullptr;
  std::lock_guard<std::mutex> lk(page_lock);
  if (page == nullptr) {
    page = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) std::abort();
  }
  mprotect(page, 4096, PROT_READ | PROT_WRITE);
  *static_cast<volatile char*>(page) = 1;  // make the page present, so that dropping it shoots down TLBs
  mprotect(page, 4096, PROT_READ);
  // The dumper's own full fence, between the shootdown and its reads of goroutine states:
  // a seq_cst read-modify-write of g_execute_slow (adding 0 changes nothing) instead of
  // std::atomic_thread_fence, which ThreadSanitizer does not model (gcc's -Wtsan). On
  // x86-64 it is one locked instruction, a full barrier like the fence's mfence, and it
  // joins the seq_cst total order next to the fetch_add that raised the gate.
  g_execute_slow.fetch_add(0, std::memory_order_seq_cst);
}

}  // namespace

void heavy_barrier_init() {
  std::call_once(g_membarrier_once, [] {
    long cmds = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
    g_membarrier_ok = cmds > 0 && (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED) != 0 &&
                      syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
  });
}

void dump_gate_wait(g* gp) {
  {
    std::lock_guard<std::mutex> lk(g_held_lock);
    g_held.push_back(gp);
  }
  for (;;) {
    std::uint32_t v = g_execute_slow.load(std::memory_order_acquire);  // pairs with lower()'s release
    if (!dumping(v)) break;
    g_execute_slow.wait(v, std::memory_order_acquire);  // also wakes when tracing is switched
  }
  std::lock_guard<std::mutex> lk(g_held_lock);
  g_held.erase(std::find(g_held.begin(), g_held.end(), gp));
}

void dump_gate_raise() {
  g_execute_slow.fetch_add(1, std::memory_order_seq_cst);
  heavy_barrier();
}

void dump_gate_lower() {
  if (!dumping(g_execute_slow.fetch_sub(1, std::memory_order_release) - 1)) g_execute_slow.notify_all();
}

bool dump_gate_holds(const g* gp) {
  std::lock_guard<std::mutex> lk(g_held_lock);
  return std::find(g_held.begin(), g_held.end(), gp) != g_held.end();
}

}  // namespace goro::detail
