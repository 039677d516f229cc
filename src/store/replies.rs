//! The replies feed (`replies` table): every outcome the outside world reports, written
//! by the processor in the same transaction as the state change it reports, and read by
//! `GetReplies` a page at a time. `sequence` counts within the organisation: it comes
//! from the organisation's `REPLY` counter ([`allocate`], `store::counters`), advanced
//! inside the writing transaction, so within an organisation it increases strictly in
//! commit order without gaps, and a reader of any branch paging with
//! `sequence > NextSequence` never misses or repeats one. Bulk writers take a block of
//! sequences at once ([`allocate`] then [`insert_at`], or [`insert_all`]).

use crate::store::sql::params;
use crate::store::{DbError, Tx};
use rust_decimal::Decimal;
use time::OffsetDateTime;

use crate::clock::format_timestamp;
use crate::domain::payouts::ReplyType;
use crate::store::counters::{self, Kind};
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
    /// Whether the DebiCheck collection reported can be disputed, and why.
    pub disputable: Option<(bool, &'a str)>,
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
            disputable: None,
        }
    }
}

/// Takes a block of `n` (at least 1) consecutive reply sequences of organisation
/// `org_id`, in the caller's transaction; returns the first (the block is
/// `first..first + n`). For bulk inserts: give each reply of the block its own sequence
/// with [`insert_at`], in the order the feed should show them. The block is the
/// organisation's alone until the transaction ends (rolled back, it is given back), so
/// sequences stay gapless and commit-ordered.
///
/// # Errors
///
/// SQLite.
pub fn allocate(tx: &Tx<'_>, org_id: i64, n: i64) -> Result<i64, DbError> {
    counters::allocate(tx, org_id, Kind::Reply, n)
}

/// Appends a reply with a sequence taken for it from its branch's organisation; returns
/// the sequence.
///
/// # Errors
///
/// SQLite.
pub fn insert(tx: &Tx<'_>, reply: &NewReply<'_>) -> Result<i64, DbError> {
    let (org_id, sequence) = counters::allocate_for_branch(tx, reply.branch_id, Kind::Reply, 1)?;
    insert_at(tx, org_id, sequence, reply)?;
    Ok(sequence)
}

/// Appends replies in order, taking one block of sequences per organisation (replies of
/// one organisation get consecutive sequences in slice order); returns each reply's
/// sequence.
///
/// # Errors
///
/// SQLite.
pub fn insert_all(tx: &Tx<'_>, replies: &[NewReply<'_>]) -> Result<Vec<i64>, DbError> {
    // blocks[k] = (organisation, replies it needs, then its next sequence); few distinct.
    let mut branch_block: Vec<(i64, usize)> = Vec::new();
    let mut blocks: Vec<(i64, i64)> = Vec::new();
    let mut block_of = Vec::with_capacity(replies.len());
    for reply in replies {
        let k = match branch_block.iter().find(|(b, _)| *b == reply.branch_id) {
            Some((_, k)) => *k,
            None => {
                let org = counters::organisation_of_branch(tx, reply.branch_id)?;
                let k = match blocks.iter().position(|(o, _)| *o == org) {
                    Some(k) => k,
                    None => {
                        blocks.push((org, 0));
                        blocks.len() - 1
                    }
                };
                branch_block.push((reply.branch_id, k));
                k
            }
        };
        blocks[k].1 += 1;
        block_of.push(k);
    }
    for (org, count) in &mut blocks {
        *count = allocate(tx, *org, *count)?;
    }
    let mut sequences = Vec::with_capacity(replies.len());
    for (reply, k) in replies.iter().zip(block_of) {
        let (org, sequence) = blocks[k];
        blocks[k].1 += 1;
        insert_at(tx, org, sequence, reply)?;
        sequences.push(sequence);
    }
    Ok(sequences)
}

/// Appends a reply of organisation `org_id` (the owner of `reply.branch_id`) with a
/// sequence the caller took from [`allocate`]. Each sequence of a block is used once.
///
/// # Errors
///
/// SQLite (including a sequence used twice in the organisation).
pub fn insert_at(
    tx: &Tx<'_>,
    org_id: i64,
    sequence: i64,
    reply: &NewReply<'_>,
) -> Result<(), DbError> {
    tx.conn.prepare_cached(
        "INSERT INTO replies (organisation_id, sequence, branch_id, reply_type, occurred_at, client_id,
                              promissory_id, instalment_number, payment_id, part_number, wallet_number,
                              amount, reason_code, reason_text, settlement_date, disputable,
                              disputable_reason)
         VALUES (?14, ?15, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?16, ?17)",
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
        reply.settlement_date.map(crate::clock::format_date),
        org_id,
        sequence,
        reply.disputable.map(|(d, _)| d),
        reply.disputable.map(|(_, reason)| reason)
    ])?;
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
    /// The promissory note's number (PromissoryNumber digits).
    pub promissory_number: Option<i64>,
    /// The instalment.
    pub instalment_number: Option<i64>,
    /// The payment's number (PaymentNumber digits).
    pub payment_number: Option<i64>,
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
    /// Disputable (DebiCheck collection replies).
    pub disputable: Option<bool>,
    /// Why it is or is not disputable.
    pub disputable_reason: Option<String>,
}

/// The branch's replies after `since`, ascending, at most `limit`.
///
/// # Errors
///
/// SQLite.
pub fn page(tx: &Tx<'_>, branch_id: i64, since: i64, limit: i64) -> Result<Vec<ReplyRow>, DbError> {
    tx.conn.prepare_cached(
        "SELECT r.sequence, r.reply_type, r.occurred_at, c.client_number, n.number, r.instalment_number,
                p.number, r.part_number, r.wallet_number, r.amount, r.reason_code, r.reason_text,
                r.disputable, r.disputable_reason
         FROM replies r LEFT JOIN clients c ON c.id = r.client_id
              LEFT JOIN promissory_notes n ON n.id = r.promissory_id
              LEFT JOIN credit_payments p ON p.id = r.payment_id
         WHERE r.branch_id = ?1 AND r.sequence > ?2
         ORDER BY r.sequence LIMIT ?3",
    )?
    .query_map(params![branch_id, since, limit], |r| {
        Ok(ReplyRow {
            sequence: r.get(0)?,
            reply_type: r.get(1)?,
            occurred_at: r.get(2)?,
            client_number: r.get(3)?,
            promissory_number: r.get(4)?,
            instalment_number: r.get(5)?,
            payment_number: r.get(6)?,
            part_number: r.get(7)?,
            wallet_number: r.get(8)?,
            amount: r.get(9)?,
            reason_code: r.get(10)?,
            reason_text: r.get(11)?,
            disputable: r.get(12)?,
            disputable_reason: r.get(13)?,
        })
    })?
    .collect::<Result<_, _>>().map_err(DbError::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MIGRATIONS;
    use time::macros::datetime;

    #[test]
    fn blocks_are_per_organisation_and_in_order() {
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
        let tx = &Tx::new(&conn);
        let at = datetime!(2026-11-23 08:00 UTC);
        let reply = |branch| NewReply::new(branch, ReplyType::WalletCreated, at);
        assert_eq!(insert(tx, &reply(3)).unwrap(), 1);
        let got = insert_all(tx, &[reply(1), reply(3), reply(2), reply(1), reply(3)]).unwrap();
        assert_eq!(got, [1, 2, 2, 3, 3]);
        // A block taken for a bulk insert is the caller's: the next single reply follows it.
        let first = allocate(tx, 1, 10).unwrap();
        assert_eq!(first, 4);
        for i in 0..10 {
            insert_at(tx, 1, first + i, &reply(2)).unwrap();
        }
        assert_eq!(insert(tx, &reply(1)).unwrap(), 14);
        assert!(
            insert_at(tx, 1, 5, &reply(1)).is_err(),
            "a sequence used twice"
        );
        let page = page(tx, 2, 3, 100).unwrap();
        let seqs: Vec<i64> = page.iter().map(|r| r.sequence).collect();
        assert_eq!(seqs, [4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    }
}
