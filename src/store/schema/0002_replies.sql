-- The replies feed (GetReplies, and each instalment's replies in GetPromissory): every
-- outcome the outside world reports, in one strictly increasing sequence. AUTOINCREMENT
-- never reuses a sequence, and the single writer assigns them in commit order, so a
-- reader that stores NextSequence never misses or repeats one.

CREATE TABLE replies (
    sequence          INTEGER PRIMARY KEY AUTOINCREMENT,
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
    reason_text       TEXT
);
CREATE INDEX replies_by_branch ON replies (branch_id, sequence);
CREATE INDEX replies_by_promissory ON replies (promissory_id, instalment_number, sequence);
