#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Checks the .deb packages scripts/package.sh built, without installing them: names, Depends,
# the files each one holds (dpkg-deb -f / -c), and that a C program builds with pkg-config
# against the unpacked libconnpool-dev and runs on the unpacked libconnpool1. Called by
# check_packages.sh (CTest packaging_consumers), which builds the packages first.
# Usage: check_package_contents.sh SOURCE_DIR PACKAGES_DIR WORK_DIR VERSION [LANG...]
set -euo pipefail
src=$1
packages=$2
work=$3
version=$4
shift 4
langs=" $* "
major=${version%%.*}  # the soname and the runtime package carry it

arch=$(dpkg --print-architecture)
runtime=$packages/libconnpool${major}_${version}_${arch}.deb
dev=$packages/libconnpool-dev_${version}_${arch}.deb
test -f "$runtime"
test -f "$dev"

fail() { echo "FAIL: $*" >&2; exit 1; }
entries() {  # the paths in DEB, symbolic links as "path -> target"
  dpkg-deb -c "$1" | awk '{ $1 = $2 = $3 = $4 = $5 = ""; sub(/^ +/, ""); print }'
}
# grep reads all of its input (no -q) in pipelines: with pipefail, an early exit would SIGPIPE the
# writer and fail the pipeline even though the line was found.
has() { entries "$1" | grep -E "$2" >/dev/null || fail "$(basename "$1") has no entry matching $2"; }
lacks() {
  ! entries "$1" | sed 's/ -> .*//' | grep -E "$2" >/dev/null || fail "$(basename "$1") must not hold $2"
}
field() { dpkg-deb -f "$1" "$2"; }

# libconnpool1: the shared library and its soname link, nothing for developers.
[[ $(field "$runtime" Package) == "libconnpool$major" ]] || fail "runtime package name"
[[ $(field "$runtime" Version) == "$version" ]] || fail "runtime version"
has "$runtime" '^\./usr/lib/([^/]+/)?libconnpool\.so\.'"$version"'$'
has "$runtime" '^\./usr/lib/([^/]+/)?libconnpool\.so\.'"$major"' -> libconnpool\.so\.'"$version"'$'
lacks "$runtime" 'include/|\.pc$|cmake/|libconnpool\.so( |$)'
deps=$(field "$runtime" Depends)
for d in libboost-thread1.74.0 libboost-chrono1.74.0 libcjson1; do
  [[ $deps == *"$d"* ]] || fail "libconnpool$major Depends lacks $d: $deps"
done
dpkg-deb --ctrl-tarfile "$runtime" | tar -t | grep -x './shlibs' >/dev/null || fail "libconnpool$major has no shlibs file"

# libconnpool-dev: header, .so link, pkg-config file, CMake package; the library itself stays
# in libconnpool1.
[[ $(field "$dev" Package) == libconnpool-dev ]] || fail "dev package name"
[[ $(field "$dev" Depends) == *"libconnpool$major (= $version)"* ]] || fail "libconnpool-dev must depend on libconnpool$major (= $version)"
has "$dev" '^\./usr/include/connpool/connpool\.h$'
has "$dev" '^\./usr/lib/([^/]+/)?libconnpool\.so -> libconnpool\.so\.'"$major"'$'
has "$dev" '^\./usr/lib/([^/]+/)?pkgconfig/connpool\.pc$'
for f in connpoolConfig.cmake connpoolConfigVersion.cmake connpoolTargets.cmake; do
  has "$dev" '^\./usr/lib/([^/]+/)?cmake/connpool/'"$f"'$'
done
lacks "$dev" 'libconnpool\.so\.'

# One package per binding that was built, each depending on the runtime at this version.
if [[ $langs == *" java "* ]]; then
  java=$packages/libconnpool-java_${version}_${arch}.deb
  test -f "$java"
  [[ $(field "$java" Depends) == *"libconnpool$major (= $version)"* ]] || fail "libconnpool-java Depends"
  # Jackson decodes the stats; the consumer in check_packages.sh runs with it on no -cp.
  [[ $(field "$java" Depends) == *"libjackson2-databind-java"* ]] || fail "libconnpool-java must depend on libjackson2-databind-java"
  has "$java" '^\./usr/share/java/connpool-'"$version"'\.jar$'
  has "$java" '^\./usr/share/java/connpool\.jar -> connpool-'"$version"'\.jar$'
  has "$java" '^\./usr/share/maven-repo/org/connpool/connpool/'"$version"'/connpool-'"$version"'\.pom$'
  has "$java" '^\./usr/share/maven-repo/org/connpool/connpool/'"$version"'/connpool-'"$version"'\.jar -> \.\./\.\./\.\./\.\./\.\./java/connpool-'"$version"'\.jar$'
  has "$java" '^\./usr/lib/([^/]+/)?jni/libconnpool_java\.so$'
  lacks "$java" 'libconnpool\.so\.'
fi
if [[ $langs == *" go "* ]]; then
  go=$packages/golang-github-libconnpool-connpool-go-dev_${version}_all.deb
  test -f "$go"
  [[ $(field "$go" Architecture) == all ]] || fail "the Go package is source: Architecture all"
  [[ $(field "$go" Depends) == *"libconnpool-dev"* ]] || fail "the Go package must depend on libconnpool-dev"
  gm=./usr/share/gocode/src/github.com/libconnpool/connpool-go
  has "$go" "^${gm//./\\.}/go\.mod$"
  has "$go" "^${gm//./\\.}/internal/native/connpool_wrap\.cxx$"
  has "$go" "^${gm//./\\.}/internal/native/cgo_flags\.go$"
  dpkg-deb --fsys-tarfile "$go" | tar -xO "$gm/internal/native/cgo_flags.go" | grep -x '// #cgo pkg-config: connpool' >/dev/null ||
    fail "the installed Go module must find the library with pkg-config"
fi
if [[ $langs == *" csharp "* ]]; then
  cil=$packages/libconnpool-cil_${version}_${arch}.deb
  test -f "$cil"
  [[ $(field "$cil" Depends) == *"libconnpool$major (= $version)"* ]] || fail "libconnpool-cil Depends"
  has "$cil" '^\./usr/lib/([^/]+/)?connpool/csharp/ConnPool\.dll$'
  has "$cil" '^\./usr/lib/([^/]+/)?connpool/csharp/libconnpool_csharp\.so$'
  has "$cil" '^\./usr/lib/([^/]+/)?pkgconfig/connpool-sharp\.pc$'
  test -f "$packages/ConnPool.$version.nupkg" || fail "no ConnPool.$version.nupkg"
  for f in lib/net45/ConnPool.dll runtimes/linux-x64/native/libconnpool_csharp.so runtimes/linux-x64/native/libconnpool.so.$major; do
    unzip -l "$packages/ConnPool.$version.nupkg" | awk '{print $4}' | grep -x "$f" >/dev/null || fail "the .nupkg lacks $f"
  done
fi
# Every package has its copyright file and changelog (Debian policy 12.5, 12.7).
for d in "$packages"/*.deb; do
  name=$(field "$d" Package)
  has "$d" "^\./usr/share/doc/$name/copyright$"
  has "$d" "^\./usr/share/doc/$name/changelog\.gz$"
done

# Unpacked side by side, the two make a working tree: the installed header is the source's,
# and a program builds with pkg-config and runs.
root=$work/root
rm -rf "$root"
dpkg-deb -x "$runtime" "$root"
dpkg-deb -x "$dev" "$root"
cmp "$root/usr/include/connpool/connpool.h" "$src/capi/include/connpool/connpool.h"
pc=$(find "$root/usr/lib" -name connpool.pc)
libdir=$(dirname "$(find "$root/usr/lib" -name "libconnpool.so.$major")")
# shellcheck disable=SC2046
cc -std=c99 -Wall -Werror -o "$work/consumer" "$src/tests/install/consumer.c" \
  $(PKG_CONFIG_PATH=$(dirname "$pc") pkg-config --cflags --libs connpool) -Wl,-rpath,"$libdir"
"$work/consumer"

# apt can resolve both packages' dependencies on this system (a dry run: nothing installed).
if command -v apt-get >/dev/null; then
  apt-get install --simulate --no-install-recommends "$packages"/*.deb >"$work/apt.log" 2>&1 ||
    { cat "$work/apt.log" >&2; fail "apt-get install --simulate"; }
  grep -q "^Inst libconnpool$major " "$work/apt.log" || { cat "$work/apt.log" >&2; fail "apt would not install libconnpool$major"; }
fi
echo "package contents ok: $(cd "$packages" && echo *.deb)"
