// goro::run(): bringing the runtime up, running goroutine 1, and tearing it all down.

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>

#include "diag/diag.h"
#include "diag/monitor.h"
#include "goro/runtime.h"
#include "runtime/clock.h"
#include "runtime/fatal.h"
#include "runtime/sched.h"
#include "runtime/stack.h"
#include "sync/sema.h"

namespace goro::detail {

namespace {

constexpr std::size_t kDefaultStackSize = 256 * 1024;
constexpr std::int64_t kDefaultLongRunMs = 100;

long env_long(const char* name, long fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  char* end = nullptr;
  long x = std::strtol(v, &end, 10);
  if (end == v || *end != '\0') {
    throw std::invalid_argument(std::string("goro::run: environment variable ") + name + "=\"" + v +
                                "\" is not an integer");
  }
  return x;
}

std::mutex g_run_lock;  // one run() at a time

// external_call's in flight, and whether new ones may use the scheduler. Dekker with
// run()'s teardown: a call increments the count, then reads g_open; run() clears g_open,
// then reads the count; with all four seq_cst, either the call sees g_open false (and does
// not touch the scheduler) or run() sees the call and waits for it to finish.
std::atomic<int> g_external_calls{0};
std::atomic<bool> g_open{false};

void shutdown_all() {
  sched_t* s = g_sched;
  // After this store no M parks again (stopm() checks it under sched.lock) and no new M is
  // started. M's running goroutines exit at their next scheduling point; M's inside
  // blocking() when their call returns.
  s->shutdown.store(true, std::memory_order_release);
  std::size_t joined = 0;
  for (;;) {
    std::vector<m*> ms;
    {
      std::lock_guard<std::mutex> lk(s->lock);
      while (m* mp = s->midle) {
        s->midle = mp->link;
        mp->nextp = nullptr;
        mp->park.wakeup();
      }
      ms = s->allm;
    }
    s->poll.wake();
    if (joined == ms.size()) break;
    for (std::size_t i = joined; i < ms.size(); i++) ms[i]->thread.join();
    joined = ms.size();
  }
}

}  // namespace

external_call::external_call() {
  g_external_calls.fetch_add(1, std::memory_order_seq_cst);
  s_ = g_open.load(std::memory_order_seq_cst) ? g_sched : nullptr;
}

external_call::~external_call() { g_external_calls.fetch_sub(1, std::memory_order_release); }

void run_main(const options& opts, routine main) {
  std::unique_lock<std::mutex> run_lk(g_run_lock, std::try_to_lock);
  if (!run_lk.owns_lock() || g_sched != nullptr) {
    throw std::logic_error("goro::run: the runtime is already running (run() cannot be nested or run twice at once)");
  }
  if (current_g() != nullptr) throw std::logic_error("goro::run: called on a goroutine");

  int nprocs = opts.procs;
  if (nprocs <= 0) nprocs = static_cast<int>(env_long("GORO_MAXPROCS", 0));
  if (nprocs <= 0) nprocs = static_cast<int>(std::thread::hardware_concurrency());
  if (nprocs <= 0) nprocs = 1;
  if (nprocs > 1024) throw std::invalid_argument("goro::run: at most 1024 processors");
  std::size_t stack_size = opts.stack_size;
  if (stack_size == 0) stack_size = static_cast<std::size_t>(env_long("GORO_STACK_SIZE", kDefaultStackSize));
  if (stack_size < 16 * 1024) throw std::invalid_argument("goro::run: stack size below 16 KiB");
  std::int64_t longrun_ms = opts.long_running_threshold.count();
  if (longrun_ms == 0) longrun_ms = env_long("GORO_LONGRUN_MS", kDefaultLongRunMs);

  diag_start(opts);  // SIGQUIT dumps and the deadlock check (may throw on a bad setting)
  auto* s = new sched_t;
  g_sched = s;
  s->nprocs = nprocs;
  s->stack_size = stack_size;
  s->longrun_ns = longrun_ms > 0 ? longrun_ms * 1'000'000 : 0;
  stack_pool_init(stack_size);
  registry_init();
  gstore_init();
  install_fault_handler();
  for (int i = 0; i < nprocs; i++) {
    auto* pp = new p;
    pp->id = i;
    s->allp.push_back(pp);
  }
  {
    std::lock_guard<std::mutex> lk(s->lock);
    for (int i = nprocs - 1; i >= 0; i--) pidleput(s->allp[static_cast<std::size_t>(i)]);
  }

  g_open.store(true, std::memory_order_seq_cst);  // plain threads may call in (external_call)
  coarse_tick_update();  // before any goroutine can park (then sysmon keeps it fresh)
  sysmon_start();
  monitor_start();  // misuse detectors (diag/monitor.h)
  // Every thread alive now is the caller's or the runtime's (diag.h); taken before goroutine
  // 1 exists, since spawning it may start an M that runs it (and it may start threads) at once.
  deadlock_thread_baseline();
  spawn(main);  // goroutine 1, on the global queue
  startm(nullptr, false);

  while (!s->main_done.load(std::memory_order_acquire)) s->main_done.wait(false, std::memory_order_acquire);

  monitor_stop();
  diag_stop();
  shutdown_all();
  sysmon_stop();
  // No M is left; plain threads may still be inside ready() or go(). Close the door, then
  // let the calls in flight finish before freeing anything (see external_call).
  g_open.store(false, std::memory_order_seq_cst);
  while (g_external_calls.load(std::memory_order_seq_cst) != 0) std::this_thread::yield();
  g_sched = nullptr;
  sema_reset();  // the sync module's waiter table: abandoned goroutines' records go now
  for (m* mp : s->allm) delete mp;
  gstore_destroy();
  for (p* pp : s->allp) {
    for (stack& st : pp->stack_cache) stack_free(st);
    delete pp;
  }
  registry_destroy();
  stack_pool_destroy();
  delete s;
}

}  // namespace goro::detail
