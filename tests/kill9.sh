#!/usr/bin/env bash
# kill -9 in the middle of a month of collections loses nothing and presents nothing twice.
#
# Seeds a portfolio (NOTES notes on NAEDO with TrackingDays 4, EFT and SOCIAL_GRANT_EFT
# untracked, as CreatePromissory requires; three weekly instalments each, action dates over January 2027, debtor accounts that make the simulated
# bank collect, track then collect, leave unpaid (12), track to the end (02) and dispute then
# reverse) straight into SQLite, copies the database, and runs `allps-ws process --until`
# over the month twice:
#   - reference: one uninterrupted run;
#   - killed: the same run killed with SIGKILL at KILLS random moments, restarted each time
#     (a lease of 1 s, and 2.1 s between a kill and the restart: leases are stored to the second, so
#     a 1 s lease can hold for up to 2 s, and a restart that came sooner would find the killed
#     run's last job still leased and work through later jobs first), then run to the end.
# It then requires the two databases to agree exactly on every instalment (status,
# presentment, collection, settlement, reversal), every attempt, every note and every reply
# (type, instant, amounts, reasons, settlement date, in feed order), no reply or attempt
# twice, no job failed or left due, and each debtor-account rule to have put its
# instalments where the rules say.
#
# Usage: tests/kill9.sh   (needs sqlite3; uses BIN, default target/release/allps-ws, else
#                          target/debug/allps-ws)
# Knobs: NOTES=3000 KILLS=5 SEED=$RANDOM (the kill moments) KEEP=1 (keep the databases)
#        BATCH=N (--collection-batch for every run: small batches make each date's sweep,
#        answers and dispute checks run many full batches, so a kill lands between a batch
#        and the next one read ahead)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
NOTES=${NOTES:-3000}
KILLS=${KILLS:-5}
SEED=${SEED:-$RANDOM}
if [ -z "${BIN:-}" ]; then
    BIN=$ROOT/target/release/allps-ws
    [ -x "$BIN" ] || BIN=$ROOT/target/debug/allps-ws
fi
[ -x "$BIN" ] || { echo "no allps-ws binary (cargo build first)" >&2; exit 2; }
WORK=$(mktemp -d)
if [ -z "${KEEP:-}" ]; then trap 'rm -rf "$WORK"' EXIT; else echo "databases in $WORK"; fi
UNTIL=2027-02-15T00:00:00Z
RANDOM=$SEED
BATCH_ARGS=()
[ -n "${BATCH:-}" ] && BATCH_ARGS=(--collection-batch "$BATCH")

"$BIN" process --db "$WORK/ref.db" --until 2000-01-01T00:00:00Z >/dev/null
# The business days of January 2027 (1 January is New Year's Day).
DAYS="('2027-01-04'), ('2027-01-05'), ('2027-01-06'), ('2027-01-07'), ('2027-01-08'),
      ('2027-01-11'), ('2027-01-12'), ('2027-01-13'), ('2027-01-14'), ('2027-01-15'),
      ('2027-01-18'), ('2027-01-19'), ('2027-01-20'), ('2027-01-21'), ('2027-01-22'),
      ('2027-01-25'), ('2027-01-26'), ('2027-01-27'), ('2027-01-28'), ('2027-01-29')"
sqlite3 "$WORK/ref.db" <<SQL
PRAGMA foreign_keys = ON;
BEGIN;
INSERT INTO organisations (id, code, name, created_at) VALUES (1, 'K9', 'Kill Nine Lender', '2026-01-01T00:00:00Z');
INSERT INTO users (id, organisation_id, user_name, password_hash, created_at)
    VALUES (1, 1, 'k9', 'x', '2026-01-01T00:00:00Z');
INSERT INTO branches (id, organisation_id, code, name, created_at)
    VALUES (1, 1, 'BR001', 'One', '2026-01-01T00:00:00Z'), (2, 1, 'BR002', 'Two', '2026-01-01T00:00:00Z');
INSERT INTO employers (id, branch_id, employer_code, employer_name, pay_frequency, created_by, created_at)
    SELECT id, id, 'E1', 'Employer', 'MONTHLY', 1, '2026-01-01T00:00:00Z' FROM branches;
INSERT INTO clients (id, branch_id, employer_id, client_number, first_name, surname, id_type, id_number,
                     date_of_birth, gender, created_by, created_at)
    SELECT id, id, id, 'C1', 'K', 'Nine', 'SA_ID', '8503145123084', '1985-03-14', 'M', 1,
           '2026-01-01T00:00:00Z' FROM branches;
CREATE TEMP TABLE days (k INTEGER PRIMARY KEY, d TEXT);
INSERT INTO days (d) VALUES $DAYS;
-- Account suffixes (docs/simulator.md): 000 collected; 703 insufficient funds until
-- tracking day 3, then collected; 812 unpaid 12; 802 insufficient funds through every
-- tracking day; 605 collected then reversed 5 days later.
CREATE TEMP TABLE rules (r INTEGER PRIMARY KEY, suffix TEXT);
INSERT INTO rules VALUES (0, '000'), (1, '703'), (2, '812'), (3, '802'), (4, '605');
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $NOTES)
INSERT INTO promissory_notes (id, branch_id, client_id, contract_reference, payment_stream, status,
        bank_branch_code, bank_id, bank_name, account_number, account_type, check_digit_verified,
        instalment_amount, number_of_instalments, frequency, first_action_date, tracking_days,
        created_without_card_or_pin, transaction_fees_recoverable, created_by, created_at, registered_at)
    SELECT i, 1 + i % 2, 1 + i % 2, printf('K%d', i),
           CASE i % 3 WHEN 0 THEN 'NAEDO' WHEN 1 THEN 'EFT' ELSE 'SOCIAL_GRANT_EFT' END, 'ACTIVE',
           '470010', 'capitec', 'Capitec Bank',
           printf('1234567%s', (SELECT suffix FROM rules WHERE r = (i / 3) % 5)), 'SAVINGS', 1,
           printf('%d.00', 100 + i % 50), 3, 'WEEKLY', (SELECT d FROM days WHERE k = 1 + i % 10),
           CASE i % 3 WHEN 0 THEN 4 ELSE 0 END, 1, 0, 1, '2026-12-01T00:00:00Z',
           '2026-12-01T00:10:00Z' FROM n;
WITH k(j) AS (VALUES (0), (1), (2))
INSERT INTO instalments (promissory_id, instalment_number, action_date, amount, tracking_days, status)
    SELECT n.id, 1 + k.j, (SELECT d FROM days WHERE days.k = 1 + n.id % 10 + 5 * k.j),
           n.instalment_amount, n.tracking_days, 'PENDING'
    FROM promissory_notes n, k;
-- Numbers within the organisation (migration 0008): the row id, as seed scripts do.
UPDATE clients SET organisation_id = 1, number = id WHERE number IS NULL;
UPDATE promissory_notes SET organisation_id = 1, number = id WHERE number IS NULL;
-- One sweep per (action date, stream) (subject: Julian day; part: the stream's position).
INSERT INTO jobs (kind, subject_id, part_number, status, due_at, created_at)
    SELECT DISTINCT 'COLLECTION_SWEEP', CAST(julianday(i.action_date) + 0.5 AS INTEGER),
           CASE n.payment_stream WHEN 'NAEDO' THEN 0 WHEN 'EFT' THEN 1 ELSE 2 END, 'PENDING',
           '2026-12-01T00:00:00Z', '2026-12-01T00:00:00Z'
    FROM instalments i JOIN promissory_notes n ON n.id = i.promissory_id;
COMMIT;
SQL
cp "$WORK/ref.db" "$WORK/killed.db"
echo "portfolio: $NOTES notes, $((NOTES * 3)) instalments over January 2027 (kill seed $SEED)"

START=$(date +%s.%N)
"$BIN" process --db "$WORK/ref.db" --until "$UNTIL" "${BATCH_ARGS[@]}" >"$WORK/ref.txt"
REF_SECONDS=$(echo "$(date +%s.%N) - $START" | bc)
echo "reference run: $(printf '%.1f' "$REF_SECONDS") s"

killed=0
for k in $(seq 1 "$KILLS"); do
    "$BIN" process --db "$WORK/killed.db" --until "$UNTIL" --processor-lease-seconds 1 \
        "${BATCH_ARGS[@]}" >"$WORK/killed-$k.txt" 2>&1 &
    pid=$!
    # A random moment within the reference run's length.
    sleep "$(echo "scale=3; $REF_SECONDS * ($RANDOM % 1000) / 1000" | bc)"
    if kill -9 "$pid" 2>/dev/null; then
        killed=$((killed + 1))
    fi
    wait "$pid" 2>/dev/null || true
    sleep 2.1 # the killed run's leases expire (stored to the second: up to 2 s)
done
"$BIN" process --db "$WORK/killed.db" --until "$UNTIL" --processor-lease-seconds 1 "${BATCH_ARGS[@]}" \
    >"$WORK/killed-last.txt"
echo "killed run: $killed kill -9s landed mid-run (of $KILLS), then run to the end"

dump() {
    sqlite3 "$1" "
        SELECT 'I', promissory_id, instalment_number, action_date, status, arrears, presented_on,
               collected_amount, collected_at, settlement_date, reversed_on
        FROM instalments ORDER BY 2, 3;
        SELECT 'A', promissory_id, instalment_number, attempt_number, kind, tracking_day, arrears,
               presented_at, outcome, reason_code, answered_at
        FROM instalment_attempts ORDER BY 2, 3, 4;
        SELECT 'N', id, status, completed_at FROM promissory_notes ORDER BY 2;
        SELECT 'R', branch_id, reply_type, occurred_at, client_id, promissory_id, instalment_number,
               amount, reason_code, reason_text, settlement_date
        FROM replies ORDER BY sequence;"
}
dump "$WORK/ref.db" >"$WORK/ref.dump"
dump "$WORK/killed.db" >"$WORK/killed.dump"
fail=0
if ! cmp -s "$WORK/ref.dump" "$WORK/killed.dump"; then
    echo "FAIL: the killed run differs from the reference:" >&2
    diff "$WORK/ref.dump" "$WORK/killed.dump" | head -20 >&2
    fail=1
fi
check() { # check NAME SQL: the query must print nothing
    local out
    out=$(sqlite3 "$WORK/killed.db" "$2")
    if [ -n "$out" ]; then
        echo "FAIL: $1:" >&2
        echo "$out" | head -5 >&2
        fail=1
    fi
}
check "a reply written twice" "
    SELECT reply_type, promissory_id, instalment_number, occurred_at, count(*) FROM replies
    GROUP BY 1, 2, 3, 4 HAVING count(*) > 1"
check "more presentments than attempts" "
    SELECT i.promissory_id, i.instalment_number FROM instalments i
    WHERE (SELECT count(*) FROM replies r WHERE r.promissory_id = i.promissory_id
             AND r.instalment_number = i.instalment_number AND r.reply_type = 'INSTALMENT_PRESENTED')
       <> (SELECT count(*) FROM instalment_attempts a WHERE a.promissory_id = i.promissory_id
             AND a.instalment_number = i.instalment_number AND a.kind <> 'TRACKING')"
check "a job failed or left due" "
    SELECT kind, subject_id, part_number, status FROM jobs
    WHERE status = 'FAILED' OR (status IN ('PENDING', 'RUNNING') AND due_at <= '$UNTIL')"
check "an instalment not where its debtor account's rule puts it" "
    SELECT n.account_number, i.promissory_id, i.instalment_number, i.status,
           (SELECT count(*) FROM instalment_attempts a WHERE a.promissory_id = i.promissory_id
              AND a.instalment_number = i.instalment_number) AS attempts,
           (SELECT reason_code FROM instalment_attempts a WHERE a.promissory_id = i.promissory_id
              AND a.instalment_number = i.instalment_number ORDER BY attempt_number DESC LIMIT 1)
    FROM instalments i JOIN promissory_notes n ON n.id = i.promissory_id
    WHERE NOT CASE substr(n.account_number, -3)
        WHEN '000' THEN i.status = 'COLLECTED' AND attempts = 1
        WHEN '703' THEN CASE i.tracking_days WHEN 0 THEN i.status = 'UNPAID' AND attempts = 1
                                             ELSE i.status = 'COLLECTED' AND attempts = 4 END
        WHEN '812' THEN i.status = 'UNPAID' AND attempts = 1
        WHEN '802' THEN i.status = 'UNPAID' AND attempts = 1 + i.tracking_days
        WHEN '605' THEN i.status = 'REVERSED' AND attempts = 1
    END"
check "a note COMPLETED unless every instalment is COLLECTED (or the reverse)" "
    SELECT n.id, n.status FROM promissory_notes n
    WHERE (n.status = 'COMPLETED') <> NOT EXISTS (
        SELECT 1 FROM instalments i WHERE i.promissory_id = n.id AND i.status <> 'COLLECTED')"
sqlite3 "$WORK/killed.db" "SELECT '  ' || status || ': ' || count(*) FROM instalments GROUP BY status;
    SELECT '  ' || reply_type || ': ' || count(*) FROM replies GROUP BY reply_type;"
if [ "$fail" = 0 ]; then
    echo "ok: the killed run equals the reference (instalments, attempts, notes, replies in order)"
fi
exit "$fail"
