// Source sites for reports (sites.h).

#include "diag/sites.h"

#include <cstdio>

#include "diag/snapshot.h"
#include "diag/symbolize.h"

namespace goro::detail {

report_site code_site(const void* pc, const char* role, std::uint64_t goroutine, bool fallback) {
  report_site out;
  out.role = role;
  out.goroutine = goroutine;
  out.pc = pc;
  if (pc == nullptr) return out;
  symbolizer_lock lk;
  const sym_pc& sp = symbolize(reinterpret_cast<std::uintptr_t>(pc));
  const sym_frame* pick = nullptr;
  for (const auto& f : sp.frames) {
    if (f.name.rfind("std::", 0) != 0 && f.name.rfind("goro::", 0) != 0) {
      pick = &f;
      break;
    }
  }
  if (pick == nullptr && fallback && !sp.frames.empty()) pick = &sp.frames.front();
  if (pick != nullptr) {
    out.function = pick->name;
    out.file = pick->file;
    out.line = pick->line;
  }
  return out;
}

report_site created_site(const site& s, std::uint64_t goroutine) {
  if (s.file == nullptr) return code_site(s.pc, "created", goroutine);
  report_site out;
  out.role = "created";
  out.goroutine = goroutine;
  out.function = pretty_function_name(s.function);  // spelled as the dumps' "created by"
  out.file = s.file;
  out.line = s.line;
  return out;
}

std::string site_text(const report_site& s) {
  if (s.function.empty() && s.file.empty()) return s.pc != nullptr ? address_text(s.pc) : "?";
  return s.function + " (" + (s.file.empty() ? "?" : s.file) + ":" + std::to_string(s.line) + ")";
}

std::string address_text(const void* p) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%p", p);
  return buf;
}

}  // namespace goro::detail
