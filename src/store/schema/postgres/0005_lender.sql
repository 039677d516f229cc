-- PostgreSQL mirror of ../0005_lender.sql (same tables, columns, keys and checks; SQLite INTEGER
-- is BIGINT, a rowid key is an identity column).
-- The lender's details printed on every document: the registered (legal) name, the
-- National Credit Regulator registration number, address and contact details, and the
-- name a debit order shows on the payer's bank statement. Set with `admin org details`;
-- NULL until an operator records them.
ALTER TABLE organisations ADD COLUMN legal_name     TEXT;
ALTER TABLE organisations ADD COLUMN ncr_number     TEXT;
ALTER TABLE organisations ADD COLUMN address        TEXT;
ALTER TABLE organisations ADD COLUMN phone          TEXT;
ALTER TABLE organisations ADD COLUMN email          TEXT;
ALTER TABLE organisations ADD COLUMN statement_name TEXT;
