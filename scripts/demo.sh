#!/usr/bin/env bash
# Builds the library and runs the SQLite demo: a pool of SQLite connections, several threads
# doing real queries, then the pool's stats JSON.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset dev >/dev/null
cmake --build --preset dev -j "$(nproc)" --target sqlite_demo >/dev/null
./build/dev/examples/sqlite_demo "$@"
