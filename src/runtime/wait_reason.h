#pragma once
// Why a goroutine is parked, in Go's words (runtime2.go's waitReasonStrings), so that dumps
// read exactly like Go's. Every park passes one of these.

#include <cstdint>
#include <string_view>

namespace goro::detail {

enum class wait_reason : std::uint8_t {
  none,
  chan_receive,      // "chan receive"
  chan_send,         // "chan send"
  chan_receive_nil,  // "chan receive (nil chan)"
  chan_send_nil,     // "chan send (nil chan)"
  select,            // "select"
  select_no_cases,   // "select (no cases)"
  sleep,             // "sleep"
  mutex_lock,        // "sync.Mutex.Lock"
  rwmutex_rlock,     // "sync.RWMutex.RLock"
  rwmutex_lock,      // "sync.RWMutex.Lock"
  cond_wait,         // "sync.Cond.Wait"
  waitgroup_wait,    // "sync.WaitGroup.Wait"
  semacquire,        // "semacquire"
  io_wait,           // "IO wait"
  once_wait,         // "sync.Once.Do" (goro: a caller waiting for the first Do to finish)
  count_,
};

inline std::string_view to_string(wait_reason r) {
  switch (r) {
    case wait_reason::none: return "";
    case wait_reason::chan_receive: return "chan receive";
    case wait_reason::chan_send: return "chan send";
    case wait_reason::chan_receive_nil: return "chan receive (nil chan)";
    case wait_reason::chan_send_nil: return "chan send (nil chan)";
    case wait_reason::select: return "select";
    case wait_reason::select_no_cases: return "select (no cases)";
    case wait_reason::sleep: return "sleep";
    case wait_reason::mutex_lock: return "sync.Mutex.Lock";
    case wait_reason::rwmutex_rlock: return "sync.RWMutex.RLock";
    case wait_reason::rwmutex_lock: return "sync.RWMutex.Lock";
    case wait_reason::cond_wait: return "sync.Cond.Wait";
    case wait_reason::waitgroup_wait: return "sync.WaitGroup.Wait";
    case wait_reason::semacquire: return "semacquire";
    case wait_reason::io_wait: return "IO wait";
    case wait_reason::once_wait: return "sync.Once.Do";
    case wait_reason::count_: break;
  }
  return "";
}

}  // namespace goro::detail
