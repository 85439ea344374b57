#pragma once
// goro::panic: the exception type for Go's run-time panics ("send on closed channel",
// "sync: negative WaitGroup counter", ...). what() is Go's message, word for word.
//
// An exception that escapes a goroutine ends the program as an unrecovered Go panic does:
// "panic: <what()>" and the goroutine's identity on stderr, then exit status 2. Catching it
// inside the goroutine is the C++ spelling of recover().

#include <exception>
#include <functional>
#include <stdexcept>
#include <string>

namespace goro {

class panic : public std::runtime_error {
 public:
  explicit panic(const std::string& message) : std::runtime_error(message) {}
};

// Called instead of the default report when an exception escapes goroutine `id`. The handler
// runs on the dying goroutine; if it returns, the program still exits with status 2.
using panic_handler = std::function<void(std::exception_ptr, unsigned long long id)>;

// Installs `h` (empty restores the default). Not synchronised with running goroutines: set
// it before goro::run().
void set_panic_handler(panic_handler h);

}  // namespace goro
