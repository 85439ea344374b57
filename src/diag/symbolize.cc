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
#include <filesystem>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace goro::detail {

namespace {

std::string demangle(const char* name) {
  if (name == nullptr) return "?";
  int status = 0;
  char* d = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  if (status != 0 || d == nullptr) return name;
  std::string out(d);
  std::free(d);
  // GCC's clones ("f(int) [clone .constprop.0]", "[clone .cold]") are the same function.
  for (std::size_t c; (c = out.find(" [clone ")) != std::string::npos;) {
    std::size_t e = out.find(']', c);
    out.erase(c, e == std::string::npos ? std::string::npos : e - c + 1);
  }
  return out;
}

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// Appends to `chain` (outermost first) the DIEs under `parent` whose code contains pc.
// dwarf_getscopes() would do, but it does not look inside types, and GCC nests the
// out-of-line code of a lambda's static invoker (_FUN) inside its closure type.
bool find_scopes(Dwarf_Die* parent, Dwarf_Addr pc, std::vector<Dwarf_Die>& chain) {
  Dwarf_Die child;
  if (dwarf_child(parent, &child) != 0) return false;
  do {
    switch (dwarf_tag(&child)) {
      case DW_TAG_subprogram:
      case DW_TAG_inlined_subroutine:
      case DW_TAG_lexical_block:
      case DW_TAG_try_block:
      case DW_TAG_catch_block:
      case DW_TAG_namespace:
      case DW_TAG_class_type:
      case DW_TAG_structure_type:
      case DW_TAG_union_type:
        break;
      default:
        continue;
    }
    if (dwarf_hasattr(&child, DW_AT_low_pc) || dwarf_hasattr(&child, DW_AT_ranges)) {
      if (dwarf_haspc(&child, pc) != 1) continue;
      chain.push_back(child);
      find_scopes(&child, pc, chain);
      return true;
    }
    // No code of its own (a namespace, a type, a declaration): look inside.
    chain.push_back(child);
    if (find_scopes(&child, pc, chain)) return true;
    chain.pop_back();
  } while (dwarf_siblingof(&child, &child) == 0);
  return false;
}

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
  // Per compile unit (by its DIE offset): the entry address of every function with code
  // -> the offset of its DIE. Built by one walk of the unit, the first time it is needed.
  std::unordered_map<Dwarf_Off, std::unordered_map<Dwarf_Addr, Dwarf_Off>> functions_;

  Dwarf_Off function_die(Dwarf_Die* cu, Dwarf_Addr entry) {
    auto [it, fresh] = functions_.try_emplace(dwarf_dieoffset(cu));
    if (fresh) index_functions(cu, it->second);
    auto f = it->second.find(entry);
    return f != it->second.end() ? f->second : 0;
  }

  static void index_functions(Dwarf_Die* parent, std::unordered_map<Dwarf_Addr, Dwarf_Off>& out) {
    Dwarf_Die child;
    if (dwarf_child(parent, &child) != 0) return;
    do {
      int tag = dwarf_tag(&child);
      if (tag == DW_TAG_subprogram) {
        Dwarf_Addr lo = 0;
        if (dwarf_entrypc(&child, &lo) == 0 || dwarf_lowpc(&child, &lo) == 0) out.emplace(lo, dwarf_dieoffset(&child));
      }
      // Code hides in functions, blocks, namespaces and (local) classes; not in the rest.
      switch (tag) {
        case DW_TAG_subprogram:
        case DW_TAG_lexical_block:
        case DW_TAG_namespace:
        case DW_TAG_class_type:
        case DW_TAG_structure_type:
        case DW_TAG_union_type:
          if (dwarf_haschildren(&child)) index_functions(&child, out);
          break;
        default:
          break;
      }
    } while (dwarf_siblingof(&child, &child) == 0);
  }

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
    phys.name.assign(1, '?');  // not `= "?"`: GCC 12 -O3 warns falsely (-Wrestrict, PR105651)
    phys.params.assign({'(', ')'});
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
    // Inlined calls: the DIEs containing addr, innermost first. Each inlined subroutine
    // is a frame at the current location; its call site becomes the location of the next.
    Dwarf_Addr bias = 0;
    std::string comp_dir;
    if (Dwarf_Die* cu = dwfl_module_addrdie(mod, addr, &bias)) {
      Dwarf_Attribute dir_attr;
      if (const char* d = dwarf_formstring(dwarf_attr(cu, DW_AT_comp_dir, &dir_attr))) comp_dir = d;
      // Start at the function's own DIE, found by its entry address: the out-of-line code
      // of a local class (a lambda) is nested inside its enclosing function's DIE, which
      // does not contain that code's addresses, so a search from the CU down could miss it.
      std::vector<Dwarf_Die> chain;
      Dwarf_Die fn;
      Dwarf_Addr dwbias = 0;
      Dwarf* dw = dwfl_module_getdwarf(mod, &dwbias);
      Dwarf_Off fn_off = out.entry != 0 ? function_die(cu, out.entry - bias) : 0;
      if (dw != nullptr && fn_off != 0 && dwarf_offdie(dw, fn_off, &fn) != nullptr && dwarf_haspc(&fn, addr - bias) == 1) {
        chain.push_back(fn);
        find_scopes(&fn, addr - bias, chain);
      } else {
        find_scopes(cu, addr - bias, chain);
      }
      Dwarf_Files* files = nullptr;
      if (dwarf_getsrcfiles(cu, &files, nullptr) != 0) files = nullptr;
      for (std::size_t i = chain.size(); i-- > 0;) {
        Dwarf_Die* die = &chain[i];
        int tag = dwarf_tag(die);
        if (tag == DW_TAG_subprogram) break;
        if (tag != DW_TAG_inlined_subroutine) continue;
        sym_frame f;
        f.name = die_name(die);
        f.params = "(...)";
        f.inlined = true;
        f.file = file;
        f.line = line;
        out.frames.push_back(std::move(f));
        Dwarf_Attribute attr;
        Dwarf_Word v = 0;
        file.clear();
        line = 0;
        if (files != nullptr && dwarf_formudata(dwarf_attr(die, DW_AT_call_file, &attr), &v) == 0) {
          if (const char* fname = dwarf_filesrc(files, v, nullptr, nullptr)) file = fname;
        }
        if (dwarf_formudata(dwarf_attr(die, DW_AT_call_line, &attr), &v) == 0) line = static_cast<unsigned>(v);
      }
    }
    phys.file = std::move(file);
    phys.line = line;
    out.frames.push_back(std::move(phys));
    for (sym_frame& f : out.frames) {
      // A build through ccache with CCACHE_BASEDIR (or any relative compile command) records
      // relative names; Go prints absolute ones, so resolve them against the compile directory.
      if (!f.file.empty() && f.file[0] != '/' && !comp_dir.empty()) {
        f.file = (std::filesystem::path(comp_dir) / f.file).lexically_normal().string();
      }
      f.runtime = is_runtime_function(f.name);
      f.glue = is_glue_function(f.name);
    }
  }

  // The qualified name of an inlined subroutine: its linkage name when it has one;
  // otherwise (GCC gives none to internal functions and lambdas) the names of the
  // namespaces, classes and functions around its declaration, as a debugger builds them.
  static std::string die_name(Dwarf_Die* die) {
    Dwarf_Attribute attr;
    const char* linkage = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &attr));
    if (linkage == nullptr) linkage = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr));
    if (linkage != nullptr) return split_function_name(demangle(linkage)).name;
    Dwarf_Die decl = *die, next;
    for (int hop = 0; hop < 8; hop++) {
      if ((dwarf_attr(&decl, DW_AT_abstract_origin, &attr) != nullptr ||
           dwarf_attr(&decl, DW_AT_specification, &attr) != nullptr) &&
          dwarf_formref_die(&attr, &next) != nullptr) {
        decl = next;
        continue;
      }
      break;
    }
    const char* base = dwarf_diename(&decl);
    std::string q;
    Dwarf_Die cu;
    std::vector<Dwarf_Die> path;
    if (dwarf_diecu(&decl, &cu, nullptr, nullptr) != nullptr) path_to(&cu, dwarf_dieoffset(&decl), path);
    for (std::size_t i = 0; i + 1 < path.size(); i++) {  // the last one is decl itself
      const char* n = dwarf_diename(&path[i]);
      switch (dwarf_tag(&path[i])) {
        case DW_TAG_namespace: q += n != nullptr ? n : "(anonymous namespace)"; break;
        case DW_TAG_class_type:
        case DW_TAG_structure_type:
        case DW_TAG_union_type: q += n != nullptr ? n : "{lambda}"; break;  // closures have no name
        case DW_TAG_subprogram: {
          // A function around a local class (a lambda): its own qualified name.
          std::string outer = die_name(&path[i]);
          if (outer.find("::") == std::string::npos && !q.empty()) outer = q.substr(0, q.size() - 2) + "::" + outer;
          q = outer + "()";
          break;
        }
        default: continue;
      }
      q += "::";
    }
    q += base != nullptr ? base : "?";
    return q;
  }

  // The DIEs from below `parent` down to the DIE at offset `target` (inclusive). A DIE's
  // children lie between its own offset and its next sibling's, which picks the branch.
  static bool path_to(Dwarf_Die* parent, Dwarf_Off target, std::vector<Dwarf_Die>& path) {
    Dwarf_Die child;
    if (dwarf_child(parent, &child) != 0) return false;
    for (;;) {
      Dwarf_Off off = dwarf_dieoffset(&child);
      if (off == target) {
        path.push_back(child);
        return true;
      }
      Dwarf_Die sib;
      bool last = dwarf_siblingof(&child, &sib) != 0;
      if (off < target && (last || dwarf_dieoffset(&sib) > target)) {
        path.push_back(child);
        if (path_to(&child, target, path)) return true;
        path.pop_back();
        return false;
      }
      if (last) return false;
      child = sib;
    }
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
  split_name_view v = split_function_name_view(full);
  return {std::string(v.name), std::string(v.params)};
}

split_name_view split_function_name_view(std::string_view full) noexcept {
  if (starts_with(full, "decltype(auto) ")) full.remove_prefix(sizeof("decltype(auto) ") - 1);
  // A template's arguments, which GCC's std::source_location names (its __PRETTY_FUNCTION__)
  // end with: "int goro::run(F&&) [with F = main()::<lambda()>]" (clang: " [F = ...]"). Go's
  // function names carry none, and the demangler's have no such group. Only a bracket at
  // depth 0 that follows a space and closes at the very end is one: "f[abi:cxx11]()" stays.
  if (full.ends_with(']')) {
    std::size_t open = std::string_view::npos;
    scan_name(full, [&](std::size_t i, int depth) {
      if (depth == 0 && full[i] == '[') open = i;
      return true;
    });
    if (open != std::string_view::npos && open > 0 && full[open - 1] == ' ') full = full.substr(0, open - 1);
  }
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
    return {rest.substr(0, open), rest.substr(open)};
  }
  return {rest, std::string_view()};
}

bool is_runtime_function(std::string_view name) {
  // A lambda defined inside goro's own code (wait_group::go's wrapper, run()'s) is glue too.
  if (starts_with(name, "goro::") && name.find("::{lambda") != std::string_view::npos) return true;
  return starts_with(name, "goro::detail::") || starts_with(name, "goro::arch::") ||
         starts_with(name, "goro::(anonymous namespace)::") ||
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
