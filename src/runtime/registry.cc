// The goroutine registry: every g ever allocated, as Go's allgs. g's are allocated in chunks
// (spawn.cc) and never freed before run() ends, so the registry is a list of chunks that
// only grows, under a lock taken once per chunk. Spawn and exit pay nothing for it: a
// reader walks every g and skips the idle ones, and reads a goroutine's identity
// lock-free, validated by its id (g.h, read_identity()).

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <mutex>

#include "goro/registry.h"
#include "runtime/sched.h"
#include "runtime/stack.h"

namespace goro::detail {

namespace {

struct registry {
  spinlock lock;
  std::vector<g*> chunks;  // (lock)
  std::size_t chunk_len = 0;
};
registry* g_registry = nullptr;
// Written by registry_init() before run() admits any caller (see external_call); relaxed
// loads see it through that edge.
std::atomic<std::uint64_t> g_run_serial{0};

}  // namespace

// Where the g's are, for debuggers: tools/goro-gdb.py walks them in a live process or a
// core file. Kept equal to g_registry's chunks by registry_add_chunk/registry_destroy.
extern "C" {
struct goro_registry_view_t {
  g* const* chunks;       // count pointers, each to chunk_len consecutive g's
  std::size_t count;
  std::size_t chunk_len;
  std::size_t g_size;     // sizeof(g)
};
[[gnu::used]] goro_registry_view_t goro_registry_view = {nullptr, 0, 0, sizeof(g)};
}

void registry_init() {
  delete g_registry;
  g_registry = new registry;
  goro_registry_view.chunks = nullptr;
  goro_registry_view.count = 0;
  g_run_serial.fetch_add(1, std::memory_order_relaxed);
}

std::uint64_t run_serial() { return g_run_serial.load(std::memory_order_relaxed); }

void registry_destroy() {
  goro_registry_view.chunks = nullptr;
  goro_registry_view.count = 0;
  delete g_registry;
  g_registry = nullptr;
}

void registry_add_chunk(g* chunk, std::size_t n) {
  std::lock_guard<spinlock> lk(g_registry->lock);
  g_registry->chunk_len = n;
  g_registry->chunks.push_back(chunk);
  goro_registry_view.chunks = g_registry->chunks.data();
  goro_registry_view.count = g_registry->chunks.size();
  goro_registry_view.chunk_len = n;
}

void registry_for_each(void (*fn)(g*, void*), void* arg) {
  if (g_registry == nullptr) return;
  std::vector<g*> chunks;
  std::size_t n;
  {
    std::lock_guard<spinlock> lk(g_registry->lock);
    chunks = g_registry->chunks;
    n = g_registry->chunk_len;
  }
  for (g* chunk : chunks) {
    for (std::size_t i = 0; i < n; i++) {
      if (chunk[i].id.get_acquire() != 0) fn(&chunk[i], arg);
    }
  }
}

goroutine_state public_state(g_state s) {
  switch (s) {
    case g_state::runnable: return goroutine_state::runnable;
    case g_state::running: return goroutine_state::running;
    case g_state::waiting: return goroutine_state::waiting;
    case g_state::syscall: return goroutine_state::syscall;
    case g_state::idle:
    case g_state::dead: break;
  }
  return goroutine_state::dead;
}

}  // namespace goro::detail

namespace goro {

std::string_view to_string(goroutine_state s) {
  switch (s) {
    case goroutine_state::runnable: return "runnable";
    case goroutine_state::running: return "running";
    case goroutine_state::waiting: return "waiting";
    case goroutine_state::syscall: return "syscall";
    case goroutine_state::dead: return "dead";
  }
  return "unknown";
}

std::vector<goroutine_info> goroutines() {
  std::vector<goroutine_info> out;
  detail::external_call call;  // any thread: run() cannot free the registry meanwhile
  if (call.sched() == nullptr) return out;
  out.reserve(static_cast<std::size_t>(call.sched()->ngoroutines.load(std::memory_order_relaxed)) + 16);
  detail::registry_for_each(
      [](detail::g* gp, void* arg) {
        auto& v = *static_cast<std::vector<goroutine_info>*>(arg);
        detail::g_identity who;
        if (!detail::read_identity(gp, who)) return;
        goroutine_info info;
        info.id = who.id;
        info.parent_id = who.parent_id;
        info.state = detail::public_state(gp->state.load(std::memory_order_relaxed));
        if (info.state == goroutine_state::dead) return;  // exiting: not in a snapshot (registry.h)
        if (info.state == goroutine_state::waiting) {
          info.wait_reason = detail::to_string(gp->reason.get());
          info.wait_object = gp->wait_obj.get();
        }
        std::int64_t since = info.state == goroutine_state::waiting || info.state == goroutine_state::syscall
                                 ? gp->wait_since.get()
                                 : 0;
        if (since != 0) {
          info.wait_since = std::chrono::steady_clock::time_point(std::chrono::nanoseconds(since));
        }
        info.created_file = who.created.file;
        info.created_function = who.created.function;
        info.created_line = who.created.line;
        info.created_pc = who.created.pc;
        info.stack_high_water = detail::stack_high_water(gp, detail::stack_size_configured());
        if (gp->id.get_acquire() != who.id) return;  // recycled while read: what we read may mix two
        v.push_back(info);
      },
      &out);
  std::sort(out.begin(), out.end(), [](const goroutine_info& a, const goroutine_info& b) { return a.id < b.id; });
  for (auto& info : out) info.stack_size = call.sched()->stack_size;
  return out;
}

}  // namespace goro
