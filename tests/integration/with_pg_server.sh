#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs a command against a throwaway PostgreSQL cluster on loopback, the shell twin of
# pg_cluster.cpp for tests that are not C++ (the JDBC DataSource's JUnit suite, the JDBC example).
#
#   with_pg_server.sh run CMD [ARG...]   initdb into a temp dir, start the server on a free
#                                        127.0.0.1 port (socket dir inside the temp dir), run
#                                        CMD with the variables below, then stop and remove it.
#   with_pg_server.sh stop|start         for CMD: `pg_ctl -m immediate stop` (an outage) / start
#                                        again on the same port (uses the variables below).
#
# CMD sees CONNPOOL_PG_PORT, CONNPOOL_PG_USER (app, trusted), CONNPOOL_PG_JDBC_URL,
# CONNPOOL_PG_DSN (libpq) and CONNPOOL_PG_CONTROL (this script, for stop/start).
# Exit status: CMD's; 77 (CTest SKIP_RETURN_CODE) when no server binaries are installed, or
# when running as root without a `postgres` user. initdb refuses root, so as root every server
# command runs as `postgres` through runuser, on a directory in /tmp that postgres owns.
# A watchdog removes the cluster if this script is killed (e.g. by a CTest timeout).
set -euo pipefail

find_bindir() {
  if [[ -n ${CONNPOOL_PG_BINDIR:-} ]]; then echo "$CONNPOOL_PG_BINDIR"; return; fi
  local best='' d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -n); do
    [[ -x $d/initdb && -x $d/pg_ctl && -x $d/postgres ]] && best=$d
  done
  if [[ -z $best ]] && command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
    best=$(dirname "$(command -v initdb)")
  fi
  echo "$best"
}

# Runs a server binary, as postgres when we are root; output goes to cmd.log. fd 9 (the
# watchdog's pipe) is closed so that no server process keeps the watchdog waiting.
pg() {
  local tool=$1
  shift
  if [[ $CONNPOOL_PG_AS_POSTGRES == 1 ]]; then
    runuser -u postgres -- "$CONNPOOL_PG_BINDIR/$tool" "$@" >>"$CONNPOOL_PG_DIR/cmd.log" 2>&1 9>&-
  else
    "$CONNPOOL_PG_BINDIR/$tool" "$@" >>"$CONNPOOL_PG_DIR/cmd.log" 2>&1 9>&-
  fi
}

pg_start() {
  pg pg_ctl -D "$CONNPOOL_PG_DIR/data" -l "$CONNPOOL_PG_DIR/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $CONNPOOL_PG_PORT -k $CONNPOOL_PG_DIR/sock" start
}

pg_stop() {
  pg pg_ctl -D "$CONNPOOL_PG_DIR/data" -m immediate -w -t 60 stop
}

fail() {
  echo "with_pg_server.sh: $*" >&2
  [[ -n ${CONNPOOL_PG_DIR:-} && -f $CONNPOOL_PG_DIR/cmd.log ]] && tail -c 2000 "$CONNPOOL_PG_DIR/cmd.log" >&2
  [[ -n ${CONNPOOL_PG_DIR:-} && -f $CONNPOOL_PG_DIR/server.log ]] && tail -c 2000 "$CONNPOOL_PG_DIR/server.log" >&2
  exit 1
}

case ${1:-} in
  stop) pg_stop || fail "pg_ctl stop failed"; exit 0 ;;
  start) pg_start || fail "pg_ctl start failed"; exit 0 ;;
  run) shift ;;
  *) echo "usage: $0 run CMD [ARG...] | stop | start" >&2; exit 2 ;;
esac
[[ $# -gt 0 ]] || { echo "usage: $0 run CMD [ARG...]" >&2; exit 2; }

CONNPOOL_PG_BINDIR=$(find_bindir)
if [[ -z $CONNPOOL_PG_BINDIR ]]; then
  echo "SKIP: PostgreSQL server binaries (initdb, pg_ctl, postgres) not found; apt-get install postgresql"
  exit 77
fi
CONNPOOL_PG_AS_POSTGRES=0
base=${TMPDIR:-/tmp}
if [[ $(id -u) == 0 ]]; then
  if ! getent passwd postgres >/dev/null || ! command -v runuser >/dev/null; then
    echo "SKIP: running as root (initdb refuses root) without a 'postgres' user or runuser"
    exit 77
  fi
  CONNPOOL_PG_AS_POSTGRES=1
  base=/tmp  # postgres must reach it: not a TMPDIR under /root
fi
CONNPOOL_PG_DIR=$(mktemp -d "$base/connpool-pg-XXXXXX")
[[ $CONNPOOL_PG_DIR =~ ^[A-Za-z0-9/._-]+$ ]] || fail "unexpected characters in $CONNPOOL_PG_DIR"
export CONNPOOL_PG_BINDIR CONNPOOL_PG_AS_POSTGRES CONNPOOL_PG_DIR

# The watchdog: reads "done" from fd 9 after a normal cleanup, or EOF when we die first.
mkfifo "$CONNPOOL_PG_DIR/watchdog"
stop_cmd="$CONNPOOL_PG_BINDIR/pg_ctl -D $CONNPOOL_PG_DIR/data -m immediate -w -t 60 stop"
[[ $CONNPOOL_PG_AS_POSTGRES == 1 ]] && stop_cmd="runuser -u postgres -- $stop_cmd"
setsid sh -c "read line; [ \"\$line\" = done ] && exit 0; $stop_cmd >/dev/null 2>&1; rm -rf $CONNPOOL_PG_DIR" \
  <"$CONNPOOL_PG_DIR/watchdog" >/dev/null 2>&1 &
watchdog=$!
exec 9>"$CONNPOOL_PG_DIR/watchdog"

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -f $CONNPOOL_PG_DIR/data/postmaster.pid ]]; then pg_stop || true; fi
  rm -rf "$CONNPOOL_PG_DIR"
  echo done >&9 || true
  exec 9>&-
  wait "$watchdog" 2>/dev/null || true
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 143' INT TERM

mkdir -m 700 "$CONNPOOL_PG_DIR/sock"
if [[ $CONNPOOL_PG_AS_POSTGRES == 1 ]]; then
  chown postgres: "$CONNPOOL_PG_DIR" "$CONNPOOL_PG_DIR/sock"
fi
# --no-sync: a throwaway cluster needs no durability.
pg initdb -D "$CONNPOOL_PG_DIR/data" -A trust -U app --no-sync --no-locale -E UTF8 || fail "initdb failed"
cat >>"$CONNPOOL_PG_DIR/data/postgresql.conf" <<'EOF'

# connpool integration tests: small, fast, English messages
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 16MB
max_connections = 60
lc_messages = 'C'
log_min_messages = warning
EOF

# A port below the kernel's ephemeral range, so it never collides with the ports that
# pg_cluster.cpp takes by binding port 0; another one when it is taken anyway.
started=0
for attempt in 1 2 3 4 5 6 7 8; do
  CONNPOOL_PG_PORT=$((20000 + RANDOM % 12000))
  export CONNPOOL_PG_PORT
  if pg_start; then started=1; break; fi
  grep -qE 'could not bind|could not create any TCP/IP sockets' "$CONNPOOL_PG_DIR/server.log" 2>/dev/null ||
    fail "pg_ctl start failed"
done
(( started )) || fail "no free port after $attempt attempts"

export CONNPOOL_PG_USER=app
export CONNPOOL_PG_JDBC_URL="jdbc:postgresql://127.0.0.1:$CONNPOOL_PG_PORT/postgres"
export CONNPOOL_PG_DSN="host=127.0.0.1 port=$CONNPOOL_PG_PORT dbname=postgres user=app"
CONNPOOL_PG_CONTROL=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
export CONNPOOL_PG_CONTROL
set +e
"$@" 9>&-
rc=$?
set -e
if (( rc != 0 )); then
  echo "--- server.log (tail) ---" >&2
  tail -c 3000 "$CONNPOOL_PG_DIR/server.log" >&2 || true
fi
exit "$rc"
