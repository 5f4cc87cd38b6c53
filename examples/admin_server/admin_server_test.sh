#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Integration test of examples/admin_server: starts it on a free loopback port with two pools
# whose demo backends are flag files, then checks every endpoint with curl, including /readyz
# turning 503 when one backend goes away and 200 after it comes back. Every wait polls with a
# deadline; the server is always killed at the end.
# Usage: admin_server_test.sh SERVER CURL [PROM_LINT] [PYTHON_WITH_JSONSCHEMA VALIDATE_PY SCHEMA]
set -euo pipefail
server=$1 curl=$2 prom_lint=${3:-} python=${4:-} validate=${5:-} schema=${6:-}

work=$(mktemp -d)
pid=""
cleanup() {
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  echo "--- server stdout ---" >&2; cat "$work/out" >&2 || true
  echo "--- server stderr ---" >&2; tail -n 40 "$work/err" >&2 || true
  exit 1
}

# True while the server runs (an exited but not yet reaped server is a zombie: not running).
alive() {
  local st
  st=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -c1) || return 1
  [[ -n $st && $st != Z ]]
}

# poll DEADLINE_S CMD...: runs CMD until it succeeds; fails after DEADLINE_S seconds or if the
# server died. The short pause between tries is only the polling interval.
poll() {
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do
    alive || fail "server exited while waiting for: $*"
    ((SECONDS < deadline)) || fail "timed out waiting for: $*"
    sleep 0.05
  done
}

# get PATH: fetches http://127.0.0.1:$port/PATH into $work/body; sets $code and $ctype.
get() {
  local out
  out=$("$curl" -sS --max-time 5 -o "$work/body" -w '%{http_code} %{content_type}' "http://127.0.0.1:$port$1") ||
    fail "curl $1 failed"
  code=${out%% *}
  ctype=${out#* }
}
status_is() { get "$1"; [[ $code == "$2" ]]; }
body_has() { grep -qF -- "$1" "$work/body" || fail "body of the last request lacks: $1 ($(head -c 2000 "$work/body"))"; }

touch "$work/orders-up" "$work/billing-up"
"$server" --port 0 --pool orders --pool billing \
  --backend-flag "$work/orders-up" --backend-flag-for "billing=$work/billing-up" \
  --config min_idle=1 --config maintenance_interval_ms=50 --config validate_interval_ms=100 \
  --config retry_initial_ms=100 --config retry_max_ms=500 --config unavailable_after_ms=1000 \
  >"$work/out" 2>"$work/err" &
pid=$!

listening() { grep -q '^listening on http://127\.0\.0\.1:[0-9]*$' "$work/out"; }
poll 15 listening
port=$(sed -n 's|^listening on http://127\.0\.0\.1:\([0-9]*\)$|\1|p' "$work/out")
echo "server pid $pid on port $port"

# Liveness, then readiness once both pools have connected.
get /healthz
[[ $code == 200 ]] || fail "/healthz answered $code"
body_has "ok"
poll 20 status_is /readyz 200
[[ $ctype == application/json* ]] || fail "/readyz content type $ctype"
body_has '"name":"orders","state":"ready","http_status":200'
body_has '"name":"billing","state":"ready","http_status":200'
body_has '"ready":true'

check_stats() {
  get /stats
  [[ $code == 200 ]] || fail "/stats answered $code"
  [[ $ctype == application/json* ]] || fail "/stats content type $ctype"
  body_has '"orders":{"name":"orders"'
  body_has '"billing":{"name":"billing"'
  if [[ -n $python && -n $validate ]]; then
    "$python" "$validate" --schema "$schema" --stdin-json map <"$work/body" || fail "/stats does not match the schema"
  fi
}
check_metrics() {
  get /metrics
  [[ $code == 200 ]] || fail "/metrics answered $code"
  [[ $ctype == "text/plain; version=0.0.4"* ]] || fail "/metrics content type $ctype"
  if [[ -n $prom_lint ]]; then
    "$prom_lint" --label pool=orders --label pool=billing <"$work/body" || fail "/metrics is not valid exposition text"
  fi
  [[ $(grep -c '^# TYPE connpool_up gauge$' "$work/body") == 1 ]] || fail "connpool_up declared more than once"
}
check_stats
check_metrics
body_has 'connpool_up{pool="orders"} 1'
body_has 'connpool_up{pool="billing"} 1'

# Outage of one backend: its idle connection fails keepalive validation, the replacement
# create fails (degraded), and after unavailable_after_ms the pool turns unavailable: /readyz
# answers 503 although the other pool is fine. Liveness is unaffected.
rm "$work/orders-up"
poll 30 status_is /readyz 503
body_has '"name":"orders","state":"unavailable","http_status":503'
body_has '"name":"billing","state":"ready","http_status":200'
body_has '"ready":false'
get /healthz
[[ $code == 200 ]] || fail "/healthz answered $code during the outage"
check_stats
body_has '"state":"unavailable","http_status":503'
body_has 'orders-up does not exist'
check_metrics
body_has 'connpool_up{pool="orders"} 0'
body_has 'connpool_up{pool="billing"} 1'

# Recovery: the next probe (at most retry_max_ms away) succeeds.
touch "$work/orders-up"
poll 30 status_is /readyz 200
body_has '"name":"orders","state":"ready","http_status":200'

get /no-such-endpoint
[[ $code == 404 ]] || fail "unknown path answered $code"

# A graceful stop: SIGTERM drains the pools and exits 0.
kill -TERM "$pid"
deadline=$((SECONDS + 15))
while alive; do
  ((SECONDS < deadline)) || fail "server did not stop on SIGTERM"
  sleep 0.05
done
rc=0
wait "$pid" || rc=$?
pid=""
[[ $rc == 0 ]] || fail "server exited with $rc after SIGTERM"
grep -q 'ready -> draining' "$work/err" || fail "no drain logged"
echo "admin_server: all endpoint checks passed"
