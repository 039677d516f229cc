-- Per-organisation numbering (issue 10, tenants). The numbers a caller sees (the
-- AllpsClientNumber's digits, PromissoryNumber, PaymentNumber, AccountId, WalletRequestId
-- and the replies feed's Sequence) count within the organisation, so nothing one
-- organisation sees depends on another's activity. The row id stays the internal key
-- every foreign key uses; `number` (replies: `sequence`) is the wire number, unique per
-- organisation. `counters` holds, per organisation and kind, the next number to hand
-- out; `store::counters` advances it with
--   UPDATE counters SET next_value = next_value + n WHERE organisation_id = ? AND kind = ?
-- (the first use of a kind creates the row with INSERT ... ON CONFLICT DO UPDATE)
-- inside the request's transaction, so a refused request gives its numbers back with
-- its savepoint, and (with one writer here, the counter row's lock on a server database)
-- numbers are gapless and increase in commit order.

CREATE TABLE counters (
    organisation_id INTEGER NOT NULL REFERENCES organisations(id),
    kind            TEXT NOT NULL
        CHECK (kind IN ('CLIENT', 'PROMISSORY', 'PAYMENT', 'ACCOUNT', 'WALLET_REQUEST', 'REPLY')),
    next_value      INTEGER NOT NULL CHECK (next_value >= 1),
    PRIMARY KEY (organisation_id, kind)
) WITHOUT ROWID;

-- Rows stored before this migration (and rows a seed script inserts without them) get
-- their organisation and keep their row id as their number (`store::counters::sync`,
-- which also runs below): every number already handed out stays valid.
ALTER TABLE clients ADD COLUMN organisation_id INTEGER REFERENCES organisations(id);
ALTER TABLE clients ADD COLUMN number INTEGER;
ALTER TABLE promissory_notes ADD COLUMN organisation_id INTEGER REFERENCES organisations(id);
ALTER TABLE promissory_notes ADD COLUMN number INTEGER;
ALTER TABLE credit_payments ADD COLUMN organisation_id INTEGER REFERENCES organisations(id);
ALTER TABLE credit_payments ADD COLUMN number INTEGER;
ALTER TABLE client_accounts ADD COLUMN organisation_id INTEGER REFERENCES organisations(id);
ALTER TABLE client_accounts ADD COLUMN number INTEGER;
ALTER TABLE wallets ADD COLUMN organisation_id INTEGER REFERENCES organisations(id);
ALTER TABLE wallets ADD COLUMN number INTEGER;

-- The replies table is rebuilt: `sequence` was the global AUTOINCREMENT key. It becomes
-- the per-organisation wire number (existing rows keep theirs, so a reader's stored
-- NextSequence stays valid) and `id` the internal key. Nothing references replies.
CREATE TABLE replies_new (
    id                INTEGER PRIMARY KEY,
    organisation_id   INTEGER REFERENCES organisations(id),
    sequence          INTEGER NOT NULL,
    branch_id         INTEGER NOT NULL REFERENCES branches(id),
    reply_type        TEXT NOT NULL,
    occurred_at       TEXT NOT NULL,
    client_id         INTEGER REFERENCES clients(id),
    promissory_id     INTEGER,
    instalment_number INTEGER,
    payment_id        INTEGER,
    part_number       INTEGER,
    wallet_number     TEXT,
    amount            TEXT,
    reason_code       TEXT,
    reason_text       TEXT,
    settlement_date   TEXT
);
INSERT INTO replies_new (id, sequence, branch_id, reply_type, occurred_at, client_id, promissory_id,
                         instalment_number, payment_id, part_number, wallet_number, amount, reason_code,
                         reason_text, settlement_date)
    SELECT sequence, sequence, branch_id, reply_type, occurred_at, client_id, promissory_id,
           instalment_number, payment_id, part_number, wallet_number, amount, reason_code,
           reason_text, settlement_date
    FROM replies;
DROP TABLE replies;
ALTER TABLE replies_new RENAME TO replies;
CREATE INDEX replies_by_branch ON replies (branch_id, sequence);
CREATE INDEX replies_by_promissory ON replies (promissory_id, instalment_number, sequence);

-- Cards (issue 10): a REPLACED card is released and may be assigned again, to any wallet
-- of any organisation; only an ACTIVE assignment holds a card number. `card_number` was
-- UNIQUE over every assignment, so wallet_cards is rebuilt with the uniqueness on ACTIVE
-- rows only (a card's history may hold several REPLACED rows). Nothing references it.
CREATE TABLE wallet_cards_new (
    id                INTEGER PRIMARY KEY,
    wallet_id         INTEGER NOT NULL REFERENCES wallets(id),
    card_number       TEXT NOT NULL,
    technology        TEXT NOT NULL CHECK (technology IN ('EMV', 'MAGSTRIPE')),
    pin_mailer_number TEXT,
    status            TEXT NOT NULL CHECK (status IN ('ACTIVE', 'REPLACED')),
    assigned_by       INTEGER NOT NULL REFERENCES users(id),
    assigned_at       TEXT NOT NULL,
    replaced_at       TEXT,
    CHECK ((technology = 'EMV') <= (pin_mailer_number IS NULL))
);
INSERT INTO wallet_cards_new (id, wallet_id, card_number, technology, pin_mailer_number, status,
                              assigned_by, assigned_at, replaced_at)
    SELECT id, wallet_id, card_number, technology, pin_mailer_number, status, assigned_by,
           assigned_at, replaced_at
    FROM wallet_cards;
DROP TABLE wallet_cards;
ALTER TABLE wallet_cards_new RENAME TO wallet_cards;
CREATE UNIQUE INDEX wallet_cards_one_active ON wallet_cards (wallet_id) WHERE status = 'ACTIVE';
CREATE UNIQUE INDEX wallet_cards_active_card ON wallet_cards (card_number) WHERE status = 'ACTIVE';
CREATE INDEX wallet_cards_by_card ON wallet_cards (card_number, id);

-- A number names one row in its organisation. (NULL, until `sync` fills it, repeats.)
CREATE UNIQUE INDEX clients_by_number ON clients (organisation_id, number);
CREATE UNIQUE INDEX promissory_notes_by_number ON promissory_notes (organisation_id, number);
CREATE UNIQUE INDEX credit_payments_by_number ON credit_payments (organisation_id, number);
CREATE UNIQUE INDEX client_accounts_by_number ON client_accounts (organisation_id, number);
CREATE UNIQUE INDEX wallets_by_number ON wallets (organisation_id, number);
CREATE UNIQUE INDEX replies_by_sequence ON replies (organisation_id, sequence);

-- (Migration 0008 continues with schema/counters_sync.sql, appended by store::MIGRATIONS.)
