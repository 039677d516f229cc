//! The collection engine's rows: one instalment with what a collection step needs
//! ([`CollectionRow`]: its note, debtor account, status, cycle and latest attempt), the
//! batches a sweep works through (an action date's unpresented instalments of one
//! stream, on ACTIVE notes only, and of a DebiCheck note only while its mandate is
//! AUTHENTICATED), the attempts table, and the guarded writes a step
//! makes (each `UPDATE` names the status it expects, so a step applies at most once).
//! Rules live in `domain::collection` and `engine::collections`; this module only reads
//! and writes.

use crate::store::sql::{OptionalExtension, OwnedValue, Row, ToSql, params};
use rust_decimal::Decimal;
use time::{Date, OffsetDateTime};

use crate::clock::{format_date, format_timestamp, parse_date, parse_timestamp};
use crate::domain::debicheck::{AuthenticationStatus, CollectionDay, DebitValueType};
use crate::domain::promissory::{Frequency, InstalmentStatus, NoteStatus, NoteStream};
use crate::store::{DbError, Tx, bad, money, money_text, parsed};

/// What an attempt was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptKindRow {
    /// The presentment on the action date (`FIRST`).
    First,
    /// A tracking attempt on tracking day `day` (`TRACKING`).
    Tracking {
        /// 1-based tracking day.
        day: u32,
    },
    /// An arrears re-presentment (`ARREARS`).
    Arrears,
}

/// The debtor bank's stored answer: collected, or unpaid with (code, text).
pub type OutcomeRow = Option<(String, String)>;

/// The latest attempt of an instalment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptRow {
    /// 1-based attempt number.
    pub number: u32,
    /// First, tracking day or arrears.
    pub kind: AttemptKindRow,
    /// When it was made.
    pub at: OffsetDateTime,
    /// `None`: collected; else the unpaid reason (code, text).
    pub unpaid: OutcomeRow,
    /// When the answer was applied (`None`: not yet).
    pub answered_at: Option<OffsetDateTime>,
}

/// One instalment as a collection step sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectionRow {
    /// The note's row id.
    pub note_id: i64,
    /// Its branch (whose feed gets the replies).
    pub branch_id: i64,
    /// Its client.
    pub client_id: i64,
    /// The stored note status.
    pub note_status: NoteStatus,
    /// The note's stream.
    pub stream: NoteStream,
    /// Debtor branch code.
    pub branch_code: String,
    /// Debtor account number.
    pub account_number: String,
    /// Debtor account type (stored spelling).
    pub account_type: String,
    /// Instalment number.
    pub number: u32,
    /// Amount.
    pub amount: Decimal,
    /// The instalment's TrackingDays.
    pub tracking_days: u32,
    /// Status.
    pub status: InstalmentStatus,
    /// Action date.
    pub action_date: Date,
    /// Whether the current cycle is an arrears re-presentment.
    pub arrears: bool,
    /// Presentment date of the current cycle.
    pub presented_on: Option<Date>,
    /// The latest attempt.
    pub last_attempt: Option<AttemptRow>,
    /// Whether the instalment was edited (EditInstalment) after creation.
    pub edited: bool,
    /// The note's DebiCheck mandate, if it is a DebiCheck note.
    pub mandate: Option<MandateFacts>,
}

/// What a collection needs of a note's DebiCheck mandate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MandateFacts {
    /// Authentication status (only AUTHENTICATED collects).
    pub status: AuthenticationStatus,
    /// Value type.
    pub value_type: DebitValueType,
    /// The authenticated instalment (the note's InstalmentAmount).
    pub instalment: Decimal,
    /// Maximum collection amount.
    pub maximum: Decimal,
    /// Date adjustment indicator.
    pub date_adjustment_allowed: bool,
    /// Collection day.
    pub collection_day: CollectionDay,
    /// The first authenticated collection date (the note's FirstActionDate).
    pub first_date: Date,
    /// The note's frequency.
    pub frequency: Frequency,
}

const ROW_COLUMNS: &str = "n.id, n.branch_id, n.client_id, n.status, n.payment_stream, n.bank_branch_code,
    n.account_number, n.account_type, i.instalment_number, i.amount, i.tracking_days, i.status,
    i.action_date, i.arrears, i.presented_on,
    a.attempt_number, a.kind, a.tracking_day, a.presented_at, a.outcome, a.reason_code, a.reason_text,
    a.answered_at, i.edited_at IS NOT NULL, n.instalment_amount, n.first_action_date, n.frequency,
    d.status, d.debit_value_type, d.maximum_amount, d.date_adjustment_allowed, d.collection_day";

const ROW_FROM: &str = "instalments i JOIN promissory_notes n ON n.id = i.promissory_id
    LEFT JOIN instalment_attempts a ON a.promissory_id = i.promissory_id
        AND a.instalment_number = i.instalment_number
        AND a.attempt_number = (SELECT max(attempt_number) FROM instalment_attempts m
                                WHERE m.promissory_id = i.promissory_id
                                  AND m.instalment_number = i.instalment_number)
    LEFT JOIN mandates d ON d.promissory_id = n.id";

fn attempt_kind(kind: &str, day: u32) -> Option<AttemptKindRow> {
    match kind {
        "FIRST" => Some(AttemptKindRow::First),
        "TRACKING" => Some(AttemptKindRow::Tracking { day }),
        "ARREARS" => Some(AttemptKindRow::Arrears),
        _ => None,
    }
}

fn collection_row(r: &Row<'_>) -> crate::store::sql::Result<CollectionRow> {
    let last_attempt = match r.get::<Option<u32>>(15)? {
        None => None,
        Some(number) => {
            let kind: String = r.get(16)?;
            let day: u32 = r.get(17)?;
            let outcome: String = r.get(19)?;
            let code: Option<String> = r.get(20)?;
            let text: Option<String> = r.get(21)?;
            let answered: Option<String> = r.get(22)?;
            Some(AttemptRow {
                number,
                kind: attempt_kind(&kind, day).ok_or_else(|| bad(16, &kind))?,
                at: parsed(r, 18, parse_timestamp)?,
                unpaid: match (outcome.as_str(), code) {
                    ("COLLECTED", _) => None,
                    ("UNPAID", Some(code)) => Some((code, text.unwrap_or_default())),
                    _ => return Err(bad(19, &outcome)),
                },
                answered_at: answered
                    .map(|t| parse_timestamp(&t).ok_or_else(|| bad(22, &t)))
                    .transpose()?,
            })
        }
    };
    let presented: Option<String> = r.get(14)?;
    let mandate = match r.get::<Option<String>>(27)? {
        None => None,
        Some(status) => Some(MandateFacts {
            status: AuthenticationStatus::parse(&status).ok_or_else(|| bad(27, &status))?,
            value_type: parsed(r, 28, DebitValueType::parse)?,
            instalment: money(r, 24)?,
            maximum: money(r, 29)?,
            date_adjustment_allowed: r.get(30)?,
            collection_day: CollectionDay(r.get(31)?),
            first_date: parsed(r, 25, parse_date)?,
            frequency: parsed(r, 26, Frequency::parse)?,
        }),
    };
    Ok(CollectionRow {
        note_id: r.get(0)?,
        branch_id: r.get(1)?,
        client_id: r.get(2)?,
        note_status: parsed(r, 3, NoteStatus::parse)?,
        stream: parsed(r, 4, NoteStream::parse)?,
        branch_code: r.get(5)?,
        account_number: r.get(6)?,
        account_type: r.get(7)?,
        number: r.get(8)?,
        amount: money(r, 9)?,
        tracking_days: r.get(10)?,
        status: parsed(r, 11, InstalmentStatus::parse)?,
        action_date: parsed(r, 12, parse_date)?,
        arrears: r.get(13)?,
        presented_on: presented
            .map(|t| parse_date(&t).ok_or_else(|| bad(14, &t)))
            .transpose()?,
        last_attempt,
        edited: r.get(23)?,
        mandate,
    })
}

/// One instalment with its note and latest attempt.
///
/// # Errors
///
/// SQLite.
pub fn load(tx: &Tx<'_>, note_id: i64, number: u32) -> Result<Option<CollectionRow>, DbError> {
    tx.conn
        .prepare_cached(&format!(
            "SELECT {ROW_COLUMNS} FROM {ROW_FROM}
             WHERE i.promissory_id = ?1 AND i.instalment_number = ?2"
        ))?
        .query_row(params![note_id, number], collection_row)
        .optional()
        .map_err(DbError::from)
}

/// Up to `limit` unpresented (PENDING or SUBMITTED) instalments of ACTIVE notes of
/// `stream` due on `date`, PENDING first, each in key order (the order of the
/// `instalments_due` index, so no batch sorts the day's remaining instalments; the
/// index holds only PENDING and SUBMITTED instalments, migration 0013).
///
/// # Errors
///
/// SQLite.
pub fn due_batch(
    tx: &Tx<'_>,
    stream: NoteStream,
    date: Date,
    limit: usize,
) -> Result<Vec<CollectionRow>, DbError> {
    due_batch_after(tx, stream, date, limit, None)
}

/// Where a batch read ended, so the next read starts after it (keyset order: the
/// batch queries' `ORDER BY`). A processor reads the next batch of a job after this key
/// on a reader connection while the writer records the current one; rows before it are
/// the current batch's, which the writer is moving.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum After {
    /// A sweep's presentment batch: (status, note, instalment) of its last row.
    Due(InstalmentStatus, i64, u32),
    /// An answers batch: (note, instalment, attempt) of its last row.
    Answer(i64, u32, u32),
    /// A dispute-check batch: (note, instalment) of its last row.
    Check(i64, u32),
}

/// [`due_batch`], only rows after `after` (`After::Due`) when given.
///
/// # Errors
///
/// SQLite.
pub fn due_batch_after(
    tx: &Tx<'_>,
    stream: NoteStream,
    date: Date,
    limit: usize,
    after: Option<&After>,
) -> Result<Vec<CollectionRow>, DbError> {
    let (status, note, number) = match after {
        Some(After::Due(status, note, number)) => (status.as_str(), *note, *number),
        _ => ("", 0, 0),
    };
    tx.conn
        .prepare_cached(&format!(
            "SELECT {ROW_COLUMNS} FROM {ROW_FROM}
             WHERE i.action_date = ?1 AND i.status IN ('PENDING', 'SUBMITTED')
               AND (i.status, i.promissory_id, i.instalment_number) > (?4, ?5, ?6)
               AND n.payment_stream = ?2 AND n.status = 'ACTIVE'
               AND NOT EXISTS (SELECT 1 FROM mandates d
                               WHERE d.promissory_id = n.id AND d.status <> 'AUTHENTICATED')
             ORDER BY i.status, i.promissory_id, i.instalment_number LIMIT ?3"
        ))?
        .query_map(
            params![
                format_date(date),
                stream.as_str(),
                limit as i64,
                status,
                note,
                number
            ],
            collection_row,
        )?
        .collect::<Result<_, _>>()
        .map_err(DbError::from)
}

/// Submits (PENDING → SUBMITTED) up to `limit` instalments of ACTIVE notes of `stream`
/// due on `date`; returns how many.
///
/// # Errors
///
/// SQLite.
pub fn submit_batch(
    tx: &Tx<'_>,
    stream: NoteStream,
    date: Date,
    limit: usize,
) -> Result<usize, DbError> {
    tx.conn
        .prepare_cached(
            "UPDATE instalments SET status = 'SUBMITTED'
             WHERE (promissory_id, instalment_number) IN (
                 SELECT i.promissory_id, i.instalment_number
                 FROM instalments i JOIN promissory_notes n ON n.id = i.promissory_id
                 WHERE i.action_date = ?1 AND i.status IN ('PENDING', 'SUBMITTED')
                   AND i.status = 'PENDING'
                   AND n.payment_stream = ?2 AND n.status = 'ACTIVE'
               AND NOT EXISTS (SELECT 1 FROM mandates d
                               WHERE d.promissory_id = n.id AND d.status <> 'AUTHENTICATED')
                 LIMIT ?3)",
        )?
        .execute(params![format_date(date), stream.as_str(), limit as i64])
        .map_err(DbError::from)
}

/// Up to `limit` instalments whose latest attempt's answer is due at `at` and not yet
/// applied (the `COLLECTION_ANSWERS` job of `at`), in key order (the order of the
/// partial index `instalment_attempts_answer_due`).
///
/// # Errors
///
/// SQLite.
pub fn answers_due(
    tx: &Tx<'_>,
    at: OffsetDateTime,
    limit: usize,
) -> Result<Vec<CollectionRow>, DbError> {
    answers_due_after(tx, at, limit, None)
}

/// [`answers_due`], only rows after `after` (`After::Answer`) when given.
///
/// # Errors
///
/// SQLite.
pub fn answers_due_after(
    tx: &Tx<'_>,
    at: OffsetDateTime,
    limit: usize,
    after: Option<&After>,
) -> Result<Vec<CollectionRow>, DbError> {
    let (note, number, attempt) = match after {
        Some(After::Answer(note, number, attempt)) => (*note, *number, *attempt),
        _ => (0, 0, 0),
    };
    tx.conn
        .prepare_cached(&format!(
            "SELECT {ROW_COLUMNS}
             FROM instalment_attempts a
             JOIN instalments i ON i.promissory_id = a.promissory_id
                               AND i.instalment_number = a.instalment_number
             JOIN promissory_notes n ON n.id = a.promissory_id
             LEFT JOIN mandates d ON d.promissory_id = n.id
             WHERE a.answer_due_at = ?1 AND a.answered_at IS NULL
               AND (a.promissory_id, a.instalment_number, a.attempt_number) > (?3, ?4, ?5)
             ORDER BY a.answer_due_at, a.promissory_id, a.instalment_number, a.attempt_number
             LIMIT ?2"
        ))?
        .query_map(
            params![format_timestamp(at), limit as i64, note, number, attempt],
            collection_row,
        )?
        .collect::<Result<_, _>>()
        .map_err(DbError::from)
}

/// Takes an unanswered attempt out of its answers job (a step that cannot apply to
/// it); it stays unanswered. False if it was not waiting.
///
/// # Errors
///
/// SQLite.
pub fn set_aside_answer(
    tx: &Tx<'_>,
    note_id: i64,
    number: u32,
    attempt: u32,
) -> Result<bool, DbError> {
    let changed = tx
        .conn
        .prepare_cached(
            "UPDATE instalment_attempts SET answer_due_at = NULL
             WHERE promissory_id = ?1 AND instalment_number = ?2 AND attempt_number = ?3
               AND answered_at IS NULL AND answer_due_at IS NOT NULL",
        )?
        .execute(params![note_id, number, attempt])?;
    Ok(changed == 1)
}

/// Up to `limit` instalments whose dispute check is due at `at` (the
/// `COLLECTION_REVERSAL_CHECKS` job of `at`), in key order.
///
/// # Errors
///
/// SQLite.
pub fn reversal_checks_due(
    tx: &Tx<'_>,
    at: OffsetDateTime,
    limit: usize,
) -> Result<Vec<CollectionRow>, DbError> {
    reversal_checks_due_after(tx, at, limit, None)
}

/// [`reversal_checks_due`], only rows after `after` (`After::Check`) when given.
///
/// # Errors
///
/// SQLite.
pub fn reversal_checks_due_after(
    tx: &Tx<'_>,
    at: OffsetDateTime,
    limit: usize,
    after: Option<&After>,
) -> Result<Vec<CollectionRow>, DbError> {
    let (note, number) = match after {
        Some(After::Check(note, number)) => (*note, *number),
        _ => (0, 0),
    };
    tx.conn
        .prepare_cached(&format!(
            "SELECT {ROW_COLUMNS} FROM {ROW_FROM}
             WHERE i.reversal_check_at = ?1
               AND (i.promissory_id, i.instalment_number) > (?3, ?4)
             ORDER BY i.reversal_check_at, i.promissory_id, i.instalment_number LIMIT ?2"
        ))?
        .query_map(
            params![format_timestamp(at), limit as i64, note, number],
            collection_row,
        )?
        .collect::<Result<_, _>>()
        .map_err(DbError::from)
}

/// Moves an instalment's dispute check from `from` to `to` (`None`: never again); false
/// (nothing written) if it was no longer due at `from`. This is the guard of a
/// reversal check: each check applies once.
///
/// # Errors
///
/// SQLite.
pub fn move_reversal_check(
    tx: &Tx<'_>,
    note_id: i64,
    number: u32,
    from: OffsetDateTime,
    to: Option<OffsetDateTime>,
) -> Result<bool, DbError> {
    let changed = tx
        .conn
        .prepare_cached(
            "UPDATE instalments SET reversal_check_at = ?4
             WHERE promissory_id = ?1 AND instalment_number = ?2 AND reversal_check_at = ?3",
        )?
        .execute(params![
            note_id,
            number,
            format_timestamp(from),
            to.map(format_timestamp)
        ])?;
    Ok(changed == 1)
}

/// A new attempt of an instalment.
#[derive(Debug, Clone)]
pub struct NewAttempt<'a> {
    /// Its number.
    pub number: u32,
    /// First, tracking day or arrears.
    pub kind: AttemptKindRow,
    /// Whether it belongs to an arrears cycle.
    pub arrears: bool,
    /// When it was made.
    pub at: OffsetDateTime,
    /// `None`: collected; else the unpaid reason (code, text).
    pub unpaid: Option<(&'a str, &'a str)>,
    /// When its answer is due (the `COLLECTION_ANSWERS` job of that instant applies it).
    pub answer_due: Option<OffsetDateTime>,
}

/// Stores an attempt (a repeat of the same number changes nothing). Returns whether
/// it was added.
///
/// # Errors
///
/// SQLite.
pub fn insert_attempt(
    tx: &Tx<'_>,
    note_id: i64,
    number: u32,
    attempt: &NewAttempt<'_>,
) -> Result<bool, DbError> {
    let (kind, day) = match attempt.kind {
        AttemptKindRow::First => ("FIRST", 0),
        AttemptKindRow::Tracking { day } => ("TRACKING", day),
        AttemptKindRow::Arrears => ("ARREARS", 0),
    };
    let outcome = if attempt.unpaid.is_some() {
        "UNPAID"
    } else {
        "COLLECTED"
    };
    let added = tx
        .conn
        .prepare_cached(
            "INSERT INTO instalment_attempts (promissory_id, instalment_number, attempt_number, kind,
                 tracking_day, arrears, presented_at, outcome, reason_code, reason_text,
                 answer_due_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
             ON CONFLICT DO NOTHING",
        )?
        .execute(params![
            note_id,
            number,
            attempt.number,
            kind,
            day,
            attempt.arrears,
            format_timestamp(attempt.at),
            outcome,
            attempt.unpaid.map(|a| a.0),
            attempt.unpaid.map(|a| a.1),
            attempt.answer_due.map(format_timestamp),
        ])?;
    Ok(added == 1)
}

/// Marks an attempt's answer applied at `at`; false if it already was.
///
/// # Errors
///
/// SQLite.
pub fn answer_attempt(
    tx: &Tx<'_>,
    note_id: i64,
    number: u32,
    attempt: u32,
    at: OffsetDateTime,
) -> Result<bool, DbError> {
    let changed = tx
        .conn
        .prepare_cached(
            "UPDATE instalment_attempts SET answered_at = ?4
             WHERE promissory_id = ?1 AND instalment_number = ?2 AND attempt_number = ?3
               AND answered_at IS NULL",
        )?
        .execute(params![note_id, number, attempt, format_timestamp(at)])?;
    Ok(changed == 1)
}

/// What a step changes on an instalment besides its status.
#[derive(Debug, Clone, Default)]
pub struct InstalmentChange {
    /// The presentment date of a new cycle.
    pub presented_on: Option<Date>,
    /// Collected: amount, instant, settlement date.
    pub collected: Option<(Decimal, OffsetDateTime, Option<Date>)>,
    /// Reversed on.
    pub reversed_on: Option<Date>,
    /// The first dispute check of a collection (its `COLLECTION_REVERSAL_CHECKS` job).
    pub reversal_check_at: Option<OffsetDateTime>,
}

/// Moves an instalment from `from` to `to` with `change`; false (nothing written) if
/// it is no longer `from`.
///
/// # Errors
///
/// SQLite.
pub fn move_instalment(
    tx: &Tx<'_>,
    note_id: i64,
    number: u32,
    from: InstalmentStatus,
    to: InstalmentStatus,
    change: &InstalmentChange,
) -> Result<bool, DbError> {
    // Only the columns this change sets are named, so SQLite leaves the indexes of the
    // others alone (a presentment does not touch the reversal-check index).
    let mut sets = vec!["status = ?4"];
    let mut values: Vec<OwnedValue> = vec![
        OwnedValue::Integer(note_id),
        OwnedValue::Integer(i64::from(number)),
        OwnedValue::Text(from.as_str().to_string()),
        OwnedValue::Text(to.as_str().to_string()),
    ];
    let mut set = |sql: &'static str, value: Option<String>| {
        if let Some(value) = value {
            sets.push(sql);
            values.push(OwnedValue::Text(value));
        }
    };
    set("presented_on = ?", change.presented_on.map(format_date));
    if let Some((amount, at, settlement)) = &change.collected {
        set("collected_amount = ?", Some(money_text(*amount)));
        set("collected_at = ?", Some(format_timestamp(*at)));
        set("settlement_date = ?", settlement.map(format_date));
    }
    set("reversed_on = ?", change.reversed_on.map(format_date));
    set(
        "reversal_check_at = ?",
        change.reversal_check_at.map(format_timestamp),
    );
    let changed = tx
        .conn
        .prepare_cached(&format!(
            "UPDATE instalments SET {}
             WHERE promissory_id = ?1 AND instalment_number = ?2 AND status = ?3",
            sets.join(", ")
        ))?
        .execute(
            values
                .iter()
                .map(|v| v as &dyn ToSql)
                .collect::<Vec<_>>()
                .as_slice(),
        )?;
    Ok(changed == 1)
}

/// A note's stored status and its instalments' statuses (by number), in one read;
/// `None` if there is no such note.
///
/// # Errors
///
/// SQLite.
pub fn note_and_statuses(
    tx: &Tx<'_>,
    note_id: i64,
) -> Result<Option<(NoteStatus, Vec<InstalmentStatus>)>, DbError> {
    let rows: Vec<(NoteStatus, Option<InstalmentStatus>)> = tx
        .conn
        .prepare_cached(
            "SELECT n.status, i.status FROM promissory_notes n
             LEFT JOIN instalments i ON i.promissory_id = n.id
             WHERE n.id = ?1 ORDER BY i.instalment_number",
        )?
        .query_map(params![note_id], |r| {
            let instalment: Option<String> = r.get(1)?;
            Ok((
                parsed(r, 0, NoteStatus::parse)?,
                instalment
                    .map(|t| InstalmentStatus::parse(&t).ok_or_else(|| bad(1, &t)))
                    .transpose()?,
            ))
        })?
        .collect::<Result<_, _>>()?;
    let Some((status, _)) = rows.first() else {
        return Ok(None);
    };
    Ok(Some((
        *status,
        rows.iter().filter_map(|(_, i)| *i).collect(),
    )))
}

/// Moves a note from `from` to `to` (COMPLETED records `completed_at`); false if it is
/// no longer `from`.
///
/// # Errors
///
/// SQLite.
pub fn move_note(
    tx: &Tx<'_>,
    note_id: i64,
    from: NoteStatus,
    to: NoteStatus,
    at: OffsetDateTime,
) -> Result<bool, DbError> {
    let completed_at = (to == NoteStatus::Completed).then(|| format_timestamp(at));
    let changed = tx
        .conn
        .prepare_cached(
            "UPDATE promissory_notes SET status = ?3, completed_at = ?4
             WHERE id = ?1 AND status = ?2",
        )?
        .execute(params![note_id, from.as_str(), to.as_str(), completed_at])?;
    Ok(changed == 1)
}

/// One attempt as GetPromissory shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptView {
    /// Instalment number.
    pub instalment_number: u32,
    /// Attempt number.
    pub number: u32,
    /// `FIRST`, `TRACKING` or `ARREARS`.
    pub kind: String,
    /// When presented (RFC 3339).
    pub presented_at: String,
    /// `COLLECTED` or `UNPAID` once answered, else `None`.
    pub outcome: Option<String>,
    /// The unpaid reason code, once answered.
    pub reason_code: Option<String>,
    /// Whether it was an arrears attempt.
    pub arrears: bool,
}

/// Every attempt of a note, by instalment then attempt; outcomes only once answered.
///
/// # Errors
///
/// SQLite.
pub fn attempts_of(tx: &Tx<'_>, note_id: i64) -> Result<Vec<AttemptView>, DbError> {
    tx.conn
        .prepare_cached(
            "SELECT instalment_number, attempt_number, kind, presented_at,
                    CASE WHEN answered_at IS NULL THEN NULL ELSE outcome END,
                    CASE WHEN answered_at IS NULL THEN NULL ELSE reason_code END, arrears
             FROM instalment_attempts WHERE promissory_id = ?1
             ORDER BY instalment_number, attempt_number",
        )?
        .query_map(params![note_id], |r| {
            Ok(AttemptView {
                instalment_number: r.get(0)?,
                number: r.get(1)?,
                kind: r.get(2)?,
                presented_at: r.get(3)?,
                outcome: r.get(4)?,
                reason_code: r.get(5)?,
                arrears: r.get(6)?,
            })
        })?
        .collect::<Result<_, _>>()
        .map_err(DbError::from)
}

/// Where a collection sweep job of (`stream`, `date`) is keyed in the jobs table.
pub fn sweep_key(stream: NoteStream, date: Date) -> (i64, i64) {
    let position = NoteStream::ALL
        .iter()
        .position(|s| *s == stream)
        .unwrap_or_default();
    (i64::from(date.to_julian_day()), position as i64)
}

/// The (`stream`, `date`) a sweep job's key names.
pub fn sweep_of(subject_id: i64, part_number: i64) -> Option<(NoteStream, Date)> {
    let stream = *NoteStream::ALL.get(usize::try_from(part_number).ok()?)?;
    let date = Date::from_julian_day(i32::try_from(subject_id).ok()?).ok()?;
    Some((stream, date))
}

/// Makes sure a collection sweep is queued for every action date of the note's PENDING
/// instalments (a DONE sweep is revived). Each is due at `now`; when it runs it waits
/// for its stream's cut-off. Called by every write that creates or moves an unpresented
/// instalment, in the same transaction.
///
/// # Errors
///
/// SQLite.
pub fn ensure_sweeps(tx: &Tx<'_>, note_id: i64, now: OffsetDateTime) -> Result<(), DbError> {
    let rows: Vec<(String, String)> = tx
        .conn
        .prepare_cached(
            "SELECT DISTINCT n.payment_stream, i.action_date
             FROM instalments i JOIN promissory_notes n ON n.id = i.promissory_id
             WHERE i.promissory_id = ?1 AND i.status = 'PENDING'",
        )?
        .query_map(params![note_id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for (stream, date) in rows {
        let stream = NoteStream::parse(&stream).ok_or_else(|| bad(0, &stream))?;
        let date = parse_date(&date).ok_or_else(|| bad(1, &date))?;
        let (subject_id, part_number) = sweep_key(stream, date);
        crate::store::jobs::ensure(
            tx,
            &crate::store::jobs::NewJob {
                kind: crate::store::jobs::JobKind::CollectionSweep,
                subject_id,
                part_number,
                due_at: now,
            },
            now,
        )?;
    }
    Ok(())
}

/// An instalment's collection columns, as GetPromissory shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectionDetail {
    /// Instalment number.
    pub number: u32,
    /// Whether its current (or last) cycle is an arrears re-presentment.
    pub arrears: bool,
    /// The amount collected (COLLECTED, or REVERSED afterwards).
    pub collected_amount: Option<Decimal>,
    /// The lender's settlement date of the collection.
    pub settlement_date: Option<Date>,
}

/// The collection columns of a note's instalments, by number.
///
/// # Errors
///
/// SQLite.
pub fn details_of(tx: &Tx<'_>, note_id: i64) -> Result<Vec<CollectionDetail>, DbError> {
    tx.conn
        .prepare_cached(
            "SELECT instalment_number, arrears, collected_amount, settlement_date
             FROM instalments WHERE promissory_id = ?1 ORDER BY instalment_number",
        )?
        .query_map(params![note_id], |r| {
            let settlement: Option<String> = r.get(3)?;
            Ok(CollectionDetail {
                number: r.get(0)?,
                arrears: r.get(1)?,
                collected_amount: crate::store::opt_money(r, 2)?,
                settlement_date: settlement
                    .map(|t| parse_date(&t).ok_or_else(|| bad(3, &t)))
                    .transpose()?,
            })
        })?
        .collect::<Result<_, _>>()
        .map_err(DbError::from)
}

/// A note's collected, outstanding and arrears totals (`domain::collection::note_totals`
/// over its instalments).
///
/// # Errors
///
/// SQLite.
pub fn totals_of(
    tx: &Tx<'_>,
    note_id: i64,
) -> Result<crate::domain::collection::NoteTotals, DbError> {
    let money: Vec<crate::domain::collection::state::InstalmentMoney> = tx
        .conn
        .prepare_cached(
            "SELECT status, amount, arrears FROM instalments WHERE promissory_id = ?1
             ORDER BY instalment_number",
        )?
        .query_map(params![note_id], |r| {
            Ok(crate::domain::collection::state::InstalmentMoney {
                status: parsed(r, 0, InstalmentStatus::parse)?,
                amount: money(r, 1)?,
                arrears: r.get(2)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(crate::domain::collection::note_totals(&money))
}
