#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds examples/go_pgx against the Go binding in BUILD_DIR and Debian's pgx v4
# (golang-github-jackc-pgx-v4-dev), then runs it on a throwaway PostgreSQL, restart included.
#   bash examples/go_pgx/run.sh [BUILD_DIR]            (default build/dev)
# Debian ships Go libraries as GOPATH sources (/usr/share/gocode) without module metadata, so
# this builds in GOPATH mode: a GOPATH of our own holds the binding's module (a symlink) and the
# example, with Debian's tree second. Nothing is fetched.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=$(cd "${1:-$ROOT/build/dev}" && pwd)
MOD=$BUILD/bindings/go/module
[[ -f $MOD/go.mod ]] || { echo "no Go binding module at $MOD (build target connpool_go first)" >&2; exit 2; }
[[ -d /usr/share/gocode/src/github.com/jackc/pgx/v4 ]] || { echo "no pgx v4 (apt-get install golang-github-jackc-pgx-v4-dev)" >&2; exit 77; }
WORK=$BUILD/examples/go_pgx
mkdir -p "$WORK/gopath/src/github.com/libconnpool" "$WORK/gopath/src/connpool-examples/go_pgx"
ln -sfn "$MOD" "$WORK/gopath/src/github.com/libconnpool/connpool-go"
cp "$ROOT/examples/go_pgx/main.go" "$WORK/gopath/src/connpool-examples/go_pgx/main.go"
(cd "$WORK/gopath/src/connpool-examples/go_pgx" &&
  GO111MODULE=off GOFLAGS= GOPROXY=off GOPATH="$WORK/gopath:/usr/share/gocode" \
    GOCACHE="$BUILD/bindings/go/gocache" CGO_ENABLED=1 go build -o "$WORK/go_pgx" .)
exec bash "$ROOT/tests/integration/with_pg_server.sh" run "$WORK/go_pgx"
