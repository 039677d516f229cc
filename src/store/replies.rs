//! The replies feed (`replies` table): every outcome the outside world reports, written
//! by the processor in the same transaction as the state change it reports, and read by
//! `GetReplies` a page at a time. `sequence` is an AUTOINCREMENT key assigned by the one
//! writer inside the write lock (on PostgreSQL, under a lock held to COMMIT: see
//! `serialise_sequence`), so it increases strictly in commit order and a reader paging
//! with `sequence > NextSequence` never misses or repeats one.

use crate::store::sql::{Dialect, params};
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

/// Makes sequences commit in order across nodes. SQLite has one writer, so its
/// AUTOINCREMENT is assigned in commit order already. On PostgreSQL, nodes commit
/// concurrently and an identity drawn in one transaction may commit after a larger one
/// drawn later, so a reader paging by `sequence > NextSequence` could pass the smaller
/// one before it is visible and never see it (the sequence-gap problem). So a transaction
/// takes this transaction-scoped lock before it draws its first sequence and holds it
/// to its COMMIT: the next writer of replies, on any node, draws only after that commit,
/// and every snapshot a reader takes holds a prefix of the sequence order.
fn serialise_sequence(tx: &Tx<'_>) -> Result<(), DbError> {
    if tx.conn.dialect() == Dialect::Postgres {
        tx.conn
            .prepare_cached("SELECT pg_advisory_xact_lock(7412002)")?
            .execute(params![])?;
    }
    Ok(())
}

/// Appends a reply; returns its sequence.
///
/// # Errors
///
/// SQLite.
pub fn insert(tx: &Tx<'_>, reply: &NewReply<'_>) -> Result<i64, DbError> {
    serialise_sequence(tx)?;
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
}

/// The branch's replies after `since`, ascending, at most `limit`.
///
/// # Errors
///
/// SQLite.
pub fn page(tx: &Tx<'_>, branch_id: i64, since: i64, limit: i64) -> Result<Vec<ReplyRow>, DbError> {
    tx.conn.prepare_cached(
        "SELECT r.sequence, r.reply_type, r.occurred_at, c.client_number, r.promissory_id, r.instalment_number,
                r.payment_id, r.part_number, r.wallet_number, r.amount, r.reason_code, r.reason_text
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
        })
    })?
    .collect::<Result<_, _>>().map_err(DbError::from)
}
