#include "runtime/poller.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdint>

#include "runtime/clock.h"
#include "runtime/sched.h"

namespace goro::detail {

poller::poller() {
  epfd_ = epoll_create1(EPOLL_CLOEXEC);
  eventfd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epfd_ < 0 || eventfd_ < 0) fatal("cannot create the scheduler's event source (epoll/eventfd)");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = nullptr;
  epoll_ctl(epfd_, EPOLL_CTL_ADD, eventfd_, &ev);
}

poller::~poller() {
  close(eventfd_);
  close(epfd_);
}

void poller::wait(std::int64_t deadline) {
  epoll_event events[16];
  int n;
  if (deadline == 0) {
    n = epoll_wait(epfd_, events, 16, -1);
  } else {
    std::int64_t d = deadline - clock_now();
    if (d <= 0) return;
    timespec ts{static_cast<time_t>(d / 1'000'000'000), static_cast<long>(d % 1'000'000'000)};
    n = epoll_pwait2(epfd_, events, 16, &ts, nullptr);
    if (n < 0 && errno == ENOSYS) {
      // Milliseconds, rounded up and clamped: d may be near INT64_MAX (an endless sleep).
      std::int64_t ms = d / 1'000'000 + (d % 1'000'000 != 0);
      n = epoll_wait(epfd_, events, 16, ms > INT_MAX ? INT_MAX : static_cast<int>(ms));
    }
  }
  for (int i = 0; i < n; i++) {
    if (events[i].data.ptr == nullptr) {
      std::uint64_t v;
      [[maybe_unused]] ssize_t r = read(eventfd_, &v, sizeof v);
    }
  }
}

void poller::wake() {
  std::uint64_t one = 1;
  [[maybe_unused]] ssize_t r = write(eventfd_, &one, sizeof one);
}

}  // namespace goro::detail
