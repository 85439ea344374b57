#!/usr/bin/env bash
# Instructions per operation with and without the always-on diagnostics (docs/performance.md,
# "What the always-on diagnostics cost"): builds the Release library twice from the working
# tree (once as is, once through strip_diagnostics.py) under $WORK (default /tmp/goro-diag-cost),
# builds bench/tools/hook_cost.cc against each, and counts each operation's instructions with
# callgrind at N=20000 and N=40000 (the difference over 20000 drops start-up and shutdown),
# with the diagnostics monitor's thread off in both builds (see below).
#
#   bench/tools/diag_cost.sh [yield pingpong spawn mutex]
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
work=${WORK:-/tmp/goro-diag-cost}
ops=("${@:-yield pingpong spawn mutex}")
read -r -a ops <<< "${ops[*]}"
for t in with without; do
  rm -rf "$work/$t/src" "$work/$t/include"
  mkdir -p "$work/$t"
  cp -a CMakeLists.txt cmake src include "$work/$t/"
done
python3 bench/tools/strip_diagnostics.py "$work/without"
for t in with without; do
  cmake -S "$work/$t" -B "$work/$t/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGORO_BUILD_TESTS=OFF \
    -DGORO_BUILD_BENCH=OFF -DGORO_BUILD_EXAMPLES=OFF >/dev/null
  cmake --build "$work/$t/build" --target goro >/dev/null
  g++ -std=c++20 -O2 -I"$work/$t/include" bench/tools/hook_cost.cc "$work/$t/build/src/libgoro.a" \
    -ldw -lelf -lunwind-generic -lpthread -o "$work/$t/hook_cost"
done
count() {  # instructions of one run: binary, op, env assignments, N
  env $3 valgrind --tool=callgrind --callgrind-out-file=/dev/null "$1" "$2" "$4" 2>&1 |
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
printf '%-10s %10s %10s %8s\n' operation without with cost
for op in "${ops[@]}"; do
  declare -A per
  for t in with without; do
    # The monitor thread off in both: its passes cost per unit of time, not per operation
    # (docs/diagnostics.md: under ~2% of a core), and a pass landing in one run but not the
    # other would add noise of the order of an instruction per operation to the short ones.
    iv=GORO_DIAG_INTERVAL_MS=-1
    a=$(count "$work/$t/hook_cost" "$op" "$iv" 20000)
    b=$(count "$work/$t/hook_cost" "$op" "$iv" 40000)
    per[$t]=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.1f", (b - a) / 20000 }')
  done
  awk -v o="$op" -v w="${per[without]}" -v x="${per[with]}" \
    'BEGIN { printf "%-10s %10.1f %10.1f %+7.1f%%\n", o, w, x, (x / w - 1) * 100 }'
done
