-- Core schema: organisations, branches, users and their rights, branch allocations,
-- computers and sessions; employers and clients. Timestamps are RFC 3339 UTC text,
-- dates are YYYY-MM-DD text, money is canonical decimal text with two decimals.

CREATE TABLE organisations (
    id          INTEGER PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    enabled     INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    created_at  TEXT NOT NULL
);

CREATE TABLE branches (
    id              INTEGER PRIMARY KEY,
    organisation_id INTEGER NOT NULL REFERENCES organisations(id),
    code            TEXT NOT NULL,
    name            TEXT NOT NULL,
    enabled         INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    created_at      TEXT NOT NULL,
    UNIQUE (organisation_id, code)
);

CREATE TABLE users (
    id              INTEGER PRIMARY KEY,
    organisation_id INTEGER NOT NULL REFERENCES organisations(id),
    user_name       TEXT NOT NULL,
    password_hash   TEXT NOT NULL,
    enabled         INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    locked_until    TEXT,
    -- Bumped by every admin change to the user; cached credential checks compare it.
    auth_version    INTEGER NOT NULL DEFAULT 1,
    created_at      TEXT NOT NULL,
    UNIQUE (organisation_id, user_name)
);

CREATE TABLE user_rights (
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    right_code TEXT NOT NULL,
    PRIMARY KEY (user_id, right_code)
) WITHOUT ROWID;

CREATE TABLE user_branches (
    user_id   INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    branch_id INTEGER NOT NULL REFERENCES branches(id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, branch_id)
) WITHOUT ROWID;

CREATE TABLE user_computers (
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    computer_name TEXT NOT NULL COLLATE NOCASE,
    PRIMARY KEY (user_id, computer_name)
) WITHOUT ROWID;

CREATE TABLE sessions (
    -- SHA-256 of the session id; the id itself is never stored.
    token_hash    TEXT PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    branch_id     INTEGER NOT NULL REFERENCES branches(id) ON DELETE CASCADE,
    computer_name TEXT NOT NULL,
    terminal_type TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    expires_at    TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE employers (
    id            INTEGER PRIMARY KEY,
    branch_id     INTEGER NOT NULL REFERENCES branches(id),
    employer_code TEXT NOT NULL,
    employer_name TEXT NOT NULL,
    pay_frequency TEXT NOT NULL CHECK (pay_frequency IN ('MONTHLY', 'FORTNIGHTLY', 'WEEKLY')),
    pay_day       INTEGER,
    created_by    INTEGER NOT NULL REFERENCES users(id),
    created_at    TEXT NOT NULL,
    UNIQUE (branch_id, employer_code)
);

CREATE TABLE clients (
    id              INTEGER PRIMARY KEY,
    branch_id       INTEGER NOT NULL REFERENCES branches(id),
    employer_id     INTEGER NOT NULL REFERENCES employers(id),
    client_number   TEXT NOT NULL,
    first_name      TEXT NOT NULL,
    surname         TEXT NOT NULL,
    initials        TEXT,
    id_type         TEXT NOT NULL CHECK (id_type IN ('SA_ID', 'PASSPORT')),
    id_number       TEXT NOT NULL,
    date_of_birth   TEXT NOT NULL,
    gender          TEXT NOT NULL CHECK (gender IN ('M', 'F')),
    cellphone       TEXT,
    employee_number TEXT,
    email           TEXT,
    created_by      INTEGER NOT NULL REFERENCES users(id),
    created_at      TEXT NOT NULL,
    UNIQUE (branch_id, client_number)
);
CREATE INDEX clients_by_id_number ON clients (branch_id, id_type, id_number);
CREATE INDEX clients_by_cellphone ON clients (branch_id, cellphone);
