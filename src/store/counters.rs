//! Per-organisation numbering (`counters` table, migration 0008): the next client,
//! promissory, payment, account, wallet-request number and reply sequence of each
//! organisation. A number is handed out by advancing the organisation's counter row
//! inside the caller's transaction, so a refused request (its savepoint rolled back)
//! gives it back: the numbers of an organisation are gapless and increase in commit
//! order, and no organisation's numbers depend on another's activity. On SQLite the one
//! writer serialises every advance; on a server database the counter row's lock, held
//! to commit, does the same (keep it one row per organisation and kind).

use crate::store::sql::params;

use crate::store::{DbError, Tx};

/// A row just inserted: its internal row id (what foreign keys and jobs name) and its
/// number in the organisation (what the wire shows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Numbered {
    /// The row id.
    pub id: i64,
    /// The number within the organisation.
    pub number: i64,
}

/// What is numbered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A client (the digits of its AllpsClientNumber).
    Client,
    /// A promissory note (the digits of its PromissoryNumber).
    Promissory,
    /// A credit payment (the digits of its PaymentNumber).
    Payment,
    /// A client account (its AccountId).
    Account,
    /// A wallet request (its WalletRequestId).
    WalletRequest,
    /// A reply (its Sequence in the GetReplies feed).
    Reply,
}

impl Kind {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Client => "CLIENT",
            Kind::Promissory => "PROMISSORY",
            Kind::Payment => "PAYMENT",
            Kind::Account => "ACCOUNT",
            Kind::WalletRequest => "WALLET_REQUEST",
            Kind::Reply => "REPLY",
        }
    }
}

/// Takes `n` (at least 1) consecutive numbers of `kind` in organisation `org_id`; returns
/// the first. The organisation's first number of a kind is 1.
///
/// The common case is `UPDATE counters SET next_value = next_value + n` on the
/// organisation's existing counter row (on a server database this takes the row's lock,
/// held to commit) and then reading the new value back in the same transaction; only the
/// first number of a kind in an organisation creates the row, with an
/// `INSERT ... ON CONFLICT DO UPDATE ... RETURNING`, also correct when two writers race to
/// create it. Measured with `bench/callgrind.sh` (AddClient, instructions per request):
/// the upsert on every call cost 338k, `UPDATE ... RETURNING` 300k, `UPDATE` then
/// `SELECT` 290k (265k before per-organisation numbering).
///
/// # Errors
///
/// SQLite.
pub fn allocate(tx: &Tx<'_>, org_id: i64, kind: Kind, n: i64) -> Result<i64, DbError> {
    debug_assert!(n >= 1);
    let advanced = tx
        .conn
        .prepare_cached(
            "UPDATE counters SET next_value = next_value + ?3
             WHERE organisation_id = ?1 AND kind = ?2",
        )?
        .execute(params![org_id, kind.as_str(), n])?;
    if advanced == 1 {
        return Ok(tx
            .conn
            .prepare_cached(
                "SELECT next_value - ?3 FROM counters WHERE organisation_id = ?1 AND kind = ?2",
            )?
            .query_row(params![org_id, kind.as_str(), n], |r| r.get(0))?);
    }
    Ok(tx
        .conn
        .prepare_cached(
            "INSERT INTO counters (organisation_id, kind, next_value) VALUES (?1, ?2, 1 + ?3)
             ON CONFLICT (organisation_id, kind) DO UPDATE SET next_value = counters.next_value + ?3
             RETURNING next_value - ?3",
        )?
        .query_row(params![org_id, kind.as_str(), n], |r| r.get(0))?)
}

/// Like [`allocate`] for the organisation that owns `branch_id`; returns that organisation
/// and the first number.
///
/// # Errors
///
/// SQLite (including a branch that does not exist).
pub fn allocate_for_branch(
    tx: &Tx<'_>,
    branch_id: i64,
    kind: Kind,
    n: i64,
) -> Result<(i64, i64), DbError> {
    let org_id = organisation_of_branch(tx, branch_id)?;
    Ok((org_id, allocate(tx, org_id, kind, n)?))
}

/// The organisation that owns `branch_id`.
///
/// # Errors
///
/// SQLite (including a branch that does not exist).
pub fn organisation_of_branch(tx: &Tx<'_>, branch_id: i64) -> Result<i64, DbError> {
    Ok(tx
        .conn
        .prepare_cached("SELECT organisation_id FROM branches WHERE id = ?1")?
        .query_row(params![branch_id], |r| r.get(0))?)
}

/// Gives rows stored without an organisation and number (before migration 0008, or by a
/// seed script) their organisation and their row id as number, and raises every counter
/// past the largest number its organisation holds (`schema/counters_sync.sql`).
/// Idempotent.
///
/// # Errors
///
/// SQLite, including a row id that collides with a number already handed out in its
/// organisation (the unique indexes refuse it).
pub fn sync(tx: &Tx<'_>) -> Result<(), DbError> {
    Ok(tx
        .conn
        .execute_batch(include_str!("schema/counters_sync.sql"))?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MIGRATIONS;

    fn store() -> crate::store::sql::Conn {
        let raw = rusqlite::Connection::open_in_memory().unwrap();
        raw.pragma_update(None, "foreign_keys", true).unwrap();
        let conn = crate::store::sql::Conn::sqlite(raw);
        for m in MIGRATIONS {
            conn.execute_batch(m).unwrap();
        }
        conn.execute_batch(
            "INSERT INTO organisations (id, code, name, created_at) VALUES (1, 'A', 'A', 'x'), (2, 'B', 'B', 'x');
             INSERT INTO branches (id, organisation_id, code, name, created_at)
                 VALUES (1, 1, 'A1', 'a1', 'x'), (2, 1, 'A2', 'a2', 'x'), (3, 2, 'B1', 'b1', 'x');",
        )
        .unwrap();
        conn
    }

    #[test]
    fn each_organisation_counts_from_one_in_blocks() {
        let conn = store();
        let tx = &Tx::new(&conn);
        (|| -> Result<(), DbError> {
            assert_eq!(allocate(tx, 1, Kind::Reply, 1)?, 1);
            assert_eq!(allocate(tx, 1, Kind::Reply, 5)?, 2);
            assert_eq!(allocate(tx, 1, Kind::Reply, 1)?, 7);
            assert_eq!(allocate(tx, 2, Kind::Reply, 1)?, 1);
            assert_eq!(allocate(tx, 1, Kind::Client, 1)?, 1);
            assert_eq!(allocate_for_branch(tx, 2, Kind::Reply, 2)?, (1, 8));
            assert_eq!(allocate_for_branch(tx, 3, Kind::Reply, 1)?, (2, 2));
            assert_eq!(organisation_of_branch(tx, 3)?, 2);
            Ok(())
        })()
        .unwrap();
    }

    #[test]
    fn sync_keeps_seeded_numbers_and_counts_on_from_the_largest() {
        let conn = store();
        let tx = &Tx::new(&conn);
        (|| -> Result<(), DbError> {
            allocate(tx, 2, Kind::Promissory, 40)?;
            crate::store::inspect::run_script(
                tx,
                "INSERT INTO users (id, organisation_id, user_name, password_hash, created_at) VALUES (1, 1, 'u', 'h', 'x');
                 INSERT INTO employers (id, branch_id, employer_code, employer_name, pay_frequency, created_by, created_at)
                     VALUES (1, 1, 'E', 'E', 'MONTHLY', 1, 'x'), (2, 3, 'E', 'E', 'MONTHLY', 1, 'x');
                 INSERT INTO clients (id, branch_id, employer_id, client_number, first_name, surname, id_type, id_number,
                                      date_of_birth, gender, created_by, created_at)
                     VALUES (5, 1, 1, 'C1', 'A', 'B', 'PASSPORT', 'P1', '1990-01-01', 'M', 1, 'x'),
                            (9, 3, 2, 'C1', 'A', 'B', 'PASSPORT', 'P2', '1990-01-01', 'M', 1, 'x');",
            )?;
            // run_script synced: the rows keep their ids as numbers.
            let row = crate::store::inspect::row_text(
                tx,
                "SELECT group_concat(v, ',') FROM (SELECT organisation_id || ':' || number AS v FROM clients ORDER BY id)",
            )?;
            assert_eq!(row, Some(vec![Some("1:5,2:9".into())]));
            assert_eq!(allocate(tx, 1, Kind::Client, 1)?, 6);
            assert_eq!(allocate(tx, 2, Kind::Client, 1)?, 10);
            // A counter already past the rows is not lowered.
            sync(tx)?;
            assert_eq!(allocate(tx, 2, Kind::Promissory, 1)?, 41);
            Ok(())
        })()
        .unwrap();
    }

    #[test]
    fn migration_0008_keeps_every_number_and_continues_after_it() {
        // A store at version 7 with business in two organisations, ids interleaved.
        let raw = rusqlite::Connection::open_in_memory().unwrap();
        raw.pragma_update(None, "foreign_keys", true).unwrap();
        let conn = crate::store::sql::Conn::sqlite(raw);
        for m in &MIGRATIONS[..7] {
            conn.execute_batch(m).unwrap();
        }
        conn.execute_batch(
            "INSERT INTO organisations (id, code, name, created_at) VALUES (1, 'A', 'A', 'x'), (2, 'B', 'B', 'x');
             INSERT INTO branches (id, organisation_id, code, name, created_at)
                 VALUES (1, 1, 'A1', 'a1', 'x'), (2, 2, 'B1', 'b1', 'x');
             INSERT INTO users (id, organisation_id, user_name, password_hash, created_at) VALUES (1, 1, 'u', 'h', 'x');
             INSERT INTO employers (id, branch_id, employer_code, employer_name, pay_frequency, created_by, created_at)
                 VALUES (1, 1, 'E', 'E', 'MONTHLY', 1, 'x'), (2, 2, 'E', 'E', 'MONTHLY', 1, 'x');
             INSERT INTO clients (id, branch_id, employer_id, client_number, first_name, surname, id_type, id_number,
                                  date_of_birth, gender, created_by, created_at)
                 VALUES (1, 1, 1, 'C1', 'A', 'B', 'PASSPORT', 'P1', '1990-01-01', 'M', 1, 'x'),
                        (2, 2, 2, 'C1', 'A', 'B', 'PASSPORT', 'P2', '1990-01-01', 'M', 1, 'x'),
                        (3, 1, 1, 'C2', 'A', 'B', 'PASSPORT', 'P3', '1990-01-01', 'M', 1, 'x');
             INSERT INTO replies (sequence, branch_id, reply_type, occurred_at)
                 VALUES (1, 1, 'WALLET_CREATED', 'x'), (2, 2, 'WALLET_CREATED', 'x'), (3, 2, 'WALLET_CREATED', 'x'),
                        (4, 1, 'WALLET_CREATED', 'x');",
        )
        .unwrap();
        conn.execute_batch(MIGRATIONS[7]).unwrap();
        let tx = &Tx::new(&conn);
        let all = |sql: &str| {
            crate::store::inspect::row_text(tx, sql).unwrap().unwrap()[0]
                .clone()
                .unwrap()
        };
        assert_eq!(
            all(
                "SELECT group_concat(v, ',') FROM (SELECT id || ':' || organisation_id || ':' || number AS v FROM clients ORDER BY id)"
            ),
            "1:1:1,2:2:2,3:1:3"
        );
        assert_eq!(
            all(
                "SELECT group_concat(v, ',') FROM (SELECT id || ':' || organisation_id || ':' || sequence AS v FROM replies ORDER BY id)"
            ),
            "1:1:1,2:2:2,3:2:3,4:1:4"
        );
        // Each organisation continues after its own largest number, so a reader's stored
        // NextSequence (at most its organisation's largest) stays valid.
        (|| -> Result<(), DbError> {
            assert_eq!(allocate(tx, 1, Kind::Client, 1)?, 4);
            assert_eq!(allocate(tx, 2, Kind::Client, 1)?, 3);
            assert_eq!(allocate(tx, 1, Kind::Reply, 1)?, 5);
            assert_eq!(allocate(tx, 2, Kind::Reply, 1)?, 4);
            assert_eq!(allocate(tx, 2, Kind::Promissory, 1)?, 1);
            Ok(())
        })()
        .unwrap();
    }
}
