#!/usr/bin/env bash
# bench/run_peers.sh - libconnpool beside established pools, through the shared harness
# (../shared/bench, see its README). Builds a Release libconnpool.so, runs the harness RUNS
# times with bench/peers/connpool.c as an extra adapter, keeps each run's raw lines and writes
# the median table (summarize.py) next to them.
#
#   bash bench/run_peers.sh                          # connpool naive hikaricp, 2 runs
#   PEERS= bash bench/run_peers.sh                   # every peer of the harness, plus ours
#   PEERS=connpool THREADS=2,4 RUNS=3 bash bench/run_peers.sh   # re-measure noisy lines
#
# Settings (environment), besides the harness's own (THREADS, POOL, WARMUP, MEASURE, JAVA_OPTS):
#   PEERS      default "connpool naive hikaricp"; set it empty for every peer
#   RUNS       default 2; each run is a separate invocation and file (run1.txt, run2.txt, ...)
#   SHARED     the harness folder (default: ../shared/bench beside this repository)
#   RELEASE    the Release build folder of libconnpool (default: build/release)
#   OUT        where raw lines and SUMMARY.md go (default: build/bench-peers/results/<UTC time>)
# The harness itself builds into build/bench-peers and may apt-get install its peers (Debian).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SHARED=${SHARED:-$(cd "$ROOT/../shared/bench" 2>/dev/null && pwd || true)}
RELEASE=${RELEASE:-$ROOT/build/release}
RUNS=${RUNS:-2}
PEERS=${PEERS-connpool naive hikaricp}
OUT=${OUT:-$ROOT/build/bench-peers/results/$(date -u +%Y%m%dT%H%M%SZ)}
JOBS=${JOBS:-2}

[[ -n $SHARED && -f $SHARED/run_peers.sh ]] || { echo "no harness at ${SHARED:-../shared/bench}; set SHARED" >&2; exit 2; }

echo "# building Release libconnpool in $RELEASE" >&2
cmake -S "$ROOT" -B "$RELEASE" -DCMAKE_BUILD_TYPE=Release -DCONNPOOL_BUILD_TESTS=OFF \
  -DCONNPOOL_BUILD_EXAMPLES=OFF -DCONNPOOL_BUILD_BENCHMARKS=OFF -DCONNPOOL_BUILD_BINDINGS_JAVA=OFF \
  -DCONNPOOL_BUILD_BINDINGS_CSHARP=OFF -DCONNPOOL_BUILD_BINDINGS_GO=OFF >&2
cmake --build "$RELEASE" -j"$JOBS" --target connpool >&2

mkdir -p "$OUT"
{
  echo "date_utc=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$ROOT" diff --quiet HEAD -- core capi 2>/dev/null || echo +dirty)"
  echo "cpu=$(nproc) x$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
  echo "kernel=$(uname -r) clocksource=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null || echo ?)"
  echo "cc=$(gcc --version | head -n1)"
  echo "java=$(java -version 2>&1 | head -n1)"
  echo "peers=${PEERS:-all} threads=${THREADS:-1,2,4,8,32,256} pool=${POOL:-10} warmup=${WARMUP:-1} measure=${MEASURE:-3}"
} > "$OUT/machine.txt"

export CONNPOOL_ROOT=$ROOT CONNPOOL_LIBDIR=$RELEASE/capi
for ((run = 1; run <= RUNS; run++)); do
  echo "# run $run of $RUNS -> $OUT/run$run.txt" >&2
  BUILD=$ROOT/build/bench-peers ADAPTERS=$ROOT/bench/peers/connpool.c PEERS=$PEERS RUNS=1 \
    bash "$SHARED/run_peers.sh" | tee "$OUT/run$run.txt"
done
python3 "$SHARED/summarize.py" "$OUT"/run*.txt > "$OUT/SUMMARY.md"
echo "# table: $OUT/SUMMARY.md" >&2
cat "$OUT/SUMMARY.md"
