// The provable channel leak report (chan_leak.h).

#include "diag/chan_leak.h"

#include <string>

#include "diag/settings.h"
#include "diag/sites.h"
#include "runtime/report.h"

namespace goro::detail {

void report_chan_leak(const std::vector<std::uint64_t>& ids, bool receivers, const void* chan, const void* pc) {
  if (ids.empty() || !g_chanleak_on.load(std::memory_order_relaxed)) return;
  std::string who;
  for (auto id : ids) who += (who.empty() ? "" : ", ") + std::to_string(id);
  // The innermost frame of the user's code (the handle's destructor is inlined there).
  report_site dropped = code_site(pc, "dropped", 0, false);
  report r;
  r.kind = "leak";
  r.goroutine = ids.front();
  r.text = std::string(ids.size() == 1 ? "goroutine " : "goroutines ") + who + " leaked: blocked forever in [" +
           (receivers ? "chan receive" : "chan send") + "] on channel " + address_text(chan) +
           ", because the last handle able to " + (receivers ? "send on or close it" : "receive from it") +
           " was destroyed in " + (dropped.function.empty() ? std::string("an unknown place") : site_text(dropped));
  r.goroutines = ids;
  r.objects.push_back({"chan", chan});
  r.sites.push_back(std::move(dropped));
  emit_report(r);
}

}  // namespace goro::detail
