#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the library and runs the SQLite demo: a pool of SQLite connections, several threads
# moving money in transactions, then the pool's stats JSON. Arguments go to the demo:
#   bash scripts/demo.sh [threads] [transfers-per-thread]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh core
cmake -S . -B build/demo -DCMAKE_BUILD_TYPE=Release -DCONNPOOL_BUILD_TESTS=OFF \
  -DCONNPOOL_BUILD_BINDINGS_JAVA=OFF -DCONNPOOL_BUILD_BINDINGS_CSHARP=OFF \
  -DCONNPOOL_BUILD_BINDINGS_GO=OFF -DCONNPOOL_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build build/demo -j "$(nproc)" --target sqlite_demo >/dev/null
./build/demo/examples/sqlite_demo "$@"
