#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds everything and runs the default test suite: every CTest label but soak and bench
# (unit, integration on a throwaway PostgreSQL, bindings). Extra arguments go to ctest.
#   bash scripts/test.sh [-L unit] [-R pattern] ...
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh all
cmake --preset dev >/dev/null
cmake --build --preset dev -j "$(nproc)"
ctest --preset dev -j "$(nproc)" "$@"
