#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs the build into a scratch prefix, then builds and runs each language's example
# against the installed binding exactly as docs/BINDINGS.md tells a user to.
# Usage: check_install.sh BUILD_DIR SOURCE_DIR LANG...   (LANG: java csharp go)
set -euo pipefail
build=$1
src=$2
shift 2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" >/dev/null
libdir=$(dirname "$(find "$prefix" -name 'libconnpool.so.1' | head -n1)")

for lang in "$@"; do
  echo "== $lang"
  case $lang in
    java)
      jar=$prefix/share/java/connpool.jar
      mkdir "$work/java"
      javac --release 17 -cp "$jar" -d "$work/java" "$src/examples/java/Example.java"
      # No java.library.path: the jar extracts the native libraries it carries.
      java -cp "$jar:$work/java" Example
      ;;
    csharp)
      dir=$libdir/connpool/csharp
      mkdir "$work/csharp"
      mcs -nologo -r:"$dir/ConnPool.dll" -out:"$work/csharp/Example.exe" "$src/examples/csharp/Example.cs"
      MONO_PATH=$dir mono "$work/csharp/Example.exe"
      ;;
    go)
      mkdir "$work/go"
      cp "$src/examples/go/main.go" "$work/go/"
      sed "s|=> /usr/share/gocode/src/|=> $prefix/share/gocode/src/|" "$src/examples/go/go.mod" >"$work/go/go.mod"
      # The installed module's cgo flags come from pkg-config: point it at this prefix.
      pcdir=$(dirname "$(find "$prefix" -name connpool.pc | head -n1)")
      (cd "$work/go" && PKG_CONFIG_PATH=$pcdir LD_LIBRARY_PATH=$libdir \
        GOCACHE=$work/gocache GOPATH=$work/gopath GOFLAGS=-mod=mod GOPROXY=off GOENV=off \
        go build -o example . && LD_LIBRARY_PATH=$libdir ./example)
      ;;
    *) echo "unknown language $lang" >&2; exit 2 ;;
  esac
done
