# goro's gdb extension: goroutines in a live process or a core file (Go's runtime-gdb.py,
# for goro).
#
#   gdb -p PID -x tools/goro-gdb.py           (or: source tools/goro-gdb.py)
#   (gdb) info goroutines                     every goroutine: id, state, wait reason, site
#   (gdb) goroutine 7 bt                      the backtrace of parked goroutine 7
#   (gdb) goroutine 7 frames                  the same, one line per frame (no arguments)
#
# How it finds goroutines: libgoro exports two C symbols that need no debug information.
# goro_registry_view says where the registry's chunks of g's are (every g ever allocated;
# those with id 0 are not goroutines right now); goro_gdb_layout gives the offsets of the goroutine fields used
# here, the layout of the frame a parked goroutine saved at its stack pointer, and the
# names of states and wait reasons. Everything is read with read_memory, so the commands
# also work on a core file.
#
# How it shows a parked goroutine's stack: a frame unwinder (gdb.unwinder) that, while
# enabled, says that the caller of the thread's innermost frame has exactly the registers
# the goroutine saved (rip, rsp, rbp, rbx, r12-r15). gdb then unwinds the goroutine's stack
# with its own DWARF unwinder, inlined frames included. Nothing is written to the process
# (so it works on a core file, where registers cannot be changed), and the unwinder is
# disabled again before the command returns. Frame 0 of the thread is left out.

import struct

import gdb
import gdb.unwinder

_LAYOUT_VERSION = 2
_U32_FIELDS = (
    "version g_id g_parent_id g_state g_reason g_wait_since g_created_file "
    "g_created_function g_created_line g_created_pc g_ctx_sp g_stk_lo g_stk_size "
    "g_unused frame_size frame_rip frame_rbp frame_rbx frame_r12 frame_r13 frame_r14 "
    "frame_r15 reason_count"
).split()
_NAMES_OFFSET = 96  # static_assert'ed in src/diag/diag.cc


def _inferior():
    return gdb.selected_inferior()


def _read(addr, size):
    return bytes(_inferior().read_memory(addr, size))


def _u64(addr):
    return struct.unpack("<Q", _read(addr, 8))[0]


def _u32(addr):
    return struct.unpack("<I", _read(addr, 4))[0]


def _cstring(addr, limit=4096):
    if addr == 0:
        return None
    out = bytearray()
    while len(out) < limit:
        chunk = _read(addr + len(out), 64)
        nul = chunk.find(b"\0")
        if nul >= 0:
            out += chunk[:nul]
            break
        out += chunk
    return out.decode("utf-8", "replace")


def _symbol_address(name):
    try:
        return int(gdb.parse_and_eval("(unsigned long)&%s" % name))
    except gdb.error:
        raise gdb.GdbError("goro: symbol %s not found: is this a goro program?" % name)


class _Layout:
    def __init__(self):
        base = _symbol_address("goro_gdb_layout")
        values = struct.unpack("<%dI" % len(_U32_FIELDS), _read(base, 4 * len(_U32_FIELDS)))
        for name, value in zip(_U32_FIELDS, values):
            setattr(self, name, value)
        if self.version != _LAYOUT_VERSION:
            raise gdb.GdbError("goro: layout version %d, this script knows %d" % (self.version, _LAYOUT_VERSION))
        names = base + _NAMES_OFFSET
        self.states = [_cstring(_u64(names + 8 * i)) for i in range(6)]
        names += 8 * 6
        self.reasons = [_cstring(_u64(names + 8 * i)) for i in range(self.reason_count)]


class Goroutine:
    """One goroutine record, read from the inferior's memory."""

    def __init__(self, layout, addr):
        L = layout
        self.addr = addr
        self.id = _u64(addr + L.g_id)
        self.parent_id = _u64(addr + L.g_parent_id)
        state = _read(addr + L.g_state, 1)[0]
        self.state = L.states[state] if state < len(L.states) else "state %d" % state
        reason = _read(addr + L.g_reason, 1)[0]
        self.reason = L.reasons[reason] if reason < len(L.reasons) else ""
        self.created_file = _cstring(_u64(addr + L.g_created_file))
        self.created_function = _cstring(_u64(addr + L.g_created_function))
        self.created_line = _u32(addr + L.g_created_line)
        self.created_pc = _u64(addr + L.g_created_pc)
        self.sp = _u64(addr + L.g_ctx_sp)
        self.stk_lo = _u64(addr + L.g_stk_lo)
        self.stk_size = _u64(addr + L.g_stk_size)
        self._layout = L

    def parked(self):
        """True if the goroutine is switched out with a saved frame on its own stack."""
        if self.state not in ("waiting", "runnable") or self.sp == 0 or self.stk_lo == 0:
            return False
        return self.stk_lo <= self.sp < self.stk_lo + self.stk_size

    def saved_registers(self):
        L = self._layout
        sp = self.sp
        return {
            "rip": _u64(sp + L.frame_rip),
            "rsp": sp + L.frame_size,
            "rbp": _u64(sp + L.frame_rbp),
            "rbx": _u64(sp + L.frame_rbx),
            "r12": _u64(sp + L.frame_r12),
            "r13": _u64(sp + L.frame_r13),
            "r14": _u64(sp + L.frame_r14),
            "r15": _u64(sp + L.frame_r15),
        }

    def status(self):
        if self.state == "waiting" and self.reason:
            return self.reason
        return self.state

    def creation_site(self):
        if self.id == 1:
            return ""
        if self.created_pc:
            return _describe_pc(self.created_pc - 1)
        where = _go_function_name(self.created_function) if self.created_function else "?"
        if self.created_file:
            where += " at %s:%d" % (self.created_file, self.created_line)
        return where


def _scan_name(s):
    """(index, depth) of each character of a C++ function name that counts for its
    structure: "(anonymous namespace)" and operator names are skipped whole."""
    depth, i = 0, 0
    while i < len(s):
        if s.startswith("(anonymous namespace)", i):
            i += len("(anonymous namespace)")
            continue
        if s.startswith("operator", i) and (i == 0 or s[i - 1] in ": "):
            i += len("operator")
            if s.startswith("()", i):
                i += 2
            else:
                while i < len(s) and s[i] != "(":
                    i += 1
            continue
        yield i, depth
        if s[i] in "(<[{":
            depth += 1
        elif s[i] in ")>]}" and depth > 0:
            depth -= 1
        i += 1


def _go_function_name(full):
    """A function as Go names it, from std::source_location's spelling: no return type,
    parameters or GCC's "[with T = ...]" ("void ns::f(T) [with T = int]" -> "ns::f"), as
    goro's dumps print it (split_function_name in src/diag/symbolize.cc)."""
    s = full
    if s.startswith("decltype(auto) "):
        s = s[len("decltype(auto) "):]
    if s.endswith("]"):
        open_at = None
        for i, depth in _scan_name(s):
            if depth == 0 and s[i] == "[":
                open_at = i
        if open_at is not None and open_at > 0 and s[open_at - 1] == " ":
            s = s[:open_at - 1]
    begin = 0
    for i, depth in _scan_name(s):
        if depth != 0:
            continue
        if s[i] == "(":
            break
        if s[i] == " ":
            begin = i + 1
    rest = s[begin:]
    open_at = close_at = None
    for i, depth in _scan_name(rest):
        if depth == 0 and rest[i] == "(":
            open_at = i
        if depth == 1 and rest[i] == ")":
            close_at = i
    if open_at is not None and close_at is not None and close_at > open_at and "::" not in rest[close_at:]:
        return rest[:open_at]
    return rest


def _describe_pc(pc):
    block_name = "??"
    try:
        block = gdb.block_for_pc(pc)
        while block is not None and block.function is None:
            block = block.superblock
        if block is not None:
            block_name = block.function.print_name
    except RuntimeError:
        pass
    if block_name == "??":
        sym = gdb.execute("info symbol 0x%x" % pc, to_string=True).strip()
        if not sym.startswith("No symbol"):
            block_name = sym.split(" in section")[0]
    sal = gdb.find_pc_line(pc)
    if sal.symtab is not None:
        return "%s at %s:%d" % (block_name, sal.symtab.filename, sal.line)
    return "%s (pc 0x%x)" % (block_name, pc)


def goroutines():
    """Every goroutine in the registry, ordered by id."""
    layout = _Layout()
    view = _symbol_address("goro_registry_view")
    chunks, count, chunk_len, g_size = struct.unpack("<QQQQ", _read(view, 32))
    out = []
    for i in range(count):
        chunk = _u64(chunks + 8 * i)
        for j in range(chunk_len):
            g = Goroutine(layout, chunk + j * g_size)
            if g.id != 0 and g.state not in ("idle", "dead"):
                out.append(g)
    out.sort(key=lambda g: g.id)
    return out


def find_goroutine(goid):
    for g in goroutines():
        if g.id == goid:
            return g
    raise gdb.GdbError("goro: no goroutine %d" % goid)


class _GoroutineUnwinder(gdb.unwinder.Unwinder):
    """While `regs` is set, the caller of frame 0 is the goroutine's saved context."""

    def __init__(self):
        super().__init__("goro-goroutine")
        self.regs = None

    def __call__(self, pending_frame):
        if self.regs is None or pending_frame.level() != 0:
            return None
        # The id of frame 0 uses an address just below the goroutine's stack pointer, not the
        # thread's: gdb stops unwinding where a caller's frame lies below its callee's, and
        # the goroutine stack may lie anywhere relative to the thread's.
        rsp = pending_frame.read_register("rsp")
        frame_id = _FrameId(gdb.Value(self.regs["rsp"] - 16).cast(rsp.type), pending_frame.read_register("rip"))
        info = pending_frame.create_unwind_info(frame_id)
        for name, value in self.regs.items():
            info.add_saved_register(name, gdb.Value(value).cast(pending_frame.read_register(name).type))
        return info


class _FrameId:
    def __init__(self, sp, pc):
        self.sp = sp
        self.pc = pc


_unwinder = _GoroutineUnwinder()
gdb.unwinder.register_unwinder(None, _unwinder, replace=True)


def _with_goroutine_frames(g, fn):
    """Calls fn(first_frame) with gdb unwinding through goroutine g's saved context."""
    if not g.parked():
        raise gdb.GdbError(
            "goro: goroutine %d is %s: its stack is live on a thread (use `info threads`)" % (g.id, g.status())
        )
    regs = g.saved_registers()
    _unwinder.regs = regs
    gdb.invalidate_cached_frames()
    try:
        frame = gdb.newest_frame()
        # Skip the thread's own innermost frame (and frames inlined into it).
        while frame is not None and not (frame.level() > 0 and frame.pc() == regs["rip"]):
            frame = frame.older()
        if frame is None:
            raise gdb.GdbError("goro: could not unwind goroutine %d" % g.id)
        return fn(frame)
    finally:
        _unwinder.regs = None
        gdb.invalidate_cached_frames()


def _frame_line(n, frame):
    name = frame.name() or "??"
    sal = frame.find_sal()
    where = " at %s:%d" % (sal.symtab.filename, sal.line) if sal.symtab is not None else ""
    pc = "" if frame.type() == gdb.INLINE_FRAME else "0x%016x in " % frame.pc()
    return "#%-3d%s%s%s" % (n, pc, name, where)


class InfoGoroutines(gdb.Command):
    """List every goroutine: id, state or wait reason, and where it was created.

The goroutine a thread is running is marked with '*'."""

    def __init__(self):
        super().__init__("info goroutines", gdb.COMMAND_STACK)

    def invoke(self, arg, from_tty):
        rows = [("", "id", "status", "created by")]
        for g in goroutines():
            mark = "*" if g.state in ("running", "syscall") else ""
            rows.append((mark, str(g.id), g.status(), g.creation_site()))
        w = [max(len(r[i]) for r in rows) for i in range(3)]
        for r in rows:
            gdb.write("%-*s %*s  %-*s  %s\n" % (w[0], r[0], w[1], r[1], w[2], r[2], r[3]))


class GoroutineCmd(gdb.Command):
    """Runs a command on a parked goroutine: goroutine ID bt | frames.

`goroutine 7 bt` prints goroutine 7's backtrace, unwound from the context it saved when it
parked; `goroutine 7 frames` prints one line per frame. Works in a live process and on a
core file. A goroutine running on a thread has no saved context: find its thread with
`info threads` and use `thread N` then `bt`."""

    def __init__(self):
        super().__init__("goroutine", gdb.COMMAND_STACK)

    def invoke(self, arg, from_tty):
        parts = arg.split()
        if len(parts) < 2 or parts[1] not in ("bt", "backtrace", "frames"):
            raise gdb.GdbError("usage: goroutine ID bt | goroutine ID frames")
        g = find_goroutine(int(parts[0], 0))
        limit = int(parts[2]) if len(parts) > 2 else 200

        def show(frame):
            gdb.write("goroutine %d [%s]:\n" % (g.id, g.status()))
            n = 0
            while frame is not None and n < limit:
                if parts[1] == "frames":
                    gdb.write(_frame_line(n, frame) + "\n")
                else:
                    frame.select()
                    text = gdb.execute("frame", to_string=True).splitlines()[0]
                    gdb.write("#%-3d%s\n" % (n, text.split(None, 1)[1] if text.startswith("#") else text))
                n += 1
                frame = frame.older()

        _with_goroutine_frames(g, show)


InfoGoroutines()
GoroutineCmd()
