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
//
// A plain function (go(f) with `void f()`) has no object to point to: a function's address
// does not convert to void*. It is kept as a function pointer instead, cast to `void (*)()`
// and back to its own type before the call, a round trip the language guarantees.
class routine {
 public:
  template <class F>
    requires(!std::is_same_v<std::decay_t<F>, routine> && std::is_invocable_v<std::decay_t<F>&>)
  routine(F&& f, source_location loc = source_location::current())  // NOLINT: implicit on purpose
      : place_(&place<std::decay_t<F>, F&&>), where_{loc.file_name(), loc.function_name(), loc.line(), nullptr} {
    if constexpr (std::is_function_v<std::remove_reference_t<F>>) {
      ref_.fn = reinterpret_cast<void (*)()>(&f);
    } else {
      ref_.obj = const_cast<void*>(static_cast<const void*>(std::addressof(f)));
    }
  }

  void place_into(task_slot& slot) const { place_(ref_, slot); }
  const site& where() const { return where_; }
  site& where() { return where_; }

 private:
  // The callable: an object's address, or a plain function's (see the class comment).
  union callable_ref {
    void* obj;
    void (*fn)();
  };

  template <class D, class Fwd>
  static void place(callable_ref src, task_slot& slot) {
    if constexpr (std::is_function_v<std::remove_reference_t<Fwd>>) {
      slot.emplace<D>(reinterpret_cast<D>(src.fn));  // D is the function's pointer type
    } else {
      slot.emplace<D>(std::forward<Fwd>(*static_cast<std::remove_reference_t<Fwd>*>(src.obj)));
    }
  }

  callable_ref ref_;
  void (*place_)(callable_ref, task_slot&);
  site where_;
};

}  // namespace goro::detail
