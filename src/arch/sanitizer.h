#pragma once
// Which sanitizer this translation unit is built with, and the happens-before annotations
// the runtime uses. Only src/arch/ talks to the sanitizer fiber APIs directly.

#if defined(__SANITIZE_THREAD__)
#define GORO_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define GORO_TSAN 1
#endif
#endif

#if defined(__SANITIZE_ADDRESS__)
#define GORO_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GORO_ASAN 1
#endif
#endif

#ifdef GORO_TSAN
#include <sanitizer/tsan_interface.h>
#endif

// Leaves a function's plain memory accesses uninstrumented by ThreadSanitizer.
#ifdef GORO_TSAN
#define GORO_NO_TSAN __attribute__((no_sanitize("thread")))
#else
#define GORO_NO_TSAN
#endif
#ifdef GORO_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

namespace goro::arch {

// Tells ThreadSanitizer that everything the calling goroutine did so far happens before
// whatever follows a later hb_acquire() on the same key. Goroutine switches themselves are
// not synchronisation (as under Go's -race), so every real hand-off in the runtime (spawn,
// ready, channel transfer, mutex, close) is annotated with a release/acquire pair.
inline void hb_release([[maybe_unused]] const void* key) {
#ifdef GORO_TSAN
  __tsan_release(const_cast<void*>(key));
#endif
}
inline void hb_acquire([[maybe_unused]] const void* key) {
#ifdef GORO_TSAN
  __tsan_acquire(const_cast<void*>(key));
#endif
}


// An abandoned goroutine's stack [lo, hi) is about to be freed without unwinding (runtime.h):
// under LeakSanitizer the objects only that stack referenced would be reported as leaked at
// exit, although they are exactly what Go keeps alive until the process ends. The leak-checked
// builds copy the live words into a buffer that stays reachable, so those objects count as
// reachable; other builds do nothing.
void keep_abandoned_stack_reachable(const void* lo, const void* hi);

}  // namespace goro::arch
