#pragma once
// goro::error: errors as values, Go's way. The one error convention of the library
// (errgroup, context, and every later module).
//
// An error is either nil (default-constructed, false in a boolean context) or points to an
// immutable, shared description: a message, and optionally a wrapped cause. Copies are
// cheap (one reference count) and thread-safe to share.
//
// Identity: two errors are == when they are the same error value (copies of one another),
// like comparing Go error values. is(err, target) also looks through wrapping, like Go's
// errors.Is. Sentinels (goro::canceled, goro::deadline_exceeded...) are errors created
// once and compared by identity, so two different errors with the same text never collide.

#include <memory>
#include <string>
#include <string_view>

namespace goro {

class error {
 public:
  error() = default;  // nil
  explicit error(std::string message);
  // An error with `message` that wraps `cause` (Go's fmt.Errorf("...: %w", cause)).
  error(std::string message, error cause);

  explicit operator bool() const { return rep_ != nullptr; }
  // The message, including the wrapped causes' text as Go prints them ("msg: cause").
  std::string message() const;
  // The error this one wraps (nil if none).
  error unwrap() const;

  friend bool operator==(const error& a, const error& b) { return a.rep_ == b.rep_; }

 private:
  // Defined below the class: it holds an `error`, which is incomplete until the class ends.
  struct rep;
  std::shared_ptr<const rep> rep_;
};

struct error::rep {
  std::string text;
  error cause;
};

inline error::error(std::string message) : rep_(std::make_shared<const rep>(rep{std::move(message), {}})) {}
inline error::error(std::string message, error cause)
    : rep_(std::make_shared<const rep>(rep{std::move(message), std::move(cause)})) {}
inline std::string error::message() const {
  if (!rep_) return "<nil>";
  if (!rep_->cause) return rep_->text;
  return rep_->text + ": " + rep_->cause.message();
}
inline error error::unwrap() const { return rep_ ? rep_->cause : error(); }

// Whether err is target or wraps it (Go's errors.Is).
inline bool is(error err, const error& target) {
  for (; err; err = err.unwrap()) {
    if (err == target) return true;
  }
  return !target && !err;
}

}  // namespace goro
