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
# Not covered here: GetClient latency served alongside (run bench/run.sh's wrk series
# against a server on the same database while this runs).
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
trap 'rm -rf "$WORK"' EXIT
DB="$WORK/bench.db"
# Thursday 2027-01-14, NAEDO (window 02:00 SAST; answers 06:00; reversal checks next day).
ACTION_DATE=2027-01-14
UNTIL=2027-01-16T00:00:00Z

# Creates and migrates the database (nothing is due this early).
"$BIN" process --db "$DB" --until 2000-01-01T00:00:00Z >/dev/null

echo "seeding $N instalments on $ACTION_DATE across $BRANCHES branches..."
SEED_START=$(date +%s.%N)
sqlite3 "$DB" <<SQL
PRAGMA foreign_keys = ON;
PRAGMA synchronous = OFF;
BEGIN;
INSERT INTO organisations (id, code, name, created_at) VALUES (1, 'BENCH', 'Bench Lender', '2026-01-01T00:00:00Z');
INSERT INTO users (id, organisation_id, user_name, password_hash, created_at)
    VALUES (1, 1, 'bench', 'x', '2026-01-01T00:00:00Z');
WITH RECURSIVE b(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM b WHERE i < $BRANCHES)
INSERT INTO branches (id, organisation_id, code, name, created_at)
    SELECT i, 1, printf('BR%03d', i), printf('Branch %d', i), '2026-01-01T00:00:00Z' FROM b;
INSERT INTO employers (id, branch_id, employer_code, employer_name, pay_frequency, created_by, created_at)
    SELECT id, id, 'E1', 'Employer', 'MONTHLY', 1, '2026-01-01T00:00:00Z' FROM branches;
INSERT INTO clients (id, branch_id, employer_id, client_number, first_name, surname, id_type, id_number,
                     date_of_birth, gender, created_by, created_at)
    SELECT id, id, id, 'C1', 'Bench', 'Client', 'SA_ID', '8503145123084', '1985-03-14', 'M', 1,
           '2026-01-01T00:00:00Z' FROM branches;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $N)
INSERT INTO promissory_notes (id, branch_id, client_id, contract_reference, payment_stream, status,
        bank_branch_code, bank_id, bank_name, account_number, account_type, check_digit_verified,
        instalment_amount, number_of_instalments, frequency, first_action_date, tracking_days,
        created_without_card_or_pin, transaction_fees_recoverable, created_by, created_at, registered_at)
    SELECT i, 1 + i % $BRANCHES, 1 + i % $BRANCHES, printf('R%d', i), 'NAEDO', 'ACTIVE',
           '470010', 'capitec', 'Capitec Bank', '1376543212', 'SAVINGS', 1,
           '500.00', 1, 'MONTHLY', '$ACTION_DATE', 0, 1, 0, 1, '2026-12-01T00:00:00Z',
           '2026-12-01T00:10:00Z' FROM n;
INSERT INTO instalments (promissory_id, instalment_number, action_date, amount, tracking_days, status)
    SELECT id, 1, '$ACTION_DATE', '500.00', 0, 'PENDING' FROM promissory_notes;
-- Numbers within the organisation (migration 0008): the row id, as for seeded rows.
UPDATE clients SET organisation_id = 1, number = id WHERE number IS NULL;
UPDATE promissory_notes SET organisation_id = 1, number = id WHERE number IS NULL;
-- The date's sweep (subject: the Julian day number; part 0: NAEDO), due at once.
INSERT INTO jobs (kind, subject_id, part_number, status, due_at, created_at)
    VALUES ('COLLECTION_SWEEP', CAST(julianday('$ACTION_DATE') + 0.5 AS INTEGER), 0, 'PENDING',
            '2026-12-01T00:00:00Z', '2026-12-01T00:00:00Z');
COMMIT;
SQL
SEED_END=$(date +%s.%N)
echo "seeded in $(echo "$SEED_END - $SEED_START" | bc) s"

echo "running process --until $UNTIL..."
/usr/bin/time -v "$BIN" process --db "$DB" --until "$UNTIL" --collection-batch "$BATCH" \
    >"$WORK/out.txt" 2>"$WORK/time.txt"
cat "$WORK/out.txt"
WALL=$(grep "Elapsed (wall clock)" "$WORK/time.txt" | awk '{print $NF}')
RSS_KB=$(grep "Maximum resident set size" "$WORK/time.txt" | awk '{print $NF}')
echo "wall clock: $WALL, peak RSS: $((RSS_KB / 1024)) MiB"
sqlite3 "$DB" "SELECT 'instalments ' || status || ': ' || count(*) FROM instalments GROUP BY status;
               SELECT 'replies ' || reply_type || ': ' || count(*) FROM replies GROUP BY reply_type;
               SELECT 'jobs ' || kind || ' ' || status || ': ' || count(*) FROM jobs GROUP BY kind, status;"
