#pragma once
// goro::chan<T>: Go's channels. "Share memory by communicating."
//
// A chan<T> is a copyable handle to a shared channel, like Go's `chan T`; a
// default-constructed handle is the nil channel. send_chan<T> and recv_chan<T> are the
// directional handles (Go's `chan<- T` and `<-chan T`), made implicitly from chan<T>.
// chan<> (chan<void>) carries no value, for pure signalling like `chan struct{}`.
//
// Guarantees (Go's, all tested in tests/chan/ and tests/conformance/):
//  - Unbuffered (capacity 0): a send completes only when a receiver takes the value, and
//    vice versa. Buffered: FIFO; a send parks only when full, a receive only when empty.
//  - Parked senders and receivers are served first-come first-served; a value passes
//    directly to a parked receiver, not through the buffer.
//  - close(): receives drain the buffer, then return "closed" at once; every parked
//    receiver wakes with "closed"; every parked sender and every later send throws
//    goro::panic("send on closed channel"). Closing twice throws "close of closed channel",
//    closing nil "close of nil channel".
//  - Nil channel: send and receive park forever (wait reasons "chan send (nil chan)" and
//    "chan receive (nil chan)").
//  - Memory model: a send happens before the matching receive completes; a close happens
//    before a receive that returns because of it; for an unbuffered channel the receive
//    happens before the send completes; the k-th receive on a channel of capacity C happens
//    before the (k+C)-th send completes. ThreadSanitizer sees these edges.
//  - Blocking operations park the goroutine, never the thread, and must run on a
//    goroutine (std::logic_error otherwise). try_send/try_recv/close/len/cap work anywhere.
//  - Handles are thread-safe to copy and destroy; the channel and any buffered values are
//    destroyed with the last handle.

#include <cstddef>
#include <cstdint>
#include <new>
#include <optional>
#include <type_traits>
#include <utility>

namespace goro {

// Result of a non-blocking operation.
enum class chan_status : std::uint8_t {
  ok,           // the value was sent / received
  would_block,  // the operation would have parked (or the channel is nil)
  closed,       // the channel is closed (and, for a receive, drained)
};

namespace detail {

struct chan_core;

// How the runtime moves and destroys elements of one type.
struct elem_ops {
  std::size_t size;
  std::size_t align;
  void (*move_construct)(void* dst, void* src);  // construct *dst from std::move(*src)
  void (*destroy)(void* p);
};

template <class T>
inline constexpr elem_ops elem_ops_for = {
    sizeof(T), alignof(T), [](void* dst, void* src) { ::new (dst) T(std::move(*static_cast<T*>(src))); },
    [](void* p) { static_cast<T*>(p)->~T(); }};

struct void_elem {};
template <>
inline constexpr elem_ops elem_ops_for<void> = {0, 1, [](void*, void*) {}, [](void*) {}};

inline constexpr std::uint64_t kSendRef = 1;
inline constexpr std::uint64_t kRecvRef = std::uint64_t{1} << 32;

chan_core* chan_make(const elem_ops* ops, std::size_t cap);
void chan_retain(chan_core* c, std::uint64_t refs);
void chan_release(chan_core* c, std::uint64_t refs);
// After a parking call at the end of an inline wrapper: keeps the call from becoming a
// tail call of the user's function, so that function stays on the stack a dump unwinds
// (a lambda ending in `ch.send(v)` is otherwise missing from its goroutine's traceback).
#define GORO_KEEP_CALLER_FRAME() asm volatile("")

void chan_send(chan_core* c, void* src);   // parks; throws goro::panic if closed
bool chan_recv(chan_core* c, void* dst);   // parks; true = a value was constructed in dst
chan_status chan_try_send(chan_core* c, void* src);
chan_status chan_try_recv(chan_core* c, void* dst);
void chan_close(chan_core* c);
std::size_t chan_len(const chan_core* c);
std::size_t chan_cap(const chan_core* c);

// Raw storage for one received value.
template <class T>
union recv_slot {
  recv_slot() {}
  ~recv_slot() {}
  T value;
};

// The reference-counted handle shared by chan, send_chan and recv_chan.
template <std::uint64_t Refs>
class chan_handle {
 public:
  chan_handle() = default;
  chan_handle(const chan_handle& o) : c_(o.c_) {
    if (c_ != nullptr) chan_retain(c_, Refs);
  }
  chan_handle(chan_handle&& o) noexcept : c_(std::exchange(o.c_, nullptr)) {}
  chan_handle& operator=(chan_handle o) noexcept {
    std::swap(c_, o.c_);
    return *this;
  }
  ~chan_handle() {
    if (c_ != nullptr) chan_release(c_, Refs);
  }

  // Number of buffered elements / buffer capacity (0 for nil).
  std::size_t len() const { return chan_len(c_); }
  std::size_t cap() const { return chan_cap(c_); }
  bool is_nil() const { return c_ == nullptr; }
  explicit operator bool() const { return c_ != nullptr; }
  // Same channel (Go's ==).
  friend bool operator==(const chan_handle& a, const chan_handle& b) { return a.c_ == b.c_; }

  chan_core* core() const { return c_; }

 protected:
  chan_handle(chan_core* c, bool adopt) : c_(c) {
    if (!adopt && c_ != nullptr) chan_retain(c_, Refs);
  }
  chan_core* c_ = nullptr;
};

// Sending operations, shared by chan<T> and send_chan<T>.
template <class T, class Base>
class send_ops {
 public:
  // Sends v, parking until a receiver or buffer space takes it. Goroutine only.
  void send(const T& v) const {
    T copy(v);
    chan_send(self().core(), &copy);
  }
  void send(T&& v) const {
    chan_send(self().core(), &v);
    GORO_KEEP_CALLER_FRAME();
  }
  // Sends without parking. On would_block/closed the argument is left untouched.
  chan_status try_send(T&& v) const { return chan_try_send(self().core(), &v); }
  chan_status try_send(const T& v) const {
    T copy(v);
    return chan_try_send(self().core(), &copy);
  }
  // Closes the channel (see the file comment for what that does to waiters).
  void close() const { chan_close(self().core()); }

 private:
  const Base& self() const { return static_cast<const Base&>(*this); }
};

template <class Base>
class send_ops<void, Base> {
 public:
  void send() const {
    chan_send(self().core(), nullptr);
    GORO_KEEP_CALLER_FRAME();
  }
  chan_status try_send() const { return chan_try_send(self().core(), nullptr); }
  void close() const { chan_close(self().core()); }

 private:
  const Base& self() const { return static_cast<const Base&>(*this); }
};

// The result of try_recv(): a status and, when status is ok, the value.
template <class T>
struct try_recv_result {
  chan_status status = chan_status::would_block;
  std::optional<T> value;
  explicit operator bool() const { return status == chan_status::ok; }
};

template <class T, class Base>
class recv_ops {
 public:
  // Receives a value, parking until one is available. Empty when the channel is closed
  // and drained (Go's `v, ok := <-ch` with ok == false). Goroutine only.
  std::optional<T> recv() const {
    recv_slot<T> s;
    if (!chan_recv(self().core(), &s.value)) return std::nullopt;
    std::optional<T> out(std::move(s.value));
    s.value.~T();
    return out;
  }
  // Receives without parking.
  try_recv_result<T> try_recv() const {
    recv_slot<T> s;
    try_recv_result<T> r;
    r.status = chan_try_recv(self().core(), &s.value);
    if (r.status == chan_status::ok) {
      r.value.emplace(std::move(s.value));
      s.value.~T();
    }
    return r;
  }

  // Range-for: `for (T v : ch)` receives until the channel is closed and drained.
  class iterator {
   public:
    explicit iterator(const Base* ch) : ch_(ch) { advance(); }
    iterator() = default;
    T& operator*() { return *cur_; }
    iterator& operator++() {
      advance();
      return *this;
    }
    friend bool operator==(const iterator& a, const iterator& b) { return a.ch_ == b.ch_; }

   private:
    void advance() {
      cur_ = ch_->recv();
      if (!cur_) ch_ = nullptr;
    }
    const Base* ch_ = nullptr;
    std::optional<T> cur_;
  };
  iterator begin() const { return iterator(&self()); }
  iterator end() const { return iterator(); }

 private:
  const Base& self() const { return static_cast<const Base&>(*this); }
};

template <class Base>
class recv_ops<void, Base> {
 public:
  // Receives a signal: true, or false when the channel is closed and drained.
  bool recv() const {
    bool ok = chan_recv(self().core(), nullptr);
    GORO_KEEP_CALLER_FRAME();
    return ok;
  }
  chan_status try_recv() const { return chan_try_recv(self().core(), nullptr); }

 private:
  const Base& self() const { return static_cast<const Base&>(*this); }
};

}  // namespace detail

template <class T = void>
class send_chan;
template <class T = void>
class recv_chan;

template <class T = void>
class chan : public detail::chan_handle<detail::kSendRef | detail::kRecvRef>,
             public detail::send_ops<T, chan<T>>,
             public detail::recv_ops<T, chan<T>> {
  using base = detail::chan_handle<detail::kSendRef | detail::kRecvRef>;

 public:
  using value_type = T;
  chan() = default;  // the nil channel

 private:
  template <class U>
  friend chan<U> make_chan(std::size_t);
  friend class send_chan<T>;
  friend class recv_chan<T>;
  explicit chan(detail::chan_core* c) : base(c, true) {}
};

template <class T>
class send_chan : public detail::chan_handle<detail::kSendRef>, public detail::send_ops<T, send_chan<T>> {
  using base = detail::chan_handle<detail::kSendRef>;

 public:
  using value_type = T;
  send_chan() = default;
  send_chan(const chan<T>& c) : base(c.core(), false) {}  // NOLINT: implicit like Go
};

template <class T>
class recv_chan : public detail::chan_handle<detail::kRecvRef>, public detail::recv_ops<T, recv_chan<T>> {
  using base = detail::chan_handle<detail::kRecvRef>;

 public:
  using value_type = T;
  recv_chan() = default;
  recv_chan(const chan<T>& c) : base(c.core(), false) {}  // NOLINT: implicit like Go
};

// Makes a channel with room for `capacity` buffered values (0: unbuffered).
template <class T = void>
chan<T> make_chan(std::size_t capacity = 0) {
  static_assert(std::is_void_v<T> || std::is_nothrow_move_constructible_v<T>,
                "channel elements must be nothrow move-constructible (values move under the channel's lock)");
  return chan<T>(detail::chan_make(&detail::elem_ops_for<T>, capacity));
}

}  // namespace goro
