#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The C# cycle beside the C one, in the same run: ROUNDS times, AcquireReleaseBench.exe (three
# timed rounds of CYCLES acquire+release through the binding) on the P/Invoke path alone
# (CONNPOOL_CS_NO_RAW=1, lines "pinvoke csharp: ...") and then on the raw internal calls
# ("raw csharp: ...", the default where Mono has them), then bench/cycle_loop.c (the same pool
# through the C ABI), each round preceded by the machine's load. Raw output to stdout.
#   bindings/csharp/bench/run_beside_c.sh BUILD_DIR [ROUNDS=3] [CYCLES=2000000] [POOL=4]
# BUILD_DIR: a Release build with the C# binding (cmake -DCMAKE_BUILD_TYPE=Release; target
# connpool_csharp_bench). MONO_THREADS_SUSPEND is passed through (Mono's default is hybrid).
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
build=$(cd "${1:?usage: run_beside_c.sh BUILD_DIR [ROUNDS] [CYCLES] [POOL]}" && pwd)
rounds=${2:-3} cycles=${3:-2000000} pool=${4:-4}
cs="$build/bindings/csharp"
capi="$build/capi"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
gcc -O2 -std=c11 -I"$root/capi/include" "$root/bench/cycle_loop.c" -o "$tmp/cycle_loop" \
  -L"$capi" -lconnpool -Wl,-rpath,"$capi"
echo "# $(date -u +%FT%TZ) $(git -C "$root" rev-parse --short HEAD) $(mono --version | head -1)"
echo "# MONO_THREADS_SUSPEND=${MONO_THREADS_SUSPEND:-<unset: hybrid>} cycles=$cycles pool=$pool"
for r in $(seq 1 "$rounds"); do
  echo "## round $r"
  echo "# uptime: $(uptime)"
  top -bn1 | sed -n '7,12p' | sed 's/^/# top: /'
  (cd "$cs" && CONNPOOL_CS_NO_RAW=1 LD_LIBRARY_PATH=".:$capi" mono AcquireReleaseBench.exe "$cycles" "$pool") |
    sed 's/^/pinvoke /'
  (cd "$cs" && CONNPOOL_CS_NO_RAW= LD_LIBRARY_PATH=".:$capi" mono AcquireReleaseBench.exe "$cycles" "$pool") |
    sed 's/^/raw /'
  echo "c: $("$tmp/cycle_loop" "$cycles" "$pool")"
done
