// Symbolization with libdw: the process reports its own modules (dwfl_linux_proc_report),
// symbol names come from the ELF symbol tables, file:line and inlined calls from DWARF.

#include "diag/symbolize.h"

#include <cxxabi.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <dwarf.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace goro::detail {

namespace {

std::string demangle(const char* name) {
  if (name == nullptr) return "?";
  int status = 0;
  char* d = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  if (status != 0 || d == nullptr) return name;
  std::string out(d);
  std::free(d);
  return out;
}

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

class symbolizer {
 public:
  std::recursive_mutex lock;

  const sym_pc& lookup(std::uintptr_t pc) {
    auto it = cache_.find(pc);
    if (it != cache_.end()) return *it->second;
    auto entry = std::make_unique<sym_pc>();
    resolve(pc, *entry);
    render(*entry);
    return *cache_.emplace(pc, std::move(entry)).first->second;
  }

 private:
  Dwfl* dwfl_ = nullptr;
  std::unordered_map<std::uintptr_t, std::unique_ptr<sym_pc>> cache_;

  void report() {
    static const Dwfl_Callbacks callbacks = {
        .find_elf = dwfl_linux_proc_find_elf,
        .find_debuginfo = dwfl_standard_find_debuginfo,
        .section_address = nullptr,
        .debuginfo_path = nullptr,
    };
    if (dwfl_ == nullptr) dwfl_ = dwfl_begin(&callbacks);
    if (dwfl_ == nullptr) return;
    dwfl_report_begin(dwfl_);
    dwfl_linux_proc_report(dwfl_, getpid());
    dwfl_report_end(dwfl_, nullptr, nullptr);
  }

  Dwfl_Module* module_of(Dwarf_Addr addr) {
    if (dwfl_ == nullptr) report();
    if (dwfl_ == nullptr) return nullptr;
    Dwfl_Module* mod = dwfl_addrmodule(dwfl_, addr);
    if (mod == nullptr) {
      // A library loaded since the last report (dlopen): report the process again.
      report();
      mod = dwfl_addrmodule(dwfl_, addr);
    }
    return mod;
  }

  void resolve(std::uintptr_t pc, sym_pc& out) {
    out.pc = pc;
    // A return address: the call it returns from is the instruction before it.
    Dwarf_Addr addr = pc > 0 ? pc - 1 : 0;
    Dwfl_Module* mod = module_of(addr);
    sym_frame phys;
    phys.name = "?";
    phys.params = "()";
    if (mod == nullptr) {
      out.frames.push_back(std::move(phys));
      return;
    }
    GElf_Off off = 0;
    GElf_Sym sym;
    const char* symname = dwfl_module_addrinfo(mod, addr, &off, &sym, nullptr, nullptr, nullptr);
    if (symname != nullptr) {
      out.entry = addr - off;
      split_name s = split_function_name(demangle(symname));
      phys.name = std::move(s.name);
      phys.params = s.params.empty() ? "()" : std::move(s.params);
    }
    std::string file;
    unsigned line = 0;
    if (Dwfl_Line* l = dwfl_module_getsrc(mod, addr)) {
      int ln = 0;
      if (const char* f = dwfl_lineinfo(l, nullptr, &ln, nullptr, nullptr, nullptr)) file = f;
      line = static_cast<unsigned>(ln);
    }
    // Inlined calls: the scopes containing addr, innermost first. Each inlined subroutine
    // is a frame at the current location; its call site becomes the location of the next.
    Dwarf_Addr bias = 0;
    if (Dwarf_Die* cu = dwfl_module_addrdie(mod, addr, &bias)) {
      Dwarf_Die* scopes = nullptr;
      int n = dwarf_getscopes(cu, addr - bias, &scopes);
      Dwarf_Files* files = nullptr;
      std::size_t nfiles = 0;
      if (dwarf_getsrcfiles(cu, &files, &nfiles) != 0) files = nullptr;
      for (int i = 0; i < n; i++) {
        int tag = dwarf_tag(&scopes[i]);
        if (tag == DW_TAG_subprogram) break;
        if (tag != DW_TAG_inlined_subroutine) continue;
        sym_frame f;
        f.name = die_name(&scopes[i]);
        f.params = "(...)";
        f.inlined = true;
        f.file = file;
        f.line = line;
        out.frames.push_back(std::move(f));
        Dwarf_Attribute attr;
        Dwarf_Word v = 0;
        file.clear();
        line = 0;
        if (files != nullptr && dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_file, &attr), &v) == 0) {
          if (const char* fname = dwarf_filesrc(files, v, nullptr, nullptr)) file = fname;
        }
        if (dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_line, &attr), &v) == 0) line = static_cast<unsigned>(v);
      }
      std::free(scopes);
    }
    phys.file = std::move(file);
    phys.line = line;
    out.frames.push_back(std::move(phys));
    for (sym_frame& f : out.frames) {
      f.runtime = is_runtime_function(f.name);
      f.glue = is_glue_function(f.name);
    }
  }

  static std::string die_name(Dwarf_Die* die) {
    Dwarf_Attribute attr;
    const char* linkage = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &attr));
    if (linkage == nullptr) linkage = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr));
    if (linkage != nullptr) return split_function_name(demangle(linkage)).name;
    const char* name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &attr));
    return name != nullptr ? name : "?";
  }

  // Go's traceback lines: "name(args)\n\tfile:line +0xoff\n"; inlined frames have no
  // offset.
  static void render(sym_pc& e) {
    for (const sym_frame& f : e.frames) {
      std::string t;
      t.reserve(f.name.size() + f.params.size() + f.file.size() + 32);
      t += f.name;
      t += f.params;
      t += "\n\t";
      if (f.file.empty()) {
        t += "?";
      } else {
        t += f.file;
      }
      t += ':';
      t += std::to_string(f.line);
      if (!f.inlined) {
        char buf[32];
        if (e.entry != 0) {
          std::snprintf(buf, sizeof buf, " +0x%llx", static_cast<unsigned long long>(e.pc - e.entry));
        } else {
          std::snprintf(buf, sizeof buf, " pc=0x%llx", static_cast<unsigned long long>(e.pc));
        }
        t += buf;
      }
      t += '\n';
      e.text.push_back(std::move(t));
    }
  }
};

symbolizer& the_symbolizer() {
  // Never destroyed: a dump may run while the process exits (SIGQUIT, deadlock).
  static symbolizer* s = new symbolizer;
  return *s;
}

// Scans a demangled name: calls on_char(i, depth) for every character outside operator
// names and "(anonymous namespace)", with the bracket depth before that character.
template <class F>
void scan_name(std::string_view s, F&& on_char) {
  int depth = 0;
  std::size_t i = 0;
  while (i < s.size()) {
    if (starts_with(s.substr(i), "(anonymous namespace)")) {
      i += sizeof("(anonymous namespace)") - 1;
      continue;
    }
    if (starts_with(s.substr(i), "operator") && (i == 0 || s[i - 1] == ':' || s[i - 1] == ' ')) {
      i += sizeof("operator") - 1;
      if (starts_with(s.substr(i), "()")) {
        i += 2;
      } else {
        while (i < s.size() && s[i] != '(') i++;  // operator<<, operator new, operator bool
      }
      continue;
    }
    char c = s[i];
    if (!on_char(i, depth)) return;
    if (c == '(' || c == '<' || c == '[' || c == '{') depth++;
    if ((c == ')' || c == '>' || c == ']' || c == '}') && depth > 0) depth--;
    i++;
  }
}

}  // namespace

split_name split_function_name(std::string_view full) {
  // The return type (present for template functions and in source_location names) ends at
  // the last top-level space before the first top-level parenthesis.
  std::size_t name_begin = 0;
  scan_name(full, [&](std::size_t i, int depth) {
    if (depth != 0) return true;
    if (full[i] == '(') return false;
    if (full[i] == ' ') name_begin = i + 1;
    return true;
  });
  std::string_view rest = full.substr(name_begin);
  // The parameter list: the last top-level parenthesised group, if only qualifiers
  // (const, &, noexcept...) follow it. "f()::<lambda()>" has none: the name is all of it.
  std::size_t open = std::string_view::npos, close = std::string_view::npos;
  scan_name(rest, [&](std::size_t i, int depth) {
    if (depth == 0 && rest[i] == '(') open = i;
    if (depth == 1 && rest[i] == ')') close = i;
    return true;
  });
  if (open != std::string_view::npos && close != std::string_view::npos && close > open &&
      rest.find("::", close) == std::string_view::npos) {
    return {std::string(rest.substr(0, open)), std::string(rest.substr(open))};
  }
  return {std::string(rest), std::string()};
}

bool is_runtime_function(std::string_view name) {
  return starts_with(name, "goro::detail::") || starts_with(name, "goro::(anonymous namespace)::") ||
         starts_with(name, "goro::debug::") || starts_with(name, "goro_arch_") || starts_with(name, "goro::go<") ||
         starts_with(name, "goro::run<");
}

bool is_glue_function(std::string_view name) {
  return starts_with(name, "std::__invoke") || starts_with(name, "std::invoke") ||
         starts_with(name, "std::__apply_impl") || starts_with(name, "std::apply") ||
         starts_with(name, "std::_Function_handler") || starts_with(name, "std::function<");
}

const sym_pc& symbolize(std::uintptr_t pc) {
  symbolizer& s = the_symbolizer();
  std::lock_guard<std::recursive_mutex> lk(s.lock);
  return s.lookup(pc);
}

symbolizer_lock::symbolizer_lock() { the_symbolizer().lock.lock(); }
symbolizer_lock::~symbolizer_lock() { the_symbolizer().lock.unlock(); }

}  // namespace goro::detail
