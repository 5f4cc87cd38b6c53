#!/usr/bin/env bash
# bench/run_peers.sh - libconnpool beside established pools, through the shared harness
# (../shared/bench, see its README). Builds a Release libconnpool.so, runs the harness RUNS
# times with bench/peers/connpool.c as an extra adapter, keeps each run's raw lines and writes
# the median table (summarize.py) next to them.
#
#   bash bench/run_peers.sh                          # connpool naive hikaricp, 2 runs
#   PEERS= bash bench/run_peers.sh                   # every peer of the harness, plus ours
#   PEERS=connpool THREADS=2,4 RUNS=3 bash bench/run_peers.sh   # re-measure noisy lines
#   REV=HEAD PEERS=connpool bash bench/run_peers.sh  # the committed core, not the working tree
#
# Settings (environment), besides the harness's own (THREADS, POOL, WARMUP, MEASURE, JAVA_OPTS):
#   PEERS      default "connpool naive hikaricp"; set it empty for every peer
#   RUNS       default 2; each run is a separate invocation and file (run1.txt, run2.txt, ...)
#   REV        build libconnpool from this commit (git archive into build/src-<sha>) instead of
#              the working tree, so that a measurement names exactly what it measured
#   SHARED     the harness folder (default: ../shared/bench beside this repository)
#   RELEASE    the Release build folder (default: build/release, or build/release-<sha>)
#   OUT        where raw lines and SUMMARY.md go (default: build/bench-peers/results/<UTC time>)
# The harness builds into build/bench-peers and may apt-get install its peers (Debian only).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SHARED=${SHARED:-$(cd "$ROOT/../shared/bench" 2>/dev/null && pwd || true)}
RUNS=${RUNS:-2}
PEERS=${PEERS-connpool naive hikaricp}
OUT=${OUT:-$ROOT/build/bench-peers/results/$(date -u +%Y%m%dT%H%M%SZ)}
JOBS=${JOBS:-2}
REV=${REV:-}

[[ -n $SHARED && -f $SHARED/run_peers.sh ]] || { echo "no harness at ${SHARED:-../shared/bench}; set SHARED" >&2; exit 2; }

if [[ -n $REV ]]; then
  sha=$(git -C "$ROOT" rev-parse --short "$REV^{commit}")
  SRC=$ROOT/build/src-$sha
  if [[ ! -f $SRC/CMakeLists.txt ]]; then
    mkdir -p "$SRC"
    git -C "$ROOT" archive "$sha" | tar -x -C "$SRC"
  fi
  RELEASE=${RELEASE:-$ROOT/build/release-$sha}
  version=$sha
else
  SRC=$ROOT
  RELEASE=${RELEASE:-$ROOT/build/release}
  version="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  git -C "$ROOT" diff --quiet HEAD -- core capi 2>/dev/null || version+=" + uncommitted changes in core/ or capi/"
fi

echo "# building Release libconnpool ($version) in $RELEASE" >&2
cmake -S "$SRC" -B "$RELEASE" -DCMAKE_BUILD_TYPE=Release -DCONNPOOL_BUILD_TESTS=OFF \
  -DCONNPOOL_BUILD_EXAMPLES=OFF -DCONNPOOL_BUILD_BINDINGS_JAVA=OFF \
  -DCONNPOOL_BUILD_BINDINGS_CSHARP=OFF -DCONNPOOL_BUILD_BINDINGS_GO=OFF >&2
cmake --build "$RELEASE" -j"$JOBS" --target connpool >&2

# The adapter's tags read these; LD_LIBRARY_PATH wins over the RUNPATH baked in at link time,
# so the harness's cached bench_connpool always loads the library just built.
export CONNPOOL_ROOT=$SRC CONNPOOL_LIBDIR=$RELEASE/capi
export LD_LIBRARY_PATH=$CONNPOOL_LIBDIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}

mkdir -p "$OUT"
{
  echo "date_utc=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "libconnpool=$version ($CONNPOOL_LIBDIR)"
  echo "cpu=$(nproc) x$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
  echo "kernel=$(uname -r) clocksource=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null || echo unknown)"
  echo "cc=$(gcc --version | head -n1)"
  echo "java=$(java -version 2>&1 | head -n1)"
  echo "peers=${PEERS:-all} threads=${THREADS:-1,2,4,8,32,256} pool=${POOL:-10} warmup=${WARMUP:-1} measure=${MEASURE:-3}"
  echo "loadavg_before=$(cut -d' ' -f1-3 /proc/loadavg)"
} > "$OUT/machine.txt"

for ((run = 1; run <= RUNS; run++)); do
  echo "# run $run of $RUNS -> $OUT/run$run.txt" >&2
  BUILD=$ROOT/build/bench-peers ADAPTERS=$ROOT/bench/peers/connpool.c PEERS=$PEERS RUNS=1 \
    bash "$SHARED/run_peers.sh" | tee "$OUT/run$run.txt"
done
echo "loadavg_after=$(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/machine.txt"
python3 "$SHARED/summarize.py" "$OUT"/run*.txt > "$OUT/SUMMARY.md"
echo "# table: $OUT/SUMMARY.md" >&2
cat "$OUT/SUMMARY.md"
