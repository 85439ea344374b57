#pragma once
// A consistent snapshot of every goroutine: the data behind dumps, deadlock and leak
// detection. Always on: each goroutine always knows its state, wait reason, wait start and
// creation site.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace goro {

enum class goroutine_state : std::uint8_t {
  runnable,  // on a run queue, waiting for a processor
  running,   // executing on a thread
  waiting,   // parked: blocked on a channel, lock, timer, ...
  syscall,   // inside goro::blocking()
  dead,      // finished (never appears in a snapshot)
};
std::string_view to_string(goroutine_state s);

struct goroutine_info {
  std::uint64_t id = 0;
  std::uint64_t parent_id = 0;  // 0 for goroutine 1
  goroutine_state state = goroutine_state::runnable;
  std::string_view wait_reason;  // Go's words ("chan receive", "sleep"...), empty unless waiting
  const void* wait_object = nullptr;  // the channel, mutex... waited on
  // When the current wait (or blocking call) started; zero when not waiting.
  std::chrono::steady_clock::time_point wait_since{};
  const char* created_file = nullptr;      // may be null: then created_pc is set
  const char* created_function = nullptr;  // may be null
  unsigned created_line = 0;
  const void* created_pc = nullptr;
  // The deepest stack use seen at a scheduling point, in bytes: a lower bound of the true
  // peak (deeper calls between two scheduling points are not seen), 0 before the goroutine
  // first parks or yields. Goroutine dumps show it on request (GORO_DUMP_STACK).
  std::size_t stack_high_water = 0;
  std::size_t stack_size = 0;  // the size of each goroutine's stack (options::stack_size)
};

// Every live goroutine, ordered by id. Safe to call from any thread while run() is active
// (returns an empty vector otherwise). O(number of goroutines); takes each registry shard's
// lock in turn while all are held, so the snapshot is consistent.
std::vector<goroutine_info> goroutines();

}  // namespace goro
