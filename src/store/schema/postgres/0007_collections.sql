-- PostgreSQL mirror of ../0007_collections.sql (same tables, columns, keys and checks; SQLite INTEGER
-- is BIGINT, a rowid key is an identity column).
-- The collection engine (issue 8): instalment statuses SUBMITTED and REVERSED, the
-- collection columns of an instalment, its attempts, and the settlement date of an
-- INSTALMENT_COLLECTED reply. SQLite cannot change a CHECK constraint in place, so
-- `instalments` is rebuilt: new table, copy, drop, rename. Nothing references
-- `instalments` by foreign key, so the drop is safe with foreign keys on; the new
-- table keeps its own references to promissory_notes and users.

CREATE TABLE instalments_new (
    promissory_id     BIGINT NOT NULL REFERENCES promissory_notes(id),
    instalment_number BIGINT NOT NULL CHECK (instalment_number >= 1),
    action_date       TEXT NOT NULL,
    amount            TEXT NOT NULL,
    tracking_days     BIGINT NOT NULL CHECK (tracking_days BETWEEN 0 AND 32),
    status            TEXT NOT NULL
        CHECK (status IN ('PENDING', 'SUBMITTED', 'PRESENTED', 'COLLECTED', 'UNPAID', 'TRACKING',
                          'REVERSED', 'CANCELLED')),
    -- The last EditInstalment that changed the row.
    edited_at         TEXT,
    edited_by         BIGINT REFERENCES users(id),
    -- 1 while the current presentment cycle is an arrears re-presentment.
    arrears           BIGINT NOT NULL DEFAULT 0 CHECK (arrears IN (0, 1)),
    -- The presentment date (SAST) of the current cycle; tracking days count from it.
    presented_on      TEXT,
    -- Set when COLLECTED: the amount, the instant and the lender's settlement date.
    collected_amount  TEXT,
    collected_at      TEXT,
    settlement_date   TEXT,
    -- Set when REVERSED.
    reversed_on       TEXT,
    PRIMARY KEY (promissory_id, instalment_number)
);

INSERT INTO instalments_new (promissory_id, instalment_number, action_date, amount, tracking_days,
                             status, edited_at, edited_by)
    SELECT promissory_id, instalment_number, action_date, amount, tracking_days, status, edited_at,
           edited_by
    FROM instalments;
DROP TABLE instalments;
ALTER TABLE instalments_new RENAME TO instalments;
-- The collection sweeps select one action date's unpresented instalments.
CREATE INDEX instalments_due ON instalments (action_date, status);

-- Every attempt to collect an instalment: 1 for the first presentment, one more per
-- tracking day or arrears re-presentment. The debtor bank's answer is stored with the
-- attempt when it is made and applied (answered_at) after the bank's response delay.
CREATE TABLE instalment_attempts (
    promissory_id     BIGINT NOT NULL,
    instalment_number BIGINT NOT NULL,
    attempt_number    BIGINT NOT NULL CHECK (attempt_number >= 1),
    kind              TEXT NOT NULL CHECK (kind IN ('FIRST', 'TRACKING', 'ARREARS')),
    -- 1-based tracking day of a TRACKING attempt, else 0.
    tracking_day      BIGINT NOT NULL DEFAULT 0,
    arrears           BIGINT NOT NULL CHECK (arrears IN (0, 1)),
    presented_at      TEXT NOT NULL,
    outcome           TEXT NOT NULL CHECK (outcome IN ('COLLECTED', 'UNPAID')),
    reason_code       TEXT,
    reason_text       TEXT,
    answered_at       TEXT,
    PRIMARY KEY (promissory_id, instalment_number, attempt_number),
    FOREIGN KEY (promissory_id, instalment_number)
        REFERENCES instalments (promissory_id, instalment_number),
    CHECK ((outcome = 'UNPAID') = (reason_code IS NOT NULL))
);

-- INSTALMENT_COLLECTED reports the lender's settlement date.
ALTER TABLE replies ADD COLUMN settlement_date TEXT;
