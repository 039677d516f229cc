//! The `credit_payments` and `credit_payment_parts` tables: payments to clients and
//! their parts, and the payment status that follows from the parts.

use crate::store::sql::{OptionalExtension, Row, params};
use rust_decimal::Decimal;

use crate::domain::cdv::AccountType;
use crate::domain::payouts::{PartStatus, PaymentStatus, RecipientType, payment_status};
use crate::store::counters::{self, Kind, Numbered};
use crate::store::{DbError, Tx, money, opt_money, opt_parsed, parsed};

/// A credit payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRow {
    /// Row id.
    pub id: i64,
    /// The number in the organisation (PaymentNumber = `CP` + number).
    pub number: i64,
    /// The branch.
    pub branch_id: i64,
    /// The client.
    pub client_id: i64,
    /// The client's ClientNumber.
    pub client_number: String,
    /// The integrator's PaymentReference.
    pub payment_reference: String,
    /// The payment's status.
    pub status: PaymentStatus,
    /// The action date, `YYYY-MM-DD`.
    pub action_date: String,
    /// The ActionDate as requested (None when defaulted).
    pub requested_action_date: Option<String>,
    /// Account parts + cash.
    pub total_amount: Decimal,
    /// The cash part, if any.
    pub cash_amount: Option<Decimal>,
    /// When it was accepted.
    pub created_at: String,
}

const PAYMENT_COLUMNS: &str =
    "p.id, p.branch_id, p.client_id, c.client_number, p.payment_reference, p.status,
     p.action_date, p.requested_action_date, p.total_amount, p.cash_amount, p.created_at, p.number";

fn payment_row(r: &Row<'_>) -> Result<PaymentRow, crate::store::sql::Error> {
    Ok(PaymentRow {
        id: r.get(0)?,
        branch_id: r.get(1)?,
        client_id: r.get(2)?,
        client_number: r.get(3)?,
        payment_reference: r.get(4)?,
        status: parsed(r, 5, PaymentStatus::parse)?,
        action_date: r.get(6)?,
        requested_action_date: r.get(7)?,
        total_amount: money(r, 8)?,
        cash_amount: opt_money(r, 9)?,
        created_at: r.get(10)?,
        number: r.get(11)?,
    })
}

/// The payment of a branch with this number (PaymentNumber digits). Numbers count
/// within the organisation; the branch scopes the lookup, so another organisation's
/// payment with the same number is not found.
///
/// # Errors
///
/// SQLite.
pub fn payment_by_number(
    tx: &Tx<'_>,
    branch_id: i64,
    number: i64,
) -> Result<Option<PaymentRow>, DbError> {
    tx.conn
        .prepare_cached(&format!(
            "SELECT {PAYMENT_COLUMNS} FROM credit_payments p JOIN clients c ON c.id = p.client_id
         WHERE p.number = ?2 AND p.branch_id = ?1
           AND p.organisation_id = (SELECT organisation_id FROM branches WHERE id = ?1)"
        ))?
        .query_row(params![branch_id, number], payment_row)
        .optional()
        .map_err(DbError::from)
}

/// A payment by id, whatever its branch (the processor).
///
/// # Errors
///
/// SQLite.
pub fn payment(tx: &Tx<'_>, payment_id: i64) -> Result<Option<PaymentRow>, DbError> {
    tx.conn
        .prepare_cached(&format!(
            "SELECT {PAYMENT_COLUMNS} FROM credit_payments p JOIN clients c ON c.id = p.client_id
         WHERE p.id = ?1"
        ))?
        .query_row([payment_id], payment_row)
        .optional()
        .map_err(DbError::from)
}

/// A payment of a branch by its PaymentReference.
///
/// # Errors
///
/// SQLite.
pub fn find_payment_by_reference(
    tx: &Tx<'_>,
    branch_id: i64,
    reference: &str,
) -> Result<Option<PaymentRow>, DbError> {
    tx.conn
        .prepare_cached(&format!(
            "SELECT {PAYMENT_COLUMNS} FROM credit_payments p JOIN clients c ON c.id = p.client_id
         WHERE p.branch_id = ?1 AND p.payment_reference = ?2"
        ))?
        .query_row(params![branch_id, reference], payment_row)
        .optional()
        .map_err(DbError::from)
}

/// One part of a payment, with its account's details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartRow {
    /// 1-based part number.
    pub part_number: i64,
    /// Bank account, wallet or cash.
    pub recipient_type: RecipientType,
    /// The account's row id (not for cash).
    pub account_id: Option<i64>,
    /// The account's AccountId, its number in the organisation (not for cash).
    pub account_ref: Option<i64>,
    /// The account or wallet number (not for cash).
    pub account_number: Option<String>,
    /// The bank branch code (bank parts).
    pub bank_branch_code: Option<String>,
    /// The bank's name (bank parts).
    pub bank_name: Option<String>,
    /// The account type (bank parts).
    pub account_type: Option<AccountType>,
    /// The registered holder name (bank parts).
    pub holder_name: Option<String>,
    /// The amount.
    pub amount: Decimal,
    /// The part's status.
    pub status: PartStatus,
    /// When it reached that status.
    pub status_at: String,
    /// When it was submitted to the bank.
    pub submitted_at: Option<String>,
    /// When it was delivered (or credited).
    pub delivered_at: Option<String>,
    /// When it was returned.
    pub returned_at: Option<String>,
    /// The bank's return code.
    pub return_code: Option<String>,
    /// The bank's return reason.
    pub return_reason: Option<String>,
}

/// The parts of a payment, in part order.
///
/// # Errors
///
/// SQLite.
pub fn parts_of(tx: &Tx<'_>, payment_id: i64) -> Result<Vec<PartRow>, DbError> {
    tx.conn.prepare_cached(
        "SELECT p.part_number, p.recipient_type, p.account_id, a.account_number, a.bank_branch_code, a.bank_name,
                a.account_type, a.holder_name, p.amount, p.status, p.status_at, p.submitted_at, p.delivered_at,
                p.returned_at, p.return_code, p.return_reason, a.number
         FROM credit_payment_parts p LEFT JOIN client_accounts a ON a.id = p.account_id
         WHERE p.payment_id = ?1 ORDER BY p.part_number",
    )?
    .query_map([payment_id], |r| {
        Ok(PartRow {
            part_number: r.get(0)?,
            recipient_type: parsed(r, 1, RecipientType::parse)?,
            account_id: r.get(2)?,
            account_number: r.get(3)?,
            bank_branch_code: r.get(4)?,
            bank_name: r.get(5)?,
            account_type: opt_parsed(r, 6, AccountType::parse)?,
            holder_name: r.get(7)?,
            amount: money(r, 8)?,
            status: parsed(r, 9, PartStatus::parse)?,
            status_at: r.get(10)?,
            submitted_at: r.get(11)?,
            delivered_at: r.get(12)?,
            returned_at: r.get(13)?,
            return_code: r.get(14)?,
            return_reason: r.get(15)?,
            account_ref: r.get(16)?,
        })
    })?
    .collect::<Result<_, _>>().map_err(DbError::from)
}

/// Recomputes a payment's status from its parts and stores it; returns it.
///
/// # Errors
///
/// SQLite.
pub fn refresh_payment_status(tx: &Tx<'_>, payment_id: i64) -> Result<PaymentStatus, DbError> {
    let parts: Vec<(RecipientType, PartStatus)> = parts_of(tx, payment_id)?
        .into_iter()
        .map(|p| (p.recipient_type, p.status))
        .collect();
    let status = payment_status(&parts);
    tx.conn
        .prepare_cached("UPDATE credit_payments SET status = ?1 WHERE id = ?2 AND status <> ?1")?
        .execute(params![status.as_str(), payment_id])?;
    Ok(status)
}

/// A credit payment to store, ACCEPTED.
#[derive(Debug, Clone, Copy)]
pub struct NewPayment<'a> {
    /// The branch.
    pub branch_id: i64,
    /// The client paid.
    pub client_id: i64,
    /// The caller's PaymentReference (unique in the branch).
    pub payment_reference: &'a str,
    /// The action date, `YYYY-MM-DD`.
    pub action_date: &'a str,
    /// The action date the caller asked for, as sent.
    pub requested_action_date: Option<&'a str>,
    /// The total.
    pub total: Decimal,
    /// The cash part, if any.
    pub cash: Option<Decimal>,
    /// The user.
    pub created_by: i64,
}

/// Stores an ACCEPTED payment with the next payment number of its organisation; returns
/// its row id and number.
///
/// # Errors
///
/// SQLite (a UNIQUE violation for a reference already used in the branch).
pub fn insert_payment(
    tx: &Tx<'_>,
    payment: &NewPayment<'_>,
    now: time::OffsetDateTime,
) -> Result<Numbered, DbError> {
    let (org_id, number) = counters::allocate_for_branch(tx, payment.branch_id, Kind::Payment, 1)?;
    tx.conn
        .prepare_cached(
            "INSERT INTO credit_payments (branch_id, client_id, payment_reference, status, action_date,
                                          requested_action_date, total_amount, cash_amount, created_by, created_at,
                                          organisation_id, number)
             VALUES (?1, ?2, ?3, 'ACCEPTED', ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )?
        .execute(params![
            payment.branch_id,
            payment.client_id,
            payment.payment_reference,
            payment.action_date,
            payment.requested_action_date,
            crate::store::money_text(payment.total),
            payment.cash.map(crate::store::money_text),
            payment.created_by,
            crate::clock::format_timestamp(now),
            org_id,
            number
        ])?;
    Ok(Numbered {
        id: tx.conn.last_insert_rowid()?,
        number,
    })
}

/// One part of a payment to store.
#[derive(Debug, Clone, Copy)]
pub struct NewPart {
    /// The payment.
    pub payment_id: i64,
    /// 1, 2, ... in request order (the cash part last).
    pub part_number: i64,
    /// Who receives it.
    pub recipient: RecipientType,
    /// The client account credited (none for cash).
    pub account_id: Option<i64>,
    /// The amount.
    pub amount: Decimal,
    /// Its first status.
    pub status: PartStatus,
}

/// Stores one part of a payment.
///
/// # Errors
///
/// SQLite.
pub fn insert_part(tx: &Tx<'_>, part: &NewPart, now: time::OffsetDateTime) -> Result<(), DbError> {
    tx.conn
        .prepare_cached(
            "INSERT INTO credit_payment_parts (payment_id, part_number, recipient_type, account_id, amount, status, status_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?
        .execute(params![
            part.payment_id,
            part.part_number,
            part.recipient.as_str(),
            part.account_id,
            crate::store::money_text(part.amount),
            part.status.as_str(),
            crate::clock::format_timestamp(now)
        ])?;
    Ok(())
}

/// What the bank said about a returned or rejected part.
#[derive(Debug, Clone, Copy)]
pub struct ReturnReason<'a> {
    /// The bank's code.
    pub code: &'a str,
    /// The bank's reason.
    pub reason: &'a str,
}

/// Moves a part from `from` to `to` at `at` (stamping the matching instant and any
/// return reason) and refreshes the payment's status; false if the part was no longer
/// `from`.
///
/// # Errors
///
/// SQLite.
pub fn move_part(
    tx: &Tx<'_>,
    payment_id: i64,
    part_number: i64,
    from: PartStatus,
    to: PartStatus,
    at: time::OffsetDateTime,
    reason: Option<ReturnReason<'_>>,
) -> Result<bool, DbError> {
    let at = crate::clock::format_timestamp(at);
    let changed = tx
        .conn
        .prepare_cached(
            "UPDATE credit_payment_parts
             SET status = ?1, status_at = ?2,
                 submitted_at = CASE WHEN ?1 = 'SUBMITTED' THEN ?2 ELSE submitted_at END,
                 delivered_at = CASE WHEN ?1 = 'DELIVERED' THEN ?2 ELSE delivered_at END,
                 returned_at = CASE WHEN ?1 = 'RETURNED' THEN ?2 ELSE returned_at END,
                 return_code = coalesce(?3, return_code),
                 return_reason = coalesce(?4, return_reason)
             WHERE payment_id = ?5 AND part_number = ?6 AND status = ?7",
        )?
        .execute(params![
            to.as_str(),
            at,
            reason.map(|r| r.code),
            reason.map(|r| r.reason),
            payment_id,
            part_number,
            from.as_str()
        ])?;
    if changed == 1 {
        refresh_payment_status(tx, payment_id)?;
    }
    Ok(changed == 1)
}
