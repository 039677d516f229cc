-- The operator console (src/console/): operator accounts, their sessions and the audit
-- log. Operators are not integration users: a platform operator (organisation_id NULL)
-- sets up organisations; an organisation administrator sees and changes only its own.
-- Timestamps are RFC 3339 UTC text.

CREATE TABLE operators (
    id              INTEGER PRIMARY KEY,
    login           TEXT NOT NULL UNIQUE,
    password_hash   TEXT NOT NULL,
    -- NULL: platform operator; otherwise the organisation it administers.
    organisation_id INTEGER REFERENCES organisations(id),
    enabled         INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    locked_until    TEXT,
    -- Bumped by every change to the operator, like users.auth_version.
    auth_version    INTEGER NOT NULL DEFAULT 1,
    created_at      TEXT NOT NULL
);

CREATE TABLE operator_sessions (
    -- SHA-256 (hex) of the session cookie's value; the value itself is never stored.
    token_hash  TEXT PRIMARY KEY,
    operator_id INTEGER NOT NULL REFERENCES operators(id) ON DELETE CASCADE,
    -- The anti-CSRF token every form of this session carries.
    csrf_token  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    peer        TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX operator_sessions_by_operator ON operator_sessions (operator_id);

-- Every change made through the console or `allps-ws admin`: who, when, what, from where.
-- Append-only: the triggers refuse any UPDATE or DELETE.
CREATE TABLE audit_log (
    id           INTEGER PRIMARY KEY,
    at           TEXT NOT NULL,
    actor        TEXT NOT NULL,
    -- The organisation the change concerns (NULL: platform-wide, e.g. a holiday).
    organisation TEXT,
    action       TEXT NOT NULL,
    detail       TEXT NOT NULL,
    peer         TEXT NOT NULL
);
CREATE INDEX audit_log_by_organisation ON audit_log (organisation, id);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

-- The console's paged lists of a branch's wallets and of a wallet's cards.
CREATE INDEX wallets_by_branch ON wallets (branch_id, id);
CREATE INDEX wallet_cards_by_wallet ON wallet_cards (wallet_id, id);
