#!/bin/bash
# The prepared device run (16-core machine; bundle: bench/device/bundle.sh): 1) the always-on
# diagnostics' cost in wall time, goro against the same tree with them stripped
# (bench/tools/strip_diagnostics.py, docs/performance.md), interleaved; 2) the side-by-side
# suite at 1..16 processors.
D=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
{ nproc; lscpu | grep -E 'Model name|Socket|Thread|Core'; uname -r; python3 --version; } > "$OUT/machine.txt" 2>&1
"$D/bin/goro_bench" pingpong --quick > "$OUT/smoke.txt" 2>&1 || { echo "goro_bench does not run here"; cat "$OUT/smoke.txt"; exit 1; }
start=$(date +%s)
for round in 1 2 3 4 5 6 7 8 9; do
  for spec in "yield 2000000" "pingpong 1000000" "spawn 1000000" "mutex 50000000"; do
    set -- $spec
    for b in base after; do
      printf '%s %s ' "$b" "$round" >> "$OUT/diagcost.txt"
      env $([ $b = base ] && echo GORO_DIAG_INTERVAL_MS=-1) taskset -c 2-3 "$D/bin/hc_$b" "$1" "$2" time >> "$OUT/diagcost.txt" 2>&1
    done
  done
done
echo "diagcost: $(( $(date +%s) - start )) s"
cd "$D"
timeout 330 python3 run.py --goro bin/goro_bench --go bin/goro_bench_go --boost-fiber bin/goro_bench_boost_fiber \
  --procs 1,2,4,8,16 --reps 1 --timeout 60 --only spawn,pingpong,spsc,mpmc,select2,mutex,yield,switch,skynet \
  --out-md "$OUT/scaling.md" --out-json "$OUT/scaling.json" > "$OUT/scaling.txt" 2>&1
echo "scaling rc=$? at $(( $(date +%s) - start )) s"
timeout 120 python3 run.py --goro bin/goro_bench --go bin/goro_bench_go --boost-fiber bin/goro_bench_boost_fiber \
  --procs 1,2 --reps 1 --timeout 60 --only timers,mem100k,mem1m \
  --out-md "$OUT/rest.md" --out-json "$OUT/rest.json" > "$OUT/rest.txt" 2>&1
echo "rest rc=$? at $(( $(date +%s) - start )) s"
tail -40 "$OUT/scaling.txt"
