#!/usr/bin/env python3
"""Runs the goro benchmark suite side by side with its Go and Boost.Fiber peers.

    python3 bench/run.py --goro BUILD/goro_bench --go BUILD/goro_bench_go \
        --boost-fiber BUILD/goro_bench_boost_fiber [--quick] [--reps 5] \
        [--procs 1,2] [--only skynet,spawn] [--out-md docs/performance.md] \
        [--out-json bench/results/latest.json]

Every (benchmark, procs) pair is run --reps times, the implementations
interleaved within each repetition (goro, Go, Boost.Fiber post, Boost.Fiber
dispatch), each in its own process. The value is the one the program measured
itself; CPU time comes from wait4(), peak RSS from GNU time if installed (else
wait4()). Medians are reported; Boost.Fiber shows the faster of its two launch
policies. With --quick the Markdown and JSON files are written only if asked for.
The program protocol is in bench/suite/README.md. Exit status: 0 if every program
ran and answered right, 1 if any failed (listed at the end), 2 on bad usage.
Standard library only.
"""

import argparse
import datetime
import json
import os
import platform
import re
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import threading

# Benchmark name -> unit every implementation must report.
BENCHMARKS = {
    "skynet": "ms",
    "spawn": "ms",
    "pingpong": "ms",
    "spsc": "ms",
    "mpmc": "ms",
    "select2": "ms",
    "mutex": "ms",
    "yield": "ms",
    "timers": "ms",
    "mem100k": "bytes/goroutine",
    "mem1m": "bytes/goroutine",
    "switch": "ns/switch",
}

BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Variant:
    """One way of running a benchmark: an implementation (and policy)."""

    def __init__(self, key, impl, binary, policy=None):
        self.key, self.impl, self.binary, self.policy = key, impl, binary, policy

    def command(self, bench, procs, quick):
        argv = [self.binary, bench] + (["--quick"] if quick else [])
        env = dict(os.environ)
        if self.impl == "goro":
            env["GORO_MAXPROCS"] = str(procs)
        elif self.impl == "go":
            env["GOMAXPROCS"] = str(procs)
        else:
            argv += ["--procs", str(procs), "--policy", self.policy]
        return argv, env


# A process's ru_maxrss starts at the peak RSS of the process that exec'd it
# (Linux records the old address space's high-water mark at exec), so programs
# started straight from this ~15 MB Python process could not report less than
# that. GNU time, where installed, forks them from its own ~1 MB process and
# reports their peak RSS; otherwise wait4()'s figure is used, with that floor.
GNU_TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None


def run_once(argv, env, timeout):
    """Runs one program; returns a dict with status ok / absent / fail."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile(mode="r") as rss_file:
        launch = argv
        if GNU_TIME:
            launch = [GNU_TIME, "-f", "%M", "-o", rss_file.name, "--"] + argv
        try:
            proc = subprocess.Popen(launch, env=env, stdout=out, stderr=err,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
        except OSError as e:
            return {"status": "fail", "error": f"cannot start {argv[0]}: {e}"}
        # Reap it ourselves with wait4() to get its rusage (which includes the
        # program's when GNU time is in between); a timer kills the whole
        # session if it overruns, guarded so it never signals a reaped pid.
        lock, reaped, timed_out = threading.Lock(), [False], [False]

        def kill():
            with lock:
                if not reaped[0]:
                    timed_out[0] = True
                    os.killpg(proc.pid, signal.SIGKILL)

        timer = threading.Timer(timeout, kill)
        timer.start()
        while True:
            try:
                _, status, usage = os.wait4(proc.pid, 0)
                break
            except InterruptedError:
                continue
        with lock:
            reaped[0] = True
        timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)  # keep Popen from reaping again
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
        rss_kb = usage.ru_maxrss
        if GNU_TIME:
            # GNU time may put "Command exited with non-zero status N" first.
            last = (rss_file.read().strip().splitlines() or [""])[-1]
            rss_kb = int(last) if last.isdigit() else rss_kb

    res = {"rss_kb": rss_kb,
           "cpu_ms": (usage.ru_utime + usage.ru_stime) * 1000.0}
    cmd = shlex.join(argv)
    if timed_out[0]:
        return dict(res, status="fail", error=f"{cmd}: killed after {timeout} s")
    lines = [l for l in stdout.splitlines() if l.strip()]
    tail = stderr.strip().splitlines()[-3:]
    why = f" ({' | '.join(tail)})" if tail else ""
    if len(lines) != 1:
        return dict(res, status="fail",
                    error=f"{cmd}: exit {proc.returncode}, {len(lines)} stdout lines instead of 1{why}")
    try:
        rec = json.loads(lines[0])
    except ValueError:
        return dict(res, status="fail", error=f"{cmd}: not JSON: {lines[0][:200]}{why}")
    if proc.returncode != 0:
        return dict(res, status="fail", error=f"{cmd}: exit {proc.returncode}{why}")
    if rec.get("absent") is True:
        return dict(res, status="absent")
    if rec.get("ok") is not True:
        return dict(res, status="fail", error=f"{cmd}: ok is not true{why}")
    if not isinstance(rec.get("value"), (int, float)):
        return dict(res, status="fail", error=f"{cmd}: no numeric value")
    return dict(res, status="ok", record=rec, value=float(rec["value"]))


def check_record(res, bench, procs):
    """Protocol checks on a successful run's JSON line."""
    rec = res["record"]
    want = {"benchmark": bench, "unit": BENCHMARKS[bench], "procs": procs}
    for field, value in want.items():
        if rec.get(field) != value:
            return f"{field} is {rec.get(field)!r}, expected {value!r}"
    return None


def fmt_num(v):
    if v is None:
        return "n/a"
    if abs(v) >= 1000:
        return f"{v:.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def ratio(a, b):
    return f"{a / b:.2f}x" if a is not None and b not in (None, 0) else "n/a"


def cell_fmt(cell, fmt):
    return "FAIL" if cell == "FAIL" else fmt(cell)


def machine_description():
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            kb = int(re.search(r"MemTotal:\s+(\d+)", f.read()).group(1))
            mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, AttributeError):
        pass
    return f"{model}, {os.cpu_count()} cores{mem}, Linux {platform.release()}"


def version_of(binary):
    """First line of `<binary> --version`, or None."""
    if not binary or not os.path.exists(binary):
        return None
    try:
        p = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    line = p.stdout.strip().splitlines()[:1]
    return line[0] if p.returncode == 0 and line and not line[0].startswith("{") else None


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--goro", default="", help="goro_bench binary (empty or missing: n/a)")
    ap.add_argument("--go", default="", help="goro_bench_go binary")
    ap.add_argument("--boost-fiber", default="", help="goro_bench_boost_fiber binary")
    ap.add_argument("--quick", action="store_true", help="small sizes, for CI")
    ap.add_argument("--reps", type=int, default=None,
                    help="repetitions per cell (default 5, or 3 with --quick)")
    ap.add_argument("--procs", default="1,2", help="comma-separated procs values")
    ap.add_argument("--only", default="", help="comma-separated benchmark names")
    ap.add_argument("--timeout", type=float, default=None,
                    help="seconds per program run (default 600, or 60 with --quick)")
    ap.add_argument("--out-md", default=None,
                    help="Markdown file whose bench markers get the table "
                         "(default docs/performance.md; not written with --quick unless given)")
    ap.add_argument("--out-json", default=None,
                    help="JSON results (default bench/results/latest.json; "
                         "not written with --quick unless given)")
    a = ap.parse_args()
    if a.reps is None:
        a.reps = 3 if a.quick else 5
    if a.timeout is None:
        a.timeout = 60.0 if a.quick else 600.0
    try:
        a.procs = [int(p) for p in a.procs.split(",") if p]
    except ValueError:
        ap.error("--procs takes integers, e.g. 1,2")
    a.only = [b for b in a.only.split(",") if b] or list(BENCHMARKS)
    unknown = [b for b in a.only if b not in BENCHMARKS]
    if unknown:
        ap.error(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
    if a.reps < 1 or not a.procs or min(a.procs) < 1:
        ap.error("--reps and --procs must be positive")
    for flag, path in (("--go", a.go), ("--boost-fiber", a.boost_fiber)):
        if path and not os.path.isfile(path):
            ap.error(f"{flag} {path}: no such file")
    if not (a.goro or a.go or a.boost_fiber):
        ap.error("give at least one of --goro, --go, --boost-fiber")
    if a.out_md is None and not a.quick:
        a.out_md = os.path.join(REPO, "docs", "performance.md")
    if a.out_json is None and not a.quick:
        a.out_json = os.path.join(REPO, "bench", "results", "latest.json")
    return a


def main():
    a = parse_args()
    variants = []
    if a.goro and os.path.isfile(a.goro):
        variants.append(Variant("goro", "goro", a.goro))
    elif a.goro:
        print(f"note: goro binary {a.goro} not found: goro shows n/a", file=sys.stderr)
    if a.go:
        variants.append(Variant("go", "go", a.go))
    if a.boost_fiber:
        variants.append(Variant("bf_post", "boost_fiber", a.boost_fiber, "post"))
        variants.append(Variant("bf_dispatch", "boost_fiber", a.boost_fiber, "dispatch"))

    failures, rows = [], []
    for bench in a.only:
        for procs in a.procs:
            runs = {v.key: [] for v in variants}
            status = {v.key: "ok" for v in variants}
            for rep in range(a.reps):
                progress = []
                for v in variants:
                    if status[v.key] != "ok":
                        continue  # absent or already failed: stop repeating it
                    argv, env = v.command(bench, procs, a.quick)
                    res = run_once(argv, env, a.timeout)
                    if res["status"] == "ok":
                        bad = check_record(res, bench, procs)
                        if bad:
                            res = dict(res, status="fail", error=f"{shlex.join(argv)}: {bad}")
                    status[v.key] = res["status"]
                    if res["status"] == "fail":
                        failures.append(f"{bench} procs={procs} {v.key}: {res['error']}")
                        progress.append(f"{v.key} FAIL")
                    elif res["status"] == "absent":
                        progress.append(f"{v.key} absent")
                    else:
                        runs[v.key].append(res)
                        progress.append(f"{v.key} {fmt_num(res['value'])}")
                print(f"{bench} procs={procs} rep {rep + 1}/{a.reps}: {', '.join(progress)}",
                      file=sys.stderr, flush=True)
            rows.append(summarize(bench, procs, runs, status))

    print()
    print(render_table(rows, markdown=False))
    command = "python3 bench/run.py " + shlex.join(sys.argv[1:])
    if a.out_json:
        write_json(a.out_json, rows)
        print(f"\nwrote {a.out_json}")
    if a.out_md:
        write_markdown(a.out_md, rows, a, command)
        print(f"wrote {a.out_md}")
    if failures:
        print(f"\n{len(failures)} FAILED:", file=sys.stderr)
        for f in failures:
            print(f"  {f}", file=sys.stderr)
        return 1
    return 0


def summarize(bench, procs, runs, status):
    """Medians per implementation; Boost.Fiber keeps its faster policy."""

    def med(key, field):
        if status.get(key) == "fail":
            return "FAIL"
        vals = [r[field] for r in runs.get(key, [])]
        return round(statistics.median(vals), 3) if vals else None

    row = {"benchmark": bench, "procs": procs, "unit": BENCHMARKS[bench],
           "goro": med("goro", "value"), "go": med("go", "value"),
           "boost_fiber": None, "boost_fiber_policy": None,
           "boost_fiber_post": med("bf_post", "value"),
           "boost_fiber_dispatch": med("bf_dispatch", "value"),
           "rss_kb": {}, "cpu_ms": {}, "reps": max((len(r) for r in runs.values()), default=0)}
    for impl, key in (("goro", "goro"), ("go", "go")):
        row["rss_kb"][impl] = med(key, "rss_kb")
        row["cpu_ms"][impl] = med(key, "cpu_ms")
    post, disp = row["boost_fiber_post"], row["boost_fiber_dispatch"]
    if "FAIL" in (post, disp):
        row["boost_fiber"] = "FAIL"
    else:
        candidates = [(v, p) for v, p in ((post, "post"), (disp, "dispatch")) if v is not None]
        if candidates:
            best, policy = min(candidates)
            row["boost_fiber"], row["boost_fiber_policy"] = best, policy
            key = "bf_" + policy
            row["rss_kb"]["boost_fiber"] = med(key, "rss_kb")
            row["cpu_ms"]["boost_fiber"] = med(key, "cpu_ms")
    row["rss_kb"].setdefault("boost_fiber", None)
    row["cpu_ms"].setdefault("boost_fiber", None)
    return row


def render_table(rows, markdown):
    head = ["benchmark", "procs", "unit", "goro", "Go", "Boost.Fiber (policy)",
            "goro/Go", "goro/Boost.Fiber",
            "RSS MB goro", "RSS MB Go", "RSS MB BF", "CPU ms goro", "CPU ms Go", "CPU ms BF"]
    body = []
    for r in rows:
        num = lambda v: v if isinstance(v, (int, float)) else None
        bf = cell_fmt(r["boost_fiber"], fmt_num)
        if r["boost_fiber_policy"]:
            bf += f" ({r['boost_fiber_policy']})"
        mb = lambda v: cell_fmt(v, lambda x: fmt_num(None if x is None else x / 1024))
        body.append([r["benchmark"], str(r["procs"]), r["unit"],
                     cell_fmt(r["goro"], fmt_num), cell_fmt(r["go"], fmt_num), bf,
                     ratio(num(r["goro"]), num(r["go"])),
                     ratio(num(r["goro"]), num(r["boost_fiber"])),
                     mb(r["rss_kb"]["goro"]), mb(r["rss_kb"]["go"]), mb(r["rss_kb"]["boost_fiber"]),
                     cell_fmt(r["cpu_ms"]["goro"], fmt_num), cell_fmt(r["cpu_ms"]["go"], fmt_num),
                     cell_fmt(r["cpu_ms"]["boost_fiber"], fmt_num)])
    if markdown:
        lines = ["| " + " | ".join(head) + " |",
                 "|" + "|".join("---" if i < 3 else "---:" for i in range(len(head))) + "|"]
        lines += ["| " + " | ".join(b) + " |" for b in body]
        return "\n".join(lines)
    widths = [max(len(x[i]) for x in [head] + body) for i in range(len(head))]
    fmt_row = lambda cells: "  ".join(c.ljust(w) if i < 3 else c.rjust(w)
                                      for i, (c, w) in enumerate(zip(cells, widths)))
    return "\n".join([fmt_row(head), fmt_row(["-" * w for w in widths])] + [fmt_row(b) for b in body])


def now_utc():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def json_rows(rows):
    """FAIL cells become null in the JSON file (the failure list says why)."""
    clean = lambda v: None if v == "FAIL" else v
    out = []
    for r in rows:
        r = {k: (clean(v) if not isinstance(v, dict) else {i: clean(x) for i, x in v.items()})
             for k, v in r.items()}
        out.append(r)
    return out


def write_json(path, rows):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    doc = {"date": now_utc(), "machine": machine_description(), "rows": json_rows(rows)}
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


def write_markdown(path, rows, a, command):
    go_v = version_of(a.go) or "n/a"
    bf_v = version_of(a.boost_fiber) or "n/a"
    goro_v = version_of(a.goro) or ("n/a" if not (a.goro and os.path.isfile(a.goro)) else "unknown")
    rss_how = ("measured with GNU time" if GNU_TIME else
               "from wait4: never below the runner's own RSS, as /usr/bin/time is missing")
    section = "\n".join([
        BEGIN,
        "<!-- Generated by bench/run.py: edits between these markers are overwritten. -->",
        "",
        f"- Date: {now_utc()}",
        f"- Machine: {machine_description()}",
        f"- Versions: goro {goro_v}; Go {go_v}; Boost.Fiber {bf_v}",
        f"- Command: `{command}`",
        f"- Median of {a.reps} runs{' (quick sizes)' if a.quick else ''}; lower is better "
        "everywhere. Boost.Fiber shows the faster of launch::post and launch::dispatch; "
        "procs=2 uses work_stealing on 2 threads. RSS is the peak resident set of the "
        f"whole process ({rss_how}); CPU is user+sys of the whole process. "
        "n/a: not run or not implemented (Boost.Fiber has no select).",
        "",
        render_table(rows, markdown=True),
        END,
    ])
    text = None
    if os.path.exists(path):
        with open(path) as f:
            text = f.read()
    if text is None:
        text = f"# Performance\n\n{section}\n"
    else:
        b, e = text.find(BEGIN), text.find(END)
        if b != -1 and e > b:
            text = text[:b] + section + text[e + len(END):]
        else:
            text = text.rstrip("\n") + "\n\n" + section + "\n"
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


if __name__ == "__main__":
    sys.exit(main())
