#!/usr/bin/env bash
# The allps-ws benchmark, unattended: builds release, then in one run measures
#   1. the ceiling (examples/ceiling.rs: bare hyper, canned GetClient answer, no parsing),
#   2. the release server on a fresh temp database (--demo, log level warn):
#      GetClient and durable AddClient, credentials in the AuthHeader of every request,
#   3. the same server with the default `info` logging (GetClient and AddClient once),
# with wrk (--latency, 64 connections, 2 threads, a warm-up before each series), checks
# that every answer is HTTP 200 with <Code>0</Code>, reads the store's commit/write
# counters (SIGUSR1 before and after each AddClient run), then (4.) counts instructions
# per request under callgrind (bench/callgrind.sh), and writes bench/out/report.md.
#
# Usage: bench/run.sh            (from anywhere; needs wrk and curl; installs wrk if missing)
# Knobs (environment): DURATION=10s WARMUP=3s CONNECTIONS=64 THREADS=2 REPEAT=3
#                      SERVER_PORT=18080 CEILING_PORT=18089 WORKERS= (tokio workers, default one per core)
#                      SKIP_BUILD=1 (use the binaries already built)
#                      CALLGRIND=0 (skip the instructions-per-request step; it needs valgrind)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-3s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
REPEAT=${REPEAT:-3}
SERVER_PORT=${SERVER_PORT:-18080}
CEILING_PORT=${CEILING_PORT:-18089}
WORKERS=${WORKERS:-}
OUT="$ROOT/bench/out"
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
BIN="$TARGET/release/allps-ws"
CEILING="$TARGET/release/examples/ceiling"
export BENCH_DIR="$ROOT/bench"

mkdir -p "$OUT"
rm -f "$OUT"/*.txt "$OUT"/*.log "$OUT"/results.tsv "$OUT"/report.md
RESULTS="$OUT/results.tsv"
printf 'series\trun\trps\tp50_ms\tp90_ms\tp99_ms\tmax_ms\tnon2xx\tsocket_errors\tcode0\tother\tcpu_us\tcommits\twrites\tload1\n' >"$RESULTS"

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
load1() { cut -d' ' -f1 /proc/loadavg; }
# cpu_ticks PID: user+system CPU time the process has used, in clock ticks. CPU time per
# request is far less sensitive than req/s to other work on the machine.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
TICKS_PER_SEC=$(getconf CLK_TCK)

if ! command -v wrk >/dev/null; then
    log "installing wrk"
    apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
fi
command -v curl >/dev/null || { log "curl is needed"; exit 1; }

if [[ -z "${SKIP_BUILD:-}" ]]; then
    log "cargo build --release (server and ceiling)"
    cargo build --release --quiet --bin allps-ws --example ceiling
fi

PIDS=()
TMP=$(mktemp -d /tmp/allps-bench.XXXXXX)
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$TMP"
}
trap cleanup EXIT

wait_http() { # url
    for _ in $(seq 1 100); do
        curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    log "nothing answers at $1"
    return 1
}

# run_wrk SERIES RUN URL SCRIPT [wrk args after --]: one measured run, one results row.
run_wrk() {
    local series=$1 run=$2 url=$3 script=$4
    shift 4
    local file="$OUT/wrk-$series-$run.txt" load t0 t1
    load=$(load1)
    t0=$(cpu_ticks "$TARGET_PID")
    wrk --latency -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" -s "$BENCH_DIR/lua/$script" "$url" -- "$@" >"$file" 2>&1
    t1=$(cpu_ticks "$TARGET_PID")
    local line
    line=$(grep '^BENCH ' "$file") || { log "wrk produced no BENCH line; see $file"; cat "$file" >&2; exit 1; }
    field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$line"; }
    local cpu_us
    cpu_us=$(awk -v t="$((t1 - t0))" -v hz="$TICKS_PER_SEC" -v n="$(field requests)" 'BEGIN { printf "%.1f", t * 1e6 / hz / n }')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$series" "$run" \
        "$(field rps)" "$(field p50_ms)" "$(field p90_ms)" "$(field p99_ms)" "$(field max_ms)" \
        "$(field non2xx)" "$(field socket_errors)" "$(field code0)" "$(field other)" "$cpu_us" \
        "${LAST_COMMITS:--}" "${LAST_WRITES:--}" "$load" >>"$RESULTS"
    log "$series #$run: $(field rps) req/s, $cpu_us CPU-us/req, p50 $(field p50_ms) ms, p99 $(field p99_ms) ms, non-2xx $(field non2xx), code0 $(field code0), other $(field other)"
}

warm() { # url script [args]
    local url=$1 script=$2
    shift 2
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" -s "$BENCH_DIR/lua/$script" "$url" -- "$@" >/dev/null 2>&1
}

# post FILE: posts a request to the server, fails unless the answer has <Code>0</Code>.
post() {
    local answer
    answer=$(curl -sS -H 'Content-Type: text/xml; charset=utf-8' --data-binary @"$1" "$URL")
    grep -q '<Code>0</Code>' <<<"$answer" || { log "set-up request $1 failed:"; echo "$answer" >&2; exit 1; }
}

# store_stats LOG: the last "store stats"/"store closed" counters as "commits writes".
store_stats() {
    local line
    line=$(sed 's/\x1b\[[0-9;]*m//g' "$1" | grep -E 'store (stats|closed)' | tail -n1)
    echo "$(sed -n 's/.*commits=\([0-9]*\).*/\1/p' <<<"$line") $(sed -n 's/.*writes=\([0-9]*\).*/\1/p' <<<"$line")"
}

# snapshot_stats PID LOG: asks the server for its counters (SIGUSR1) and echoes them.
snapshot_stats() {
    local before
    before=$(grep -cE 'store (stats|closed)' "$2" || true)
    kill -USR1 "$1"
    for _ in $(seq 1 50); do
        [[ $(grep -cE 'store (stats|closed)' "$2" || true) -gt $before ]] && break
        sleep 0.05
    done
    store_stats "$2"
}

# start_server NAME LOG_LEVEL: fresh database, --demo, waits for /health; sets SERVER_PID.
start_server() {
    local name=$1 level=$2
    local db="$TMP/$name.db"
    local args=(serve --listen "127.0.0.1:$SERVER_PORT" --db "$db" --demo --log-level "$level")
    [[ -n "$WORKERS" ]] && args+=(--workers "$WORKERS")
    "$BIN" "${args[@]}" 2>"$OUT/server-$name.log" &
    SERVER_PID=$!
    TARGET_PID=$SERVER_PID
    PIDS+=("$SERVER_PID")
    wait_http "http://127.0.0.1:$SERVER_PORT/health"
    URL="http://127.0.0.1:$SERVER_PORT/allps"
    post "$BENCH_DIR/requests/add_employer.xml"
    post "$BENCH_DIR/requests/add_client.xml"
}

stop_server() { # waits for the graceful shutdown and its "store closed" line
    kill -INT "$SERVER_PID"
    wait "$SERVER_PID" || true
}

# The writes/commits of one AddClient run: counters before and after it.
measure_add_client() { # series run pid log tag
    local series=$1 run=$2 pid=$3 logf=$4 tag=$5 before after
    before=$(snapshot_stats "$pid" "$logf")
    LAST_COMMITS=- LAST_WRITES=-
    run_wrk "$series" "$run" "$URL" add_client.lua "$tag" 
    after=$(snapshot_stats "$pid" "$logf")
    local c0 w0 c1 w1
    read -r c0 w0 <<<"$before"
    read -r c1 w1 <<<"$after"
    # Patch the row just written with the window's counters.
    local commits=$((c1 - c0)) writes=$((w1 - w0))
    sed -i '$ s/\t-\t-\t\([^\t]*\)$/\t'"$commits"'\t'"$writes"'\t\1/' "$RESULTS"
    log "$series #$run: $writes writes in $commits commits"
}

START_LOAD=$(cat /proc/loadavg)
STARTED=$(date -u +%Y-%m-%dT%H:%M:%SZ)

# ---- 1. the ceiling -------------------------------------------------------------------
log "ceiling on :$CEILING_PORT"
"$CEILING" "127.0.0.1:$CEILING_PORT" ${WORKERS:+"$WORKERS"} 2>"$OUT/ceiling.log" &
CEILING_PID=$!
TARGET_PID=$CEILING_PID
PIDS+=("$CEILING_PID")
wait_http "http://127.0.0.1:$CEILING_PORT/"
CURL_CEILING="http://127.0.0.1:$CEILING_PORT/allps"
warm "$CURL_CEILING" get_client.lua
for i in $(seq 1 "$REPEAT"); do run_wrk ceiling "$i" "$CURL_CEILING" get_client.lua; done
run_wrk ceiling-nocheck 1 "$CURL_CEILING" get_client_raw.lua
kill "$CEILING_PID"
wait "$CEILING_PID" 2>/dev/null || true

# ---- 2. the server, log level warn ----------------------------------------------------
# `allps_ws::server=info` keeps the store-counter lines (start, SIGUSR1, shutdown); the
# per-request lines (allps_ws::server::http) are info and so are filtered out.
log "server (warn) on :$SERVER_PORT"
start_server warn "warn,allps_ws::server=info"
warm "$URL" get_client.lua
for i in $(seq 1 "$REPEAT"); do run_wrk get_client "$i" "$URL" get_client.lua; done
run_wrk get_client-nocheck 1 "$URL" get_client_raw.lua
warm "$URL" add_client.lua W
for i in $(seq 1 "$REPEAT"); do measure_add_client add_client "$i" "$SERVER_PID" "$OUT/server-warn.log" "R$i"; done
stop_server
read -r WARN_COMMITS WARN_WRITES <<<"$(store_stats "$OUT/server-warn.log")"
CLIENTS_STORED=$(python3 - "$TMP/warn.db" <<'EOF' 2>/dev/null || echo "?"
import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM clients").fetchone()[0])
EOF
)

# ---- 3. the server, default info logging (one line per request, to a file) -------------
log "server (info) on :$SERVER_PORT"
start_server info info
warm "$URL" get_client.lua
run_wrk get_client-info 1 "$URL" get_client.lua
warm "$URL" add_client.lua W
measure_add_client add_client-info 1 "$SERVER_PID" "$OUT/server-info.log" R1
stop_server
INFO_LOG_LINES=$(wc -l <"$OUT/server-info.log")

END_LOAD=$(cat /proc/loadavg)

# ---- 4. instructions per request (repeatable; needs valgrind; CALLGRIND=0 skips) --------
CALLGRIND_OUT=""
if [[ "${CALLGRIND:-1}" == 1 ]] && command -v valgrind >/dev/null && command -v callgrind_control >/dev/null; then
    log "callgrind: instructions per request"
    CALLGRIND_OUT=$("$ROOT/bench/callgrind.sh" "$BIN" 2>/dev/null || echo "callgrind run failed")
fi
export CALLGRIND_OUT

# ---- report ---------------------------------------------------------------------------
python3 - "$RESULTS" "$OUT/report.md" <<EOF
import csv, os, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
def series(name):
    return [r for r in rows if r["series"] == name]
def num(r, k):
    v = r[k]
    return None if v in ("-", "", "?") else float(v)
def med(name, k):
    vals = [num(r, k) for r in series(name) if num(r, k) is not None]
    return statistics.median(vals) if vals else float("nan")
def rng(name, k):
    vals = [num(r, k) for r in series(name) if num(r, k) is not None]
    return (min(vals), max(vals)) if vals else (float("nan"), float("nan"))
def total(name, k):
    return int(sum(num(r, k) or 0 for r in series(name)))

ceiling = med("ceiling", "rps")
get = med("get_client", "rps")
add = med("add_client", "rps")
p99 = med("get_client", "p99_ms")
commits = total("add_client", "commits")
writes = total("add_client", "writes")
wpc = writes / commits if commits else float("nan")
share = 100 * get / ceiling if ceiling else float("nan")
bad = sum(int(num(r, "non2xx") or 0) + int(num(r, "socket_errors") or 0) + max(int(num(r, "other") or 0), 0) for r in rows)

def mark(ok):
    return "met" if ok else "**MISSED**"

out = []
w = out.append
w("# allps-ws benchmark report\n")
w(f"- started $STARTED; machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)")
w(f"- commit: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src examples Cargo.toml || echo ' (with uncommitted changes)'); $(rustc --version)")
w(f"- wrk: {'$THREADS'} threads, {'$CONNECTIONS'} connections, $DURATION per run after a $WARMUP warm-up, --latency; "
  f"$REPEAT runs per series, medians below (range in brackets)")
w(f"- load average at start: $START_LOAD; at end: $END_LOAD. wrk runs on the same 2 cores as the server "
  "and takes a good part of them, so absolute figures are lower than on a separate load generator; "
  "the ceiling pays the same price, which is why the GetClient target is a share of it.")
w("")
w("## Targets\n")
w("| target | measured | |")
w("|---|---|---|")
w(f"| GetClient >= 40% of the ceiling | {get:,.0f} / {ceiling:,.0f} req/s = {share:.1f}% | {mark(share >= 40)} |")
w(f"| durable AddClient >= 8,000 req/s | {add:,.0f} req/s | {mark(add >= 8000)} |")
w(f"| GetClient p99 < 10 ms | {p99:.2f} ms (the ceiling's own p99: {med('ceiling', 'p99_ms'):.2f} ms) | {mark(p99 < 10)} |")
w(f"| every answer HTTP 200 with Code 0 | {bad} other answers or socket errors in all runs | {mark(bad == 0)} |")
w("")
w("A ceiling p99 near or above 10 ms means the machine's other load (scheduling delays of "
  "wrk or the server) dominates tail latency in this run; re-run on a quiet machine.\n")
w("## Series (medians)\n")
w("| series | req/s | server CPU µs/req | p50 ms | p90 ms | p99 ms | non-2xx | Code 0 answers (sum) | other (sum) |")
w("|---|---|---|---|---|---|---|---|---|")
names = []
for r in rows:
    if r["series"] not in names:
        names.append(r["series"])
for n in names:
    lo, hi = rng(n, "rps")
    code0 = total(n, "code0")
    other = total(n, "other")
    w(f"| {n} | {med(n, 'rps'):,.0f} [{lo:,.0f}–{hi:,.0f}] | {med(n, 'cpu_us'):.1f} | {med(n, 'p50_ms'):.2f} | {med(n, 'p90_ms'):.2f} | "
      f"{med(n, 'p99_ms'):.2f} | {total(n, 'non2xx')} | {code0 if code0 >= 0 else 'not checked'} | {other if other >= 0 else '-'} |")
w("")
w("- server CPU µs/req: user+system CPU time of the server (or ceiling) process during the run divided by "
  "the requests answered; much less sensitive to other load on the machine than req/s.")
w("- \`*-nocheck\`: the same request without wrk's Lua response() check (shows what the check costs wrk).")
w("- \`*-info\`: the server at the default log level \`info\` (one line per request, stderr to a file); "
  "the others run at \`warn\`.")
ginfo = med("get_client-info", "rps")
ainfo = med("add_client-info", "rps")
w(f"- logging cost: GetClient {ginfo:,.0f} (info) vs {get:,.0f} (warn) req/s = {100 * (ginfo - get) / get:+.1f}%; "
  f"AddClient {ainfo:,.0f} vs {add:,.0f} req/s = {100 * (ainfo - add) / add:+.1f}%; info log: $INFO_LOG_LINES lines.")
w("")
w("## Group commit\n")
w(f"- measured AddClient runs: {writes:,} writes in {commits:,} commits = **{wpc:.1f} writes per commit**")
for r in series("add_client") + series("add_client-info"):
    c, wr = num(r, "commits"), num(r, "writes")
    if c:
        w(f"  - {r['series']} #{r['run']}: {int(wr):,} writes / {int(c):,} commits = {wr / c:.1f}")
w(f"- whole warn-level server run (set-up, warm-ups, all series): $WARN_WRITES writes in $WARN_COMMITS commits; "
  f"clients stored at the end: $CLIENTS_STORED")
w("")
if os.environ.get("CALLGRIND_OUT"):
    w("## Instructions per request (callgrind)\n")
    w("User-space instructions of the server per request, one connection, one worker, one reader "
      "(bench/callgrind.sh): repeatable to ~1% whatever else runs on the machine.\n")
    for line in os.environ["CALLGRIND_OUT"].splitlines():
        w(f"- {line}")
    w("")
w("Raw wrk output: \`bench/out/wrk-*.txt\`; per-run rows: \`bench/out/results.tsv\`; server logs: \`bench/out/server-*.log\`.")
open(sys.argv[2], "w").write("\n".join(out) + "\n")
EOF
cat "$OUT/report.md"
