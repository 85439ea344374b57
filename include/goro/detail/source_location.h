#pragma once
// Not API. goro::detail::source_location: std::source_location where the standard library
// provides it, otherwise the same interface built on the compiler builtins. Clang 14 with
// libstdc++ 12 has no std::source_location (libstdc++ needs __builtin_source_location, which
// arrived in Clang 15), while __builtin_FILE/FUNCTION/LINE exist in every supported compiler
// and, used as default arguments, report the outermost call site exactly as current() does.

#include <cstdint>
#include <version>
#if __has_include(<source_location>)
#include <source_location>
#endif

namespace goro::detail {

#if defined(__cpp_lib_source_location)
using source_location = std::source_location;
#else
class source_location {
 public:
  static constexpr source_location current(const char* file = __builtin_FILE(),
                                           const char* function = __builtin_FUNCTION(),
                                           std::uint_least32_t line = __builtin_LINE()) noexcept {
    source_location loc;
    loc.file_ = file;
    loc.function_ = function;
    loc.line_ = line;
    return loc;
  }
  constexpr source_location() noexcept = default;
  constexpr const char* file_name() const noexcept { return file_; }
  constexpr const char* function_name() const noexcept { return function_; }
  constexpr std::uint_least32_t line() const noexcept { return line_; }
  constexpr std::uint_least32_t column() const noexcept { return 0; }

 private:
  const char* file_ = "";
  const char* function_ = "";
  std::uint_least32_t line_ = 0;
};
#endif

}  // namespace goro::detail
