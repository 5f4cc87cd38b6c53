#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs the build into a scratch prefix, then builds and runs a consumer two ways:
# with pkg-config, and as a CMake project using find_package(connpool CONFIG REQUIRED).
# Usage: check_install.sh BUILD_DIR THIS_DIR
set -euo pipefail
build=$1
here=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix

cmake --install "$build" --prefix "$prefix" --component dev >/dev/null
cmake --install "$build" --prefix "$prefix" --component runtime >/dev/null
test -f "$prefix/include/connpool/connpool.h"
libdir=$(dirname "$(find "$prefix" -name 'libconnpool.so.1' | head -n1)")
test -n "$libdir"
test -L "$libdir/libconnpool.so"

pcdir=$(dirname "$(find "$prefix" -name connpool.pc | head -n1)")
export PKG_CONFIG_PATH=$pcdir
echo "pkg-config: $(pkg-config --cflags --libs connpool)"
# shellcheck disable=SC2046
cc -std=c99 -Wall -Werror -o "$work/consumer_pc" "$here/consumer.c" \
  $(pkg-config --cflags --libs connpool) -Wl,-rpath,"$libdir"
"$work/consumer_pc"

cmake -S "$here/consumer" -B "$work/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_BUILD_RPATH="$libdir" >/dev/null
cmake --build "$work/cmake-build" >/dev/null
"$work/cmake-build/consumer"
