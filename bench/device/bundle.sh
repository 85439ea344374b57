#!/usr/bin/env bash
# Builds the bundle that runs on the lent 16-core device machine (docs/performance.md):
# build/device/ with the Release goro_bench, the Go and Boost.Fiber peers, hook_cost with
# and without the always-on diagnostics (bench/tools/diag_cost.sh's two builds), the shared
# libraries they use and this machine's loader and libc (so they run on any host glibc),
# the runner and the run scripts of this folder. The device tool carries it: pass
# carry=["build/device"] and run e.g. `OUT=$OUT bash build/device/run-all.sh`.
#
#   bench/device/bundle.sh [OLD_GORO_BENCH]    an older goro_bench to compare (run-mutex.sh)
set -euo pipefail
cd "$(dirname "$0")/../.."
out=build/device
rm -rf "$out"
mkdir -p "$out/bin" "$out/lib" "$out/glibc"
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DGORO_BUILD_TESTS=OFF >/dev/null
cmake --build build/release --target goro_bench >/dev/null
bench/peers/build.sh build/peers >/dev/null
WORK=/tmp/goro-diag-cost bench/tools/diag_cost.sh yield >/dev/null
cp build/release/bench/suite/goro_bench build/peers/goro_bench_go build/peers/bf/goro_bench_boost_fiber "$out/"
cp /tmp/goro-diag-cost/without/hook_cost "$out/hc_base"
cp /tmp/goro-diag-cost/with/hook_cost "$out/hc_after"
[ $# -ge 1 ] && cp "$1" "$out/goro_bench_old"
for b in goro_bench goro_bench_boost_fiber hc_base hc_after goro_bench_old; do
  [ -f "$out/$b" ] || continue
  ldd "$out/$b" | awk '/=> \// { print $3 }' | while read -r lib; do
    case "$(basename "$lib")" in
      libc.so.6 | libm.so.6) cp -L "$lib" "$out/glibc/" ;;
      *) cp -L "$lib" "$out/lib/" ;;
    esac
  done
  cat > "$out/bin/$b" <<WRAP
#!/bin/sh
# Runs the bundled binary with the bundled loader and libraries (any host glibc).
D=\$(cd "\$(dirname "\$0")/.." && pwd)
exec "\$D/glibc/ld-linux-x86-64.so.2" --library-path "\$D/lib:\$D/glibc" "\$D/$b" "\$@"
WRAP
  chmod +x "$out/bin/$b"
done
cp -L /lib64/ld-linux-x86-64.so.2 "$out/glibc/"
ln -s ../goro_bench_go "$out/bin/goro_bench_go"  # Go binaries are static
cp bench/run.py bench/device/run-*.sh "$out/"
du -sh "$out"
