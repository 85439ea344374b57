#pragma once
// goro::select: Go's select statement.
//
//   int fired = goro::select(
//       goro::recv(jobs, [&](std::optional<job> j) { ... }),   // nullopt: jobs closed
//       goro::send(results, r, [&] { ... }),
//       goro::recv(goro::after(1s), [&] { ... }),             // a timeout
//       goro::default_case([&] { ... }));                     // optional: never park
//
// select() returns the position of the case that ran (0-based, the default case included).
//
// Semantics (Go's, tested in tests/chan/ and tests/conformance/):
//  - If several cases are ready, one is chosen uniformly at random.
//  - With a default case select never parks, and runs default only if no case was ready.
//  - Without one it parks (wait reason "select") until a case can proceed; exactly one case
//    fires even if a channel appears twice; the cases not chosen leave no waiter behind.
//  - A select never pairs its own send case with its own receive case.
//  - Cases on nil channels are never ready; select() with no cases parks forever
//    ("select (no cases)").
//  - A send case on a closed channel throws goro::panic("send on closed channel") when
//    chosen.
// Receive handlers may take std::optional<T> (nullopt when closed), T (a value-initialized
// T when closed, like Go's zero value), (T, bool ok), or nothing. For chan<void>: (bool ok)
// or nothing. The default case is spelled default_case because `default` is a keyword.

#include <cstddef>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

#include "goro/chan.h"

namespace goro {

namespace detail {

struct select_case {
  chan_core* c;
  void* elem;  // send: value to move from; receive: storage to move into (null for void)
  bool is_send;
};

// Runs the select over n cases. Returns the chosen index, or -1 when has_default and no
// case was ready. For a receive case, *recv_ok says whether a value arrived.
int select_impl(select_case* cases, int n, bool has_default, bool* recv_ok);

struct no_handler {
  void operator()() const {}
};

template <class H>
using handle_storage = std::conditional_t<std::is_lvalue_reference_v<H>, const std::remove_reference_t<H>&,
                                          std::remove_cvref_t<H>>;

template <class T, class H, class F>
struct recv_case {
  handle_storage<H> ch;
  F fn;
  recv_slot<T> slot;

  static constexpr bool is_default = false;
  select_case describe() { return {ch.core(), &slot.value, false}; }
  void fire(bool ok) {
    if (!ok) {
      closed();
      return;
    }
    std::optional<T> v(std::move(slot.value));
    slot.value.~T();
    call(std::move(v));
  }
  // The channel is closed and drained. GCC 12 with ASan warns falsely that the empty
  // optional<unique_ptr> handed to the handler may be read uninitialized
  // (-Wmaybe-uninitialized, once the handler is inlined): silenced for that call only.
  void closed() {
    if constexpr (std::is_invocable_v<F&, std::optional<T>>) {
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
      fn(std::optional<T>{});
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
    } else if constexpr (std::is_invocable_v<F&, T, bool>) {
      fn(T{}, false);
    } else if constexpr (std::is_invocable_v<F&, T>) {
      fn(T{});
    } else {
      fn();
    }
  }
  void call(std::optional<T> v) {
    if constexpr (std::is_invocable_v<F&, std::optional<T>>) {
      fn(std::move(v));
    } else if constexpr (std::is_invocable_v<F&, T, bool>) {
      bool ok = v.has_value();
      fn(ok ? std::move(*v) : T{}, ok);
    } else if constexpr (std::is_invocable_v<F&, T>) {
      fn(v ? std::move(*v) : T{});
    } else {
      static_assert(std::is_invocable_v<F&>, "a receive handler takes std::optional<T>, T, (T, bool) or nothing");
      fn();
    }
  }
};

template <class H, class F>
struct recv_case<void, H, F> {
  handle_storage<H> ch;
  F fn;

  static constexpr bool is_default = false;
  select_case describe() { return {ch.core(), nullptr, false}; }
  void fire(bool ok) {
    if constexpr (std::is_invocable_v<F&, bool>) {
      fn(ok);
    } else {
      static_assert(std::is_invocable_v<F&>, "a receive handler on chan<void> takes (bool ok) or nothing");
      fn();
    }
  }
};

template <class T, class H, class F>
struct send_case {
  handle_storage<H> ch;
  T value;
  F fn;

  static constexpr bool is_default = false;
  select_case describe() { return {ch.core(), &value, true}; }
  void fire(bool) { fn(); }
};

template <class H, class F>
struct send_case<void, H, F> {
  handle_storage<H> ch;
  F fn;

  static constexpr bool is_default = false;
  select_case describe() { return {ch.core(), nullptr, true}; }
  void fire(bool) { fn(); }
};

template <class F>
struct default_case_t {
  F fn;
  static constexpr bool is_default = true;
  void fire(bool) { fn(); }
};

template <class C>
inline constexpr bool is_default_v = std::remove_cvref_t<C>::is_default;

}  // namespace detail

// A receive case on any receive-capable handle (chan<T>, recv_chan<T>).
template <class H, class F = detail::no_handler>
auto recv(H&& ch, F fn = {}) {
  using T = typename std::remove_cvref_t<H>::value_type;
  if constexpr (std::is_void_v<T>) {
    return detail::recv_case<T, H, F>{std::forward<H>(ch), std::move(fn)};
  } else {
    return detail::recv_case<T, H, F>{std::forward<H>(ch), std::move(fn), {}};
  }
}

// A send case of `value` on a send-capable handle (chan<T>, send_chan<T>).
template <class H, class V, class F = detail::no_handler>
  requires(!std::is_void_v<typename std::remove_cvref_t<H>::value_type>)
auto send(H&& ch, V&& value, F fn = {}) {
  using T = typename std::remove_cvref_t<H>::value_type;
  return detail::send_case<T, H, F>{std::forward<H>(ch), T(std::forward<V>(value)), std::move(fn)};
}

// A send case on chan<void>.
template <class H, class F = detail::no_handler>
  requires std::is_void_v<typename std::remove_cvref_t<H>::value_type>
auto send(H&& ch, F fn = {}) {
  return detail::send_case<void, H, F>{std::forward<H>(ch), std::move(fn)};
}

template <class F = detail::no_handler>
auto default_case(F fn = {}) {
  return detail::default_case_t<F>{std::move(fn)};
}

// Runs a select over the cases; returns the position of the case that ran.
template <class... Cases>
int select(Cases&&... cases) {
  constexpr int kDefaults = (0 + ... + (detail::is_default_v<Cases> ? 1 : 0));
  static_assert(kDefaults <= 1, "a select has at most one default case");
  constexpr int kN = static_cast<int>(sizeof...(Cases)) - kDefaults;
  detail::select_case descs[kN > 0 ? kN : 1] = {};
  int positions[kN > 0 ? kN : 1] = {};
  int default_pos = -1;
  {
    int k = 0, pos = 0;
    [[maybe_unused]] auto add = [&](auto& c) {  // unused only by select() with no cases
      if constexpr (detail::is_default_v<decltype(c)>) {
        default_pos = pos;
      } else {
        descs[k] = c.describe();
        positions[k++] = pos;
      }
      pos++;
    };
    (add(cases), ...);
  }
  bool ok = false;
  int chosen = detail::select_impl(descs, kN, kDefaults == 1, &ok);
  int pos = chosen < 0 ? default_pos : positions[chosen];
  if constexpr (sizeof...(Cases) > 0) {
    int i = 0;
    // Fires the chosen case only: || stops at the first true. The result is not needed.
    (void)((i++ == pos ? (cases.fire(ok), true) : false) || ...);
  }
  return pos;
}

}  // namespace goro
