-- The collection engine at scale (issue 8): the sweeps' index holds only the instalments
-- a sweep still has to submit or present (PENDING, SUBMITTED). Before, every status
-- change of every instalment moved its entry in this index; now a presentment only
-- removes it and later changes (COLLECTED, UNPAID, TRACKING, REVERSED) never touch it.
-- Queries that use it name the index's condition (`status IN ('PENDING', 'SUBMITTED')`)
-- word for word, since SQLite proves a partial index usable only from identical terms.
DROP INDEX instalments_due;
CREATE INDEX instalments_due ON instalments (action_date, status)
    WHERE status IN ('PENDING', 'SUBMITTED');
