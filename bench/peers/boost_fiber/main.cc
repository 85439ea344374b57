// goro_bench_boost_fiber: the Boost.Fiber peer of the goro benchmark suite.
//
//   goro_bench_boost_fiber <benchmark> [--quick] [--procs N] [--policy post|dispatch]
//   goro_bench_boost_fiber --version | --list
//
// Prints exactly one JSON line on stdout (see bench/suite/README.md) and exits
// 0 iff the benchmark computed the right answer.
#include <barrier>
#include <boost/version.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "common.hpp"

namespace {

struct Entry {
  const char* name;
  Result (*fn)(const Options&);
};

const Entry kBenchmarks[] = {
    {"skynet", bench_skynet},   {"spawn", bench_spawn},     {"pingpong", bench_pingpong},
    {"spsc", bench_spsc},       {"mpmc", bench_mpmc},       {"select2", bench_select2},
    {"mutex", bench_mutex},     {"yield", bench_yield},     {"timers", bench_timers},
    {"mem100k", bench_mem100k}, {"mem1m", bench_mem1m},     {"switch", bench_switch},
};

int usage() {
  std::fprintf(stderr,
               "usage: goro_bench_boost_fiber <benchmark> [--quick] [--procs N] "
               "[--policy post|dispatch]\n       goro_bench_boost_fiber --version | --list\n");
  return 2;
}

// procs == 1: the default round_robin scheduler on the main thread.
// procs  > 1: work_stealing on the main thread plus procs-1 helper threads.
// Every thread must install its work_stealing instance before any thread can
// steal (the victims table is shared), hence the barrier. The helpers then park
// their main fiber on a fiber condition variable, which leaves their dispatcher
// free to run stolen fibers until the benchmark is over.
Result run_on_scheduler(const Entry& e, const Options& o) {
  if (o.procs <= 1) return e.fn(o);

  std::barrier<> installed(o.procs);
  bf::mutex done_mu;
  bf::condition_variable done_cv;
  bool done = false;
  std::vector<std::thread> helpers;
  for (int i = 1; i < o.procs; ++i) {
    helpers.emplace_back([&] {
      bf::use_scheduling_algorithm<bf::algo::work_stealing>(o.procs);
      installed.arrive_and_wait();
      std::unique_lock<bf::mutex> lk(done_mu);
      done_cv.wait(lk, [&] { return done; });
    });
  }
  bf::use_scheduling_algorithm<bf::algo::work_stealing>(o.procs);
  installed.arrive_and_wait();

  Result r = e.fn(o);

  {
    std::unique_lock<bf::mutex> lk(done_mu);
    done = true;
  }
  done_cv.notify_all();
  for (auto& t : helpers) t.join();
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  std::string name = argv[1];
  if (name == "--version") {
    std::printf("Boost %d.%d.%d, g++ %s\n", BOOST_VERSION / 100000, BOOST_VERSION / 100 % 1000,
                BOOST_VERSION % 100, __VERSION__);
    return 0;
  }
  if (name == "--list") {
    for (const auto& e : kBenchmarks) std::printf("%s\n", e.name);
    return 0;
  }

  Options o;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--quick") {
      o.quick = true;
    } else if (a == "--procs" && i + 1 < argc) {
      o.procs = std::atoi(argv[++i]);
      if (o.procs < 1) return usage();
    } else if (a == "--policy" && i + 1 < argc) {
      std::string p = argv[++i];
      if (p == "post") {
        o.policy = bf::launch::post;
      } else if (p == "dispatch") {
        o.policy = bf::launch::dispatch;
      } else {
        return usage();
      }
    } else {
      std::fprintf(stderr, "unknown argument: %s\n", a.c_str());
      return usage();
    }
  }

  const Entry* entry = nullptr;
  for (const auto& e : kBenchmarks) {
    if (name == e.name) entry = &e;
  }
  if (!entry) {
    std::fprintf(stderr, "unknown benchmark: %s\n", name.c_str());
    return usage();
  }

  Result r = run_on_scheduler(*entry, o);
  if (r.absent) {
    std::printf("{\"benchmark\": \"%s\", \"impl\": \"boost_fiber\", \"absent\": true}\n",
                entry->name);
    return 0;
  }
  const char* policy = o.policy == bf::launch::post ? "post" : "dispatch";
  std::printf(
      "{\"benchmark\": \"%s\", \"impl\": \"boost_fiber\", \"procs\": %d, \"value\": %.3f, "
      "\"unit\": \"%s\", \"ok\": %s, \"policy\": \"%s\"}\n",
      entry->name, o.procs, r.value, r.unit, r.ok ? "true" : "false", policy);
  std::fflush(stdout);
  if (!r.ok) {
    std::fprintf(stderr, "%s: WRONG ANSWER: %s\n", entry->name, r.error.c_str());
    return 1;
  }
  return 0;
}
