-- Payouts: client accounts (bank accounts and wallets), credit payments and their parts,
-- wallet requests, FEZA cards, and the durable job queue the processor works through.
-- Timestamps are RFC 3339 UTC text, dates YYYY-MM-DD text (South African dates), money
-- canonical decimal text with two decimals.

-- Wallet requests (CreateWallet). WalletRequestId = id. At most one PENDING or ACTIVE
-- request per client; after FAILED a new request may be made.
CREATE TABLE wallets (
    id             INTEGER PRIMARY KEY,
    branch_id      INTEGER NOT NULL REFERENCES branches(id),
    client_id      INTEGER NOT NULL REFERENCES clients(id),
    status         TEXT NOT NULL CHECK (status IN ('PENDING', 'ACTIVE', 'FAILED')),
    -- The cellphone the wallet is requested for (normalised, 0821234567).
    cellphone      TEXT NOT NULL,
    wallet_number  TEXT UNIQUE,
    failure_code   TEXT,
    failure_reason TEXT,
    requested_by   INTEGER NOT NULL REFERENCES users(id),
    requested_at   TEXT NOT NULL,
    completed_at   TEXT,
    CHECK ((status = 'ACTIVE') = (wallet_number IS NOT NULL))
);
CREATE UNIQUE INDEX wallets_one_open_per_client ON wallets (client_id)
    WHERE status IN ('PENDING', 'ACTIVE');
CREATE INDEX wallets_by_client ON wallets (client_id, id);

-- Registered client accounts: bank accounts (AddClientAccount, CDV-checked) and the
-- client's wallet once ACTIVE (kind WALLET, account_number = wallet number).
-- AccountId = id.
CREATE TABLE client_accounts (
    id               INTEGER PRIMARY KEY,
    branch_id        INTEGER NOT NULL REFERENCES branches(id),
    client_id        INTEGER NOT NULL REFERENCES clients(id),
    kind             TEXT NOT NULL CHECK (kind IN ('BANK_ACCOUNT', 'WALLET')),
    bank_branch_code TEXT,
    bank_name        TEXT,
    account_number   TEXT NOT NULL,
    account_type     TEXT CHECK (account_type IN ('CURRENT', 'SAVINGS', 'TRANSMISSION', 'BOND', 'SUBSCRIPTION_SHARE')),
    holder_name      TEXT,
    wallet_id        INTEGER UNIQUE REFERENCES wallets(id),
    enabled          INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    created_by       INTEGER REFERENCES users(id),
    created_at       TEXT NOT NULL,
    CHECK ((kind = 'BANK_ACCOUNT') = (bank_branch_code IS NOT NULL AND account_type IS NOT NULL)),
    CHECK ((kind = 'WALLET') = (wallet_id IS NOT NULL))
);
CREATE UNIQUE INDEX client_accounts_same_bank_account
    ON client_accounts (client_id, bank_branch_code, account_number, account_type)
    WHERE kind = 'BANK_ACCOUNT';
CREATE INDEX client_accounts_by_client ON client_accounts (client_id, id);

-- Credit payments (PayToClientAccount). PaymentNumber = 'CP' + id as 8 digits.
-- PaymentReference is the branch's idempotency key; requested_action_date is the
-- ActionDate as sent (NULL when defaulted), compared on a repeat.
CREATE TABLE credit_payments (
    id                    INTEGER PRIMARY KEY,
    branch_id             INTEGER NOT NULL REFERENCES branches(id),
    client_id             INTEGER NOT NULL REFERENCES clients(id),
    payment_reference     TEXT NOT NULL,
    status                TEXT NOT NULL CHECK (status IN ('ACCEPTED', 'SUBMITTED', 'DELIVERED', 'RETURNED', 'PARTIALLY_RETURNED')),
    action_date           TEXT NOT NULL,
    requested_action_date TEXT,
    total_amount          TEXT NOT NULL,
    cash_amount           TEXT,
    created_by            INTEGER NOT NULL REFERENCES users(id),
    created_at            TEXT NOT NULL,
    UNIQUE (branch_id, payment_reference)
);
CREATE INDEX credit_payments_by_client ON credit_payments (client_id, id);

-- The parts of a payment: the Payment elements in request order, then the cash part.
CREATE TABLE credit_payment_parts (
    payment_id     INTEGER NOT NULL REFERENCES credit_payments(id),
    part_number    INTEGER NOT NULL CHECK (part_number >= 1),
    recipient_type TEXT NOT NULL CHECK (recipient_type IN ('BANK_ACCOUNT', 'WALLET', 'CASH')),
    account_id     INTEGER REFERENCES client_accounts(id),
    amount         TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('ACCEPTED', 'SUBMITTED', 'DELIVERED', 'RETURNED', 'PAID_AT_BRANCH')),
    -- When the part reached its current status.
    status_at      TEXT NOT NULL,
    submitted_at   TEXT,
    delivered_at   TEXT,
    returned_at    TEXT,
    return_code    TEXT,
    return_reason  TEXT,
    PRIMARY KEY (payment_id, part_number),
    CHECK ((recipient_type = 'CASH') = (account_id IS NULL))
) WITHOUT ROWID;

-- FEZA cards assigned to wallets (AssignCard). A card number belongs to one wallet only;
-- a wallet has at most one ACTIVE card (a new card REPLACES the old one).
CREATE TABLE wallet_cards (
    id                INTEGER PRIMARY KEY,
    wallet_id         INTEGER NOT NULL REFERENCES wallets(id),
    card_number       TEXT NOT NULL UNIQUE,
    technology        TEXT NOT NULL CHECK (technology IN ('EMV', 'MAGSTRIPE')),
    pin_mailer_number TEXT,
    status            TEXT NOT NULL CHECK (status IN ('ACTIVE', 'REPLACED')),
    assigned_by       INTEGER NOT NULL REFERENCES users(id),
    assigned_at       TEXT NOT NULL,
    replaced_at       TEXT,
    CHECK ((technology = 'EMV') <= (pin_mailer_number IS NULL))
);
CREATE UNIQUE INDEX wallet_cards_one_active ON wallet_cards (wallet_id) WHERE status = 'ACTIVE';

-- The durable job queue (src/jobs.rs). A job is claimed under a lease (RUNNING,
-- lease_owner, lease_until); only the holder of the current lease (same owner and
-- attempt count) may record its outcome, in the same transaction as the job's effects.
-- (kind, subject_id, part_number) is unique, so enqueuing is idempotent.
CREATE TABLE jobs (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,
    subject_id  INTEGER NOT NULL,
    part_number INTEGER NOT NULL DEFAULT 0,
    status      TEXT NOT NULL CHECK (status IN ('PENDING', 'RUNNING', 'DONE', 'FAILED')),
    due_at      TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_until TEXT,
    last_error  TEXT,
    outcome     TEXT,
    created_at  TEXT NOT NULL,
    finished_at TEXT,
    UNIQUE (kind, subject_id, part_number)
);
CREATE INDEX jobs_due ON jobs (status, due_at, id);
