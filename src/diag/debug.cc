// The public dump API (goro/debug.h).

#include "goro/debug.h"

#include <ostream>
#include <stdexcept>

#include "diag/snapshot.h"
#include "diag/symbolize.h"
#include "runtime/park.h"

namespace goro::debug {

using namespace goro::detail;

std::string goroutines_text(int level) {
  if (level != 1 && level != 2) throw std::invalid_argument("goro::debug: dump level must be 1 or 2");
  snapshot s;
  take_snapshot(s, current_g());
  std::string out;
  out.reserve(s.gs.size() * 160 + 256);
  if (level == 2) {
    format_traceback(s, out);
  } else {
    format_grouped(s, out);
  }
  return out;
}

void write_goroutines(std::ostream& out, int level) {
  std::string text = goroutines_text(level);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
}

std::optional<std::vector<frame>> goroutine_stack(std::uint64_t id) {
  if (id == 0) return std::nullopt;
  snapshot s;
  take_snapshot(s, current_g(), id);
  if (s.gs.empty()) return std::nullopt;
  std::vector<frame> out;
  const g_snap& g = s.gs.front();
  if (!g.has_stack) return out;
  symbolizer_lock lock;
  std::vector<visible_frame> vis;
  visible_frames(s.pcs.data() + g.pc_begin, g.pc_count, vis);
  for (const visible_frame& v : vis) {
    const sym_frame& f = v.pc->frames[v.index];
    out.push_back(frame{f.name + f.params, f.file, f.line, f.inlined, v.pc->pc});
  }
  return out;
}

}  // namespace goro::debug
