#pragma once
// Unwinding goroutine stacks with DWARF call-frame information (libunwind), so that code
// compiled without frame pointers unwinds correctly. Diagnostics only: nothing here runs on
// the scheduler's paths.

#include <cstddef>
#include <cstdint>

namespace goro::detail {

struct g;

// Unwinds the suspended goroutine gp from its saved context (arch::saved_frame) into pcs:
// return addresses, innermost first, ending at goro_arch_trampoline (whose CFI marks the end
// of the stack). Returns how many were stored (0 if gp has no valid saved context).
// Precondition: gp cannot resume while this runs (the dump gate holds it, or it is parked).
std::size_t unwind_suspended(const g* gp, std::uintptr_t* pcs, std::size_t max);

// Unwinds the calling thread from the caller of this function. Returns how many pcs.
[[gnu::noinline]] std::size_t unwind_current(std::uintptr_t* pcs, std::size_t max);

}  // namespace goro::detail
