#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The pool through PgBouncer in transaction mode (docs/PRODUCTION.md, section 5), on the
# throwaway server of with_pg_server.sh:
#   with_pg_server.sh run pgbouncer_test.sh POSTGRES_DEMO
# Starts Debian's pgbouncer (transaction mode, default_pool_size 3) on a free loopback port in
# front of the server, runs postgres_demo (8 threads, a pool bigger than PgBouncer's) through it,
# and checks that every query succeeded and that the server saw at most default_pool_size
# backends from PgBouncer: the waits moved into PgBouncer, as the fleet section says.
# Exit 77 (skip) when pgbouncer is not installed.
set -euo pipefail
demo=$1
pgbouncer=$(command -v pgbouncer || echo /usr/sbin/pgbouncer)
[[ -x $pgbouncer ]] || { echo "SKIP: no pgbouncer (apt-get install pgbouncer)"; exit 77; }

dir=$(mktemp -d /tmp/connpool-pgbouncer-XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$dir/pgbouncer.ini" <<INI
[databases]
postgres = host=127.0.0.1 port=$CONNPOOL_PG_PORT dbname=postgres
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = trust
auth_file = $dir/users.txt
pool_mode = transaction
default_pool_size = 3
max_client_conn = 200
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
INI
echo '"app" ""' >"$dir/users.txt"
as_server=()
if [[ $(id -u) == 0 ]]; then # pgbouncer refuses to run as root
  chown -R postgres "$dir"
  as_server=(runuser -u postgres --)
fi
cleanup() {
  [[ -f $dir/pgbouncer.pid ]] && kill "$(cat "$dir/pgbouncer.pid")" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
"${as_server[@]}" "$pgbouncer" -d "$dir/pgbouncer.ini"
for ((i = 0; i < 500; i++)); do # up to 5 s for the listener
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.01
done

server_dsn="host=127.0.0.1 port=$CONNPOOL_PG_PORT dbname=postgres user=app"
CONNPOOL_PG_DSN="host=127.0.0.1 port=$port dbname=postgres user=app" "$demo" >"$dir/demo.out" 2>&1 || {
  cat "$dir/demo.out" "$dir/pgbouncer.log" >&2
  echo "FAIL: postgres_demo through PgBouncer" >&2
  exit 1
}
tail -n 3 "$dir/demo.out"
backends=$(psql "$server_dsn" -Atc \
  "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()")
echo "server backends from PgBouncer after the run: $backends (default_pool_size 3)"
if ((backends > 3)); then
  echo "FAIL: more server connections than PgBouncer's default_pool_size" >&2
  exit 1
fi
echo "pgbouncer_test: passed"
