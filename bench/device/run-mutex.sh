#!/bin/bash
# Contended mutex at 1..16 procs: goro_bench_old (if bundled: bundle.sh OLD_BINARY; in
# docs/performance.md, commit 459c0b2's CAS unlock), goro_bench and Go, interleaved, 5
# rounds; then spsc at 2 procs with the diagnostics monitor on and off.
D=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
for procs in 1 2 4 8 16; do
  for round in 1 2 3 4 5; do
    printf 'procs=%s round=%s ' $procs $round
    for b in goro_bench_old goro_bench; do
      [ -x "$D/bin/$b" ] || continue
      GORO_MAXPROCS=$procs "$D/bin/$b" mutex | sed -n 's/.*"value": \([0-9.]*\).*/'$b' \1/p' | tr '\n' ' '
    done
    GOMAXPROCS=$procs "$D/bin/goro_bench_go" mutex | sed -n 's/.*"value": \([0-9.]*\).*/go \1/p'
  done
done | tee "$OUT/mutex.txt"
# spsc at 2 procs: does the diagnostics monitor matter? (monitor on / off; Go)
for round in 1 2 3; do
  printf 'spsc procs=2 round=%s ' $round
  GORO_MAXPROCS=2 "$D/bin/goro_bench" spsc | sed -n 's/.*"value": \([0-9.]*\).*/monitor-on \1/p' | tr '\n' ' '
  GORO_DIAG_INTERVAL_MS=-1 GORO_MAXPROCS=2 "$D/bin/goro_bench" spsc | sed -n 's/.*"value": \([0-9.]*\).*/monitor-off \1/p' | tr '\n' ' '
  GOMAXPROCS=2 "$D/bin/goro_bench_go" spsc | sed -n 's/.*"value": \([0-9.]*\).*/go \1/p'
done | tee -a "$OUT/mutex.txt"
