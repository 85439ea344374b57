#pragma once
// goleak for goro: check that a test leaves no goroutine behind.
//
//   goro::run([] {
//     ... the test ...
//     if (goro::error e = goro::testing::find_leaks()) FAIL() << e.message();
//   });
//
// or, for a whole GoogleTest binary, goro/testing/gtest.h installs a check that runs when
// every goro::run()'s main function returns.
//
// find_leaks() waits up to `grace` for the goroutines other than the caller to finish (they
// may be on their way out), then returns nil, or an error whose message lists each leaked
// goroutine in Go's traceback format (wait reason, frames, creation site). Goroutine only.
//
// It also lists pending timers (goro::debug::pending_timers(), goro/leak.h): an after_func
// timer never stopped, a ticker never stopped, a context deadline whose cancel function was
// not called. Each will start work later (an after_func, a goroutine), so it is a leak of
// the same kind, named by the site that armed it and the time left. The grace period
// applies as to goroutines: a timer is reported only if it is still armed when the grace
// period ends, so one due within it fires first (and its goroutine must then finish in
// time, like any other).

#include <chrono>
#include <string>
#include <vector>

#include "goro/error.h"

namespace goro::testing {

struct leak_options {
  // How long to wait for goroutines to exit before calling them leaked.
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

error find_leaks(const leak_options& opts = {});

// Installs `check` to run on goroutine 1 whenever the main function of a goro::run()
// returns (before the runtime abandons the other goroutines); empty removes it.
void set_main_exit_check(void (*check)());

}  // namespace goro::testing
