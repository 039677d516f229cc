#!/usr/bin/env bash
# Instructions per request (user space, valgrind --tool=callgrind): a repeatable figure
# for comparing server changes on a noisy machine, where req/s and even CPU time per
# request move by 10-20% with other load. One connection, sequential requests, one
# tokio worker and one reader thread; the counters are zeroed after a warm-up, so the
# figure covers exactly N requests (HTTP, parsing, auth, SQLite, response, logging).
#
# Usage: bench/callgrind.sh [BINARY]     (default target/release/allps-ws; N=2000;
#        KEEP=DIR keeps the callgrind dumps there for callgrind_annotate)
# Output: "get_client Ir/request ..." and "add_client Ir/request ..." lines.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${1:-$ROOT/target/release/allps-ws}
N=${N:-2000}
PORT=${PORT:-18190}
command -v valgrind >/dev/null || { echo "valgrind is needed" >&2; exit 1; }
TMP=$(mktemp -d /tmp/allps-callgrind.XXXXXX)
valgrind --tool=callgrind --callgrind-out-file="$TMP/cg.out" \
    "$BIN" serve --listen "127.0.0.1:$PORT" --db "$TMP/b.db" --demo --log-level warn \
    --readers 1 --workers 1 2>"$TMP/valgrind.log" &
PID=$!
finish() {
    kill -INT "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
    if [[ -n "${KEEP:-}" ]]; then mkdir -p "$KEEP" && cp "$TMP"/cg.out.* "$KEEP"/; fi
    rm -rf "$TMP"
}
trap finish EXIT
for _ in $(seq 1 300); do
    curl -fsS -o /dev/null "http://127.0.0.1:$PORT/health" 2>/dev/null && break
    sleep 0.2
done

# client MODE COUNT TAG: COUNT sequential requests on one keep-alive connection.
client() {
    python3 - "$ROOT/bench/requests" "$PORT" "$@" <<'EOF'
import http.client, sys
requests_dir, port, mode, count, tag = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5]
read = lambda name: open(f"{requests_dir}/{name}.xml", "rb").read()
conn = http.client.HTTPConnection("127.0.0.1", port)
def post(body):
    conn.request("POST", "/allps", body, {"Content-Type": "text/xml; charset=utf-8"})
    answer = conn.getresponse().read()
    if b"<Code>0</Code>" not in answer:
        sys.exit("not OK: " + answer.decode()[:400])
if mode == "setup":
    post(read("add_employer")); post(read("add_client"))
    sys.exit(0)
get = read("get_client")
add = read("add_client").decode()
for i in range(count):
    if mode == "get":
        post(get)
    else:
        u = f"{tag}N{i}"
        body = (add.replace("<ClientNumber>C1001<", f"<ClientNumber>B{u}<")
                   .replace("<IdType>SA_ID</IdType><IdNumber>8503145123084</IdNumber>",
                            f"<IdType>PASSPORT</IdType><IdNumber>P{u}</IdNumber>"))
        post(body.encode())
EOF
}

# measure NAME MODE: zero, run N requests, dump, print instructions per request.
measure() {
    local name=$1 mode=$2
    client "$mode" 200 "W$mode"
    callgrind_control -z "$PID" >/dev/null 2>&1
    client "$mode" "$N" "M$mode"
    callgrind_control -d "$name" "$PID" >/dev/null 2>&1
    local dump total
    dump=$(ls -t "$TMP"/cg.out.* | head -n1)
    total=$(sed -n 's/^summary: //p' "$dump")
    awk -v t="$total" -v n="$N" -v name="$name" 'BEGIN { printf "%s Ir/request %.0f (%d requests)\n", name, t / n, n }'
}

client setup 0 S
measure get_client get
measure add_client add
