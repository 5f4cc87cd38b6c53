#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the Debian packages into build/packages/:
#   libconnpool1_<version>_<arch>.deb     the shared library libconnpool.so.1
#   libconnpool-dev_<version>_<arch>.deb  header, libconnpool.so link, connpool.pc, CMake package
# from a Release tree configured for /usr (build/package). Install them with
#   apt-get install ./build/packages/libconnpool1_*.deb ./build/packages/libconnpool-dev_*.deb
# Usage: bash scripts/package.sh [BUILD_DIR [OUT_DIR]]   (JOBS=n limits the parallel build)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/package}
out=${2:-build/packages}
mkdir -p "$out"
out=$(cd "$out" && pwd)

bash scripts/deps.sh core
if ! command -v dpkg-shlibdeps >/dev/null; then
  echo "package.sh: dpkg-shlibdeps not found (apt-get install dpkg-dev); using the Debian 12 dependency names" >&2
fi
# Only the library is built: tests, examples, bindings and benchmarks are not packaged.
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
  -DCONNPOOL_BUILD_TESTS=OFF -DCONNPOOL_BUILD_EXAMPLES=OFF -DCONNPOOL_BUILD_BENCHMARKS=OFF \
  -DCONNPOOL_BUILD_BINDINGS_JAVA=OFF -DCONNPOOL_BUILD_BINDINGS_CSHARP=OFF \
  -DCONNPOOL_BUILD_BINDINGS_GO=OFF >/dev/null
cmake --build "$build" -j "${JOBS:-$(nproc)}"
rm -f "$out"/libconnpool*.deb
(cd "$build" && cpack -G DEB -B "$out")
rm -rf "$out/_CPack_Packages"
ls -1 "$out"/*.deb
