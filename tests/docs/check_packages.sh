#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the .deb packages with scripts/package.sh and checks them without installing them:
# names, Depends, the files each one holds (dpkg-deb -f / -c), and that a C program builds
# with pkg-config against the unpacked libconnpool-dev and runs on the unpacked libconnpool1.
# Exits 77 (CTest: skipped) when not root or when dpkg-deb is missing.
# Usage: check_packages.sh SOURCE_DIR WORK_DIR VERSION
set -euo pipefail
src=$1
work=$2
version=$3
major=${version%%.*}  # the soname and the runtime package carry it
if [[ $(id -u) -ne 0 ]]; then
  echo "skipped: building the packages is checked as root only (CI runs as root)"
  exit 77
fi
if ! command -v dpkg-deb >/dev/null; then
  echo "skipped: dpkg-deb not found (apt-get install dpkg)"
  exit 77
fi

bash "$src/scripts/package.sh" "$work/build" "$work/packages"
arch=$(dpkg --print-architecture)
runtime=$work/packages/libconnpool${major}_${version}_${arch}.deb
dev=$work/packages/libconnpool-dev_${version}_${arch}.deb
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
  apt-get install --simulate --no-install-recommends "$runtime" "$dev" >"$work/apt.log" 2>&1 ||
    { cat "$work/apt.log" >&2; fail "apt-get install --simulate"; }
  grep -q "^Inst libconnpool$major " "$work/apt.log" || { cat "$work/apt.log" >&2; fail "apt would not install libconnpool$major"; }
fi
echo "packages ok: $(basename "$runtime") $(basename "$dev")"
