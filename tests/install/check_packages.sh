#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The release artifacts work on their own: builds the .deb set and the .nupkg with
# scripts/package.sh, unpacks every .deb into an empty root (what dpkg would install, with no
# source or build tree on any include, library or class path), then builds and runs a small
# consumer per language against that root alone:
#   C      pkg-config and find_package(connpool)      (libconnpool1, libconnpool-dev)
#   Java   javac/java against /usr/share/java/connpool.jar, natives from the jar and from
#          the multiarch jni directory; a Maven build resolving org.connpool:connpool offline
#          from the package's /usr/share/maven-repo layout   (libconnpool-java)
#   Go     a module outside the tree with `replace` to /usr/share/gocode/src/...; cgo via
#          pkg-config                                 (golang-github-libconnpool-connpool-go-dev)
#   C#     `nuget install` from a local folder feed holding the .nupkg; and mcs -pkg:connpool-sharp
#          against the libconnpool-cil package
# Also: apt resolves every package's Depends on this machine (a simulated install), no two
# packages ship the same file, and lintian reports no error (when installed).
# Usage: check_packages.sh SOURCE_DIR WORK_BUILD_DIR [LANG...]   (default: c java go csharp)
set -euo pipefail
src=$(cd "$1" && pwd)
build=$2
shift 2
langs=("$@")
[[ ${#langs[@]} -gt 0 ]] || langs=(c java go csharp)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
out=$work/packages
root=$work/root
mkdir -p "$out" "$root" "$work/contents"

bash "$src/scripts/package.sh" "$build" "$out" >"$work/package.log" 2>&1 || {
  cat "$work/package.log"; echo "FAIL: scripts/package.sh" >&2; exit 1; }
ls -1 "$out"

version=$(sed -n 's/^project(connpool VERSION \([0-9.]*\) .*/\1/p' "$src/CMakeLists.txt")
deb() { ls "$out"/"$1"_"$version"_*.deb; }
need=(libconnpool1 libconnpool-dev)
for lang in "${langs[@]}"; do
  case $lang in
    java) need+=(libconnpool-java) ;;
    go) need+=(golang-github-libconnpool-connpool-go-dev) ;;
    csharp) need+=(libconnpool-cil) ;;
  esac
done
for p in "${need[@]}"; do deb "$p" >/dev/null || { echo "FAIL: no $p package" >&2; exit 1; }; done

# Names, Depends, each package's files, a C program on the unpacked -dev/runtime pair, and apt
# resolving every Depends here (a simulated install: nothing changes).
bash "$src/tests/install/check_package_contents.sh" "$src" "$out" "$work/contents" "$version" "${langs[@]}"

# No file in two packages (dpkg would refuse the second).
for d in "$out"/*.deb; do dpkg-deb -c "$d" | awk '$1 !~ /^d/ {print $6}'; done | sort | uniq -d >"$work/dups"
[[ ! -s $work/dups ]] || { cat "$work/dups"; echo "FAIL: files in two packages" >&2; exit 1; }

if command -v lintian >/dev/null; then
  lintian --tag-display-limit 0 "$out"/*.deb >"$work/lintian.log" 2>&1 || true
  cat "$work/lintian.log"
  ! grep -q '^E: ' "$work/lintian.log" || { echo "FAIL: lintian errors" >&2; exit 1; }
fi

for d in "$out"/*.deb; do dpkg-deb -x "$d" "$root"; done
libdir=$(dirname "$(find "$root" -name libconnpool.so.1 | head -n1)")
pcdir=$libdir/pkgconfig
[[ -f $pcdir/connpool.pc ]] || { echo "FAIL: no connpool.pc in $pcdir" >&2; exit 1; }
# Only the unpacked root: nothing from the source or build tree, nor a system-wide copy.
export PKG_CONFIG_PATH=$pcdir PKG_CONFIG_LIBDIR=$pcdir:/usr/lib/x86_64-linux-gnu/pkgconfig:/usr/share/pkgconfig
unset CPATH LIBRARY_PATH LD_LIBRARY_PATH CLASSPATH MONO_PATH

for lang in "${langs[@]}"; do
  echo "== $lang"
  case $lang in
    c)
      # shellcheck disable=SC2046
      cc -std=c99 -Wall -Werror -o "$work/consumer_c" "$src/tests/install/consumer.c" \
        $(pkg-config --cflags --libs connpool)
      LD_LIBRARY_PATH=$libdir "$work/consumer_c"
      cmake -S "$src/tests/install/consumer" -B "$work/cmake-build" -DCMAKE_PREFIX_PATH="$root/usr" >/dev/null
      cmake --build "$work/cmake-build" >/dev/null
      LD_LIBRARY_PATH=$libdir "$work/cmake-build/consumer"
      ;;
    java)
      jar=$root/usr/share/java/connpool.jar
      m2=$root/usr/share/maven-repo/org/connpool/connpool/$version
      [[ -f $m2/connpool-$version.jar ]] || { echo "FAIL: no jar in the Maven layout" >&2; exit 1; }
      grep -q "<artifactId>connpool</artifactId>" "$m2/connpool-$version.pom"
      grep -q "<version>$version</version>" "$m2/connpool-$version.pom"
      mkdir "$work/java"
      javac --release 17 -cp "$jar" -d "$work/java" "$src/tests/install/consumers/Consumer.java"
      # Jackson (the stats decoder) comes from the jar's Class-Path, not from -cp; and the
      # natives the jar carries (no java.library.path holds them)...
      java -cp "$jar:$work/java" Consumer
      # ...and the system-wide ones, as the package puts them on the JVM's library path.
      java -Djava.library.path="$libdir/jni:$libdir" -cp "$jar:$work/java" Consumer
      # Maven resolves org.connpool:connpool offline from the package's repository layout: a
      # local repository made of Debian's (/usr/share/maven-repo: the plugins) plus the
      # unpacked org/connpool. The pom brings Jackson (Debian's 2.x alias) to the compile.
      mvn=/usr/share/maven/bin/mvn
      if [[ -x $mvn && -d /usr/share/maven-repo/org/apache/maven/plugins/maven-compiler-plugin/3.10.1 ]]; then
        repo=$work/m2
        mkdir -p "$repo/org" "$work/maven/src/main/java"
        for d in /usr/share/maven-repo/*; do [[ $(basename "$d") == org ]] || ln -s "$d" "$repo/"; done
        for d in /usr/share/maven-repo/org/*; do ln -s "$d" "$repo/org/"; done
        ln -sfn "$root/usr/share/maven-repo/org/connpool" "$repo/org/connpool"
        cp "$src/tests/install/consumers/maven/pom.xml" "$work/maven/"
        cp "$src/tests/install/consumers/Consumer.java" "$work/maven/src/main/java/"
        (cd "$work/maven" && "$mvn" -o -q -B -Dstyle.color=never -Dmaven.repo.local="$repo" compile)
        java -cp "$repo/org/connpool/connpool/$version/connpool-$version.jar:$work/maven/target/classes" Consumer
      else
        echo "skipped the Maven build: apt-get install maven-debian-helper libmaven-compiler-plugin-java libmaven-resources-plugin-java"
      fi
      ;;
    go)
      mod=$root/usr/share/gocode/src/github.com/libconnpool/connpool-go
      mkdir "$work/go"
      cp "$src/tests/install/consumers/consumer.go" "$work/go/main.go"
      cat >"$work/go/go.mod" <<MOD
module example.com/consumer

go 1.19

require github.com/libconnpool/connpool-go v$version

replace github.com/libconnpool/connpool-go => $mod
MOD
      (cd "$work/go" && GOCACHE=$work/gocache GOPATH=$work/gopath GOFLAGS=-mod=mod GOPROXY=off \
        GOSUMDB=off GOENV=off GOTOOLCHAIN=local CGO_ENABLED=1 go build -o consumer . &&
        LD_LIBRARY_PATH=$libdir ./consumer)
      ;;
    csharp)
      nupkg=$out/ConnPool.$version.nupkg
      [[ -f $nupkg ]] || { echo "FAIL: no $nupkg" >&2; exit 1; }
      mkdir -p "$work/feed" "$work/cs"
      cp "$nupkg" "$work/feed/"
      (cd "$work/cs" && HOME=$work/cs nuget install ConnPool -Version "$version" -Source "$work/feed" \
        -OutputDirectory "$work/cs/packages" -NonInteractive >/dev/null)
      pkg=$work/cs/packages/ConnPool.$version
      mcs -nologo -r:"$pkg/lib/net45/ConnPool.dll" -out:"$work/cs/Consumer.exe" \
        "$src/tests/install/consumers/Consumer.cs"
      # What a Mono app does with a package's native assets: ship them beside the app.
      cp "$pkg/lib/net45/ConnPool.dll" "$pkg"/runtimes/linux-x64/native/* "$work/cs/"
      mono "$work/cs/Consumer.exe"
      # The libconnpool-cil package: compile with its pkg-config file, run with MONO_PATH.
      mkdir "$work/cil"
      mcs -nologo -pkg:connpool-sharp -out:"$work/cil/Consumer.exe" "$src/tests/install/consumers/Consumer.cs"
      MONO_PATH=$libdir/connpool/csharp LD_LIBRARY_PATH=$libdir mono "$work/cil/Consumer.exe"
      ;;
    *) echo "unknown language $lang" >&2; exit 2 ;;
  esac
done
echo "packages: ${need[*]} and the .nupkg work from an unpacked root alone"
