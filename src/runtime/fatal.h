#pragma once
// How goro dies: unrecovered panics and fatal errors, printed the way Go prints them.

#include <exception>

#include "runtime/g.h"

namespace goro::detail {

// An exception escaped gp's function: report it (or call the user's panic handler) and
// exit with status 2, as an unrecovered Go panic does.
[[noreturn]] void goroutine_panicked(g* gp, std::exception_ptr e);

// The g store (spawn.cc): created and destroyed with the runtime.
void gstore_init();
void gstore_destroy();

}  // namespace goro::detail
