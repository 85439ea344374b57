#!/bin/bash
# goro_bench_old (if bundled: bundle.sh OLD_BINARY), goro_bench and Go on the benchmarks in
# $BENCHES at the processor counts in $PROCS, interleaved, $ROUNDS rounds; one line per run.
D=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
for bench in ${BENCHES:-spsc mpmc}; do
  for procs in ${PROCS:-1 2 4 8 16}; do
    for round in $(seq 1 "${ROUNDS:-3}"); do
      printf '%s procs=%s round=%s ' "$bench" "$procs" "$round"
      for b in goro_bench_old goro_bench; do
        [ -x "$D/bin/$b" ] || continue
        GORO_MAXPROCS=$procs "$D/bin/$b" "$bench" 2>/dev/null | sed -n 's/.*"value": \([0-9.]*\).*/'$b' \1/p' | tr '\n' ' '
      done
      GOMAXPROCS=$procs "$D/bin/goro_bench_go" "$bench" | sed -n 's/.*"value": \([0-9.]*\).*/go \1/p'
    done
  done
done | tee "$OUT/compare.txt"
