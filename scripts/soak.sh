#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Soak: random load with bursts on one pool for MINUTES minutes while a throwaway PostgreSQL
# (tests/integration's harness, the libpq factory of examples/postgres) is killed and
# restarted at random; then leak, RSS and status-code checks and a report (tests/soak).
#   bash scripts/soak.sh [MINUTES]          default 10
# Environment:
#   SOAK_BACKEND    postgres (default) or fake (in-process); postgres falls back to fake, with
#                   a message, when the PostgreSQL server binaries are not installed
#   SOAK_SEED       random seed (default: fresh; the report prints it, to replay a run)
#   SOAK_THREADS    worker threads (default 12)
#   SOAK_BUILD_DIR  build tree (default build/soak), JOBS build parallelism (default nproc)
# Exit status: 0 when every check passed (RESULT: PASS in the report).
set -euo pipefail
cd "$(dirname "$0")/.."

minutes=${1:-10}
backend=${SOAK_BACKEND:-postgres}
build=${SOAK_BUILD_DIR:-build/soak}
jobs=${JOBS:-$(nproc)}

bash scripts/deps.sh core
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCONNPOOL_BUILD_EXAMPLES=OFF \
  -DCONNPOOL_BUILD_BENCHMARKS=OFF -DCONNPOOL_BUILD_BINDINGS_JAVA=OFF \
  -DCONNPOOL_BUILD_BINDINGS_CSHARP=OFF -DCONNPOOL_BUILD_BINDINGS_GO=OFF >/dev/null
cmake --build "$build" -j "$jobs" --target connpool_soak

args=(--minutes "$minutes" --threads "${SOAK_THREADS:-12}")
[[ -n ${SOAK_SEED:-} ]] && args+=(--seed "$SOAK_SEED")
set +e
"$build/tests/soak/connpool_soak" --backend "$backend" "${args[@]}"
rc=$?
if [[ $rc -eq 77 && $backend == postgres && -z ${SOAK_BACKEND:-} ]]; then
  echo "soak.sh: PostgreSQL is not available here; running the in-process backend instead"
  "$build/tests/soak/connpool_soak" --backend fake "${args[@]}"
  rc=$?
fi
exit $rc
