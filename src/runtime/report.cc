#include "runtime/report.h"

#include <cstdio>
#include <memory>
#include <mutex>

namespace goro {

namespace {
std::mutex g_report_lock;
std::shared_ptr<report_handler> g_report_handler;  // (g_report_lock)
}  // namespace

void set_report_handler(report_handler h) {
  std::lock_guard<std::mutex> lk(g_report_lock);
  g_report_handler = h ? std::make_shared<report_handler>(std::move(h)) : nullptr;
}

namespace detail {

bool emit_report_to_handler(const report& r) {
  std::shared_ptr<report_handler> h;
  {
    std::lock_guard<std::mutex> lk(g_report_lock);
    h = g_report_handler;
  }
  if (h == nullptr) return false;
  (*h)(r);  // outside the lock: the handler may install another one
  return true;
}

void emit_report(const report& r) {
  if (!emit_report_to_handler(r)) std::fprintf(stderr, "goro: %s\n", r.text.c_str());
}

}  // namespace detail
}  // namespace goro
