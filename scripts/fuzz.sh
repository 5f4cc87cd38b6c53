#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the libFuzzer targets (fuzz/) with clang and ASan + UBSan in their own build tree and
# runs each for a bounded time, starting from its checked-in seed corpus.
#   bash scripts/fuzz.sh [target ...]        default: every target
# Environment:
#   FUZZ_SECONDS   seconds per target (default 60)
#   FUZZ_SEED      libFuzzer -seed (default: random)
#   FUZZ_RUNS      run a fixed number of inputs instead of a time: a number for every target or
#                  a list like "config_json=1500000 config_set=50000 pool_ops=3000". With
#                  FUZZ_SEED this makes a run repeatable, which a time budget is not (how far 60 s
#                  gets depends on the machine), so CI pins both: a finding there is a finding
#                  here too, replayable by the same command.
#   FUZZ_BUILD_DIR build tree (default build/fuzz)
#   JOBS           build parallelism (default 2)
# New inputs go to $FUZZ_BUILD_DIR/corpus/<target>/ (the checked-in corpus is only read); a
# crash leaves its input in $FUZZ_BUILD_DIR/artifacts/ and makes the script fail. Replay one
# with: $FUZZ_BUILD_DIR/fuzz/fuzz_<target> <file>
set -euo pipefail
cd "$(dirname "$0")/.."

build=${FUZZ_BUILD_DIR:-build/fuzz}
seconds=${FUZZ_SECONDS:-60}
seed_args=()
[[ -n ${FUZZ_SEED:-} ]] && seed_args=(-seed="$FUZZ_SEED")
jobs=${JOBS:-2}
targets=("$@")
((${#targets[@]})) || targets=(config_json config_set pool_ops)

if ! command -v clang++ >/dev/null; then
  echo "fuzz.sh: clang++ not found (apt-get install clang libclang-rt-14-dev)" >&2
  exit 1
fi

# fuzzer-no-link instruments the core for coverage; each fuzz target links libFuzzer itself and
# compiles the C API in (fuzz/CMakeLists.txt), so libconnpool.so is not built here.
flags="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -O1 -g"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_C_FLAGS="$flags" -DCMAKE_CXX_FLAGS="$flags" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
  -DCONNPOOL_BUILD_FUZZERS=ON -DCONNPOOL_BUILD_TESTS=OFF -DCONNPOOL_BUILD_EXAMPLES=OFF \
  -DCONNPOOL_BUILD_BENCHMARKS=OFF -DCONNPOOL_BUILD_BINDINGS_JAVA=OFF \
  -DCONNPOOL_BUILD_BINDINGS_CSHARP=OFF -DCONNPOOL_BUILD_BINDINGS_GO=OFF >/dev/null
cmake --build "$build" -j "$jobs" --target "${targets[@]/#/fuzz_}"

export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
mkdir -p "$build/artifacts"
status=0
for t in "${targets[@]}"; do
  work="$build/corpus/$t"
  mkdir -p "$work"
  extra=()
  [[ $t == config_* ]] && extra+=(-dict=fuzz/config.dict)
  budget=(-max_total_time="$seconds")
  what="${seconds}s"
  if [[ -n ${FUZZ_RUNS:-} ]]; then
    runs=$FUZZ_RUNS
    if [[ $runs == *=* ]]; then
      runs=$(tr ' ,' '\n\n' <<<"$FUZZ_RUNS" | sed -n "s/^$t=//p")
      [[ -n $runs ]] || { echo "fuzz.sh: FUZZ_RUNS names no count for $t" >&2; exit 2; }
    fi
    budget=(-runs="$runs")
    what="$runs inputs"
  fi
  echo "=== fuzz_$t for $what"
  # -timeout: one input taking 25 s is a hang (the pool fuzzer never waits by design).
  if ! "$build/fuzz/fuzz_$t" "${budget[@]}" -timeout=25 -rss_limit_mb=2048 "${seed_args[@]}" \
      -print_final_stats=1 -artifact_prefix="$build/artifacts/$t-" "${extra[@]}" \
      "$work" "fuzz/corpus/$t" 2>"$build/fuzz_$t.log"; then
    status=1
    tail -n 60 "$build/fuzz_$t.log"
    echo "=== fuzz_$t FAILED; inputs: $(ls "$build/artifacts" | grep "^$t-" | tr '\n' ' ')"
  else
    grep -E '^(stat::number_of_executed_units|stat::new_units_added|#[0-9]+ +DONE)' "$build/fuzz_$t.log" || true
    echo "=== fuzz_$t ok ($(ls "$work" | wc -l) corpus entries)"
  fi
done
exit $status
