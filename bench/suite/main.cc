// goro_bench: the goro side of the side-by-side benchmark suite.
//
//   goro_bench <benchmark> [--quick]
//   goro_bench --version | --list
//
// The number of processors comes from GORO_MAXPROCS (goro::options' default), never from a
// flag. Prints exactly one JSON line on stdout (bench/suite/README.md) and exits 0 iff the
// benchmark computed the right answer; usage errors exit 2.

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <utility>

#include "common.h"
#include "goro/runtime.h"

#ifndef GORO_BENCH_VERSION
#define GORO_BENCH_VERSION "unknown"
#endif

namespace goro_bench {

std::int64_t rss_bytes() {
  std::ifstream f("/proc/self/statm");
  std::int64_t total = 0, resident = 0;
  f >> total >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

result fail(std::string why) {
  result r;
  r.ok = false;
  r.error = std::move(why);
  return r;
}

result check(bool good, double value, const char* unit, const char* what, std::int64_t got,
             std::int64_t want) {
  if (!good) {
    return fail(std::string(what) + ": got " + std::to_string(got) + ", want " + std::to_string(want));
  }
  result r;
  r.value = value;
  r.unit = unit;
  return r;
}

namespace {

struct entry {
  const char* name;
  result (*fn)(bool quick);
};

// In the README's order, which is also the order of the results table.
constexpr entry kBenchmarks[] = {
    {"skynet", bench_skynet},   {"spawn", bench_spawn}, {"pingpong", bench_pingpong},
    {"spsc", bench_spsc},       {"mpmc", bench_mpmc},   {"select2", bench_select2},
    {"mutex", bench_mutex},     {"yield", bench_yield}, {"timers", bench_timers},
    {"mem100k", bench_mem100k}, {"mem1m", bench_mem1m}, {"switch", bench_switch},
};

int usage() {
  std::fprintf(stderr, "usage: goro_bench <benchmark> [--quick]\n       goro_bench --version | --list\n");
  return 2;
}

}  // namespace
}  // namespace goro_bench

int main(int argc, char** argv) {
  using namespace goro_bench;
  if (argc < 2) return usage();
  std::string name = argv[1];
  if (name == "--version") {
#if defined(__clang__)
    std::printf("goro %s, %s\n", GORO_BENCH_VERSION, __VERSION__);
#else
    std::printf("goro %s, g++ %s\n", GORO_BENCH_VERSION, __VERSION__);
#endif
    return 0;
  }
  if (name == "--list") {
    for (const auto& e : kBenchmarks) std::printf("%s\n", e.name);
    return 0;
  }
  bool quick = false;
  for (int i = 2; i < argc; ++i) {
    if (std::string(argv[i]) == "--quick") {
      quick = true;
    } else {
      std::fprintf(stderr, "unknown argument: %s\n", argv[i]);
      return usage();
    }
  }
  const entry* bench = nullptr;
  for (const auto& e : kBenchmarks) {
    if (name == e.name) bench = &e;
  }
  if (bench == nullptr) {
    std::fprintf(stderr, "unknown benchmark: %s\n", name.c_str());
    return usage();
  }

  // Start-up and teardown are outside the timed section: each benchmark takes its own t0
  // on the root goroutine. The processor count is read back from the running runtime.
  int procs = 0;
  result r = goro::run(goro::options{}, [&] {
    procs = goro::procs();
    return bench->fn(quick);
  });
  std::printf(
      "{\"benchmark\": \"%s\", \"impl\": \"goro\", \"procs\": %d, \"value\": %.3f, \"unit\": \"%s\", "
      "\"ok\": %s, \"policy\": null}\n",
      bench->name, procs, r.value, r.unit, r.ok ? "true" : "false");
  std::fflush(stdout);
  if (!r.ok) {
    std::fprintf(stderr, "%s: WRONG ANSWER: %s\n", bench->name, r.error.c_str());
    return 1;
  }
  return 0;
}
