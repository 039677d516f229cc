-- PostgreSQL mirror of ../0009_debicheck.sql (same tables, columns, keys and checks; SQLite INTEGER
-- is BIGINT, a rowid key is an identity column).
-- DebiCheck mandates (issue 9): one row per DEBICHECK promissory note, with the
-- authenticated parameters, the authentication request and its outcome, and the
-- suspension or cancellation at the payer's bank. The note's own row keeps what every
-- note has (account, instalment amount, frequency, FirstActionDate = the first
-- authenticated collection date, TrackingDays). Replies gain the disputability of the
-- collection they report.

CREATE TABLE mandates (
    promissory_id           BIGINT PRIMARY KEY REFERENCES promissory_notes(id),
    authentication_type     TEXT NOT NULL
        CHECK (authentication_type IN ('TT1_REALTIME', 'TT1_DELAYED', 'TT2', 'TT3')),
    debit_value_type        TEXT NOT NULL CHECK (debit_value_type IN ('FIXED', 'VARIABLE', 'USAGE_BASED')),
    maximum_amount          TEXT NOT NULL,
    date_adjustment_allowed BIGINT NOT NULL CHECK (date_adjustment_allowed IN (0, 1)),
    debit_sequence          TEXT NOT NULL CHECK (debit_sequence IN ('RCUR', 'OOFF')),
    adjustment_category     TEXT NOT NULL
        CHECK (adjustment_category IN ('NEVER', 'QUARTERLY', 'BIANNUALLY', 'ANNUALLY', 'REPO')),
    adjustment_rate         TEXT,
    adjustment_amount       TEXT,
    collection_day          BIGINT NOT NULL CHECK (collection_day BETWEEN 1 AND 31),
    -- The cellphone the request went to (the client's at creation), if any.
    cellphone               TEXT,
    status                  TEXT NOT NULL
        CHECK (status IN ('AWAITING_AUTHENTICATION', 'AUTHENTICATED', 'DECLINED', 'EXPIRED', 'SUSPENDED')),
    requested_at            TEXT NOT NULL,
    -- When the authentication window closes: only an answer before it counts.
    deadline                TEXT NOT NULL,
    -- When the payer answered (AUTHENTICATED / DECLINED) and through which channel.
    answered_at             TEXT,
    channel                 TEXT,
    -- When the window passed unanswered (EXPIRED).
    expired_at              TEXT,
    suspended_at            TEXT,
    -- When CancelPromissory cancelled the mandate at the payer's bank.
    cancelled_at_bank       TEXT
);

-- Disputability of the collection a reply reports (DebiCheck collection replies).
ALTER TABLE replies ADD COLUMN disputable BIGINT CHECK (disputable IN (0, 1));
ALTER TABLE replies ADD COLUMN disputable_reason TEXT;
