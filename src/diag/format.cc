// Rendering snapshots in Go's two text formats (see shared spec "goroutine dumps" §1, §2).

#include <algorithm>
#include <cstdio>
#include <map>
#include <string_view>

#include "diag/snapshot.h"
#include "diag/symbolize.h"

namespace goro::detail {

namespace {

constexpr std::size_t kShowInnermost = 50;  // Go >= 1.21: 50 innermost and 50 outermost
constexpr std::size_t kShowOutermost = 50;
constexpr std::int64_t kMinuteNs = 60'000'000'000;

void append_u(std::string& out, unsigned long long v) {
  char buf[24];
  int n = std::snprintf(buf, sizeof buf, "%llu", v);
  out.append(buf, static_cast<std::size_t>(n));
}

void append_hex(std::string& out, unsigned long long v) {
  char buf[24];
  int n = std::snprintf(buf, sizeof buf, "0x%llx", v);
  out.append(buf, static_cast<std::size_t>(n));
}

std::string_view state_word(const g_snap& s) {
  if (s.current) return "running";
  switch (s.state) {
    case g_state::waiting: {
      std::string_view r = to_string(s.reason);
      return r.empty() ? "waiting" : r;
    }
    case g_state::runnable: return "runnable";
    case g_state::running: return "running";
    case g_state::syscall: return "syscall";
    case g_state::idle:
    case g_state::dead: break;
  }
  return "dead";
}

// GCC's std::source_location::function_name() spells some names differently from the
// demangler and from the names built from DWARF: make them read the same.
std::string normalize_pretty(std::string s) {
  for (std::size_t p; (p = s.find("{anonymous}")) != std::string::npos;) s.replace(p, 11, "(anonymous namespace)");
  for (std::size_t p = 0; (p = s.find("<lambda(", p)) != std::string::npos;) {
    std::size_t e = s.find(")>", p);
    if (e == std::string::npos) break;
    s.replace(p, e + 2 - p, "{lambda}");
  }
  return s;
}

// "created by F in goroutine P\n\tfile:line[ +0xoff]\n"
void append_created_by(std::string& out, const g_snap& s) {
  if (s.id == 1) return;
  out += "created by ";
  std::string where;
  if (s.created.pc != nullptr) {
    const sym_pc& e = symbolize(reinterpret_cast<std::uintptr_t>(s.created.pc));
    // The innermost frame that is not goro's own: where go() was called.
    std::size_t i = 0;
    while (i + 1 < e.frames.size() && e.frames[i].runtime) i++;
    const sym_frame& f = e.frames[i];
    out += f.name;
    where = e.text[i].substr(e.text[i].find('\n') + 1);  // "\tfile:line +0x..\n"
  } else {
    out += pretty_function_name(s.created.function);
    where.assign(1, '\t');  // not `= "\t"`: GCC 12 -O3 warns falsely (-Wrestrict, PR105651)
    where += s.created.file != nullptr ? s.created.file : "?";
    where += ':';
    append_u(where, s.created.line);
    where += '\n';
  }
  if (s.parent_id != 0) {
    out += " in goroutine ";
    append_u(out, s.parent_id);
  }
  out += '\n';
  out += where;
}

// Go's text/tabwriter with minwidth 1, tabwidth 8, padding 1, padchar '\t': cells are the
// tab-terminated parts of a line; a column is aligned over the consecutive lines that have
// a cell in it.
class tabwriter {
 public:
  explicit tabwriter(std::string& out) : out_(out) {}
  void line(std::string_view l) {
    std::vector<std::string> cells;
    std::size_t start = 0;
    for (std::size_t i = 0; i < l.size(); i++) {
      if (l[i] == '\t') {
        cells.emplace_back(l.substr(start, i - start));
        start = i + 1;
      }
    }
    cells.emplace_back(l.substr(start));
    lines_.push_back(std::move(cells));
  }
  void flush() {
    format(0, lines_.size());
    lines_.clear();
  }

 private:
  static constexpr std::size_t kTabWidth = 8;
  std::string& out_;
  std::vector<std::vector<std::string>> lines_;
  std::vector<std::size_t> widths_;

  void format(std::size_t line0, std::size_t line1) {
    std::size_t column = widths_.size();
    for (std::size_t i = line0; i < line1; i++) {
      if (column + 1 >= lines_[i].size()) continue;
      write_lines(line0, i);
      line0 = i;
      std::size_t width = 1;  // minwidth
      for (; i < line1 && column + 1 < lines_[i].size(); i++) width = std::max(width, lines_[i][column].size() + 1);
      widths_.push_back(width);
      format(line0, i);
      widths_.pop_back();
      line0 = i;
      i--;  // the loop's i++ must not skip line `i`
    }
    write_lines(line0, line1);
  }

  void write_lines(std::size_t line0, std::size_t line1) {
    for (std::size_t i = line0; i < line1; i++) {
      const auto& cells = lines_[i];
      for (std::size_t j = 0; j < cells.size(); j++) {
        out_.append(cells[j]);
        if (j < widths_.size()) {
          std::size_t cellw = (widths_[j] + kTabWidth - 1) / kTabWidth * kTabWidth;
          std::size_t pad = cellw - cells[j].size();
          out_.append((pad + kTabWidth - 1) / kTabWidth, '\t');
        }
      }
      out_ += '\n';
    }
  }
};

}  // namespace

std::string pretty_function_name(const char* function) {
  return function != nullptr ? normalize_pretty(split_function_name(function).name) : std::string("?");
}

void format_traceback(const snapshot& s, std::string& out) {
  symbolizer_lock lock;
  std::vector<visible_frame> frames;
  bool first = true;
  for (const g_snap& g : s.gs) {
    if (!first) out += '\n';
    first = false;
    out += "goroutine ";
    append_u(out, g.id);
    out += " [";
    out += state_word(g);
    if ((g.state == g_state::waiting || g.state == g_state::syscall) && !g.current && g.wait_since != 0 &&
        s.now - g.wait_since >= kMinuteNs) {
      out += ", ";
      append_u(out, static_cast<unsigned long long>((s.now - g.wait_since) / kMinuteNs));
      out += " minutes";
    }
    if (s.show_stack_of != 0 && g.stack_hw != 0) {
      // Not Go's: an extra item in the brackets, where Go itself adds "locked to thread"
      // and parsers (panicparse, goleak) keep or skip what they do not know.
      out += ", stack high-water ";
      append_u(out, g.stack_hw);
      out += " of ";
      append_u(out, s.show_stack_of);
      out += " bytes";
    }
    out += "]:\n";
    if (!g.has_stack) {
      if (g.state == g_state::running || g.state == g_state::syscall) {
        out += "\tgoroutine running on other thread; stack unavailable\n";
      }
    } else {
      visible_frames(s.pcs.data() + g.pc_begin, g.pc_count, frames);
      std::size_t n = frames.size();
      for (std::size_t i = 0; i < n; i++) {
        if (n > kShowInnermost + kShowOutermost && i == kShowInnermost) {
          out += "...";
          append_u(out, n - kShowInnermost - kShowOutermost);
          out += " frames elided...\n";
          i = n - kShowOutermost;
        }
        out += frames[i].pc->text[frames[i].index];
      }
    }
    append_created_by(out, g);
  }
}

void format_grouped(const snapshot& s, std::string& out) {
  symbolizer_lock lock;
  // Records keyed by their "@ 0x.. 0x.." line.
  std::map<std::string, std::pair<std::size_t, const g_snap*>> records;
  for (const g_snap& g : s.gs) {
    std::string key = "@";
    for (std::uint32_t i = 0; i < g.pc_count; i++) {
      key += ' ';
      append_hex(key, s.pcs[g.pc_begin + i]);
    }
    auto& r = records[key];
    if (r.first++ == 0) r.second = &g;
  }
  std::vector<std::pair<const std::string*, std::pair<std::size_t, const g_snap*>>> sorted;
  for (auto& [k, v] : records) sorted.push_back({&k, v});
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
    return a.second.first > b.second.first;  // by count; the map already ordered keys
  });

  out += "goroutine profile: total ";
  append_u(out, s.gs.size());
  out += '\n';
  tabwriter tw(out);
  std::vector<visible_frame> frames;
  std::string line;
  for (auto& [key, rec] : sorted) {
    line.clear();
    append_u(line, rec.first);
    line += ' ';
    line += *key;
    tw.line(line);
    const g_snap& g = *rec.second;
    visible_frames(s.pcs.data() + g.pc_begin, g.pc_count, frames);
    for (const visible_frame& f : frames) {
      const sym_frame& sf = f.pc->frames[f.index];
      line = "#\t";
      if (sf.name == "?") {
        append_hex(line, f.pc->pc);
      } else {
        append_hex(line, f.pc->pc - 1);
        line += '\t';
        line += sf.name;
        line += '+';
        append_hex(line, f.pc->entry != 0 ? f.pc->pc - 1 - f.pc->entry : 0);
        line += '\t';
        line += sf.file.empty() ? "?" : sf.file;
        line += ':';
        append_u(line, sf.line);
      }
      tw.line(line);
    }
    tw.line("");
  }
  tw.flush();
}

}  // namespace goro::detail
