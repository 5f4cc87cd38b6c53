#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Every copy of the version agrees with the one source, the CMake project() version:
# the header macros, the loaded library's connpool_version_*, connpool.pc, the C# assembly,
# the jar manifest and pom.xml (when the Java binding is built), the .nuspec, the Go example's
# go.mod, and CHANGELOG.md's newest
# section. Usage: check_version.sh SOURCE_DIR BUILD_DIR [C_FLAGS]
# C_FLAGS are the build's own (CMAKE_C_FLAGS): a sanitizer build's library needs its runtime
# linked into the probe program first, so the probe is compiled the way the library was.
set -euo pipefail
src=$1
build=$2
read -r -a cflags <<<"${3:-}"
fail=0
bad() { echo "FAIL: $*" >&2; fail=1; }

version=$(sed -n 's/^project(connpool VERSION \([0-9.]*\) .*/\1/p' "$src/CMakeLists.txt")
[[ $version =~ ^([0-9]+)\.([0-9]+)\.([0-9]+)$ ]] || { echo "FAIL: no project() version" >&2; exit 1; }
major=${BASH_REMATCH[1]} minor=${BASH_REMATCH[2]} patch=${BASH_REMATCH[3]}
echo "project() version: $version"

h=$src/capi/include/connpool/connpool.h
macro() { sed -n "s/^#define CONNPOOL_VERSION_$1 \\([^ ]*\\).*/\\1/p" "$h"; }
[[ $(macro MAJOR) == "$major" ]] || bad "CONNPOOL_VERSION_MAJOR is $(macro MAJOR)"
[[ $(macro MINOR) == "$minor" ]] || bad "CONNPOOL_VERSION_MINOR is $(macro MINOR)"
[[ $(macro PATCH) == "$patch" ]] || bad "CONNPOOL_VERSION_PATCH is $(macro PATCH)"
[[ $(macro STRING) == "\"$version\"" ]] || bad "CONNPOOL_VERSION_STRING is $(macro STRING)"

# The library itself, as a program built against the build tree sees it.
lib=$(find "$build" -name "libconnpool.so.$version" -not -path '*/_CPack_Packages/*' | head -n1)
[[ -n $lib ]] || bad "no libconnpool.so.$version in $build (is the soname's file named after the version?)"
if [[ -n $lib ]]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  printf '#include <connpool/connpool.h>\n#include <stdio.h>\nint main(void) { printf("%%s %%d\\n", connpool_version_string(), connpool_version_number()); return 0; }\n' >"$work/v.c"
  cc -std=c99 "${cflags[@]}" -I"$src/capi/include" -o "$work/v" "$work/v.c" -L"$(dirname "$lib")" -lconnpool \
    -Wl,-rpath,"$(dirname "$lib")"
  got=$("$work/v")
  want="$version $((major * 10000 + minor * 100 + patch))"
  [[ $got == "$want" ]] || bad "connpool_version_string/number say '$got', want '$want'"
fi

pc=$build/pkgconfig/connpool.pc
[[ $(sed -n 's/^Version: //p' "$pc") == "$version" ]] || bad "$pc Version"

cs=$src/bindings/csharp/src/AssemblyInfo.cs
grep -q "AssemblyVersion(\"$version.0\")" "$cs" || bad "$cs AssemblyVersion is not $version.0"

if [[ -f $build/bindings/java/connpool.jar ]]; then
  mf=$(unzip -p "$build/bindings/java/connpool.jar" META-INF/MANIFEST.MF | tr -d '\r')
  grep -qx "Implementation-Version: $version" <<<"$mf" || bad "jar manifest: $mf"
  grep -q "<version>$version</version>" "$build/bindings/java/pom.xml" || bad "pom.xml version"
fi

nuspec=$build/bindings/csharp/ConnPool.nuspec
if [[ -f $nuspec ]]; then
  grep -q "<version>$version</version>" "$nuspec" || bad "$nuspec version (the .nupkg's)"
fi
# The Go module's consumers name the version they require (the module has no version file:
# Go takes it from the tag).
for m in "$src/examples/go/go.mod"; do
  grep -q "github.com/libconnpool/connpool-go v$version\$" "$m" || bad "$m does not require v$version"
done

top=$(grep -m1 -E '^## \[' "$src/CHANGELOG.md")
[[ $top == *"$version"* ]] || bad "CHANGELOG.md's newest section ($top) is not $version"

[[ $fail == 0 ]] && echo "version $version agrees everywhere"
exit $fail
