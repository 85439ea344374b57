#include "goro/errgroup.h"

#include <string>

#include "goro/panic.h"

namespace goro {

errgroup::errgroup() = default;

errgroup::errgroup(const context& parent) : has_cancel_(true) {
  auto [c, cancel] = with_cancel_cause(parent);
  ctx_ = std::move(c);
  cancel_ = std::move(cancel);
}

errgroup::~errgroup() = default;

void errgroup::finish(const error& err) {
  if (err) {
    bool expect = false;
    if (err_set_.compare_exchange_strong(expect, true, std::memory_order_acq_rel)) {
      err_ = err;
      if (has_cancel_) cancel_(err);
    }
  }
  if (sem_) (void)sem_.recv();
  wg_.done();
}

void errgroup::start(std::function<error()> fn, const detail::source_location& where) {
  wg_.add(1);
  auto body = [this, fn = std::move(fn)] { finish(fn()); };
  goro::go(detail::routine(body, where));
}

void errgroup::go(std::function<error()> fn, detail::source_location where) {
  if (sem_) sem_.send();
  start(std::move(fn), where);
}

bool errgroup::try_go(std::function<error()> fn, detail::source_location where) {
  if (sem_ && sem_.try_send() != chan_status::ok) return false;
  start(std::move(fn), where);
  return true;
}

error errgroup::wait() {
  wg_.wait();
  // wait_group's edge makes err_ (written before done()) visible here.
  if (has_cancel_) cancel_(err_);
  return err_;
}

void errgroup::set_limit(int n) {
  if (n < 0) {
    sem_ = chan<>();
    return;
  }
  if (sem_ && sem_.len() != 0) {
    throw goro::panic("errgroup: modify limit while " + std::to_string(sem_.len()) +
                      " goroutines in the group are still active");
  }
  sem_ = make_chan<>(static_cast<std::size_t>(n));
}

}  // namespace goro
