// Leaked goroutines: goro::testing (goleak-style checks) and the run-time grouping of
// long-parked goroutines (goro/leak.h).

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

#include "diag/snapshot.h"
#include "diag/symbolize.h"
#include "diag/leak_report.h"
#include "goro/leak.h"
#include "goro/registry.h"
#include "goro/runtime.h"
#include "goro/testing.h"
#include "runtime/clock.h"
#include "runtime/park.h"
#include "runtime/report.h"
#include "runtime/sched.h"

namespace goro::detail {

namespace {

std::string describe_site(const site& s) {
  char buf[64];
  if (s.file != nullptr) {
    std::snprintf(buf, sizeof buf, ":%u", s.line);
    std::string fn = s.function != nullptr ? split_function_name(s.function).name : std::string("?");
    return fn + " (" + s.file + buf + ")";
  }
  if (s.pc == nullptr) return "?";
  symbolizer_lock lk;
  const sym_pc& sp = symbolize(reinterpret_cast<std::uintptr_t>(s.pc));
  if (sp.frames.empty()) {
    std::snprintf(buf, sizeof buf, "%p", s.pc);
    return buf;
  }
  const sym_frame& f = sp.frames.back();
  std::snprintf(buf, sizeof buf, ":%u", f.line);
  return f.name + " (" + f.file + buf + ")";
}

// The innermost visible frame of g as "function (file:line)", or "" if its stack is not
// available.
std::string blocked_site(const snapshot& s, const g_snap& gs, std::vector<visible_frame>& scratch) {
  if (!gs.has_stack || gs.pc_count == 0) return "";
  scratch.clear();
  visible_frames(s.pcs.data() + gs.pc_begin, gs.pc_count, scratch);
  if (scratch.empty()) return "";
  const sym_frame& f = scratch.front().pc->frames[scratch.front().index];
  char buf[32];
  std::snprintf(buf, sizeof buf, ":%u", f.line);
  return f.name + " (" + (f.file.empty() ? std::string("?") : f.file) + buf + ")";
}

// Whether any ignore pattern occurs in g's creation site or visible frames.
bool ignored(const snapshot& s, const g_snap& gs, const std::vector<std::string>& patterns,
             std::vector<visible_frame>& scratch) {
  if (patterns.empty()) return false;
  auto match = [&](const std::string& text) {
    for (const auto& p : patterns) {
      if (!p.empty() && text.find(p) != std::string::npos) return true;
    }
    return false;
  };
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

std::mutex g_groups_lock;
std::map<std::tuple<std::string, std::string, std::string>, std::size_t> g_prev_groups;  // (g_groups_lock)

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
    return id == self->id || std::find(opts.ignore_ids.begin(), opts.ignore_ids.end(), id) != opts.ignore_ids.end();
  };
  auto deadline = std::chrono::steady_clock::now() + opts.grace;
  std::vector<visible_frame> scratch;
  for (int round = 0;; round++) {
    snapshot s;
    take_snapshot(s, self);
    snapshot leaked;
    leaked.now = s.now;
    leaked.pcs = s.pcs;
    for (const auto& gs : s.gs) {
      if (is_ignored_id(gs.id) || ignored(s, gs, opts.ignore, scratch)) continue;
      leaked.gs.push_back(gs);
    }
    if (leaked.gs.empty()) return {};
    if (std::chrono::steady_clock::now() >= deadline) {
      std::string text;
      format_traceback(leaked, text);
      char head[96];
      std::snprintf(head, sizeof head, "found %zu unexpected goroutine(s) still alive after %lld ms:\n",
                    leaked.gs.size(), static_cast<long long>(opts.grace.count()));
      return error(head + text);
    }
    // Back off like goleak: short sleeps first, then longer ones.
    goro::sleep(std::chrono::microseconds(round < 10 ? 100 : 5000));
  }
}

}  // namespace goro::testing

namespace goro::debug {

using namespace goro::detail;

std::vector<blocked_group> blocked_groups(std::chrono::milliseconds min_wait) {
  snapshot s;
  take_snapshot(s, current_g());
  const std::int64_t now = coarse_now();
  const std::int64_t min_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(min_wait).count();
  std::map<std::tuple<std::string, std::string, std::string>, blocked_group> groups;
  std::vector<visible_frame> scratch;
  for (const auto& gs : s.gs) {
    if (gs.state != g_state::waiting || gs.wait_since == 0 || now - gs.wait_since < min_ns) continue;
    std::string reason(to_string(gs.reason));
    std::string at = blocked_site(s, gs, scratch);
    std::string created = describe_site(gs.created);
    blocked_group& bg = groups[{reason, at, created}];
    if (bg.count == 0) {
      bg.wait_reason = reason;
      bg.blocked_at = at;
      bg.created_at = created;
    }
    bg.count++;
    bg.longest = std::max(bg.longest, std::chrono::seconds((now - gs.wait_since) / 1'000'000'000));
    if (bg.ids.size() < 8) bg.ids.push_back(gs.id);
  }
  std::vector<blocked_group> out;
  std::lock_guard<std::mutex> lk(g_groups_lock);
  std::map<std::tuple<std::string, std::string, std::string>, std::size_t> next;
  for (auto& [key, bg] : groups) {
    auto prev = g_prev_groups.find(key);
    bg.growth = static_cast<long>(bg.count) - (prev == g_prev_groups.end() ? 0L : static_cast<long>(prev->second));
    next[key] = bg.count;
    out.push_back(std::move(bg));
  }
  g_prev_groups = std::move(next);
  std::sort(out.begin(), out.end(), [](const blocked_group& a, const blocked_group& b) {
    return a.count != b.count ? a.count > b.count : a.growth > b.growth;
  });
  return out;
}

std::string leak_report(std::chrono::milliseconds min_wait, std::size_t top) {
  auto groups = blocked_groups(min_wait);
  std::size_t total = 0;
  for (const auto& bg : groups) total += bg.count;
  char buf[256];
  std::snprintf(buf, sizeof buf, "%zu goroutine(s) blocked for more than %lld ms, in %zu group(s)%s\n", total,
                static_cast<long long>(min_wait.count()), groups.size(), groups.size() > top ? "; the largest:" : ":");
  std::string out = buf;
  for (std::size_t i = 0; i < groups.size() && i < top; i++) {
    const auto& bg = groups[i];
    std::snprintf(buf, sizeof buf, "  %zu x [%s] (%+ld since the last report, longest %lld s)\n", bg.count,
                  bg.wait_reason.c_str(), bg.growth, static_cast<long long>(bg.longest.count()));
    out += buf;
    out += "      blocked at " + (bg.blocked_at.empty() ? std::string("(stack unavailable)") : bg.blocked_at) + "\n";
    out += "      created at " + bg.created_at + "\n";
    out += "      e.g. goroutine";
    for (auto id : bg.ids) out += " " + std::to_string(id);
    out += "\n";
  }
  return out;
}

}  // namespace goro::debug

namespace goro::detail {

void report_channel_leak(const std::vector<std::uint64_t>& ids, bool receivers, const void* chan, const void* pc) {
  std::string who;
  for (auto id : ids) who += (who.empty() ? "" : ", ") + std::to_string(id);
  std::string site = "an unknown place";
  if (pc != nullptr) {
    symbolizer_lock lk;
    const sym_pc& sp = symbolize(reinterpret_cast<std::uintptr_t>(pc));
    // The innermost frame of the user's code (the handle's destructor is inlined there).
    for (const auto& f : sp.frames) {
      if (f.name.rfind("goro::", 0) == 0 || f.name.rfind("std::", 0) == 0) continue;
      site = f.name + " (" + (f.file.empty() ? "?" : f.file) + ":" + std::to_string(f.line) + ")";
      break;
    }
  }
  char ch[32];
  std::snprintf(ch, sizeof ch, "%p", chan);
  report r;
  r.kind = "leak";
  r.goroutine = ids.front();
  r.text = std::string(ids.size() == 1 ? "goroutine " : "goroutines ") + who + " leaked: blocked forever in [" +
           (receivers ? "chan receive" : "chan send") + "] on channel " + ch + ", because the last handle able to " +
           (receivers ? "send on or close it" : "receive from it") + " was destroyed in " + site;
  emit_report(r);
}

}  // namespace goro::detail
