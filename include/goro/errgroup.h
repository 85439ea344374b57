#pragma once
// goro::errgroup: golang.org/x/sync/errgroup. A group of goroutines working on subtasks of
// one task, with error propagation and an optional limit on how many run at once.
//
//   goro::errgroup g(ctx);                // bound to ctx: cancelled on the first error
//   for (auto& url : urls) g.go([&, url]() -> goro::error { return fetch(g.ctx(), url); });
//   goro::error err = g.wait();           // the first non-nil error, or nil
//
// Guarantees (Go's):
//  - wait() parks until every function started by go() has returned, then returns the first
//    non-nil error any of them returned. Everything a function did happens before wait()
//    returns.
//  - A group made from a context cancels its ctx() the first time a function returns an
//    error (with that error as the cause, see goro::cause) or when wait() returns.
//  - With set_limit(n) (n >= 0) at most n functions run at once: go() parks until a slot is
//    free, try_go() returns false instead. set_limit() while functions are running throws
//    goro::panic("errgroup: modify limit while N goroutines in the group are still active").
//  - An exception escaping a function ends the program like any unrecovered panic.
//  - go() and wait() are goroutine only (they may park).

#include <functional>
#include <memory>

#include "goro/chan.h"
#include "goro/context.h"
#include "goro/detail/source_location.h"
#include "goro/error.h"
#include "goro/wait_group.h"

namespace goro {

class errgroup {
 public:
  // A group not bound to a context.
  errgroup();
  // A group whose ctx() is derived from parent and cancelled on the first error.
  explicit errgroup(const context& parent);
  errgroup(const errgroup&) = delete;
  errgroup& operator=(const errgroup&) = delete;
  ~errgroup();

  void go(std::function<error()> fn, detail::source_location where = detail::source_location::current());
  bool try_go(std::function<error()> fn, detail::source_location where = detail::source_location::current());
  error wait();
  void set_limit(int n);
  // The group's context (background() for a group made without one).
  const context& ctx() const { return ctx_; }

 private:
  void start(std::function<error()> fn, const detail::source_location& where);
  void finish(const error& err);

  context ctx_;
  cancel_cause_func cancel_;
  bool has_cancel_ = false;
  wait_group wg_;
  chan<> sem_;  // nil without a limit; one buffered token per running function
  std::atomic<bool> err_set_{false};
  error err_;  // written once, by the winner of err_set_
};

}  // namespace goro
