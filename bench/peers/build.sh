#!/usr/bin/env bash
# Builds both peers of the benchmark suite, offline:
#   bench/peers/build.sh [BUILD_DIR]     (default: build/peers)
# leaves BUILD_DIR/goro_bench_go and BUILD_DIR/bf/goro_bench_boost_fiber.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mkdir -p "${1:-$root/build/peers}" && cd "${1:-$root/build/peers}" && pwd)

# Go: no dependencies, so no proxy, no network; keep the cache in the build dir
# in case $HOME is not writable.
(cd "$root/bench/peers/go" &&
  GOFLAGS=-mod=mod GOPROXY=off GOTOOLCHAIN=local GOCACHE="$out/gocache" \
    go build -o "$out/goro_bench_go" .)

cmake -S "$root/bench/peers/boost_fiber" -B "$out/bf" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$out/bf"
echo "built $out/goro_bench_go and $out/bf/goro_bench_boost_fiber"
