#pragma once
// Not API. How a goroutine's function is stored (inside the goroutine, without a separate
// allocation when it is small) and how go() records where a goroutine was created.

#include <cstddef>
#include <functional>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

#include "goro/detail/source_location.h"

namespace goro::detail {

// Where a goroutine was created. file/line/function come from source_location when the
// caller's location is known at compile time; otherwise `pc` is a return address in the
// creating function, symbolized only when a dump needs it.
struct site {
  const char* file = nullptr;
  const char* function = nullptr;
  unsigned line = 0;
  const void* pc = nullptr;
};

// A type-erased `void()` callable with inline storage. Lives inside the goroutine.
class task_slot {
 public:
  static constexpr std::size_t kInline = 64;

  task_slot() = default;
  task_slot(const task_slot&) = delete;
  task_slot& operator=(const task_slot&) = delete;
  ~task_slot() { reset(); }

  template <class D, class... A>
  void emplace(A&&... a) {
    static_assert(std::is_invocable_v<D&>, "a goroutine's function must be callable with no arguments");
    if constexpr (sizeof(D) <= kInline && alignof(D) <= alignof(std::max_align_t)) {
      obj_ = ::new (static_cast<void*>(buf_)) D(std::forward<A>(a)...);
      destroy_ = [](void* p) { static_cast<D*>(p)->~D(); };
    } else {
      obj_ = new D(std::forward<A>(a)...);
      destroy_ = [](void* p) { delete static_cast<D*>(p); };
    }
    invoke_ = [](void* p) { std::invoke(*static_cast<D*>(p)); };
  }

  bool empty() const { return invoke_ == nullptr; }
  void run() { invoke_(obj_); }
  void reset() {
    if (destroy_ != nullptr) destroy_(obj_);
    destroy_ = nullptr;
    invoke_ = nullptr;
    obj_ = nullptr;
  }

 private:
  alignas(std::max_align_t) unsigned char buf_[kInline];
  void* obj_ = nullptr;
  void (*invoke_)(void*) = nullptr;
  void (*destroy_)(void*) = nullptr;
};

// A reference to a callable passed to go(), plus the caller's source location. Built by an
// implicit conversion, so the default argument records the line of the go() call. The
// callable is moved into the goroutine directly from the caller's temporary.
class routine {
 public:
  template <class F>
    requires(!std::is_same_v<std::decay_t<F>, routine> && std::is_invocable_v<std::decay_t<F>&>)
  routine(F&& f, source_location loc = source_location::current())  // NOLINT: implicit on purpose
      : obj_(const_cast<void*>(static_cast<const void*>(std::addressof(f)))),
        place_(&place<std::decay_t<F>, F&&>),
        where_{loc.file_name(), loc.function_name(), loc.line(), nullptr} {}

  void place_into(task_slot& slot) const { place_(obj_, slot); }
  const site& where() const { return where_; }
  site& where() { return where_; }

 private:
  template <class D, class Fwd>
  static void place(void* src, task_slot& slot) {
    slot.emplace<D>(std::forward<Fwd>(*static_cast<std::remove_reference_t<Fwd>*>(src)));
  }

  void* obj_;
  void (*place_)(void*, task_slot&);
  site where_;
};

}  // namespace goro::detail
