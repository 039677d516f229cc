-- PostgreSQL mirror of ../0006_holidays.sql (same tables, columns, keys and checks; SQLite INTEGER
-- is BIGINT, a rowid key is an identity column).
-- Public holidays declared while the service runs (`admin holiday add`), on top of the
-- statutory days and the bundled declared-holidays file. calendar_version counts the
-- changes: the server compares it with the version its cached calendar was built from,
-- so an unchanged calendar costs one primary-key read per request.
CREATE TABLE declared_holidays (
    holiday_date TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    added_at     TEXT NOT NULL
);

CREATE TABLE calendar_version (
    id      BIGINT PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO calendar_version (id, version) VALUES (1, 0);
