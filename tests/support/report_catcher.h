#pragma once
// Collects the reports goro emits (goro::set_report_handler) while a test runs: those of one
// kind (every kind if the kind is empty), and all of them. Installed for its lifetime.

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "goro/goro.h"

namespace goro_test {

class report_catcher {
 public:
  explicit report_catcher(std::string kind = "") : kind_(std::move(kind)) {
    goro::set_report_handler([this](const goro::report& r) {
      std::lock_guard<std::mutex> lk(mu_);
      all_.push_back(r);
      if (kind_.empty() || r.kind == kind_) reports_.push_back(r);
    });
  }
  ~report_catcher() { goro::set_report_handler(nullptr); }
  report_catcher(const report_catcher&) = delete;
  report_catcher& operator=(const report_catcher&) = delete;

  // The reports of the kind given at construction.
  std::vector<goro::report> get() {
    std::lock_guard<std::mutex> lk(mu_);
    return reports_;
  }
  // The reports of another kind.
  std::vector<goro::report> get(const std::string& kind) {
    std::lock_guard<std::mutex> lk(mu_);
    std::vector<goro::report> out;
    for (const auto& r : all_) {
      if (r.kind == kind) out.push_back(r);
    }
    return out;
  }
  // On a goroutine: parks (sleeping) until a report of the kind arrived or `max` passed.
  bool wait(std::chrono::milliseconds max = std::chrono::milliseconds(5000)) {
    auto end = std::chrono::steady_clock::now() + max;
    while (std::chrono::steady_clock::now() < end) {
      if (!get().empty()) return true;
      goro::sleep(std::chrono::milliseconds(5));
    }
    return false;
  }

 private:
  std::string kind_;
  std::mutex mu_;
  std::vector<goro::report> reports_, all_;
};

}  // namespace goro_test
