#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/go_peers/run.sh - the Go peers (database/sql, puddle, our Go binding) on the shared
# workload, one run, lines on stdout (progress on stderr). Needs a build with the Go binding:
#
#   bash bench/go_peers/run.sh [build-dir]        # default build/dev; THREADS, POOL, WARMUP,
#                                                  # MEASURE, GO_PEERS as in main.go
#
# It assembles a module in <build-dir>/bench/go_peers: main.go, a go.mod whose replace lines
# point at the binding's module in the build tree and at a copy of puddle's sources from the
# Debian package (only its non-test files, under a go.mod without requirements, so that nothing
# is fetched: GOPROXY=off), then `go run`s it.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=$(cd "${1:-$ROOT/build/dev}" && pwd)
MOD=$BUILD/bindings/go/module
PUDDLE_SRC=${PUDDLE_SRC:-/usr/share/gocode/src/github.com/jackc/puddle}
GO=${GO:-go}
[[ -f $MOD/go.mod ]] || { echo "no Go binding module at $MOD (build target connpool_go first)" >&2; exit 2; }
[[ -f $PUDDLE_SRC/pool.go ]] || { echo "no puddle at $PUDDLE_SRC (apt-get install golang-github-jackc-puddle-dev)" >&2; exit 2; }

WORK=$BUILD/bench/go_peers
rm -rf "$WORK/puddle"
mkdir -p "$WORK/puddle"
for f in "$PUDDLE_SRC"/*.go; do [[ $f == *_test.go ]] || cp "$f" "$WORK/puddle/"; done
echo "module github.com/jackc/puddle" > "$WORK/puddle/go.mod"
cp "$ROOT/bench/go_peers/main.go" "$WORK/main.go"
cat > "$WORK/go.mod" <<MOD
module connpool.bench/go_peers

go 1.19

require (
	github.com/jackc/puddle v1.0.0
	github.com/libconnpool/connpool-go v1.2.0
)

replace github.com/jackc/puddle => ./puddle

replace github.com/libconnpool/connpool-go => $MOD
MOD
cd "$WORK"
env GOCACHE="$BUILD/bindings/go/gocache" GOPATH="$BUILD/bindings/go/gopath" GOFLAGS=-mod=mod \
  GOPROXY=off GOSUMDB=off GO111MODULE=on GOENV=off GOTOOLCHAIN=local CGO_ENABLED=1 \
  "$GO" run . "${@:2}"
