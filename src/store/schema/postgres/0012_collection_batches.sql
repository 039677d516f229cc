-- PostgreSQL mirror of ../0012_collection_batches.sql (same columns, partial indexes and
-- conversion; SQLite's strftime('%s', t) is EXTRACT(EPOCH FROM t::timestamptz) here).
-- The collection engine at scale (issue 8): the debtor bank's answers and the reversal
-- checks run as one job per instant (COLLECTION_ANSWERS, COLLECTION_REVERSAL_CHECKS)
-- that works through the rows due then, a batch per claim, instead of one job row per
-- instalment. The rows say when they are due; partial indexes hold only what is still
-- waiting, so a batch reads them in index order.

-- When an attempt's answer is due (its per-instant job); NULL once set aside.
ALTER TABLE instalment_attempts ADD COLUMN answer_due_at TEXT;
CREATE INDEX instalment_attempts_answer_due ON instalment_attempts (answer_due_at)
    WHERE answered_at IS NULL AND answer_due_at IS NOT NULL;

-- When a COLLECTED instalment is next checked for a dispute; NULL when never again.
ALTER TABLE instalments ADD COLUMN reversal_check_at TEXT;
CREATE INDEX instalments_reversal_check ON instalments (reversal_check_at)
    WHERE reversal_check_at IS NOT NULL;

-- Per-instalment jobs queued before this migration become rows of the new batch jobs.
UPDATE instalment_attempts SET answer_due_at = (
    SELECT j.due_at FROM jobs j
    WHERE j.kind = 'COLLECTION_ANSWER' AND j.status IN ('PENDING', 'RUNNING')
      AND j.subject_id = instalment_attempts.promissory_id
      AND j.part_number = instalment_attempts.instalment_number * 1000
                          + instalment_attempts.attempt_number)
WHERE answered_at IS NULL;
UPDATE instalments SET reversal_check_at = (
    SELECT min(j.due_at) FROM jobs j
    WHERE j.kind = 'COLLECTION_REVERSAL_CHECK' AND j.status IN ('PENDING', 'RUNNING')
      AND j.subject_id = instalments.promissory_id
      AND j.part_number / 1000 = instalments.instalment_number)
WHERE status = 'COLLECTED';
INSERT INTO jobs (kind, subject_id, part_number, status, due_at, created_at)
    SELECT DISTINCT 'COLLECTION_ANSWERS', CAST(EXTRACT(EPOCH FROM CAST(answer_due_at AS TIMESTAMPTZ)) AS BIGINT), 0,
           'PENDING', answer_due_at, answer_due_at
    FROM instalment_attempts WHERE answered_at IS NULL AND answer_due_at IS NOT NULL
    ON CONFLICT (kind, subject_id, part_number) DO NOTHING;
INSERT INTO jobs (kind, subject_id, part_number, status, due_at, created_at)
    SELECT DISTINCT 'COLLECTION_REVERSAL_CHECKS', CAST(EXTRACT(EPOCH FROM CAST(reversal_check_at AS TIMESTAMPTZ)) AS BIGINT),
           0, 'PENDING', reversal_check_at, reversal_check_at
    FROM instalments WHERE reversal_check_at IS NOT NULL
    ON CONFLICT (kind, subject_id, part_number) DO NOTHING;
UPDATE jobs SET status = 'DONE', outcome = 'converted to a batch job (migration 0012)',
                lease_owner = NULL, lease_until = NULL
WHERE kind IN ('COLLECTION_ANSWER', 'COLLECTION_REVERSAL_CHECK') AND status IN ('PENDING', 'RUNNING');
