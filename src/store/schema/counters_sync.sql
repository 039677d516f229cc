-- store::counters::sync: gives rows stored without them (before migration 0008, or by a
-- seed script) their organisation and, as number, their row id (replies keep the
-- sequence they were given), then raises each organisation's counters past the largest
-- number it holds, so a number is never handed out twice within an organisation.
-- Idempotent. Run by migration 0008 and after every seed script. Portable SQL (no
-- two-argument MAX): the PostgreSQL backend runs the same text.

UPDATE clients SET organisation_id = (SELECT b.organisation_id FROM branches b WHERE b.id = clients.branch_id),
                   number = id
    WHERE number IS NULL;
UPDATE promissory_notes SET organisation_id = (SELECT b.organisation_id FROM branches b WHERE b.id = promissory_notes.branch_id),
                            number = id
    WHERE number IS NULL;
UPDATE credit_payments SET organisation_id = (SELECT b.organisation_id FROM branches b WHERE b.id = credit_payments.branch_id),
                           number = id
    WHERE number IS NULL;
UPDATE client_accounts SET organisation_id = (SELECT b.organisation_id FROM branches b WHERE b.id = client_accounts.branch_id),
                           number = id
    WHERE number IS NULL;
UPDATE wallets SET organisation_id = (SELECT b.organisation_id FROM branches b WHERE b.id = wallets.branch_id),
                   number = id
    WHERE number IS NULL;
UPDATE replies SET organisation_id = (SELECT b.organisation_id FROM branches b WHERE b.id = replies.branch_id)
    WHERE organisation_id IS NULL;

INSERT INTO counters (organisation_id, kind, next_value)
    SELECT organisation_id, 'CLIENT', MAX(number) + 1 FROM clients WHERE true GROUP BY organisation_id
    ON CONFLICT (organisation_id, kind) DO UPDATE
        SET next_value = CASE WHEN excluded.next_value > counters.next_value
                              THEN excluded.next_value ELSE counters.next_value END;
INSERT INTO counters (organisation_id, kind, next_value)
    SELECT organisation_id, 'PROMISSORY', MAX(number) + 1 FROM promissory_notes WHERE true GROUP BY organisation_id
    ON CONFLICT (organisation_id, kind) DO UPDATE
        SET next_value = CASE WHEN excluded.next_value > counters.next_value
                              THEN excluded.next_value ELSE counters.next_value END;
INSERT INTO counters (organisation_id, kind, next_value)
    SELECT organisation_id, 'PAYMENT', MAX(number) + 1 FROM credit_payments WHERE true GROUP BY organisation_id
    ON CONFLICT (organisation_id, kind) DO UPDATE
        SET next_value = CASE WHEN excluded.next_value > counters.next_value
                              THEN excluded.next_value ELSE counters.next_value END;
INSERT INTO counters (organisation_id, kind, next_value)
    SELECT organisation_id, 'ACCOUNT', MAX(number) + 1 FROM client_accounts WHERE true GROUP BY organisation_id
    ON CONFLICT (organisation_id, kind) DO UPDATE
        SET next_value = CASE WHEN excluded.next_value > counters.next_value
                              THEN excluded.next_value ELSE counters.next_value END;
INSERT INTO counters (organisation_id, kind, next_value)
    SELECT organisation_id, 'WALLET_REQUEST', MAX(number) + 1 FROM wallets WHERE true GROUP BY organisation_id
    ON CONFLICT (organisation_id, kind) DO UPDATE
        SET next_value = CASE WHEN excluded.next_value > counters.next_value
                              THEN excluded.next_value ELSE counters.next_value END;
INSERT INTO counters (organisation_id, kind, next_value)
    SELECT organisation_id, 'REPLY', MAX(sequence) + 1 FROM replies WHERE true GROUP BY organisation_id
    ON CONFLICT (organisation_id, kind) DO UPDATE
        SET next_value = CASE WHEN excluded.next_value > counters.next_value
                              THEN excluded.next_value ELSE counters.next_value END;
