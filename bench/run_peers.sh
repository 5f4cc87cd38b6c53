#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/run_peers.sh - libconnpool beside established pools, through the shared harness
# (../shared/bench, see its README). Builds a Release libconnpool.so, runs the harness RUNS
# times with bench/peers/connpool.c as an extra adapter, keeps each run's raw lines and writes
# the median table (summarize.py) next to them.
#
#   bash bench/run_peers.sh                          # connpool connpool_java naive hikaricp, 2 runs
#   PEERS= bash bench/run_peers.sh                   # every peer of the harness, plus ours
#   PEERS=connpool THREADS=2,4 RUNS=3 bash bench/run_peers.sh   # a few lines again
#   REV=HEAD PEERS=connpool bash bench/run_peers.sh  # the committed library, not the working tree
#   RERUN_ABOVE=5 bash bench/run_peers.sh            # re-measure lines taken on a busy machine
#
# connpool_java is our pool through the Java binding (bindings/java, org.connpool), driven by the
# harness's own Java driver (PoolBench) in its own JVM like the other Java peers: its source is
# bench/peers/java/ConnpoolJavaPeer.java, compiled here into a copy of the harness's Java sources
# whose Peer.create gets one more case (../shared/bench is never modified).
#
# go_peers (PEERS word "go_peers", not in the default list) runs bench/go_peers/run.sh: Go's
# database/sql pool, puddle and our Go binding, on the same workload in one Go process. It needs
# the Go binding built in GO_BUILD (default build/dev: cmake --build --preset dev).
#
# Settings (environment), besides the harness's own (THREADS, POOL, WARMUP, MEASURE, JAVA_OPTS):
#   PEERS        default "connpool connpool_java naive hikaricp"; set it empty for every peer
#   RUNS         default 2; each run is a separate invocation and file (run1.txt, run2.txt, ...)
#   REV          build libconnpool from this commit (git archive) instead of the working tree, so
#                that a measurement names exactly what it measured; commits with the same
#                core/, capi/, bindings/ and CMake files share one build
#   RERUN_ABOVE  (with RUNS=0 and an existing OUT: only this) re-measure each line whose other_cpu_pct (CPU that other processes used while it
#                was measured) is above this, up to RERUN_TRIES (3) times, each after waiting up
#                to RERUN_WAIT (120) s for a 1-minute load average under 1; the line measured on
#                the quietest machine is kept, the first lines stay in runN.first.txt
#   SHARED       the harness folder (default: ../shared/bench beside this repository)
#   RELEASE      the Release build folder (default: build/release, or build/release-<key>)
#   OUT          where lines and SUMMARY.md go (default: build/bench-peers/results/<UTC time>)
# The harness builds into build/bench-peers and may apt-get install its peers (Debian only).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SHARED=${SHARED:-$(cd "$ROOT/../shared/bench" 2>/dev/null && pwd || true)}
RUNS=${RUNS:-2}
PEERS=${PEERS-connpool connpool_java naive hikaricp}
OUT=${OUT:-$ROOT/build/bench-peers/results/$(date -u +%Y%m%dT%H%M%SZ)}
JOBS=${JOBS:-2}
REV=${REV:-}
RERUN_ABOVE=${RERUN_ABOVE:-}
RERUN_TRIES=${RERUN_TRIES:-3}
RERUN_WAIT=${RERUN_WAIT:-120}

[[ -n $SHARED && -f $SHARED/run_peers.sh ]] || { echo "no harness at ${SHARED:-../shared/bench}; set SHARED" >&2; exit 2; }

if [[ -n $REV ]]; then
  sha=$(git -C "$ROOT" rev-parse --short "$REV^{commit}")
  # Keyed by the content that makes the library and the Java binding (connpool_java is built
  # from the same tree), so a commit that only touched docs or tests reuses the previous build
  # and one that changed bindings/ does not measure the old binding.
  key=$(git -C "$ROOT" rev-parse "$sha:core" "$sha:capi" "$sha:bindings" "$sha:cmake" "$sha:CMakeLists.txt" |
    git hash-object --stdin | cut -c1-10)
  SRC=$ROOT/build/src-$key
  if [[ ! -f $SRC/CMakeLists.txt ]]; then
    mkdir -p "$SRC"
    git -C "$ROOT" archive "$sha" | tar -x -C "$SRC"
  fi
  RELEASE=${RELEASE:-$ROOT/build/release-$key}
  version="$sha (library sources $key)"
else
  SRC=$ROOT
  RELEASE=${RELEASE:-$ROOT/build/release}
  version="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  git -C "$ROOT" diff --quiet HEAD -- core capi 2>/dev/null || version+=" + uncommitted changes in core/ or capi/"
fi

# Is a peer in PEERS (empty: every peer)?
wanted() { [[ -z $PEERS || " $PEERS " == *" $1 "* ]]; }
JAVA_BINDING=OFF
wanted connpool_java && JAVA_BINDING=ON

echo "# building Release libconnpool ($version) in $RELEASE" >&2
cmake -S "$SRC" -B "$RELEASE" -DCMAKE_BUILD_TYPE=Release -DCONNPOOL_BUILD_TESTS=OFF \
  -DCONNPOOL_BUILD_EXAMPLES=OFF -DCONNPOOL_BUILD_BENCHMARKS=OFF -DCONNPOOL_BUILD_BINDINGS_JAVA=$JAVA_BINDING \
  -DCONNPOOL_BUILD_BINDINGS_CSHARP=OFF -DCONNPOOL_BUILD_BINDINGS_GO=OFF >&2
cmake --build "$RELEASE" -j"$JOBS" --target connpool >&2

# connpool_java: the binding (jar + JNI library), then the harness's Java sources plus our peer.
JARS=/usr/share/java
JAVA_CP_LIBS=$JARS/HikariCP.jar:$JARS/commons-pool2.jar:$JARS/slf4j-api.jar
# The binding decodes stats with Jackson (the peer never asks for them; named anyway, as for
# every program against connpool.jar).
JAVA_CP_LIBS=$JAVA_CP_LIBS:$JARS/jackson-databind.jar:$JARS/jackson-core.jar:$JARS/jackson-annotations.jar
JAVA_BENCH=$ROOT/build/bench-peers/java-connpool
if [[ $JAVA_BINDING == ON ]]; then
  cmake --build "$RELEASE" -j"$JOBS" --target connpool_java_jar >&2
  [[ -f $RELEASE/bindings/java/connpool.jar && -f $RELEASE/bindings/java/libconnpool_java.so ]] ||
    { echo "the Java binding was not built (SWIG or a JDK missing? see the cmake output above)" >&2; exit 2; }
  rm -rf "$JAVA_BENCH"
  mkdir -p "$JAVA_BENCH/src/bench" "$JAVA_BENCH/classes"
  cp "$SHARED"/peers/java/bench/*.java "$ROOT/bench/peers/java/ConnpoolJavaPeer.java" "$JAVA_BENCH/src/bench/"
  # One more case in the harness's peer switch (the README's "Adding a peer", in our copy).
  sed -i 's|^\([[:space:]]*\)default: throw new IllegalArgumentException("unknown Java peer|\1case "connpool_java": return new ConnpoolJavaPeer(size, timeoutMs);\n&|' \
    "$JAVA_BENCH/src/bench/Peer.java"
  grep -q 'case "connpool_java"' "$JAVA_BENCH/src/bench/Peer.java" ||
    { echo "cannot add connpool_java to the harness's Peer.create (did Peer.java change?)" >&2; exit 2; }
  echo "# building the Java harness with connpool_java in $JAVA_BENCH" >&2
  javac -Xlint:all -d "$JAVA_BENCH/classes" -cp "$JAVA_CP_LIBS:$RELEASE/bindings/java/connpool.jar" \
    "$JAVA_BENCH"/src/bench/*.java >&2
fi

java_binding_peer() {  # $1 = thread counts (empty: the default list); lines on stdout
  echo "# running connpool_java" >&2
  # shellcheck disable=SC2086  # JAVA_OPTS is a list of flags
  java ${JAVA_OPTS:--Xms1g -Xmx1g -XX:+AlwaysPreTouch} \
    -Dorg.connpool.library="$RELEASE/bindings/java/libconnpool_java.so" \
    -cp "$JAVA_BENCH/classes:$JAVA_CP_LIBS:$RELEASE/bindings/java/connpool.jar:$JARS/slf4j-nop.jar" \
    bench.PoolBench connpool_java --threads "${1:-${THREADS:-1,2,4,8,32,256}}" --pool "${POOL:-10}" \
    --warmup "${WARMUP:-1}" --seconds "${MEASURE:-3}"
}

# The adapter's tags read these; LD_LIBRARY_PATH wins over the RUNPATH baked in at link time,
# so the harness's cached bench_connpool always loads the library just built.
export CONNPOOL_ROOT=$SRC CONNPOOL_LIBDIR=$RELEASE/capi
export LD_LIBRARY_PATH=$CONNPOOL_LIBDIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}

harness() {  # $1 = peers, $2 = thread counts (empty: the harness default)
  local shared_peers=" $1 "
  shared_peers=${shared_peers// connpool_java / }
  shared_peers=${shared_peers// go_peers / }
  shared_peers=$(echo $shared_peers)  # trimmed: the harness reads an empty PEERS as "all"
  # Only connpool_java asked for: the shared harness has nothing to run (its PEERS="" means all).
  if [[ -z $1 || -n ${shared_peers// /} ]]; then
    BUILD=$ROOT/build/bench-peers ADAPTERS=$ROOT/bench/peers/connpool.c PEERS=$shared_peers RUNS=1 \
      THREADS=${2:-${THREADS:-1,2,4,8,32,256}} bash "$SHARED/run_peers.sh"
  fi
  if [[ $JAVA_BINDING == ON && ( -z $1 || " $1 " == *" connpool_java "* ) ]]; then
    java_binding_peer "${2:-}"
  fi
  # With PEERS empty ("every peer") only when the Go binding is built; asked for by name, always.
  if [[ " $1 " == *" go_peers "* || ( -z $1 && -f ${GO_BUILD:-$ROOT/build/dev}/bindings/go/module/go.mod ) ]]; then
    echo "# running go_peers" >&2
    THREADS=${2:-${THREADS:-1,2,4,8,32,256}} bash "$ROOT/bench/go_peers/run.sh" "${GO_BUILD:-$ROOT/build/dev}"
  fi
}

mkdir -p "$OUT"
# RUNS=0 with RERUN_ABOVE only re-measures the noisy lines of an existing OUT.
if ((RUNS > 0)); then
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
else
  echo "rerun_pass=$(date -u +%Y-%m-%dT%H:%M:%SZ) libconnpool=$version loadavg=$(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/machine.txt"
fi

for ((run = 1; run <= RUNS; run++)); do
  echo "# run $run of $RUNS -> $OUT/run$run.txt" >&2
  harness "$PEERS" | tee "$OUT/run$run.txt"
done
((RUNS > 0)) && echo "loadavg_after=$(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/machine.txt"

# Lines measured while other processes used more than RERUN_ABOVE % of the CPU, as
# "run peer threads other_cpu_pct", one per line.
noisy() {
  local f
  for f in "$OUT"/run[0-9]*.txt; do
    [[ $f == *.first.txt ]] && continue
    awk -v run="$(basename "$f" .txt)" -v lim="$RERUN_ABOVE" '/^peer=/ {
        for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        if (v["other_cpu_pct"] + 0 > lim + 0) print run, v["peer"], v["threads"], v["other_cpu_pct"] }' "$f"
  done
}

# The PEERS word that runs a given peer= name (the harness's reference lines are named apart
# from their files).
selector() {
  case $1 in
    limit_atomic | mutex_pair) echo limits ;;
    harness_noop) echo noop ;;
    database_sql | puddle | connpool_go) echo go_peers ;;
    harness_atomic) echo atomic_pair ;;
    harness_mutex) echo mutex_pair ;;
    *) echo "$1" ;;
  esac
}

wait_quiet() {
  local waited=0
  while awk '{ exit !($1 >= 1.0) }' /proc/loadavg && ((waited < RERUN_WAIT)); do
    sleep 10
    waited=$((waited + 10))
  done
}

if [[ -n $RERUN_ABOVE ]]; then
  for ((try = 1; try <= RERUN_TRIES; try++)); do
    mapfile -t lines < <(noisy)
    ((${#lines[@]} == 0)) && break
    echo "# re-measuring ${#lines[@]} line(s) with other_cpu_pct > $RERUN_ABOVE (try $try of $RERUN_TRIES)" >&2
    for l in "${lines[@]}"; do
      read -r run peer threads _ <<< "$l"
      # An earlier re-run of the same JVM peer may have replaced this line already.
      # (grep reads all of it: with -q, noisy could die of SIGPIPE and pipefail would skip the line)
      noisy | grep "^$run $peer $threads " >/dev/null || continue
      [[ -f $OUT/$run.first.txt ]] || cp "$OUT/$run.txt" "$OUT/$run.first.txt"
      wait_quiet
      # A JVM peer runs its whole thread list again: alone, a 256-thread line would start on a
      # cold JIT whose compiler threads starve (HikariCP measured 0.5M instead of 16M that way).
      [[ $peer == hikaricp || $peer == commons-pool2 || $peer == connpool_java ]] && threads_arg="" || threads_arg=$threads
      new=$(harness "$(selector "$peer")" "$threads_arg" | grep '^peer=' || true)
      # For every (peer, threads) just measured, keep whichever line had the quieter machine.
      python3 - "$OUT/$run.txt" "$new" <<'PY'
import sys
path, new = sys.argv[1:3]
kv = lambda line: dict(p.split("=", 1) for p in line.split() if "=" in p)
fresh = {(kv(l)["peer"], kv(l)["threads"]): l for l in new.splitlines() if l.startswith("peer=")}
lines = open(path).read().splitlines()
for i, line in enumerate(lines):
    o = kv(line) if line.startswith("peer=") else {}
    f = fresh.get((o.get("peer"), o.get("threads")))
    if f and float(kv(f)["other_cpu_pct"]) < float(o["other_cpu_pct"]):
        lines[i] = f
open(path, "w").write("\n".join(lines) + "\n")
PY
    done
  done
fi

shopt -s nullglob
runs=()
for f in "$OUT"/run*.txt; do [[ $f == *.first.txt ]] || runs+=("$f"); done
python3 "$SHARED/summarize.py" "${runs[@]}" > "$OUT/SUMMARY.md"
echo "# table: $OUT/SUMMARY.md" >&2
cat "$OUT/SUMMARY.md"
