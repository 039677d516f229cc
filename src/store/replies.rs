//! The replies feed (`replies` table): every outcome the outside world reports, written
//! by the processor in the same transaction as the state change it reports, and read by
//! `GetReplies` a page at a time. `sequence` is an AUTOINCREMENT key assigned by the one
//! writer inside the write lock, so it increases strictly in commit order and a reader
//! paging with `sequence > NextSequence` never misses or repeats one.

use crate::store::sql::{OwnedValue, ToSql, params};
use crate::store::{DbError, Tx};
use rust_decimal::Decimal;
use time::OffsetDateTime;

use crate::clock::format_timestamp;
use crate::domain::payouts::ReplyType;
use crate::store::money_text;

/// A reply to append. Fields that do not apply to the type are `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReply<'a> {
    /// The branch whose feed it belongs to.
    pub branch_id: i64,
    /// What happened.
    pub reply_type: ReplyType,
    /// When it happened.
    pub occurred_at: OffsetDateTime,
    /// The client concerned.
    pub client_id: Option<i64>,
    /// The promissory note (instalment and mandate replies).
    pub promissory_id: Option<i64>,
    /// The instalment (instalment replies).
    pub instalment_number: Option<i64>,
    /// The credit payment (payment replies).
    pub payment_id: Option<i64>,
    /// The payment part (payment replies).
    pub part_number: Option<i64>,
    /// The wallet number (wallet replies; payment replies to a wallet).
    pub wallet_number: Option<&'a str>,
    /// The amount concerned.
    pub amount: Option<Decimal>,
    /// The outside world's reason code.
    pub reason_code: Option<&'a str>,
    /// The reason in words.
    pub reason_text: Option<&'a str>,
    /// The lender's settlement date (INSTALMENT_COLLECTED).
    pub settlement_date: Option<time::Date>,
}

impl<'a> NewReply<'a> {
    /// A reply with only its branch, type and time set.
    pub fn new(branch_id: i64, reply_type: ReplyType, occurred_at: OffsetDateTime) -> Self {
        NewReply {
            branch_id,
            reply_type,
            occurred_at,
            client_id: None,
            promissory_id: None,
            instalment_number: None,
            payment_id: None,
            part_number: None,
            wallet_number: None,
            amount: None,
            reason_code: None,
            reason_text: None,
            settlement_date: None,
        }
    }
}

/// Appends a reply; returns its sequence.
///
/// # Errors
///
/// SQLite.
pub fn insert(tx: &Tx<'_>, reply: &NewReply<'_>) -> Result<i64, DbError> {
    tx.conn.prepare_cached(
        "INSERT INTO replies (branch_id, reply_type, occurred_at, client_id, promissory_id, instalment_number,
                              payment_id, part_number, wallet_number, amount, reason_code, reason_text,
                              settlement_date)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?
    .execute(params![
        reply.branch_id,
        reply.reply_type.as_str(),
        format_timestamp(reply.occurred_at),
        reply.client_id,
        reply.promissory_id,
        reply.instalment_number,
        reply.payment_id,
        reply.part_number,
        reply.wallet_number,
        reply.amount.map(money_text),
        reply.reason_code,
        reply.reason_text,
        reply.settlement_date.map(crate::clock::format_date)
    ])?;
    Ok(tx.conn.last_insert_rowid()?)
}

/// Rows per multi-row `INSERT` in [`insert_many`].
const CHUNK: usize = 50;

/// The columns of one reply, bound as [`insert`] binds them.
fn bind_reply(reply: &NewReply<'_>) -> [OwnedValue; 13] {
    use OwnedValue as Value;
    let text = |s: Option<&str>| s.map_or(Value::Null, |s| Value::Text(s.to_string()));
    let int = |i: Option<i64>| i.map_or(Value::Null, Value::Integer);
    [
        Value::Integer(reply.branch_id),
        Value::Text(reply.reply_type.as_str().to_string()),
        Value::Text(format_timestamp(reply.occurred_at)),
        int(reply.client_id),
        int(reply.promissory_id),
        int(reply.instalment_number),
        int(reply.payment_id),
        int(reply.part_number),
        text(reply.wallet_number),
        reply
            .amount
            .map_or(Value::Null, |a| Value::Text(money_text(a))),
        text(reply.reason_code),
        text(reply.reason_text),
        reply
            .settlement_date
            .map_or(Value::Null, |d| Value::Text(crate::clock::format_date(d))),
    ]
}

/// Appends replies in the order given (their sequences increase in that order), a
/// multi-row `INSERT` per [`CHUNK`]: what a collection batch reports.
///
/// # Errors
///
/// SQLite.
pub fn insert_many(tx: &Tx<'_>, replies: &[NewReply<'_>]) -> Result<(), DbError> {
    const COLUMNS: &str =
        "INSERT INTO replies (branch_id, reply_type, occurred_at, client_id, promissory_id,
        instalment_number, payment_id, part_number, wallet_number, amount, reason_code, reason_text,
        settlement_date) VALUES ";
    let mut chunks = replies.chunks_exact(CHUNK);
    if replies.len() >= CHUNK {
        let sql = format!(
            "{COLUMNS}{}",
            vec!["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"; CHUNK].join(", ")
        );
        let mut statement = tx.conn.prepare_cached(&sql)?;
        for chunk in &mut chunks {
            let values: Vec<OwnedValue> = chunk.iter().flat_map(bind_reply).collect();
            let bound: Vec<&dyn ToSql> = values.iter().map(|v| v as &dyn ToSql).collect();
            statement.execute(bound.as_slice())?;
        }
    }
    for reply in chunks.remainder() {
        insert(tx, reply)?;
    }
    Ok(())
}

/// A stored reply as GetReplies shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyRow {
    /// Position in the feed.
    pub sequence: i64,
    /// The stored type spelling.
    pub reply_type: String,
    /// RFC 3339.
    pub occurred_at: String,
    /// The client's ClientNumber.
    pub client_number: Option<String>,
    /// The promissory note's row id.
    pub promissory_id: Option<i64>,
    /// The instalment.
    pub instalment_number: Option<i64>,
    /// The payment's row id.
    pub payment_id: Option<i64>,
    /// The payment part.
    pub part_number: Option<i64>,
    /// The wallet number.
    pub wallet_number: Option<String>,
    /// The amount, canonical text.
    pub amount: Option<String>,
    /// The reason code.
    pub reason_code: Option<String>,
    /// The reason text.
    pub reason_text: Option<String>,
    /// The lender's settlement date of a collection (`INSTALMENT_COLLECTED`).
    pub settlement_date: Option<String>,
}

/// The branch's replies after `since`, ascending, at most `limit`.
///
/// # Errors
///
/// SQLite.
pub fn page(tx: &Tx<'_>, branch_id: i64, since: i64, limit: i64) -> Result<Vec<ReplyRow>, DbError> {
    tx.conn.prepare_cached(
        "SELECT r.sequence, r.reply_type, r.occurred_at, c.client_number, r.promissory_id, r.instalment_number,
                r.payment_id, r.part_number, r.wallet_number, r.amount, r.reason_code, r.reason_text,
                r.settlement_date
         FROM replies r LEFT JOIN clients c ON c.id = r.client_id
         WHERE r.branch_id = ?1 AND r.sequence > ?2
         ORDER BY r.sequence LIMIT ?3",
    )?
    .query_map(params![branch_id, since, limit], |r| {
        Ok(ReplyRow {
            sequence: r.get(0)?,
            reply_type: r.get(1)?,
            occurred_at: r.get(2)?,
            client_number: r.get(3)?,
            promissory_id: r.get(4)?,
            instalment_number: r.get(5)?,
            payment_id: r.get(6)?,
            part_number: r.get(7)?,
            wallet_number: r.get(8)?,
            amount: r.get(9)?,
            reason_code: r.get(10)?,
            reason_text: r.get(11)?,
            settlement_date: r.get(12)?,
        })
    })?
    .collect::<Result<_, _>>().map_err(DbError::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store;
    use time::macros::{date, datetime};

    #[test]
    fn insert_many_appends_in_order_exactly_as_insert_does() {
        let mut c = rusqlite::Connection::open_in_memory().unwrap();
        store::migrate(&mut c).unwrap();
        let db = store::sql::Conn::sqlite(c);
        db.execute_batch(
            "INSERT INTO organisations (id, code, name, created_at) VALUES (1, 'O', 'O', '2026-01-01T00:00:00Z');
             INSERT INTO branches (id, organisation_id, code, name, created_at)
                 VALUES (1, 1, 'B1', 'B1', '2026-01-01T00:00:00Z'), (2, 1, 'B2', 'B2', '2026-01-01T00:00:00Z');",
        )
        .unwrap();
        let tx = Tx::new(&db);
        let at = datetime!(2027-01-14 04:00 UTC);
        // 2 full chunks and a remainder, two branches interleaved, every column used.
        let many: Vec<NewReply<'_>> = (0..(2 * CHUNK as i64 + 7))
            .map(|i| NewReply {
                promissory_id: Some(i),
                instalment_number: Some(1),
                amount: Some(Decimal::new(50_000 + i, 2)),
                reason_code: (i % 3 == 0).then_some("02"),
                reason_text: (i % 3 == 0).then_some("NOT PROVIDED FOR"),
                settlement_date: (i % 2 == 0).then_some(date!(2027 - 01 - 15)),
                wallet_number: (i == 5).then_some("W0000000001"),
                ..NewReply::new(1 + i % 2, ReplyType::InstalmentCollected, at)
            })
            .collect();
        let first = insert(&tx, &NewReply::new(1, ReplyType::NoteCompleted, at)).unwrap();
        insert_many(&tx, &many).unwrap();
        let mut read = page(&tx, 1, first, 1000).unwrap();
        read.extend(page(&tx, 2, 0, 1000).unwrap());
        read.sort_by_key(|r| r.sequence);
        assert_eq!(read.len(), many.len());
        for (k, (stored, sent)) in read.iter().zip(&many).enumerate() {
            assert_eq!(
                stored.sequence,
                first + 1 + k as i64,
                "sequences follow the order given"
            );
            assert_eq!(stored.promissory_id, sent.promissory_id);
            assert_eq!(stored.amount, sent.amount.map(money_text));
            assert_eq!(stored.reason_code.as_deref(), sent.reason_code);
            assert_eq!(stored.reason_text.as_deref(), sent.reason_text);
            assert_eq!(stored.wallet_number.as_deref(), sent.wallet_number);
            assert_eq!(
                stored.settlement_date,
                sent.settlement_date.map(crate::clock::format_date)
            );
            assert_eq!(stored.occurred_at, "2027-01-14T04:00:00Z");
            assert_eq!(stored.reply_type, "INSTALMENT_COLLECTED");
        }
        insert_many(&tx, &[]).unwrap();
    }
}
