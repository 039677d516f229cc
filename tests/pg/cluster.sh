#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests and the benchmark.
#
#   eval "$(bash tests/pg/cluster.sh start [DIR] [PORT])"   # exports ALLPS_TEST_DATABASE_URL, ALLPS_PG_DIR
#   bash tests/pg/cluster.sh stop [DIR]
#
# initdb refuses to run as root: as root the cluster runs as the `postgres` system user
# (created by the Debian package), or $PG_USER. Trust authentication on 127.0.0.1 and a
# socket in DIR only; fsync stays on (durability is what the tests check).
set -euo pipefail
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)}
[[ -x "$PG_BIN/initdb" ]] || { echo "PostgreSQL not found (apt-get install postgresql)" >&2; exit 1; }
cmd=${1:?start or stop}
DIR=${2:-${ALLPS_PG_DIR:-/tmp/allps-pg}}
PORT=${3:-${ALLPS_PG_PORT:-55432}}
as_owner() {
    if [[ $(id -u) -eq 0 ]]; then runuser -u "${PG_USER:-postgres}" -- "$@"; else "$@"; fi
}
case "$cmd" in
start)
    if [[ ! -f "$DIR/data/PG_VERSION" ]]; then
        rm -rf "$DIR"
        mkdir -p "$DIR"
        [[ $(id -u) -eq 0 ]] && chown "${PG_USER:-postgres}" "$DIR"
        as_owner "$PG_BIN/initdb" -D "$DIR/data" -U allps -A trust -E UTF8 --locale=C.UTF-8 >"$DIR/initdb.log" 2>&1 \
            || { cat "$DIR/initdb.log" >&2; exit 1; }
    fi
    as_owner "$PG_BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w \
        -o "-k $DIR -p $PORT -c listen_addresses=127.0.0.1 -c max_connections=300" start >/dev/null \
        || { cat "$DIR/server.log" >&2; exit 1; }
    echo "export ALLPS_PG_DIR=$DIR"
    echo "export ALLPS_TEST_DATABASE_URL=postgres://allps@127.0.0.1:$PORT/postgres"
    ;;
stop)
    [[ -f "$DIR/data/postmaster.pid" ]] && as_owner "$PG_BIN/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null
    rm -rf "$DIR"
    ;;
*) echo "usage: $0 start|stop [DIR] [PORT]" >&2; exit 2 ;;
esac
