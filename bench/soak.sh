#!/usr/bin/env bash
# Soak: the release server on a fresh database (fixture principals and fixtures/base.sql,
# the fixture clock), bench/soak.py's legitimate clients beside hostile ones for DURATION
# seconds (default 600), then its report: legitimate p99 and errors, RSS over time, open
# descriptors. Exits 1 when a legitimate call errors, RSS keeps growing or descriptors
# leak. Loopback only.
#
# Usage: bench/soak.sh [SECONDS]          e.g. bench/soak.sh 120 for a 2-minute run
# Environment: PORT=18580 LEGIT=8 SAMPLE=5 SKIP_BUILD=1 (use target/release/allps-ws as is)
#              NOFILE=1024 (the server's open-files limit)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${1:-${DURATION:-600}}
PORT=${PORT:-18580}
NOFILE=${NOFILE:-1024}
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/allps-ws"
cd "$ROOT"
if [[ -z "${SKIP_BUILD:-}" ]]; then
    cargo build --release --quiet --bin allps-ws
fi
TMP=$(mktemp -d /tmp/allps-soak.XXXXXX)
PID=
cleanup() {
    [[ -n "$PID" ]] && kill "$PID" 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT
"$BIN" admin --db "$TMP/soak.db" seed-fixtures >/dev/null
# The payment fixture's client accounts (AccountId 1 of client C1001).
python3 - "$TMP/soak.db" "$ROOT/fixtures/pay_to_client_account/ok_bank_account/seed.sql" <<'PY'
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1])
conn.executescript(open(sys.argv[2]).read())
conn.commit()
PY
(ulimit -n "$NOFILE"; exec "$BIN" serve --db "$TMP/soak.db" --listen "127.0.0.1:$PORT" \
    --fixed-time 2026-11-23T08:00:00Z --log-level warn) 2>"$TMP/server.log" &
PID=$!
for _ in $(seq 1 100); do
    curl -fsS -o /dev/null "http://127.0.0.1:$PORT/health" 2>/dev/null && break
    sleep 0.1
done
echo "soak: ${DURATION}s against pid $PID (open-files limit $NOFILE)"
status=0
PORT=$PORT SERVER_PID=$PID python3 "$ROOT/bench/soak.py" "$DURATION" || status=$?
internal=$(grep -c "internal error" "$TMP/server.log" || true)
echo "server log: $(wc -l <"$TMP/server.log") lines, $internal internal errors"
[[ "$internal" == 0 ]] || status=1
kill -TERM "$PID"
wait "$PID" || true
PID=
exit $status
