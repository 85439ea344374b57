// The goroutine registry: every live goroutine, in shards so that spawn and exit on
// different P's never contend (O(1) each, one uncontended spinlock). Shard i belongs to P i
// (goroutines are registered in the shard of the P that creates them); the last shard is
// for goroutines created outside any P.

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <mutex>

#include "goro/registry.h"
#include "runtime/sched.h"

namespace goro::detail {

namespace {

struct alignas(64) shard {
  spinlock lock;
  g* head = nullptr;  // (lock)
};
std::vector<shard>* g_shards = nullptr;
// Written by registry_init() before run() admits any caller (see external_call); relaxed
// loads see it through that edge.
std::atomic<std::uint64_t> g_run_serial{0};

}  // namespace

// Where the shards are, for debuggers: tools/goro-gdb.py walks them in a live process or a
// core file. Kept equal to g_shards by registry_init/registry_destroy.
extern "C" {
struct goro_registry_view_t {
  const void* shards;
  std::size_t count;
  std::size_t stride;       // sizeof(shard)
  std::size_t head_offset;  // offsetof(shard, head): the first g, linked by g::reg_next
};
[[gnu::used]] goro_registry_view_t goro_registry_view = {nullptr, 0, sizeof(shard), offsetof(shard, head)};
}

void registry_init(int shards) {
  delete g_shards;
  g_shards = new std::vector<shard>(static_cast<std::size_t>(shards));
  goro_registry_view.shards = g_shards->data();
  goro_registry_view.count = g_shards->size();
  g_run_serial.fetch_add(1, std::memory_order_relaxed);
}

std::uint64_t run_serial() { return g_run_serial.load(std::memory_order_relaxed); }

void registry_destroy() {
  goro_registry_view.shards = nullptr;
  goro_registry_view.count = 0;
  delete g_shards;
  g_shards = nullptr;
}

void registry_add(g* gp, int index) {
  shard& s = (*g_shards)[static_cast<std::size_t>(index)];
  gp->reg_shard = static_cast<std::uint16_t>(index);
  std::lock_guard<spinlock> lk(s.lock);
  gp->reg_prev = nullptr;
  gp->reg_next = s.head;
  if (s.head != nullptr) s.head->reg_prev = gp;
  s.head = gp;
}

void registry_remove(g* gp) {
  shard& s = (*g_shards)[gp->reg_shard];
  std::lock_guard<spinlock> lk(s.lock);
  if (gp->reg_prev != nullptr) {
    gp->reg_prev->reg_next = gp->reg_next;
  } else {
    s.head = gp->reg_next;
  }
  if (gp->reg_next != nullptr) gp->reg_next->reg_prev = gp->reg_prev;
  gp->reg_prev = gp->reg_next = nullptr;
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

std::shared_ptr<const void> registry_take_start_ctx(g* gp) {
  shard& s = (*g_shards)[gp->reg_shard];
  std::lock_guard<spinlock> lk(s.lock);
  return std::move(gp->start_ctx);
}

void registry_for_each_shard(void (*fn)(g*, void*), void* arg) {
  if (g_shards == nullptr) return;
  for (auto& s : *g_shards) {
    std::lock_guard<spinlock> lk(s.lock);
    for (g* gp = s.head; gp != nullptr; gp = gp->reg_next) fn(gp, arg);
  }
}

void registry_for_each(void (*fn)(g*, void*), void* arg) {
  if (g_shards == nullptr) return;
  for (auto& s : *g_shards) s.lock.lock();
  for (auto& s : *g_shards) {
    for (g* gp = s.head; gp != nullptr; gp = gp->reg_next) fn(gp, arg);
  }
  for (auto& s : *g_shards) s.lock.unlock();
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
        goroutine_info info;
        info.id = gp->id;
        info.parent_id = gp->parent_id;
        info.state = detail::public_state(gp->state.load(std::memory_order_relaxed));
        if (info.state == goroutine_state::waiting) {
          info.wait_reason = detail::to_string(gp->reason.get());
          info.wait_object = gp->wait_obj.get();
        }
        std::int64_t since = gp->wait_since.get();
        if (since != 0) {
          info.wait_since = std::chrono::steady_clock::time_point(std::chrono::nanoseconds(since));
        }
        info.created_file = gp->created.file;
        info.created_function = gp->created.function;
        info.created_line = gp->created.line;
        info.created_pc = gp->created.pc;
        info.stack_high_water = gp->stack_hw.get();
        v.push_back(info);
      },
      &out);
  std::sort(out.begin(), out.end(), [](const goroutine_info& a, const goroutine_info& b) { return a.id < b.id; });
  for (auto& info : out) info.stack_size = call.sched()->stack_size;
  return out;
}

}  // namespace goro
