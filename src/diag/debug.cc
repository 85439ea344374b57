// The public dump API (goro/debug.h).

#include "goro/debug.h"

#include <exception>
#include <ostream>
#include <stdexcept>
#include <thread>

#include "diag/snapshot.h"
#include "diag/symbolize.h"
#include "diag/unwind.h"
#include "goro/runtime.h"
#include "runtime/park.h"
#include "runtime/sched.h"

namespace goro::debug {

using namespace goro::detail;

namespace {

constexpr std::size_t kMaxDepth = 1024;

// Takes a snapshot for the calling goroutine (or thread) and runs fn on it. Only the
// caller's own unwinding runs on its stack; the rest (libdw loading debug information,
// symbolizing, formatting) can need more stack than a goroutine has (64 KiB stacks are
// legal), so on a goroutine it runs on a helper thread, which this thread waits for.
template <class F>
void with_snapshot(std::uint64_t only_id, F&& fn) {
  g* self = current_g();
  std::vector<std::uintptr_t> self_pcs(kMaxDepth);
  std::size_t n = 0;
  if (self != nullptr && (only_id == 0 || only_id == self->id.get())) n = unwind_current(self_pcs.data(), kMaxDepth);
  self_pcs.resize(n);
  auto work = [&] {
    snapshot s;
    take_snapshot(s, self, only_id, self_pcs);
    fn(s);
  };
  if (self == nullptr) {
    work();
    return;
  }
  run_on_helper_thread(work);
}

}  // namespace

std::string goroutines_text(int level) {
  if (level != 1 && level != 2) throw std::invalid_argument("goro::debug: dump level must be 1 or 2");
  std::string out;
  with_snapshot(0, [&](const snapshot& s) {
    out.reserve(s.gs.size() * 160 + 256);
    if (level == 2) {
      format_traceback(s, out);
    } else {
      format_grouped(s, out);
    }
  });
  return out;
}

void write_goroutines(std::ostream& out, int level) {
  std::string text = goroutines_text(level);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
}

std::optional<std::vector<frame>> goroutine_stack(std::uint64_t id) {
  if (id == 0) return std::nullopt;
  std::optional<std::vector<frame>> out;
  with_snapshot(id, [&](const snapshot& s) {
    if (s.gs.empty()) return;
    out.emplace();
    const g_snap& g = s.gs.front();
    if (!g.has_stack) return;
    symbolizer_lock lock;
    std::vector<visible_frame> vis;
    visible_frames(s.pcs.data() + g.pc_begin, g.pc_count, vis);
    for (const visible_frame& v : vis) {
      const sym_frame& f = v.pc->frames[v.index];
      out->push_back(frame{f.name + f.params, f.file, f.line, f.inlined, v.pc->pc});
    }
  });
  return out;
}

}  // namespace goro::debug

namespace goro::detail {

void run_on_helper_thread(const std::function<void()>& work) {
  std::exception_ptr error;
  std::thread helper([&] {
    try {
      work();
    } catch (...) {
      error = std::current_exception();
    }
  });
  m* mp = current_m();
  if (mp != nullptr && mp->pp.get() != nullptr) {
    goro::blocking([&] { helper.join(); });
  } else {
    helper.join();
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace goro::detail
