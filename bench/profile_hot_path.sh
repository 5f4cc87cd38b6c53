#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/profile_hot_path.sh - where an uncontended acquire+release spends its instructions
# and its time, through libconnpool.so's C ABI (bench/cycle_loop.c).
#
#   bash bench/profile_hot_path.sh                # the working tree
#   REV=HEAD bash bench/profile_hot_path.sh       # a commit (git archive into build/src-<sha>)
#   THREADS=32 bash bench/profile_hot_path.sh     # also perf-sample the harness driver at 32 threads
#
# 1. callgrind (exact, repeatable even on a busy machine): instructions per cycle by function
#    and calls per cycle, counted only inside cycle_loop's cycles().
# 2. perf record -e cpu-clock (if this kernel allows it; hardware counters are not exposed in
#    this VM): share of time by function for 1 thread; with THREADS, the harness's connpool
#    driver (build/bench-peers/bench_connpool, made by run_peers.sh) at those thread counts.
# Output: build/profile[-<sha>]/report.txt (and the raw callgrind/perf files beside it).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REV=${REV:-}
CYCLES=${CYCLES:-200000}
THREADS=${THREADS:-}
JOBS=${JOBS:-2}
if [[ -n $REV ]]; then
  sha=$(git -C "$ROOT" rev-parse --short "$REV^{commit}")
  SRC=$ROOT/build/src-$sha
  [[ -f $SRC/CMakeLists.txt ]] || { mkdir -p "$SRC"; git -C "$ROOT" archive "$sha" | tar -x -C "$SRC"; }
  OUT=$ROOT/build/profile-$sha
else
  SRC=$ROOT
  OUT=$ROOT/build/profile
fi

# Release flags plus debug info, so profiles name functions and lines of the optimised code.
cmake -S "$SRC" -B "$OUT" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS=-g -DCONNPOOL_BUILD_TESTS=OFF \
  -DCONNPOOL_BUILD_EXAMPLES=OFF -DCONNPOOL_BUILD_BINDINGS_JAVA=OFF -DCONNPOOL_BUILD_BINDINGS_CSHARP=OFF \
  -DCONNPOOL_BUILD_BINDINGS_GO=OFF >/dev/null
cmake --build "$OUT" -j"$JOBS" --target connpool >&2
LIB=$OUT/capi
gcc -O2 -g -std=c11 -Wall -Wextra -I"$SRC/capi/include" "$ROOT/bench/cycle_loop.c" -o "$OUT/cycle_loop" \
  -L"$LIB" -Wl,-rpath,"$LIB" -lconnpool

REPORT=$OUT/report.txt
{
  echo "# hot-path profile of libconnpool ${sha:-working tree} ($(date -u +%Y-%m-%dT%H:%M:%SZ))"
  echo "# loadavg: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
  echo "## callgrind: instructions per acquire+release cycle ($CYCLES cycles, 1 thread)"
  valgrind --tool=callgrind --callgrind-out-file="$OUT/callgrind.out" --toggle-collect=cycles \
    "$OUT/cycle_loop" "$CYCLES" >/dev/null 2>"$OUT/callgrind.log"
  # Exclusive and inclusive instructions per cycle, and calls per cycle (call counts include
  # cycle_loop's 1000 warm-up cycles, which are not collected otherwise). Run from / because
  # callgrind_annotate 3.19 drops some caller lines when it shortens paths under the cwd.
  annotate() { (cd / && callgrind_annotate --auto=no --threshold=100 "$@" "$OUT/callgrind.out" 2>/dev/null); }
  annotate > "$OUT/exclusive.txt"
  annotate --inclusive=yes > "$OUT/inclusive.txt"
  annotate --tree=caller > "$OUT/tree.txt"
  python3 - "$OUT" "$CYCLES" <<'PY'
import re, sys
out, n = sys.argv[1], int(sys.argv[2])
warm = 1000
line = re.compile(r"^\s*([\d,]+) \([\s\d.]+%\)\s+(\*\s+)?(<\s+)?(.+?)(?: \((\d[\d,]*)x\))?(?: \[.*\])?\s*$")
def short(f):
    f = f.split(":", 1)[-1] if ":" in f else f
    return re.sub(r"\(.*\)( const)?$", "", f)
# A function inlined from several files has one entry per file: self costs add up, and its
# inclusive cost is the largest entry (the one for its own file).
def table(path, merge):
    rows = {}
    for l in open(path):
        m = line.match(l)
        if m and not m.group(3) and "PROGRAM TOTALS" not in l:
            f, v = short(m.group(4)), int(m.group(1).replace(",", ""))
            rows[f] = merge(rows.get(f, 0), v)
    return rows
excl = table(f"{out}/exclusive.txt", lambda a, b: a + b)
incl = table(f"{out}/inclusive.txt", max)
calls, cur = {}, []
for l in open(f"{out}/tree.txt"):
    m = line.match(l)
    if not m:
        cur = []
        continue
    if m.group(3) and m.group(5):
        cur.append(int(m.group(5).replace(",", "")))
    elif m.group(2):
        calls[short(m.group(4))] = calls.get(short(m.group(4)), 0) + sum(cur)
        cur = []
total = sum(excl.values())
print(f"total: {total / n:.0f} instructions per cycle\n")
print(f"{'function':60} {'self/cycle':>10} {'incl/cycle':>10} {'calls/cycle':>11}")
for f, v in sorted(excl.items(), key=lambda kv: -kv[1]):
    if v / n < 0.5:
        continue
    c = calls.get(f, 0) / (n + warm)
    print(f"{f[:60]:60} {v / n:10.1f} {incl.get(f, v) / n:10.1f} {c:11.2f}")
PY
  echo
  if perf record -q -e cpu-clock -o /dev/null true >/dev/null 2>&1; then
    echo "## perf (cpu-clock sampling): share of time, 1 thread"
    "$OUT/cycle_loop" 1000 >/dev/null
    perf record -q -e cpu-clock -o "$OUT/perf-1.data" "$OUT/cycle_loop" 20000000 2>/dev/null | sed 's/^/# /'
    perf report -i "$OUT/perf-1.data" --stdio --no-children 2>/dev/null | grep -E '^\s+[0-9.]+%' | head -20
    for t in ${THREADS//,/ }; do
      bin=$ROOT/build/bench-peers/bench_connpool
      [[ -x $bin ]] || { echo "(no $bin: run bench/run_peers.sh once)"; break; }
      echo
      echo "## perf: share of time, harness driver at $t threads, pool of 10"
      LD_LIBRARY_PATH=$LIB perf record -q -e cpu-clock -o "$OUT/perf-$t.data" "$bin" --threads "$t" --pool 10 \
        --warmup 0.5 --seconds 2 2>/dev/null | sed 's/^/# /'
      perf report -i "$OUT/perf-$t.data" --stdio --no-children 2>/dev/null | grep -E '^\s+[0-9.]+%' | head -20
    done
  else
    echo "(perf cannot sample here: time profile skipped)"
  fi
} | tee "$REPORT"
echo "# report: $REPORT" >&2
