#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs the Debian packages the build needs, if any are missing.
#   deps.sh core   what the library, the demo and the C/C++ tests need
#   deps.sh all    everything in .ci/packages.txt (PostgreSQL, SWIG, JDK, Mono, Go, ...)
# As root it runs apt-get; otherwise it prints the command to run and fails.
set -euo pipefail
cd "$(dirname "$0")/.."
core=(build-essential cmake pkg-config libboost-thread-dev libboost-chrono-dev libcjson-dev
      libsqlite3-dev libgtest-dev libgmock-dev)
if [[ "${1:-core}" == all ]]; then
  mapfile -t wanted < <(grep -v '^\s*#' .ci/packages.txt | grep -v '^\s*$')
else
  wanted=("${core[@]}")
fi
missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep "install ok installed" >/dev/null || missing+=("$p")
done
((${#missing[@]} == 0)) && exit 0
if [[ $(id -u) -ne 0 ]]; then
  echo "missing packages; run: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
