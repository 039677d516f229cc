#!/usr/bin/env bash
# The collection engine at scale: seeds N instalments (default 1,000,000) due on one NAEDO
# action date across 100 branches (one ACTIVE single-instalment note each, straight into
# SQLite with sqlite3), queues that date's COLLECTION_SWEEP, then runs
# `allps-ws process --until` through submission, presentment, the bank's answers and the
# next morning's reversal checks, and reports wall time and peak RSS (/usr/bin/time -v),
# the jobs per second and the replies written.
#
# Usage: bench/collections.sh             (needs sqlite3 and /usr/bin/time)
# Knobs (environment): N=1000000 BRANCHES=100 BIN=target/release/allps-ws
#                      SKIP_BUILD=1 (use BIN as it is) BATCH=1000 (--collection-batch)
#                      PERF=FILE (profile the run with perf record -g into FILE)
#                      WRK=1 (a server on the same database, GetClient through wrk in 10 s
#                      windows while the engine runs; PORT=18180 CONNECTIONS=8; each
#                      connection waits PACE_MS=10 ms between answer and next request, a
#                      steady integrator load; PACE_MS=0: as fast as the server answers)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
N=${N:-1000000}
BRANCHES=${BRANCHES:-100}
BATCH=${BATCH:-1000}
BIN=${BIN:-$ROOT/target/release/allps-ws}
if [ -z "${SKIP_BUILD:-}" ]; then
    cargo build --release --bin allps-ws
fi
WORK=$(mktemp -d)
DB="$WORK/bench.db"
# Thursday 2027-01-14, NAEDO (window 02:00 SAST; answers 06:00; reversal checks next day).
ACTION_DATE=2027-01-14
UNTIL=2027-01-16T00:00:00Z

PORT=${PORT:-18180}
SERVER_PID=
WRK_PID=
cleanup() {
    [ -n "$WRK_PID" ] && kill "$WRK_PID" 2>/dev/null
    [ -n "$SERVER_PID" ] && kill -INT "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT
if [ -n "${WRK:-}" ]; then
    # A server on the same database (demo data: user demo, client C1001 after the two
    # set-up requests), so GetClient is served while the engine runs. Without its own
    # job processor: that one runs on the real clock, and the seeded sweep is due in the
    # real past, so it could claim the sweep just before `process --until` starts, which
    # then finds the only job leased to another processor and stops at once.
    "$BIN" serve --listen "127.0.0.1:$PORT" --db "$DB" --demo --no-processor --log-level warn \
        2>"$WORK/server.log" &
    SERVER_PID=$!
    for _ in $(seq 1 100); do
        curl -fsS "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break
        sleep 0.1
    done
    for r in add_employer add_client; do
        curl -sS -H 'Content-Type: text/xml; charset=utf-8' -H "SOAPAction: \"${r}\"" \
            --data-binary @"bench/requests/$r.xml" "http://127.0.0.1:$PORT/allps" | grep -q '<Code>0</Code>' \
            || { echo "set-up request $r failed" >&2; exit 1; }
    done
else
    # Creates and migrates the database (nothing is due this early).
    "$BIN" process --db "$DB" --until 2000-01-01T00:00:00Z >/dev/null
fi

echo "seeding $N instalments on $ACTION_DATE across $BRANCHES branches..."
SEED_START=$(date +%s.%N)
sqlite3 -cmd ".timeout 10000" "$DB" <<SQL
PRAGMA foreign_keys = ON;
PRAGMA synchronous = OFF;
BEGIN;
-- Row ids from 1001 up, clear of the demo data a WRK=1 server starts with.
INSERT INTO organisations (id, code, name, created_at) VALUES (1001, 'BENCH', 'Bench Lender', '2026-01-01T00:00:00Z');
INSERT INTO users (id, organisation_id, user_name, password_hash, created_at)
    VALUES (1001, 1001, 'bench', 'x', '2026-01-01T00:00:00Z');
WITH RECURSIVE b(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM b WHERE i < $BRANCHES)
INSERT INTO branches (id, organisation_id, code, name, created_at)
    SELECT 1000 + i, 1001, printf('BR%03d', i), printf('Branch %d', i), '2026-01-01T00:00:00Z' FROM b;
INSERT INTO employers (id, branch_id, employer_code, employer_name, pay_frequency, created_by, created_at)
    SELECT id, id, 'E1', 'Employer', 'MONTHLY', 1001, '2026-01-01T00:00:00Z' FROM branches WHERE id > 1000;
INSERT INTO clients (id, branch_id, employer_id, client_number, first_name, surname, id_type, id_number,
                     date_of_birth, gender, created_by, created_at)
    SELECT id, id, id, 'C1', 'Bench', 'Client', 'SA_ID', '8503145123084', '1985-03-14', 'M', 1001,
           '2026-01-01T00:00:00Z' FROM branches WHERE id > 1000;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $N)
INSERT INTO promissory_notes (id, branch_id, client_id, contract_reference, payment_stream, status,
        bank_branch_code, bank_id, bank_name, account_number, account_type, check_digit_verified,
        instalment_amount, number_of_instalments, frequency, first_action_date, tracking_days,
        created_without_card_or_pin, transaction_fees_recoverable, created_by, created_at, registered_at)
    SELECT 1000 + i, 1001 + i % $BRANCHES, 1001 + i % $BRANCHES, printf('R%d', i), 'NAEDO', 'ACTIVE',
           '470010', 'capitec', 'Capitec Bank', '1376543212', 'SAVINGS', 1,
           '500.00', 1, 'MONTHLY', '$ACTION_DATE', 0, 1, 0, 1001, '2026-12-01T00:00:00Z',
           '2026-12-01T00:10:00Z' FROM n;
INSERT INTO instalments (promissory_id, instalment_number, action_date, amount, tracking_days, status)
    SELECT id, 1, '$ACTION_DATE', '500.00', 0, 'PENDING' FROM promissory_notes WHERE id > 1000;
-- Numbers within the organisation (migration 0008): the row id, as for seeded rows.
UPDATE clients SET organisation_id = 1001, number = id WHERE number IS NULL AND id > 1000;
UPDATE promissory_notes SET organisation_id = 1001, number = id WHERE number IS NULL AND id > 1000;
-- The date's sweep (subject: the Julian day number; part 0: NAEDO), due at once.
INSERT INTO jobs (kind, subject_id, part_number, status, due_at, created_at)
    VALUES ('COLLECTION_SWEEP', CAST(julianday('$ACTION_DATE') + 0.5 AS INTEGER), 0, 'PENDING',
            '2026-12-01T00:00:00Z', '2026-12-01T00:00:00Z');
COMMIT;
SQL
SEED_END=$(date +%s.%N)
echo "seeded in $(echo "$SEED_END - $SEED_START" | bc) s"

echo "running process --until $UNTIL..."
# PERF=FILE records a profile of the run (perf record -g) into FILE.
WRAP=()
if [ -n "${PERF:-}" ]; then
    WRAP=(perf record -F 499 --call-graph dwarf,16384 -o "$PERF" --)
fi
if [ -n "$SERVER_PID" ]; then
    # GetClient alongside, in 10-second wrk windows until the run ends: one BENCH line each.
    SCRIPT=get_client_paced.lua
    [ "${PACE_MS:-10}" = 0 ] && SCRIPT=get_client.lua
    (
        export BENCH_DIR="$ROOT/bench" PACE_MS="${PACE_MS:-10}"
        while kill -0 "$SERVER_PID" 2>/dev/null; do
            wrk --latency -t1 -c"${CONNECTIONS:-8}" -d10s -s "$ROOT/bench/lua/$SCRIPT" \
                "http://127.0.0.1:$PORT/allps" 2>/dev/null | grep '^BENCH' >>"$WORK/wrk.txt" || true
            [ -e "$WORK/done" ] && break
        done
    ) &
    WRK_PID=$!
fi
/usr/bin/time -v "${WRAP[@]}" "$BIN" process --db "$DB" --until "$UNTIL" --collection-batch "$BATCH" \
    >"$WORK/out.txt" 2>"$WORK/time.txt"
touch "$WORK/done"
[ -n "$WRK_PID" ] && wait "$WRK_PID"
WRK_PID=
cat "$WORK/out.txt"
if [ -s "$WORK/wrk.txt" ]; then
    echo "GetClient alongside (wrk, 10 s windows, ${CONNECTIONS:-8} connections, PACE_MS=${PACE_MS:-10}):"
    sed 's/^BENCH /  /' "$WORK/wrk.txt"
    echo "  worst window p99: $(sed -n 's/.*p99_ms=\([0-9.]*\).*/\1/p' "$WORK/wrk.txt" | sort -g | tail -n1) ms"
    echo "  server peak RSS: $(awk '/VmHWM/ {print int($2 / 1024)}' "/proc/$SERVER_PID/status") MiB"
fi
WALL=$(grep "Elapsed (wall clock)" "$WORK/time.txt" | awk '{print $NF}')
RSS_KB=$(grep "Maximum resident set size" "$WORK/time.txt" | awk '{print $NF}')
USER_S=$(grep "User time" "$WORK/time.txt" | awk '{print $NF}')
SYS_S=$(grep "System time" "$WORK/time.txt" | awk '{print $NF}')
echo "wall clock: $WALL, CPU: ${USER_S} s user + ${SYS_S} s system, peak RSS: $((RSS_KB / 1024)) MiB"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (on $(nproc) cores)"
sqlite3 "$DB" "SELECT 'instalments ' || status || ': ' || count(*) FROM instalments GROUP BY status;
               SELECT 'replies ' || reply_type || ': ' || count(*) FROM replies GROUP BY reply_type;
               SELECT 'jobs ' || kind || ' ' || status || ': ' || count(*) FROM jobs GROUP BY kind, status;"
