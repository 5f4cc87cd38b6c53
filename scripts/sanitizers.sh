#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the `asan` (AddressSanitizer + UndefinedBehaviorSanitizer) and `tsan`
# (ThreadSanitizer) presets and runs the unit suites under each: every CTest test labelled
# unit (core, C API, C99, stats, faults, ABI, examples' unit checks), not integration,
# bindings, soak or bench (the test presets in CMakePresets.json hold the filter and the
# sanitizer options, halt_on_error=1 for all three). Both presets run; the exit status is
# non-zero when either failed.
#   bash scripts/sanitizers.sh [asan] [tsan]      default: both
# Environment:
#   JOBS                    build and test parallelism (default: nproc)
#   CONNPOOL_PRESET_PREFIX  build in build/<prefix>asan and build/<prefix>tsan instead of
#                           build/asan and build/tsan (the presets read it)
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=${JOBS:-$(nproc)}
presets=("$@")
((${#presets[@]})) || presets=(asan tsan)

bash scripts/deps.sh core
summary=()
failed=()
for preset in "${presets[@]}"; do
  case $preset in asan | tsan) ;; *) echo "sanitizers.sh: unknown preset '$preset'" >&2; exit 2 ;; esac
  start=$SECONDS
  echo "=== $preset: configure and build"
  cmake --preset "$preset" >/dev/null
  if ! cmake --build --preset "$preset" -j "$jobs"; then
    # A suite that does not build (one mid-development, or one not run here such as
    # integration) must not stop the rest: build all that can be built. A unit test whose
    # target failed shows up below as not run, and fails the run there.
    echo "=== $preset: build failed; building every target that can be built"
    keep=(-k)
    grep -q '^CMAKE_GENERATOR:INTERNAL=Ninja' "build/${CONNPOOL_PRESET_PREFIX:-}$preset/CMakeCache.txt" && keep=(-k 0)
    cmake --build --preset "$preset" -j "$jobs" -- "${keep[@]}" || true
  fi
  built=$SECONDS
  echo "=== $preset: unit tests"
  # Sanitizers slow the tests down (TSan ~5-15x); the per-test TIMEOUTs in CMake still apply.
  status=passed
  ctest --preset "$preset" -j "$jobs" || status=FAILED
  [[ $status == passed ]] || failed+=("$preset")
  summary+=("$preset: build $((built - start)) s, tests $((SECONDS - built)) s, $status")
done
printf '=== %s\n' "${summary[@]}"
((${#failed[@]} == 0))
