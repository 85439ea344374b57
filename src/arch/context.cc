#include "arch/context.h"

#include <pthread.h>

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

}  // namespace goro::arch
