// Leaked goroutines and pending timers: goro::testing (goleak's checks, in goleak's words) and
// the run-time grouping of long-parked goroutines (goro/leak.h).

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "diag/leak_groups.h"
#include "diag/sites.h"
#include "diag/snapshot.h"
#include "diag/symbolize.h"
#include "goro/leak.h"
#include "goro/registry.h"
#include "goro/runtime.h"
#include "goro/testing.h"
#include "runtime/clock.h"
#include "runtime/park.h"
#include "runtime/report.h"
#include "runtime/sched.h"
#include "time/pending.h"

namespace goro::detail {

namespace {

// A recorded site (a go() call, or a timer's arming call, recorded the same way) as
// "function (file:line)".
std::string describe_site(const site& s) { return site_text(created_site(s, 0)); }

// The innermost visible frame of g (role "blocked"), with the return address it is in; an
// empty site (no pc) if g's stack is not available.
report_site blocked_site(const snapshot& s, const g_snap& gs, std::vector<visible_frame>& scratch) {
  report_site out;
  out.role = "blocked";
  if (!gs.has_stack || gs.pc_count == 0) return out;
  scratch.clear();
  visible_frames(s.pcs.data() + gs.pc_begin, gs.pc_count, scratch);
  if (scratch.empty()) return out;
  const visible_frame& v = scratch.front();
  const sym_frame& f = v.pc->frames[v.index];
  out.function = f.name;
  out.file = f.file;
  out.line = f.line;
  out.pc = reinterpret_cast<const void*>(v.pc->pc);
  return out;
}

// Whether any of the (non-empty) patterns occurs in text.
bool matches_any(const std::string& text, const std::vector<std::string>& patterns) {
  for (const auto& p : patterns) {
    if (!p.empty() && text.find(p) != std::string::npos) return true;
  }
  return false;
}

// Whether any ignore pattern occurs in g's creation site or visible frames.
bool ignored(const snapshot& s, const g_snap& gs, const std::vector<std::string>& patterns,
             std::vector<visible_frame>& scratch) {
  if (patterns.empty()) return false;
  auto match = [&](const std::string& text) { return matches_any(text, patterns); };
  if (match(describe_site(gs.created))) return true;
  if (!gs.has_stack) return false;
  scratch.clear();
  visible_frames(s.pcs.data() + gs.pc_begin, gs.pc_count, scratch);
  for (const auto& v : scratch) {
    const sym_frame& f = v.pc->frames[v.index];
    if (match(f.name) || match(f.file)) return true;
  }
  return false;
}

// A duration as Go's time.Duration prints it ("1h0m0s", "59m59.95s", "9.5ms"), truncated to
// three decimals of its unit.
std::string go_duration(std::int64_t ns) {
  if (ns <= 0) return "0s";
  // "<whole>.<frac>" with frac in thousandths, trailing zeros (and a bare dot) dropped.
  auto decimal = [](std::int64_t whole, std::int64_t thousandths, const char* unit) {
    char buf[48];
    int n = std::snprintf(buf, sizeof buf, "%lld.%03lld", static_cast<long long>(whole),
                          static_cast<long long>(thousandths));
    while (n > 0 && buf[n - 1] == '0') n--;
    if (n > 0 && buf[n - 1] == '.') n--;
    return std::string(buf, static_cast<std::size_t>(n)) + unit;
  };
  if (ns < 1'000) return std::to_string(ns) + "ns";
  if (ns < 1'000'000) return decimal(ns / 1'000, ns % 1'000, "\u00b5s");
  if (ns < 1'000'000'000) return decimal(ns / 1'000'000, ns / 1'000 % 1'000, "ms");
  const std::int64_t ms = ns / 1'000'000;
  const std::int64_t h = ms / 3'600'000, m = ms / 60'000 % 60;
  std::string sec = decimal(ms / 1'000 % 60, ms % 1'000, "s");
  if (h > 0) return std::to_string(h) + "h" + std::to_string(m) + "m" + sec;
  if (m > 0) return std::to_string(m) + "m" + sec;
  return sec;
}

const char* kind_name(timer_kind k) {
  switch (k) {
    case timer_kind::after_func: return "after_func";
    case timer_kind::ticker: return "ticker";
    case timer_kind::context_deadline: return "context deadline";
    case timer_kind::channel: break;
  }
  return "timer";
}

// The pending timers of this run not matched by `ignore`, the soonest first.
std::vector<pending_timer_snap> pending_not_ignored(const std::vector<std::string>& ignore) {
  std::vector<pending_timer_snap> out;
  pending_timers(out);
  if (!ignore.empty()) {
    out.erase(std::remove_if(out.begin(), out.end(),
                             [&](const pending_timer_snap& t) { return matches_any(describe_site(t.where), ignore); }),
              out.end());
  }
  std::sort(out.begin(), out.end(),
            [](const pending_timer_snap& a, const pending_timer_snap& b) { return a.when < b.when; });
  return out;
}

// One pending timer in the style of a goroutine's traceback entry:
//   after_func timer [fires in 59m59.95s]:
//   armed by F
//   <tab>file:line
void format_pending_timer(const pending_timer_snap& t, std::int64_t now, std::string& out) {
  // "in 59m59.95s", or "now" for a timer due (its fire may be in flight).
  const std::string when = t.when > now ? "in " + go_duration(t.when - now) : std::string("now");
  switch (t.kind) {
    case timer_kind::ticker:
      out += "ticker [every " + go_duration(t.period) + ", next tick " + when + "]:\n";
      break;
    case timer_kind::context_deadline:
      out += "context deadline timer [expires " + when + ", context not cancelled]:\n";
      break;
    default:
      out += std::string(kind_name(t.kind)) + " timer [fires " + when + "]:\n";
      break;
  }
  out += "armed by " + pretty_function_name(t.where.function) + "\n\t";
  out += t.where.file != nullptr ? t.where.file : "?";
  out += ":" + std::to_string(t.where.line) + "\n";
}

// The baseline of the public blocked_groups() and leak_report(): "growth since the previous
// call". The periodic report keeps its own (in the monitor), so neither moves the other's.
std::mutex g_user_baseline_lock;
blocked_baseline g_user_baseline;  // (g_user_baseline_lock)

// The title of a goroutine's entry in goleak's message: "Goroutine N in state S, with F on top
// of the stack:\n". S is what its block's header has in brackets (wait reason or state, and
// ", N minutes"), as goleak parses it; F the function of the block's first frame, "?" when the
// stack is not available (a goroutine running on another thread).
std::string goleak_title(const snapshot& s, const g_snap& gs, const std::string& block,
                         std::vector<visible_frame>& scratch) {
  const std::size_t open = block.find('[');
  const std::size_t close = block.find("]:\n");
  std::string state = open < close && close != std::string::npos ? block.substr(open + 1, close - open - 1) : "?";
  std::string top = "?";
  if (gs.has_stack && gs.pc_count != 0) {
    visible_frames(s.pcs.data() + gs.pc_begin, gs.pc_count, scratch);
    if (!scratch.empty()) top = scratch.front().pc->frames[scratch.front().index].name;
  }
  return "Goroutine " + std::to_string(gs.id) + " in state " + state + ", with " + top + " on top of the stack:\n";
}

// find_leaks()'s message. First the goroutines exactly as goleak.Find words them (shared spec
// go-testing-tools.md, section 2): "found unexpected goroutines:\n[", one entry per goroutine
// (its title line, then its block of Go's traceback, so its frames and creation site), the
// entries separated as in a dump by an empty line and, as Go prints a slice, by a space; then
// "]". Then goro's own section: the pending timers. No final newline.
std::string format_leaks(snapshot& leaked, const std::vector<pending_timer_snap>& timers,
                         std::chrono::milliseconds grace) {
  std::string text;
  if (!leaked.gs.empty()) {
    symbolizer_lock lk;
    std::vector<visible_frame> scratch;
    text += "found unexpected goroutines:\n[";
    snapshot one;  // each goroutine's block on its own: format_traceback() renders whole snapshots
    one.now = leaked.now;
    one.pcs = std::move(leaked.pcs);
    for (std::size_t i = 0; i < leaked.gs.size(); i++) {
      one.gs.assign(1, leaked.gs[i]);
      std::string block;
      format_traceback(one, block);
      if (i > 0) text += "\n ";
      text += goleak_title(one, leaked.gs[i], block, scratch);
      text += block;
    }
    text += "]";
  }
  if (!timers.empty()) {
    if (!text.empty()) text += "\n\n";
    char head[128];
    std::snprintf(head, sizeof head, "found %zu pending timer(s) still armed after %lld ms:\n", timers.size(),
                  static_cast<long long>(grace.count()));
    text += head;
    const std::int64_t now = clock_now();
    for (std::size_t i = 0; i < timers.size(); i++) {
      if (i > 0) text += "\n";
      format_pending_timer(timers[i], now, text);
    }
    text.pop_back();  // the last block's newline
  }
  return text;
}

}  // namespace

}  // namespace goro::detail

namespace goro::testing {

using namespace goro::detail;

std::vector<unsigned long long> snapshot_current() {
  std::vector<unsigned long long> ids;
  for (const auto& g : goro::goroutines()) ids.push_back(g.id);
  return ids;
}

void set_main_exit_check(void (*check)()) { g_main_exit_check.store(check, std::memory_order_release); }

error find_leaks(const leak_options& opts) {
  g* self = require_g("goro::testing::find_leaks");
  auto is_ignored_id = [&](std::uint64_t id) {
    return id == self->id.get() || std::find(opts.ignore_ids.begin(), opts.ignore_ids.end(), id) != opts.ignore_ids.end();
  };
  const auto deadline = std::chrono::steady_clock::now() + opts.grace;
  std::vector<visible_frame> scratch;
  for (int attempt = 0;; attempt++) {
    snapshot s;
    take_snapshot(s, self);
    snapshot leaked;
    leaked.now = s.now;
    leaked.pcs = std::move(s.pcs);
    for (const auto& gs : s.gs) {
      if (is_ignored_id(gs.id) || ignored(leaked, gs, opts.ignore, scratch)) continue;
      leaked.gs.push_back(gs);
    }
    // Timers after goroutines: an after_func that fires in between shows up as a goroutine
    // next round rather than in neither list.
    std::vector<pending_timer_snap> timers = pending_not_ignored(opts.ignore);
    if (leaked.gs.empty() && timers.empty()) return {};
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return error(format_leaks(leaked, timers, opts.grace));
    // goleak's retry policy: sleep 1 us << attempt, at most 100 ms, until the grace period
    // ends (goleak: 20 attempts, about 0.43 s in all).
    auto pause = std::min<std::chrono::steady_clock::duration>(
        std::min(std::chrono::microseconds(std::int64_t{1} << std::min(attempt, 20)),
                 std::chrono::microseconds(100'000)),
        deadline - now);
    goro::sleep(pause);
  }
}

}  // namespace goro::testing

namespace goro::detail {

std::vector<blocked_group_sites> blocked_groups(std::chrono::milliseconds min_wait, blocked_baseline& base) {
  snapshot s;
  take_snapshot(s, current_g());
  const std::int64_t now = coarse_now();
  const std::int64_t min_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(min_wait).count();
  // A new run() is a new program: counts from an earlier one say nothing about this one's
  // goroutines (theirs were abandoned when it returned).
  if (base.run != run_serial()) {
    base.counts.clear();
    base.run = run_serial();
  }
  std::map<blocked_baseline::key, blocked_group_sites> groups;
  std::vector<visible_frame> scratch;
  for (const auto& gs : s.gs) {
    if (gs.state != g_state::waiting || gs.wait_since == 0 || now - gs.wait_since < min_ns) continue;
    std::string reason(to_string(gs.reason));
    report_site at = blocked_site(s, gs, scratch);
    report_site created = created_site(gs.created, 0);
    std::string at_text = at.pc != nullptr ? site_text(at) : std::string();
    std::string created_text = site_text(created);
    blocked_group_sites& grp = groups[{reason, at_text, created_text}];
    goro::debug::blocked_group& bg = grp.group;
    if (bg.count == 0) {
      bg.wait_reason = std::move(reason);
      bg.blocked_at = std::move(at_text);
      bg.created_at = std::move(created_text);
      grp.blocked = std::move(at);
      grp.created = std::move(created);
    }
    bg.count++;
    bg.longest = std::max(bg.longest, std::chrono::seconds((now - gs.wait_since) / 1'000'000'000));
    if (bg.ids.size() < 8) bg.ids.push_back(gs.id);
  }
  std::vector<blocked_group_sites> out;
  std::map<blocked_baseline::key, std::size_t> next;
  for (auto& [key, grp] : groups) {
    auto prev = base.counts.find(key);
    grp.group.growth =
        static_cast<long>(grp.group.count) - (prev == base.counts.end() ? 0L : static_cast<long>(prev->second));
    next[key] = grp.group.count;
    out.push_back(std::move(grp));
  }
  base.counts = std::move(next);
  std::sort(out.begin(), out.end(), [](const blocked_group_sites& a, const blocked_group_sites& b) {
    return a.group.count != b.group.count ? a.group.count > b.group.count : a.group.growth > b.group.growth;
  });
  return out;
}

report leak_report(std::chrono::milliseconds min_wait, std::size_t top, blocked_baseline& base) {
  auto groups = blocked_groups(min_wait, base);
  std::size_t total = 0;
  for (const auto& grp : groups) total += grp.group.count;
  report r;
  r.kind = "leak-report";
  char buf[256];
  std::snprintf(buf, sizeof buf, "%zu goroutine(s) blocked for more than %lld ms, in %zu group(s)%s", total,
                static_cast<long long>(min_wait.count()), groups.size(), groups.size() > top ? "; the largest:" : ":");
  r.text = buf;
  r.values.push_back({"min_wait_ms", static_cast<std::int64_t>(min_wait.count())});
  r.values.push_back({"total", static_cast<std::int64_t>(total)});
  r.values.push_back({"groups", static_cast<std::int64_t>(groups.size())});
  for (std::size_t i = 0; i < groups.size() && i < top; i++) {
    const auto& bg = groups[i].group;
    std::snprintf(buf, sizeof buf, "\n  %zu x [%s] (%+ld since the last report, longest %lld s)\n", bg.count,
                  bg.wait_reason.c_str(), bg.growth, static_cast<long long>(bg.longest.count()));
    r.text += buf;
    r.text += "      blocked at " + (bg.blocked_at.empty() ? std::string("(stack unavailable)") : bg.blocked_at) + "\n";
    r.text += "      created at " + bg.created_at + "\n";
    r.text += "      e.g. goroutine";
    for (auto id : bg.ids) {
      r.text += ' ';  // appended piecewise: `" " + to_string()` trips GCC 12's false -Wrestrict at -O3
      r.text += std::to_string(id);
    }
    r.goroutines.insert(r.goroutines.end(), bg.ids.begin(), bg.ids.end());
    r.sites.push_back(groups[i].blocked);
    r.sites.push_back(groups[i].created);
    r.values.push_back({"count", static_cast<std::int64_t>(bg.count)});
    r.values.push_back({"growth", static_cast<std::int64_t>(bg.growth)});
  }
  return r;
}

}  // namespace goro::detail

namespace goro::debug {

using namespace goro::detail;

std::vector<blocked_group> blocked_groups(std::chrono::milliseconds min_wait) {
  std::vector<blocked_group_sites> groups;
  {
    std::lock_guard<std::mutex> lk(g_user_baseline_lock);
    groups = detail::blocked_groups(min_wait, g_user_baseline);
  }
  std::vector<blocked_group> out;
  out.reserve(groups.size());
  for (auto& grp : groups) out.push_back(std::move(grp.group));
  return out;
}

std::vector<pending_timer> pending_timers() {
  std::vector<pending_timer_snap> snaps = pending_not_ignored({});
  const std::int64_t now = clock_now();
  std::vector<pending_timer> out;
  out.reserve(snaps.size());
  for (const auto& t : snaps) {
    pending_timer p;
    p.kind = kind_name(t.kind);
    p.armed_at = describe_site(t.where);
    p.remaining = std::chrono::nanoseconds(std::max<std::int64_t>(t.when - now, 0));
    p.period = std::chrono::nanoseconds(t.period);
    out.push_back(std::move(p));
  }
  return out;
}

std::string leak_report(std::chrono::milliseconds min_wait, std::size_t top) {
  std::lock_guard<std::mutex> lk(g_user_baseline_lock);
  return detail::leak_report(min_wait, top, g_user_baseline).text + "\n";
}

}  // namespace goro::debug
