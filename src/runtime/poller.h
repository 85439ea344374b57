#pragma once
// The event source an idle M blocks in: an epoll instance with an eventfd to break the wait.
// Timers are served by its timeout; the netpoller (a later module) registers sockets with
// the same epoll instance, so network readiness and timers share one idle path.

#include <cstdint>

namespace goro::detail {

class poller {
 public:
  poller();
  ~poller();
  poller(const poller&) = delete;
  poller& operator=(const poller&) = delete;

  // Blocks until wake() is called, an event arrives or the deadline (clock_now() units,
  // 0 = none) passes.
  void wait(std::int64_t deadline);
  // Makes a current or the next wait() return. Async-signal-safe.
  void wake();
  int epoll_fd() const { return epfd_; }

 private:
  int epfd_ = -1;
  int eventfd_ = -1;
};

}  // namespace goro::detail
