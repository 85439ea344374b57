#!/usr/bin/env bash
# Checks the three ways a project uses goro (issue: installable, find_package, add_subdirectory,
# pkg-config): installs the build tree into a scratch prefix, then builds and runs the same
# consumer program with find_package(goro), with pkg-config, and with add_subdirectory.
# Usage: check.sh <goro source dir> <goro build dir> <scratch dir>
set -euo pipefail
src=$1 build=$2 work=$3
rm -rf "$work"
mkdir -p "$work"
prefix="$work/prefix"

echo "== cmake --install"
cmake --install "$build" --prefix "$prefix" >/dev/null
test -f "$prefix/include/goro/goro.h"
test -f "$prefix/lib/libgoro.a" || test -f "$prefix/lib64/libgoro.a" || ls "$prefix"/lib*/libgoro.a

echo "== find_package(goro)"
cmake -S "$src/tests/packaging/consumer" -B "$work/fp" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/fp" >/dev/null
"$work/fp/consumer"

echo "== pkg-config"
pcdir=$(dirname "$(ls "$prefix"/lib*/pkgconfig/goro.pc)")
flags=$(PKG_CONFIG_PATH="$pcdir" pkg-config --cflags --libs goro)
# Relocatable: move the prefix, the .pc file must still find it.
mv "$prefix" "$work/moved"
pcdir=${pcdir/$prefix/$work/moved}
flags=$(PKG_CONFIG_PATH="$pcdir" pkg-config --cflags --libs goro)
c++ "$src/tests/packaging/consumer/main.cpp" $flags -o "$work/pc-consumer"
"$work/pc-consumer"

echo "== add_subdirectory"
cmake -S "$src/tests/packaging/subdir" -B "$work/sub" -G Ninja -DGORO_SOURCE="$src" >/dev/null
cmake --build "$work/sub" --target consumer >/dev/null
"$work/sub/consumer"
# goro's own tests, benchmarks and examples stay out of a parent project.
if [ -e "$work/sub/goro/tests" ] || [ -e "$work/sub/goro/bench" ] || [ -e "$work/sub/goro/examples" ]; then
  echo "add_subdirectory built goro's tests, benchmarks or examples" >&2
  exit 1
fi
echo "packaging: ok"
