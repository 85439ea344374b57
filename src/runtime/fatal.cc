// Fatal errors, unrecovered panics and stack overflows. Everything printed here is
// written with write(2) from a fixed buffer, so it also works inside a signal handler and
// when the heap is corrupt.

#include "runtime/fatal.h"

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <mutex>
#include <cxxabi.h>
#include <typeinfo>

#include "diag/symbolize.h"
#include "goro/panic.h"
#include "runtime/sched.h"
#include "runtime/stack.h"

namespace goro::detail {

namespace {

// A tiny async-signal-safe formatter.
class out_buf {
 public:
  out_buf& s(const char* str) {
    if (str == nullptr) str = "?";
    while (*str != '\0' && len_ < sizeof buf_) buf_[len_++] = *str++;
    return *this;
  }
  out_buf& n(const char* str, std::size_t count) {
    for (std::size_t i = 0; i < count && len_ < sizeof buf_; i++) buf_[len_++] = str[i];
    return *this;
  }
  out_buf& u(unsigned long long v) {
    char tmp[24];
    int n = 0;
    do {
      tmp[n++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0);
    while (n > 0 && len_ < sizeof buf_) buf_[len_++] = tmp[--n];
    return *this;
  }
  out_buf& hex(unsigned long long v) {
    s("0x");
    char tmp[20];
    int n = 0;
    do {
      tmp[n++] = "0123456789abcdef"[v & 15];
      v >>= 4;
    } while (v != 0);
    while (n > 0 && len_ < sizeof buf_) buf_[len_++] = tmp[--n];
    return *this;
  }
  void flush() {
    std::size_t off = 0;
    while (off < len_) {
      ssize_t n = write(STDERR_FILENO, buf_ + off, len_ - off);
      if (n <= 0) break;
      off += static_cast<std::size_t>(n);
    }
    len_ = 0;
  }

 private:
  char buf_[4096];
  std::size_t len_ = 0;
};

// The goroutine header and its creation site, Go's way.
void describe_goroutine(out_buf& o, g* gp, const char* status) {
  o.s("goroutine ").u(gp->id.get()).s(" [").s(status).s("]:\n");
  if (gp->id.get() != 1) {
    o.s("created by ");
    if (const char* fn = gp->created.function.get(); fn != nullptr) {
      // A source_location name carries a return type, parameters and GCC's "[with ...]":
      // Go prints the bare function name, as the dumps do.
      std::string_view name = split_function_name_view(fn).name;
      o.n(name.data(), name.size());
    } else {
      o.s("code at ").hex(reinterpret_cast<std::uintptr_t>(gp->created.pc.get()));
    }
    o.s(" in goroutine ").u(gp->parent_id.get()).s("\n");
    if (gp->created.file.get() != nullptr) o.s("\t").s(gp->created.file.get()).s(":").u(gp->created.line.get()).s("\n");
  }
}

std::mutex g_panic_lock;
panic_handler* g_panic_handler = nullptr;  // (set before run)
struct sigaction g_prev_segv;
struct sigaction g_prev_bus;
bool g_fault_handler_installed = false;

[[noreturn]] void die() {
  std::fflush(stdout);
  _exit(2);
}

void on_fault(int sig, siginfo_t* info, void* uctx) {
  m* mp = current_m();
  g* gp = mp != nullptr ? mp->curg.get() : nullptr;
  // For TSan: gp->stk was written by the scheduler context, with no edge to the goroutine
  // this handler runs on; take that context's history (released in execute()). A fault
  // is the end of the program here, whoever handles it, so nothing is hidden by it.
  if (p* pp = mp != nullptr ? mp->pp.get() : nullptr) arch::hb_acquire(pp);
  if (gp != nullptr && gp->stk && stack_guard_contains(gp->stk, info->si_addr)) fatal_stack_overflow(gp);
  // Not ours: hand over to whoever was installed before (a sanitizer, or the default).
  struct sigaction& prev = sig == SIGSEGV ? g_prev_segv : g_prev_bus;
  if ((prev.sa_flags & SA_SIGINFO) != 0 && prev.sa_sigaction != nullptr) {
    prev.sa_sigaction(sig, info, uctx);
    return;
  }
  if (prev.sa_handler != SIG_DFL && prev.sa_handler != SIG_IGN && prev.sa_handler != nullptr) {
    prev.sa_handler(sig);
    return;
  }
  signal(sig, SIG_DFL);  // return and fault again, now fatally, with a core dump
}

}  // namespace

void fatal(const char* msg) {
  out_buf o;
  o.s("fatal error: ").s(msg).s("\n");
  g* gp = current_g();
  if (gp != nullptr) {
    o.s("\n");
    describe_goroutine(o, gp, "running");
  }
  o.flush();
  die();
}

void fatal_stack_overflow(g* gp) {
  out_buf o;
  o.s("runtime: goroutine stack exceeds ").u(gp->stk.size).s("-byte limit\n");
  o.s("fatal error: stack overflow\n\n");
  o.s("runtime: stack is [").hex(reinterpret_cast<std::uintptr_t>(gp->stk.lo)).s(", ");
  o.hex(reinterpret_cast<std::uintptr_t>(gp->stk.lo) + gp->stk.size).s(")");
  o.s(gp->stk.guarded ? " with a guard page below\n" : ", detected by its canary (no guard page)\n");
  o.s("hint: raise goro::options::stack_size or GORO_STACK_SIZE, or make the recursion iterative\n\n");
  describe_goroutine(o, gp, "running");
  o.flush();
  die();
}

void goroutine_panicked(g* gp, std::exception_ptr e) {
  {
    std::lock_guard<std::mutex> lk(g_panic_lock);
    if (g_panic_handler != nullptr) {
      try {
        (*g_panic_handler)(e, gp->id.get());
      } catch (...) {
      }
      die();
    }
  }
  out_buf o;
  o.s("panic: ");
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    o.s(ex.what());
    if (dynamic_cast<const goro::panic*>(&ex) == nullptr) {
      int status = 0;
      char* name = abi::__cxa_demangle(typeid(ex).name(), nullptr, nullptr, &status);
      o.s(" [").s(status == 0 ? name : typeid(ex).name()).s("]");
      std::free(name);
    }
  } catch (...) {
    o.s("unknown exception (not derived from std::exception)");
  }
  o.s("\n\n");
  describe_goroutine(o, gp, "running");
  o.s("exit status 2\n");
  o.flush();
  die();
}

void install_fault_handler() {
  if (g_fault_handler_installed) return;
  struct sigaction sa {};
  sa.sa_sigaction = &on_fault;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGSEGV, &sa, &g_prev_segv);
  sigaction(SIGBUS, &sa, &g_prev_bus);
  g_fault_handler_installed = true;
}

void thread_signal_stack_init(m* mp) {
  constexpr std::size_t kSize = 64 * 1024;
  mp->altstack = std::malloc(kSize);
  stack_t ss{};
  ss.ss_sp = mp->altstack;
  ss.ss_size = kSize;
  sigaltstack(&ss, nullptr);
}

void thread_signal_stack_free(m* mp) {
  stack_t ss{};
  ss.ss_flags = SS_DISABLE;
  sigaltstack(&ss, nullptr);
  std::free(mp->altstack);
  mp->altstack = nullptr;
}

}  // namespace goro::detail

namespace goro {

void set_panic_handler(panic_handler h) {
  std::lock_guard<std::mutex> lk(detail::g_panic_lock);
  delete detail::g_panic_handler;
  detail::g_panic_handler = h ? new panic_handler(std::move(h)) : nullptr;
}

}  // namespace goro
