#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the release artifacts into build/packages/:
#   libconnpool1_<v>_<arch>.deb          the shared library libconnpool.so.1
#   libconnpool-dev_<v>_<arch>.deb       header, libconnpool.so link, connpool.pc, CMake package, docs
#   libconnpool-java_<v>_<arch>.deb      connpool.jar (+ Maven layout), the JNI library
#   golang-github-libconnpool-connpool-go-dev_<v>_all.deb   the Go module's source
#   libconnpool-cil_<v>_<arch>.deb       ConnPool.dll for Mono, connpool-sharp.pc
#   ConnPool.<v>.nupkg                   the C# assembly + native libraries for linux-x64
# from a Release tree configured for /usr (build/package). A binding whose toolchain is missing
# is left out (with a message); PACKAGE_BINDINGS=OFF leaves them all out. Install with e.g.
#   apt-get install ./build/packages/libconnpool1_*.deb ./build/packages/libconnpool-dev_*.deb
# Usage: bash scripts/package.sh [BUILD_DIR [OUT_DIR]]   (JOBS=n limits the parallel build)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/package}
out=${2:-build/packages}
mkdir -p "$out"
out=$(cd "$out" && pwd)
bindings=${PACKAGE_BINDINGS:-ON}

bash scripts/deps.sh core
if ! command -v dpkg-shlibdeps >/dev/null; then
  echo "package.sh: dpkg-shlibdeps not found (apt-get install dpkg-dev); using the Debian 12 dependency names" >&2
fi
# The library and the bindings are built; tests, examples and benchmarks are not packaged.
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
  -DCONNPOOL_BUILD_TESTS=OFF -DCONNPOOL_BUILD_EXAMPLES=OFF -DCONNPOOL_BUILD_BENCHMARKS=OFF \
  -DCONNPOOL_BUILD_BINDINGS_JAVA="$bindings" -DCONNPOOL_BUILD_BINDINGS_CSHARP="$bindings" \
  -DCONNPOOL_BUILD_BINDINGS_GO="$bindings" >/dev/null
cmake --build "$build" -j "${JOBS:-$(nproc)}"
rm -f "$out"/*.deb "$out"/*.nupkg
(cd "$build" && cpack -G DEB -B "$out")
rm -rf "$out/_CPack_Packages"

# The .nupkg, packed from a staged install so it holds the installed (stripped, $ORIGIN-linked)
# files rather than the build tree's.
if [[ -f $build/bindings/csharp/ConnPool.nuspec ]]; then
  if command -v nuget >/dev/null; then
    stage=$(mktemp -d)
    trap 'rm -rf "$stage"' EXIT
    for c in runtime csharp; do
      cmake --install "$build" --prefix "$stage" --component "$c" --strip >/dev/null
    done
    cp LICENSE "$stage/LICENSE.txt"
    (cd "$stage" && HOME=$stage nuget pack "$(cd "$build" && pwd)/bindings/csharp/ConnPool.nuspec" \
      -BasePath "$stage" -OutputDirectory "$out" -NoPackageAnalysis -NonInteractive >/dev/null)
  else
    echo "package.sh: nuget not found (apt-get install nuget): no .nupkg" >&2
  fi
fi
ls -1 "$out"/*.deb "$out"/*.nupkg 2>/dev/null
