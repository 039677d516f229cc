-- Promissory notes (debit-order instructions) and their instalments. A note belongs to a
-- client of one branch; ContractReference is unique in the branch (the idempotency key of
-- CreatePromissory). PromissoryNumber is not stored: it is 'PN' + the row id (8 digits).
-- Money is canonical decimal text with two decimals, dates YYYY-MM-DD, timestamps
-- RFC 3339 UTC. Instalment replies live in the replies table (promissory_id,
-- instalment_number).

CREATE TABLE promissory_notes (
    id                           INTEGER PRIMARY KEY,
    branch_id                    INTEGER NOT NULL REFERENCES branches(id),
    client_id                    INTEGER NOT NULL REFERENCES clients(id),
    contract_reference           TEXT NOT NULL,
    payment_stream               TEXT NOT NULL
        CHECK (payment_stream IN ('NAEDO', 'EFT', 'SOCIAL_GRANT_EFT', 'DEBICHECK')),
    status                       TEXT NOT NULL
        CHECK (status IN ('PENDING', 'ACTIVE', 'CANCELLED', 'COMPLETED')),
    bank_branch_code             TEXT NOT NULL,
    -- The CDV bank id and name at creation (data/cdv-parameters.txt may change later).
    bank_id                      TEXT NOT NULL,
    bank_name                    TEXT NOT NULL,
    account_number               TEXT NOT NULL,
    account_type                 TEXT NOT NULL
        CHECK (account_type IN ('CURRENT', 'SAVINGS', 'TRANSMISSION', 'BOND', 'SUBSCRIPTION_SHARE')),
    -- 0 when the bank ships without a check-digit rule: accepted, but not verified.
    check_digit_verified         INTEGER NOT NULL CHECK (check_digit_verified IN (0, 1)),
    instalment_amount            TEXT NOT NULL,
    number_of_instalments        INTEGER NOT NULL CHECK (number_of_instalments >= 1),
    frequency                    TEXT NOT NULL CHECK (frequency IN ('MONTHLY', 'FORTNIGHTLY', 'WEEKLY')),
    first_action_date            TEXT NOT NULL,
    tracking_days                INTEGER NOT NULL CHECK (tracking_days BETWEEN 0 AND 32),
    -- CreatePromissory takes no card or PIN: user presence is not verified, so Intecon
    -- transaction fees cannot be recovered from the client.
    created_without_card_or_pin  INTEGER NOT NULL CHECK (created_without_card_or_pin IN (0, 1)),
    transaction_fees_recoverable INTEGER NOT NULL CHECK (transaction_fees_recoverable IN (0, 1)),
    created_by                   INTEGER NOT NULL REFERENCES users(id),
    created_at                   TEXT NOT NULL,
    -- When the note counted as registered (created_at + the registration delay).
    registered_at                TEXT,
    cancelled_at                 TEXT,
    cancel_reason                TEXT,
    cancelled_by                 INTEGER REFERENCES users(id),
    completed_at                 TEXT,
    UNIQUE (branch_id, contract_reference)
);
CREATE INDEX promissory_notes_by_client ON promissory_notes (client_id, id);
CREATE INDEX promissory_notes_pending ON promissory_notes (created_at) WHERE status = 'PENDING';

CREATE TABLE instalments (
    promissory_id     INTEGER NOT NULL REFERENCES promissory_notes(id),
    instalment_number INTEGER NOT NULL CHECK (instalment_number >= 1),
    action_date       TEXT NOT NULL,
    amount            TEXT NOT NULL,
    tracking_days     INTEGER NOT NULL CHECK (tracking_days BETWEEN 0 AND 32),
    status            TEXT NOT NULL
        CHECK (status IN ('PENDING', 'PRESENTED', 'COLLECTED', 'UNPAID', 'TRACKING', 'CANCELLED')),
    -- The last EditInstalment that changed the row.
    edited_at         TEXT,
    edited_by         INTEGER REFERENCES users(id),
    PRIMARY KEY (promissory_id, instalment_number)
) WITHOUT ROWID;
