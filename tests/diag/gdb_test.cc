// tools/goro-gdb.py against a real process: `info goroutines` and `goroutine N bt` in a live
// process (gdb -p) and on core files (gcore's, and the kernel's).

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "child.h"
#include "goro/goro.h"
#include "support/goro_test.h"

namespace fs = std::filesystem;

namespace diag_test_scenarios {
void wedge(bool spin, bool everywhere);  // sigquit_test.cc
}

namespace {

std::string run_command(const std::string& cmd) {
  std::string out;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  pclose(p);
  return out;
}

bool have_gdb() { return run_command("command -v gdb").find("gdb") != std::string::npos; }

// tools/goro-gdb.py, found from the source tree this binary was built from.
std::string script() {
  fs::path p = fs::path(GORO_TOOLS_DIR) / "goro-gdb.py";
  return p.string();
}

std::string gdb(const std::string& target, const std::string& commands) {
  return run_command("timeout 120 gdb -nx -batch -x " + script() + " " + commands + " " + target);
}

std::string self_exe() { return fs::read_symlink("/proc/self/exe").string(); }

// Why these tests cannot run here, or "" if they can.
std::string unusable() {
  if (goro_test::sanitized()) {
    return "gdb and core files of a sanitizer build are impractical (terabytes of reserved shadow memory)";
  }
  if (!have_gdb()) return "gdb is not installed: the goro-gdb.py tests need it";
  return "";
}

// What every listing must show: the three goroutines, their states and creation sites.
// Goroutine 1 wakes every 10 ms: in a core taken by abort() (in a signal handler that may
// interrupt it) it may be running.
void expect_listing(const std::string& out, bool main_may_run = false) {
  EXPECT_TRUE(out.find("  1  sleep") != std::string::npos || (main_may_run && out.find("*  1  running") != std::string::npos))
      << out;
  EXPECT_NE(out.find("  2  chan receive"), std::string::npos) << out;
  EXPECT_NE(out.find("  3  sync.Mutex.Lock"), std::string::npos) << out;
  EXPECT_NE(out.find("sigquit_test.cc:"), std::string::npos) << out;
  EXPECT_NE(out.find("diag_test_scenarios::wedge"), std::string::npos) << out;
}

void expect_backtrace(const std::string& out) {
  EXPECT_NE(out.find("goroutine 2 [chan receive]:"), std::string::npos) << out;
  EXPECT_NE(out.find("diag_test_scenarios::wedged_receiver"), std::string::npos) << out;
  EXPECT_NE(out.find("sigquit_test.cc:"), std::string::npos) << out;
  EXPECT_NE(out.find("goro_arch_trampoline"), std::string::npos) << "unwound to the goroutine's first frame\n" << out;
}

TEST(DISABLED_Child, WedgedForGdb) {
  if (!diag_test::in_child()) GTEST_SKIP();
  if (std::getenv("GORO_TEST_CORE_DIR") != nullptr) {
    // For the kernel's core dump: abort() when told, with core files enabled, in that dir.
    rlimit rl{RLIM_INFINITY, RLIM_INFINITY};
    setrlimit(RLIMIT_CORE, &rl);
    if (chdir(std::getenv("GORO_TEST_CORE_DIR")) != 0) std::abort();
    signal(SIGUSR1, [](int) { std::abort(); });
  }
  diag_test_scenarios::wedge(false, false);
}

// "created by" names a function as Go does (and as goro's dumps do): source_location's
// spelling carries a return type, parameters and GCC's "[with ...]". The script's name
// cleaner, run inside gdb without a target.
TEST(Gdb, CreatorNamesAsGoPrintsThem) {
  if (std::string why = unusable(); !why.empty()) GTEST_SKIP() << why;
  const char* cases[][2] = {
      {"void ns::spawn_from(F) [with F = main()::<lambda()>::<lambda()>]", "ns::spawn_from"},
      {"int ns::work(int)", "ns::work"},
      {"void {anonymous}::f()", "{anonymous}::f"},
      {"(anonymous namespace)::worker(goro::chan<int>)", "(anonymous namespace)::worker"},
      {"diag_test_scenarios::wedge(bool, bool)::<lambda()>", "diag_test_scenarios::wedge(bool, bool)::<lambda()>"},
      {"std::string ns::label[abi:cxx11](int)", "ns::label[abi:cxx11]"},
      {"bool operator<<(std::ostream&, int)", "operator<<"},
  };
  std::string py;
  for (const auto& c : cases) {
    py += " -ex \"python print('name=' + _go_function_name('" + std::string(c[0]) + "'))\"";
  }
  std::string out = run_command("timeout 60 gdb -nx -batch -x " + script() + py);
  for (const auto& c : cases) EXPECT_NE(out.find("name=" + std::string(c[1]) + "\n"), std::string::npos) << c[0] << "\n" << out;
}

TEST(Gdb, LiveProcess) {
  if (std::string why = unusable(); !why.empty()) GTEST_SKIP() << why;
  diag_test::child c("WedgedForGdb", {"GORO_DEADLOCK=0"});
  ASSERT_TRUE(c.wait_for_line("ready")) << c.out() << c.err();
  std::string out = gdb("-p " + std::to_string(c.pid()), "-ex 'info goroutines' -ex 'goroutine 2 bt'");
  if (out.find("ptrace: Operation not permitted") != std::string::npos) {
    GTEST_SKIP() << "this machine does not allow ptrace attach: " << out;
  }
  expect_listing(out);
  expect_backtrace(out);
  // The process is left as it was: still running.
  EXPECT_EQ(kill(c.pid(), 0), 0);
}

// A core file made by gcore. With MADV_GUARD_INSTALL guard pages (Linux 6.13+) gdb 13's
// gcore cannot read the stack slabs (it zero-fills them), so only the listing, which lives
// on the heap, is checked here; the backtrace is checked on the kernel's core below.
TEST(Gdb, GcoreListing) {
  if (std::string why = unusable(); !why.empty()) GTEST_SKIP() << why;
  if (run_command("command -v gcore").find("gcore") == std::string::npos) GTEST_SKIP() << "gcore is not installed";
  diag_test::child c("WedgedForGdb", {"GORO_DEADLOCK=0"});
  ASSERT_TRUE(c.wait_for_line("ready")) << c.out() << c.err();
  fs::path dir = fs::temp_directory_path() / ("goro-gcore-" + std::to_string(getpid()));
  fs::create_directories(dir);
  std::string core = (dir / "core").string();
  std::string made = run_command("timeout 120 gcore -o " + core + " " + std::to_string(c.pid()));
  core += "." + std::to_string(c.pid());
  ASSERT_TRUE(fs::exists(core)) << made;
  std::string out = gdb(self_exe() + " " + core, "-ex 'info goroutines'");
  fs::remove_all(dir);
  EXPECT_EQ(out.find("Python Exception"), std::string::npos) << out;
  if (made.find("Memory read failed") != std::string::npos) {
    // gdb 13's gcore zero-fills the rest of any mapping it cannot read whole; mappings with
    // MADV_GUARD_INSTALL guard pages (goro's stacks, and whatever the kernel merged with
    // them) are such. The records then read as zeros: nothing more to check here (the
    // kernel's core below has them all).
    GTEST_SKIP() << "gcore could not read part of the process (guard regions, Linux 6.13+):\n" << made;
  }
  expect_listing(out);
}

// A core file written by the kernel (the program aborts): listing and backtrace.
TEST(Gdb, KernelCoreBacktrace) {
  if (std::string why = unusable(); !why.empty()) GTEST_SKIP() << why;
  std::string pattern;
  std::ifstream("/proc/sys/kernel/core_pattern") >> pattern;
  if (pattern.empty() || pattern[0] == '|' || pattern[0] == '/') {
    GTEST_SKIP() << "core files go to " << pattern << ", not to the working directory";
  }
  fs::path dir = fs::temp_directory_path() / ("goro-core-" + std::to_string(getpid()));
  fs::create_directories(dir);
  diag_test::child c("WedgedForGdb", {"GORO_DEADLOCK=0", "GORO_TEST_CORE_DIR=" + dir.string()});
  ASSERT_TRUE(c.wait_for_line("ready")) << c.out() << c.err();
  pid_t pid = c.pid();
  kill(pid, SIGUSR1);
  c.finish();
  std::string core;
  for (const auto& e : fs::directory_iterator(dir)) core = e.path().string();
  if (core.empty()) {
    fs::remove_all(dir);
    GTEST_SKIP() << "the kernel wrote no core file (core_pattern " << pattern << ")";
  }
  std::string out = gdb(self_exe() + " " + core, "-ex 'info goroutines' -ex 'goroutine 2 bt'");
  fs::remove_all(dir);
  expect_listing(out, true);
  expect_backtrace(out);
}

}  // namespace
