#include "arch/context.h"

#include <pthread.h>

#include <cstdint>
#include <mutex>
#include <vector>

namespace goro::arch {

void init_thread_context(context& c) {
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) == 0) {
    void* lo = nullptr;
    std::size_t size = 0;
    pthread_attr_getstack(&attr, &lo, &size);
    pthread_attr_destroy(&attr);
    c.stack_lo = lo;
    c.stack_size = size;
  }
#ifdef GORO_TSAN
  c.tsan_fiber = __tsan_get_current_fiber();
  c.owns_tsan_fiber = false;
#endif
}

#ifdef GORO_ASAN
namespace {
// Copies word by word without instrumentation: the stack holds ASan's poisoned redzones.
__attribute__((no_sanitize("address"))) void copy_words(std::uintptr_t* to, const std::uintptr_t* from,
                                                        std::size_t n) {
  for (std::size_t i = 0; i < n; i++) to[i] = from[i];
}
}  // namespace

void keep_abandoned_stack_reachable(const void* lo, const void* hi) {
  // Never freed: reachable from this global for the rest of the process, by design.
  static std::mutex lock;
  static auto* kept = new std::vector<std::vector<std::uintptr_t>>;
  auto from = reinterpret_cast<std::uintptr_t>(lo) & ~std::uintptr_t{7};
  auto to = reinterpret_cast<std::uintptr_t>(hi);
  if (to <= from) return;
  std::vector<std::uintptr_t> words((to - from) / sizeof(std::uintptr_t));
  copy_words(words.data(), reinterpret_cast<const std::uintptr_t*>(from), words.size());
  std::lock_guard<std::mutex> lk(lock);
  kept->push_back(std::move(words));
}
#else
void keep_abandoned_stack_reachable(const void*, const void*) {}
#endif

}  // namespace goro::arch
