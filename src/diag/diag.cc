// Diagnostics lifecycle: settings, the SIGQUIT dump thread, and the layout table that
// tools/goro-gdb.py reads.
//
// SIGQUIT: the handler only records the signal and writes to an eventfd (async-signal-safe);
// the diagnostics thread, which is not an M and so keeps working when every M is wedged,
// takes the dump. As Go: "SIGQUIT: quit", "PC=... m=... sigcode=...", the dump of every
// goroutine, exit status 2. GORO_SIGQUIT=dump prints the dump as a report and keeps running;
// GORO_SIGQUIT=off leaves SIGQUIT alone.

#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <string>
#include <thread>

#include "diag/diag.h"
#include "diag/gate.h"
#include "diag/lockorder.h"
#include "diag/settings.h"
#include "diag/snapshot.h"
#include "goro/runtime.h"
#include "runtime/report.h"
#include "runtime/sched.h"

namespace goro::detail {

bool g_checkdead_enabled = true;  // written by diag_start before any M exists

namespace {

struct diag_state {
  sigquit_mode mode = sigquit_mode::exit;
  int efd = -1;
  std::thread thread;
  std::atomic<bool> stop{false};
  struct sigaction prev {};
};
diag_state* g_diag = nullptr;

// What the handler saw, for the "PC=... m=... sigcode=..." line. Written by the handler
// before it writes the eventfd; read by the thread after it reads it.
std::atomic<std::uintptr_t> g_sig_pc{0};
std::atomic<int> g_sig_m{-1};
std::atomic<int> g_sig_code{0};
std::atomic<int> g_sig_efd{-1};

void on_sigquit(int, siginfo_t* info, void* uctx) {
  int saved_errno = errno;
  auto* uc = static_cast<ucontext_t*>(uctx);
  g_sig_pc.store(uc != nullptr ? static_cast<std::uintptr_t>(uc->uc_mcontext.gregs[REG_RIP]) : 0,
                 std::memory_order_relaxed);
  m* mp = current_m();
  g_sig_m.store(mp != nullptr ? mp->id : -1, std::memory_order_relaxed);
  g_sig_code.store(info != nullptr ? info->si_code : 0, std::memory_order_relaxed);
  std::uint64_t one = 1;
  int fd = g_sig_efd.load(std::memory_order_acquire);
  if (fd >= 0) [[maybe_unused]] ssize_t n = write(fd, &one, sizeof one);
  errno = saved_errno;
}

void write_all(int fd, const std::string& s) {
  std::size_t off = 0;
  while (off < s.size()) {
    ssize_t n = write(fd, s.data() + off, s.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    off += static_cast<std::size_t>(n);
  }
}

void sigquit_dump() {
  char head[128];
  int mid = g_sig_m.load(std::memory_order_relaxed);
  if (mid >= 0) {
    std::snprintf(head, sizeof head, "SIGQUIT: quit\nPC=%#llx m=%d sigcode=%d\n\n",
                  static_cast<unsigned long long>(g_sig_pc.load(std::memory_order_relaxed)), mid,
                  g_sig_code.load(std::memory_order_relaxed));
  } else {
    std::snprintf(head, sizeof head, "SIGQUIT: quit\nPC=%#llx sigcode=%d\n\n",
                  static_cast<unsigned long long>(g_sig_pc.load(std::memory_order_relaxed)),
                  g_sig_code.load(std::memory_order_relaxed));
  }
  snapshot snap;
  take_snapshot(snap, nullptr);
  std::string text = head;
  format_traceback(snap, text);
  if (g_diag->mode == sigquit_mode::dump) {
    report r;
    r.kind = "sigquit";
    if (!text.empty() && text.back() == '\n') text.pop_back();
    r.text = std::move(text);
    for (const g_snap& gs : snap.gs) r.goroutines.push_back(gs.id);
    emit_report(r);
    return;
  }
  std::fflush(stdout);
  std::fflush(stderr);
  write_all(STDERR_FILENO, text);
  _exit(2);
}

void diag_loop() {
  while (!g_diag->stop.load(std::memory_order_acquire)) {
    pollfd pfd{g_diag->efd, POLLIN, 0};
    if (poll(&pfd, 1, -1) <= 0) continue;
    std::uint64_t v = 0;
    if (read(g_diag->efd, &v, sizeof v) != static_cast<ssize_t>(sizeof v)) continue;
    if (g_diag->stop.load(std::memory_order_acquire)) break;
    sigquit_dump();
  }
}

}  // namespace

void diag_start(const options& opts) {
  // Every setting is read (and may throw) before anything is switched on: nothing is left
  // on when run() fails here.
  const diag_settings cfg = read_diag_settings(opts);
  set_diag_config(cfg);
  g_checkdead_enabled = cfg.deadlock;
  sigquit_mode mode = cfg.sigquit;
  lockorder_start(cfg.lock_order);
  heavy_barrier_init();
  g_diag = new diag_state;
  g_diag->mode = mode;
  if (mode == sigquit_mode::off) return;
  g_diag->efd = eventfd(0, EFD_CLOEXEC);
  if (g_diag->efd < 0) return;
  g_sig_efd.store(g_diag->efd, std::memory_order_release);
  g_diag->thread = std::thread(diag_loop);
  struct sigaction sa {};
  sa.sa_sigaction = &on_sigquit;
  sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGQUIT, &sa, &g_diag->prev);
}

void diag_stop() {
  lockorder_stop();
  if (g_diag == nullptr) return;
  if (g_diag->efd >= 0) {
    sigaction(SIGQUIT, &g_diag->prev, nullptr);
    g_sig_efd.store(-1, std::memory_order_release);
    g_diag->stop.store(true, std::memory_order_release);
    std::uint64_t one = 1;
    [[maybe_unused]] ssize_t n = write(g_diag->efd, &one, sizeof one);
    g_diag->thread.join();
    close(g_diag->efd);
  }
  delete g_diag;
  g_diag = nullptr;
}

}  // namespace goro::detail

// The layout of goro's goroutine records for debuggers (tools/goro-gdb.py), readable in a
// live process and in a core file without debug information. Bump `version` whenever a
// field's meaning changes.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winvalid-offsetof"
extern "C" {
struct goro_gdb_layout_t {
  std::uint32_t version;
  std::uint32_t g_id, g_parent_id, g_state, g_reason, g_wait_since;
  std::uint32_t g_created_file, g_created_function, g_created_line, g_created_pc;
  std::uint32_t g_ctx_sp, g_stk_lo, g_stk_size, g_unused;  // g_unused: version 1's g_reg_next
  // arch::saved_frame at ctx.sp (the resumed stack pointer is ctx.sp + frame_size).
  std::uint32_t frame_size, frame_rip, frame_rbp, frame_rbx, frame_r12, frame_r13, frame_r14, frame_r15;
  std::uint32_t reason_count;  // entries in reason_names
  const char* state_names[6];  // by goro::detail::g_state; at byte 96
  const char* reason_names[static_cast<int>(goro::detail::wait_reason::count_)];
};
}

namespace goro::detail {
namespace {
using goro::detail::g;
using goro::arch::saved_frame;
goro_gdb_layout_t make_layout() {
  goro_gdb_layout_t l{};
  l.version = 2;  // 2: the registry is a list of g chunks (goro_registry_view), not linked lists
  l.g_id = offsetof(g, id);
  l.g_parent_id = offsetof(g, parent_id);
  l.g_state = offsetof(g, state);
  l.g_reason = offsetof(g, reason);
  l.g_wait_since = offsetof(g, wait_since);
  l.g_created_file = offsetof(g, created) + offsetof(g::racy_site, file);
  l.g_created_function = offsetof(g, created) + offsetof(g::racy_site, function);
  l.g_created_line = offsetof(g, created) + offsetof(g::racy_site, line);
  l.g_created_pc = offsetof(g, created) + offsetof(g::racy_site, pc);
  l.g_ctx_sp = offsetof(g, ctx) + offsetof(arch::context, sp);
  l.g_stk_lo = offsetof(g, stk) + offsetof(stack, lo);
  l.g_stk_size = offsetof(g, stk) + offsetof(stack, size);
  l.frame_size = sizeof(saved_frame);
  l.frame_rip = offsetof(saved_frame, rip);
  l.frame_rbp = offsetof(saved_frame, rbp);
  l.frame_rbx = offsetof(saved_frame, rbx);
  l.frame_r12 = offsetof(saved_frame, r12);
  l.frame_r13 = offsetof(saved_frame, r13);
  l.frame_r14 = offsetof(saved_frame, r14);
  l.frame_r15 = offsetof(saved_frame, r15);
  l.reason_count = static_cast<std::uint32_t>(wait_reason::count_);
  const char* states[] = {"idle", "runnable", "running", "waiting", "syscall", "dead"};
  for (int i = 0; i < 6; i++) l.state_names[i] = states[i];
  for (int i = 0; i < static_cast<int>(wait_reason::count_); i++) {
    l.reason_names[i] = to_string(static_cast<wait_reason>(i)).data();
  }
  return l;
}
}  // namespace
}  // namespace goro::detail

extern "C" {
[[gnu::used]] const goro_gdb_layout_t goro_gdb_layout = goro::detail::make_layout();
}
#pragma GCC diagnostic pop

static_assert(static_cast<int>(goro::detail::g_state::dead) == 5, "goro_gdb_layout.state_names follows g_state");
static_assert(offsetof(goro_gdb_layout_t, state_names) == 96, "tools/goro-gdb.py reads the names at byte 96");
