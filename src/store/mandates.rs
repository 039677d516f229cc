//! DebiCheck mandates (`mandates` table, migration 0009): the authenticated parameters of
//! a DEBICHECK note, its authentication request and outcome, suspension and
//! cancellation at the payer's bank. Every change of status is guarded on the status
//! it leaves, so an outcome is recorded at most once whatever restarts happen. Rules
//! live in `domain::debicheck`; this module only reads and writes.

use std::str::FromStr;

use crate::store::sql::{OptionalExtension, Row, params};
use rust_decimal::Decimal;
use time::OffsetDateTime;

use crate::clock::{format_timestamp, parse_timestamp};
use crate::domain::debicheck::{
    AdjustmentCategory, AuthenticationChannel, AuthenticationStatus, AuthenticationType,
    CollectionDay, DebitSequence, DebitValueType,
};
use crate::store::{DbError, Tx, conversion, money_text};

/// A stored mandate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MandateRow {
    /// The note's row id.
    pub note_id: i64,
    /// How the payer authenticates.
    pub authentication_type: AuthenticationType,
    /// Value type.
    pub value_type: DebitValueType,
    /// Maximum collection amount.
    pub maximum: Decimal,
    /// Date adjustment indicator.
    pub date_adjustment_allowed: bool,
    /// Once-off or recurring.
    pub sequence: DebitSequence,
    /// Adjustment category.
    pub adjustment: AdjustmentCategory,
    /// Adjustment rate (percent).
    pub adjustment_rate: Option<Decimal>,
    /// Adjustment amount.
    pub adjustment_amount: Option<Decimal>,
    /// Collection day.
    pub collection_day: CollectionDay,
    /// The cellphone the request went to.
    pub cellphone: Option<String>,
    /// Status.
    pub status: AuthenticationStatus,
    /// When authentication was requested.
    pub requested_at: OffsetDateTime,
    /// When the window closes (an answer counts only before it).
    pub deadline: OffsetDateTime,
    /// When the payer answered.
    pub answered_at: Option<OffsetDateTime>,
    /// Through which channel.
    pub channel: Option<AuthenticationChannel>,
    /// When the window passed unanswered.
    pub expired_at: Option<OffsetDateTime>,
    /// When the payer's bank suspended it.
    pub suspended_at: Option<OffsetDateTime>,
    /// When CancelPromissory cancelled it at the bank.
    pub cancelled_at_bank: Option<OffsetDateTime>,
}

impl MandateRow {
    /// When the status last changed, if after the request.
    pub fn status_changed_at(&self) -> Option<OffsetDateTime> {
        match self.status {
            AuthenticationStatus::AwaitingAuthentication => None,
            AuthenticationStatus::Authenticated | AuthenticationStatus::Declined => {
                self.answered_at
            }
            AuthenticationStatus::Expired => self.expired_at,
            AuthenticationStatus::Suspended => self.suspended_at,
        }
    }
}

/// What `CreateDebiCheckPromissory` stores beside the note.
#[derive(Debug, Clone)]
pub struct NewMandate<'a> {
    /// The note.
    pub note_id: i64,
    /// Authentication type.
    pub authentication_type: AuthenticationType,
    /// Value type.
    pub value_type: DebitValueType,
    /// Maximum collection amount (scale 2).
    pub maximum: Decimal,
    /// Date adjustment indicator.
    pub date_adjustment_allowed: bool,
    /// Sequence.
    pub sequence: DebitSequence,
    /// Adjustment category.
    pub adjustment: AdjustmentCategory,
    /// Adjustment rate.
    pub adjustment_rate: Option<Decimal>,
    /// Adjustment amount (scale 2).
    pub adjustment_amount: Option<Decimal>,
    /// Collection day.
    pub collection_day: CollectionDay,
    /// Cellphone.
    pub cellphone: Option<&'a str>,
    /// Requested at.
    pub requested_at: OffsetDateTime,
    /// Deadline.
    pub deadline: OffsetDateTime,
}

const COLUMNS: &str = "promissory_id, authentication_type, debit_value_type, maximum_amount,
     date_adjustment_allowed, debit_sequence, adjustment_category, adjustment_rate,
     adjustment_amount, collection_day, cellphone, status, requested_at, deadline, answered_at,
     channel, expired_at, suspended_at, cancelled_at_bank";

fn enum_at<T>(
    r: &Row<'_>,
    i: usize,
    what: &str,
    parse: fn(&str) -> Option<T>,
) -> crate::store::sql::Result<T> {
    let text: String = r.get(i)?;
    parse(&text).ok_or_else(|| conversion(i, what, &text))
}

fn opt_at<T>(
    r: &Row<'_>,
    i: usize,
    what: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> crate::store::sql::Result<Option<T>> {
    let text: Option<String> = r.get(i)?;
    text.map(|t| parse(&t).ok_or_else(|| conversion(i, what, &t)))
        .transpose()
}

fn decimal(text: &str) -> Option<Decimal> {
    Decimal::from_str(text).ok()
}

fn row(r: &Row<'_>) -> crate::store::sql::Result<MandateRow> {
    Ok(MandateRow {
        note_id: r.get(0)?,
        authentication_type: enum_at(r, 1, "authentication type", AuthenticationType::parse)?,
        value_type: enum_at(r, 2, "debit value type", DebitValueType::parse)?,
        maximum: enum_at(r, 3, "amount", decimal)?,
        date_adjustment_allowed: r.get(4)?,
        sequence: enum_at(r, 5, "debit sequence", DebitSequence::parse)?,
        adjustment: enum_at(r, 6, "adjustment category", AdjustmentCategory::parse)?,
        adjustment_rate: opt_at(r, 7, "rate", decimal)?,
        adjustment_amount: opt_at(r, 8, "amount", decimal)?,
        collection_day: CollectionDay(r.get(9)?),
        cellphone: r.get(10)?,
        status: enum_at(r, 11, "authentication status", AuthenticationStatus::parse)?,
        requested_at: enum_at(r, 12, "timestamp", parse_timestamp)?,
        deadline: enum_at(r, 13, "timestamp", parse_timestamp)?,
        answered_at: opt_at(r, 14, "timestamp", parse_timestamp)?,
        channel: opt_at(r, 15, "channel", AuthenticationChannel::parse)?,
        expired_at: opt_at(r, 16, "timestamp", parse_timestamp)?,
        suspended_at: opt_at(r, 17, "timestamp", parse_timestamp)?,
        cancelled_at_bank: opt_at(r, 18, "timestamp", parse_timestamp)?,
    })
}

/// Stores a note's mandate, AWAITING_AUTHENTICATION.
///
/// # Errors
///
/// SQLite.
pub fn insert(tx: &Tx<'_>, m: &NewMandate<'_>) -> Result<(), DbError> {
    tx.conn
        .prepare_cached(&format!(
            "INSERT INTO mandates ({COLUMNS})
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 'AWAITING_AUTHENTICATION', ?12, ?13,
                     NULL, NULL, NULL, NULL, NULL)"
        ))?
        .execute(params![
            m.note_id,
            m.authentication_type.as_str(),
            m.value_type.as_str(),
            money_text(m.maximum),
            m.date_adjustment_allowed,
            m.sequence.as_str(),
            m.adjustment.as_str(),
            m.adjustment_rate.map(|r| r.normalize().to_string()),
            m.adjustment_amount.map(money_text),
            m.collection_day.0,
            m.cellphone,
            format_timestamp(m.requested_at),
            format_timestamp(m.deadline),
        ])?;
    Ok(())
}

/// The mandate of a note, if it is a DebiCheck note.
///
/// # Errors
///
/// SQLite.
pub fn find(tx: &Tx<'_>, note_id: i64) -> Result<Option<MandateRow>, DbError> {
    tx.conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM mandates WHERE promissory_id = ?1"
        ))?
        .query_row(params![note_id], row)
        .optional()
        .map_err(DbError::from)
}

/// Records the payer's answer (AWAITING_AUTHENTICATION → AUTHENTICATED or DECLINED).
/// An authenticated mandate's note becomes ACTIVE (registered at the answer). Returns
/// false when the mandate was no longer awaiting an answer (nothing written).
///
/// # Errors
///
/// SQLite.
pub fn record_answer(
    tx: &Tx<'_>,
    note_id: i64,
    authenticated: bool,
    at: OffsetDateTime,
    channel: AuthenticationChannel,
) -> Result<bool, DbError> {
    let status = if authenticated {
        AuthenticationStatus::Authenticated
    } else {
        AuthenticationStatus::Declined
    };
    let changed = tx
        .conn
        .prepare_cached(
            "UPDATE mandates SET status = ?2, answered_at = ?3, channel = ?4
             WHERE promissory_id = ?1 AND status = 'AWAITING_AUTHENTICATION'",
        )?
        .execute(params![
            note_id,
            status.as_str(),
            format_timestamp(at),
            channel.as_str()
        ])?;
    if changed == 1 && authenticated {
        tx.conn
            .prepare_cached(
                "UPDATE promissory_notes SET status = 'ACTIVE', registered_at = ?2
                 WHERE id = ?1 AND status = 'PENDING'",
            )?
            .execute(params![note_id, format_timestamp(at)])?;
    }
    Ok(changed == 1)
}

/// Records that the window passed unanswered (AWAITING_AUTHENTICATION → EXPIRED).
/// Returns false when the mandate was no longer awaiting an answer.
///
/// # Errors
///
/// SQLite.
pub fn record_expired(tx: &Tx<'_>, note_id: i64, at: OffsetDateTime) -> Result<bool, DbError> {
    let changed = tx
        .conn
        .prepare_cached(
            "UPDATE mandates SET status = 'EXPIRED', expired_at = ?2
             WHERE promissory_id = ?1 AND status = 'AWAITING_AUTHENTICATION'",
        )?
        .execute(params![note_id, format_timestamp(at)])?;
    Ok(changed == 1)
}

/// Records a suspension by the payer's bank (AUTHENTICATED → SUSPENDED). Returns false
/// when the mandate was not AUTHENTICATED.
///
/// # Errors
///
/// SQLite.
pub fn record_suspended(tx: &Tx<'_>, note_id: i64, at: OffsetDateTime) -> Result<bool, DbError> {
    let changed = tx
        .conn
        .prepare_cached(
            "UPDATE mandates SET status = 'SUSPENDED', suspended_at = ?2
             WHERE promissory_id = ?1 AND status = 'AUTHENTICATED'",
        )?
        .execute(params![note_id, format_timestamp(at)])?;
    Ok(changed == 1)
}

/// Records that the mandate was cancelled at the payer's bank (once).
///
/// # Errors
///
/// SQLite.
pub fn record_cancelled_at_bank(
    tx: &Tx<'_>,
    note_id: i64,
    at: OffsetDateTime,
) -> Result<bool, DbError> {
    let changed = tx
        .conn
        .prepare_cached(
            "UPDATE mandates SET cancelled_at_bank = ?2
             WHERE promissory_id = ?1 AND cancelled_at_bank IS NULL",
        )?
        .execute(params![note_id, format_timestamp(at)])?;
    Ok(changed == 1)
}

/// The note's branch and client (for the replies a mandate change writes).
///
/// # Errors
///
/// SQLite.
pub fn note_owner(tx: &Tx<'_>, note_id: i64) -> Result<Option<(i64, i64)>, DbError> {
    tx.conn
        .prepare_cached("SELECT branch_id, client_id FROM promissory_notes WHERE id = ?1")?
        .query_row(params![note_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()
        .map_err(DbError::from)
}

/// What disputability needs of one instalment of a DebiCheck note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstalmentTerms {
    /// Its number.
    pub number: u16,
    /// Its (current) action date.
    pub action_date: time::Date,
    /// Its amount.
    pub amount: Decimal,
    /// Whether the current cycle is an arrears re-presentment.
    pub arrears: bool,
    /// Whether EditInstalment changed it.
    pub edited: bool,
}

/// Every instalment of a note with what disputability needs, by number.
///
/// # Errors
///
/// SQLite.
pub fn instalment_terms(tx: &Tx<'_>, note_id: i64) -> Result<Vec<InstalmentTerms>, DbError> {
    tx.conn
        .prepare_cached(
            "SELECT instalment_number, action_date, amount, arrears, edited_at IS NOT NULL
             FROM instalments WHERE promissory_id = ?1 ORDER BY instalment_number",
        )?
        .query_map(params![note_id], |r| {
            Ok(InstalmentTerms {
                number: r.get(0)?,
                action_date: enum_at(r, 1, "date", crate::clock::parse_date)?,
                amount: enum_at(r, 2, "amount", decimal)?,
                arrears: r.get(3)?,
                edited: r.get(4)?,
            })
        })?
        .collect::<Result<_, _>>()
        .map_err(DbError::from)
}
