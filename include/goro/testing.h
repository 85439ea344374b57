#pragma once
// goleak for goro: check that a test leaves no goroutine behind.
//
//   goro::run([] {
//     ... the test ...
//     if (goro::error e = goro::testing::find_leaks()) FAIL() << e.message();
//   });
//
// goleak's API and its goro counterpart:
//   goleak.Find(opts...)                    find_leaks(opts)          here
//   goleak.VerifyNone(t, opts...)           verify_no_leaks(opts)     goro/testing/gtest.h
//   goleak.VerifyTestMain(m, opts...)       verify_test_main(opts)    goro/testing/gtest.h
//   IgnoreTopFunction, IgnoreAnyFunction    leak_options::ignore (substrings)
//   IgnoreCurrent()                         leak_options::ignore_ids = snapshot_current()
// goro/testing/gtest.h also has leak_check_environment, which runs verify_no_leaks() at the
// end of every goro::run() of a GoogleTest binary.
//
// find_leaks() retries as goleak does (sleeps of 1 us, doubling, at most 100 ms between
// checks) until the goroutines other than the caller have finished (they may be on their way
// out) or `grace` has passed. It then returns nil, or an error whose message starts with
// goleak's, each leaked goroutine with its traceback in Go's format (wait reason, frames,
// creation site):
//
//   found unexpected goroutines:
//   [Goroutine 2 in state chan receive, with consume on top of the stack:
//   goroutine 2 [chan receive]:
//   consume(goro::recv_chan<int>)
//   <TAB>/src/app/leak.cc:5 +0x1f
//   created by start in goroutine 1
//   <TAB>/src/app/leak.cc:9
//   ]
//
// Several are joined as Go prints a slice, with a space: each block but the last ends with the
// empty line that separates blocks in a dump, and the next entry starts " Goroutine M in
// state ...". Goroutine only; it blocks the calling goroutine for up to `grace`.
//
// Then, after an empty line, goro's own section: pending timers (goro::debug::pending_timers(),
// goro/leak.h): an after_func timer never stopped, a ticker never stopped, a context deadline
// whose cancel function was not called. Each will start work later (an after_func, a
// goroutine), so it is a leak of the same kind, named by the site that armed it and the time
// left ("found 1 pending timer(s) still armed after 1000 ms:" and one block per timer). The
// grace period applies as to goroutines: a timer is reported only if it is still armed when
// the grace period ends, so one due within it fires first (and its goroutine must then finish
// in time, like any other). The message has no final newline.

#include <chrono>
#include <string>
#include <vector>

#include "goro/error.h"

namespace goro::testing {

struct leak_options {
  // How long to wait for goroutines to exit before calling them leaked. goleak gives up
  // after 20 retries (about 0.43 s); goro's default is longer because sanitizer builds are
  // slower to let goroutines finish.
  std::chrono::milliseconds grace{1000};
  // Goroutines to ignore: a goroutine is ignored if one of these substrings occurs in the
  // function or file of its creation site or of any of its visible frames (goleak's
  // IgnoreTopFunction / IgnoreAnyFunction). A pending timer is ignored if one occurs in
  // the function or file of the call that armed it.
  std::vector<std::string> ignore;
  // Ignore every goroutine that exists now (goleak's IgnoreCurrent): call
  // snapshot_current() at the start of the test and pass the result here. Timers have no
  // ids: ignore those by site, with `ignore`.
  std::vector<unsigned long long> ignore_ids;
};

// The ids of the goroutines alive now (for leak_options::ignore_ids).
std::vector<unsigned long long> snapshot_current();

// goleak.Find: nil, or the error described at the top of this file. Goroutine only.
error find_leaks(const leak_options& opts = {});

// Installs `check` to run on goroutine 1 whenever the main function of a goro::run()
// returns (before the runtime abandons the other goroutines); empty removes it.
void set_main_exit_check(void (*check)());

}  // namespace goro::testing
