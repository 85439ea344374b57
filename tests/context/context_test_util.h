#pragma once
// Helpers shared by the context tests.

#include <gtest/gtest.h>

#include <chrono>

#include "context/context_impl.h"
#include "goro/goro.h"

namespace ctx_test {

// The library cancel context behind c (null for other kinds).
inline const goro::detail::cancel_ctx* as_cancel(const goro::context& c) {
  return dynamic_cast<const goro::detail::cancel_ctx*>(c.impl().get());
}

// Whether c's done channel is closed, without parking.
inline bool is_done(const goro::context& c) {
  auto d = c.done();
  return d && d.try_recv() == goro::chan_status::closed;
}

// Parks until c is done; false (and a test failure) if that takes more than 5 s.
inline bool wait_done(const goro::context& c) {
  bool timed_out = false;
  auto guard = goro::new_timer(std::chrono::seconds(5));
  goro::select(goro::recv(c.done()), goro::recv(guard.c(), [&] { timed_out = true; }));
  guard.stop();
  EXPECT_FALSE(timed_out) << c.describe() << " not done within 5 s";
  return !timed_out;
}

}  // namespace ctx_test
