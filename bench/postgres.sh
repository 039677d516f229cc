#!/usr/bin/env bash
# The PostgreSQL case of the benchmark (issue 12), one run on this machine: GetClient and
# durable AddClient (credentials in every request, every answer checked for <Code>0</Code>)
# against
#   1. one node on SQLite (the default),
#   2. one node on PostgreSQL,
#   3. two nodes on the same PostgreSQL, the load split evenly over them (one wrk each),
# with the release binary and a throwaway PostgreSQL cluster (tests/pg/cluster.sh,
# fsync on, default settings). Writes bench/out/postgres.md.
#
# Knobs: DURATION=10s WARMUP=3s CONNECTIONS=64 (in all, split over the nodes) THREADS=2
#        SKIP_BUILD=1 PG_PORT=55434 PORT=18280
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-3s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
PG_PORT=${PG_PORT:-55434}
PORT=${PORT:-18280}
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/allps-ws
OUT=$ROOT/bench/out
export BENCH_DIR=$ROOT/bench
mkdir -p "$OUT"
log() { printf '[pg-bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
[[ "${SKIP_BUILD:-0}" == 1 ]] || cargo build --release --quiet --bin allps-ws
TMP=$(mktemp -d /tmp/allps-pgbench.XXXXXX)
# Beside TMP, not in it: as root the cluster runs as the postgres user, who cannot enter TMP.
PGDIR=$(mktemp -d /tmp/allps-pgbench-pg.XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill -INT "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    bash tests/pg/cluster.sh stop "$PGDIR" || true
    rm -rf "$TMP"
}
trap cleanup EXIT
eval "$(bash tests/pg/cluster.sh start "$PGDIR" "$PG_PORT")"
PGBASE=${ALLPS_TEST_DATABASE_URL%/*}

wait_health() {
    for _ in $(seq 1 300); do curl -fsS -o /dev/null "http://127.0.0.1:$1/health" 2>/dev/null && return; sleep 0.1; done
    log "node on :$1 did not start"; exit 1
}
post() { # PORT FILE
    curl -sS -H 'Content-Type: text/xml; charset=utf-8' --data-binary @"$2" "http://127.0.0.1:$1/allps" | grep -q '<Code>0</Code>' \
        || { log "set-up $2 failed"; exit 1; }
}
# start_nodes N DB: N nodes on DB (the first with --demo); sets NODE_PORTS.
start_nodes() {
    local n=$1 db=$2 i port
    NODE_PORTS=()
    for i in $(seq 0 $((n - 1))); do
        port=$((PORT + i))
        local args=(serve --listen "127.0.0.1:$port" --db "$db" --log-level warn)
        [[ $i -eq 0 ]] && args+=(--demo)
        "$BIN" "${args[@]}" 2>"$TMP/node$i.log" &
        PIDS+=($!)
        wait_health "$port"
        NODE_PORTS+=("$port")
    done
    post "${NODE_PORTS[0]}" bench/requests/add_employer.xml
    post "${NODE_PORTS[0]}" bench/requests/add_client.xml
}
stop_nodes() {
    for p in "${PIDS[@]}"; do kill -INT "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    PIDS=()
}
# measure SERIES SCRIPT TAG: warm-up, then one wrk per node at once; prints the summed row.
measure() {
    local series=$1 script=$2 tag=$3 n=${#NODE_PORTS[@]} i
    local c=$((CONNECTIONS / n)) wrkpids=()
    for i in "${!NODE_PORTS[@]}"; do
        wrk -t"$THREADS" -c"$c" -d"$WARMUP" -s "bench/lua/$script" "http://127.0.0.1:${NODE_PORTS[$i]}/allps" -- "W$tag$i" >/dev/null 2>&1 &
        wrkpids+=($!)
    done
    wait "${wrkpids[@]}"
    wrkpids=()
    for i in "${!NODE_PORTS[@]}"; do
        wrk --latency -t"$THREADS" -c"$c" -d"$DURATION" -s "bench/lua/$script" "http://127.0.0.1:${NODE_PORTS[$i]}/allps" -- "M$tag$i" >"$TMP/$series.$i.txt" 2>&1 &
        wrkpids+=($!)
    done
    wait "${wrkpids[@]}"
    cat "$TMP/$series".*.txt | grep '^BENCH ' | awk -v s="$series" '
        { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
          rps += v["rps"]; other += v["other"] + v["non2xx"] + v["socket_errors"];
          if (v["p50_ms"] > p50) p50 = v["p50_ms"]; if (v["p99_ms"] > p99) p99 = v["p99_ms"] }
        END { printf "| %s | %.0f | %.2f ms | %.2f ms | %d |\n", s, rps, p50, p99, other }'
}

REPORT=$OUT/postgres.md
{
    echo "# PostgreSQL benchmark ($(date -u +%Y-%m-%dT%H:%M:%SZ), load before: $(cut -d' ' -f1-3 /proc/loadavg))"
    echo
    echo "wrk, $CONNECTIONS connections in all, $THREADS threads per wrk, $DURATION after a $WARMUP warm-up; two nodes: one wrk per node with half the connections (p50/p99: the worse node)."
    echo
    echo "| Series | req/s | p50 | p99 | not OK |"
    echo "|---|---|---|---|---|"
} >"$REPORT"

log "one node on SQLite"
start_nodes 1 "$TMP/bench.db"
measure "GetClient, 1 node, SQLite" get_client.lua gs >>"$REPORT"
measure "AddClient, 1 node, SQLite" add_client.lua as >>"$REPORT"
stop_nodes

log "one node on PostgreSQL"
psql "$ALLPS_TEST_DATABASE_URL" -qc "CREATE DATABASE bench1" >/dev/null
start_nodes 1 "$PGBASE/bench1"
measure "GetClient, 1 node, PostgreSQL" get_client.lua gp >>"$REPORT"
measure "AddClient, 1 node, PostgreSQL" add_client.lua ap >>"$REPORT"
stop_nodes

log "two nodes on PostgreSQL"
psql "$ALLPS_TEST_DATABASE_URL" -qc "CREATE DATABASE bench2" >/dev/null
start_nodes 2 "$PGBASE/bench2"
measure "GetClient, 2 nodes, PostgreSQL" get_client.lua g2 >>"$REPORT"
measure "AddClient, 2 nodes, PostgreSQL" add_client.lua a2 >>"$REPORT"
stop_nodes

cat "$REPORT"
