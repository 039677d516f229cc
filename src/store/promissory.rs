//! Promissory notes, their instalments and their replies in SQLite: the rows, the
//! queries the promissory operations share, and [`activate_due`], the registration step
//! the collection engine will take over. Rules live in `domain::promissory`; this
//! module only reads and writes.

use crate::store::counters::{self, Kind, Numbered};
use crate::store::{DbError, Tx, conversion};
use std::str::FromStr;

use crate::store::sql::{OptionalExtension, Row, params};
use rust_decimal::Decimal;
use time::{Date, Duration, OffsetDateTime};

use crate::clock::{format_date, format_timestamp, parse_date, parse_timestamp};
use crate::domain::cdv::AccountType;
use crate::domain::promissory::{Frequency, InstalmentStatus, NoteStatus, NoteStream};

/// A stored note with its client's number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteRow {
    /// Row id.
    pub id: i64,
    /// The number in the organisation (the PromissoryNumber's digits).
    pub number: i64,
    /// The branch.
    pub branch_id: i64,
    /// The client row.
    pub client_id: i64,
    /// The client's ClientNumber.
    pub client_number: String,
    /// The lender's contract reference.
    pub contract_reference: String,
    /// The stream.
    pub stream: NoteStream,
    /// The stored status (see [`NoteRow::status_at`] for reads).
    pub status: NoteStatus,
    /// Six-digit branch code of the debit account.
    pub bank_branch_code: String,
    /// CDV bank id at creation.
    pub bank_id: String,
    /// Bank name at creation.
    pub bank_name: String,
    /// The debit account number.
    pub account_number: String,
    /// The debit account type.
    pub account_type: AccountType,
    /// False when the bank had no check-digit rule to verify the number with.
    pub check_digit_verified: bool,
    /// The instalment amount asked for at creation.
    pub instalment_amount: Decimal,
    /// How many instalments.
    pub number_of_instalments: u16,
    /// Instalment frequency.
    pub frequency: Frequency,
    /// The first action date asked for at creation.
    pub first_action_date: Date,
    /// Tracking days asked for at creation.
    pub tracking_days: u8,
    /// Always true for CreatePromissory notes.
    pub created_without_card_or_pin: bool,
    /// Always false for CreatePromissory notes.
    pub transaction_fees_recoverable: bool,
    /// Creation instant.
    pub created_at: OffsetDateTime,
    /// Cancellation instant.
    pub cancelled_at: Option<OffsetDateTime>,
    /// Cancellation reason, if one was given.
    pub cancel_reason: Option<String>,
}

impl NoteRow {
    /// The status a reader reports at `now` (a due PENDING note reads ACTIVE). A
    /// DebiCheck note is registered by its mandate's authentication, never by time.
    pub fn status_at(&self, now: OffsetDateTime, delay: Duration) -> NoteStatus {
        if self.stream == NoteStream::DebiCheck {
            return self.status;
        }
        self.status.effective(self.created_at, now, delay)
    }
}

/// A stored instalment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstalmentRow {
    /// 1-based number.
    pub number: u16,
    /// Action (collection) date.
    pub action_date: Date,
    /// Amount.
    pub amount: Decimal,
    /// Tracking days.
    pub tracking_days: u8,
    /// Status.
    pub status: InstalmentStatus,
}

/// A reply (collection outcome) of one instalment, from the `replies` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyRow {
    /// Feed sequence number.
    pub sequence: i64,
    /// `INSTALMENT_COLLECTED`, `INSTALMENT_UNPAID`, ...
    pub reply_type: String,
    /// When it happened (RFC 3339 text as stored).
    pub occurred_at: String,
    /// The instalment it belongs to.
    pub instalment_number: u16,
    /// Amount, if any (canonical text).
    pub amount: Option<String>,
    /// Bank or scheme reason code.
    pub reason_code: Option<String>,
    /// Reason text.
    pub reason_text: Option<String>,
    /// Disputable (DebiCheck collection replies).
    pub disputable: Option<bool>,
    /// Why it is or is not disputable.
    pub disputable_reason: Option<String>,
}

/// What `CreatePromissory` stores.
#[derive(Debug, Clone)]
pub struct NewNote<'a> {
    /// The branch.
    pub branch_id: i64,
    /// The client.
    pub client_id: i64,
    /// The contract reference.
    pub contract_reference: &'a str,
    /// The stream.
    pub stream: NoteStream,
    /// Branch code.
    pub bank_branch_code: &'a str,
    /// CDV bank id.
    pub bank_id: &'a str,
    /// Bank name.
    pub bank_name: &'a str,
    /// Account number.
    pub account_number: &'a str,
    /// Account type.
    pub account_type: AccountType,
    /// Whether CDV verified a check digit.
    pub check_digit_verified: bool,
    /// Instalment amount (scale 2).
    pub instalment_amount: Decimal,
    /// Frequency.
    pub frequency: Frequency,
    /// First action date.
    pub first_action_date: Date,
    /// Tracking days.
    pub tracking_days: u8,
    /// The action dates, one per instalment.
    pub action_dates: &'a [Date],
    /// True only for a DebiCheck TT3 mandate (card and PIN on the device): the payer was
    /// present, so Intecon transaction fees are recoverable from the client.
    pub card_and_pin: bool,
    /// The creating user.
    pub created_by: i64,
    /// Now.
    pub created_at: OffsetDateTime,
}

fn parsed<T>(
    r: &Row<'_>,
    index: usize,
    what: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<T, crate::store::sql::Error> {
    let text: String = r.get(index)?;
    parse(&text).ok_or_else(|| conversion(index, what, &text))
}

fn parsed_opt<T>(
    r: &Row<'_>,
    index: usize,
    what: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Option<T>, crate::store::sql::Error> {
    let text: Option<String> = r.get(index)?;
    text.map(|t| parse(&t).ok_or_else(|| conversion(index, what, &t)))
        .transpose()
}

fn money(text: &str) -> Option<Decimal> {
    Decimal::from_str(text).ok()
}

const NOTE_COLUMNS: &str =
    "n.id, n.branch_id, n.client_id, c.client_number, n.contract_reference, n.payment_stream,
     n.status, n.bank_branch_code, n.bank_id, n.bank_name, n.account_number, n.account_type,
     n.check_digit_verified, n.instalment_amount, n.number_of_instalments, n.frequency,
     n.first_action_date, n.tracking_days, n.created_without_card_or_pin,
     n.transaction_fees_recoverable, n.created_at, n.cancelled_at, n.cancel_reason, n.number";

fn note_row(r: &Row<'_>) -> Result<NoteRow, crate::store::sql::Error> {
    Ok(NoteRow {
        id: r.get(0)?,
        branch_id: r.get(1)?,
        client_id: r.get(2)?,
        client_number: r.get(3)?,
        contract_reference: r.get(4)?,
        stream: parsed(r, 5, "payment stream", NoteStream::parse)?,
        status: parsed(r, 6, "note status", NoteStatus::parse)?,
        bank_branch_code: r.get(7)?,
        bank_id: r.get(8)?,
        bank_name: r.get(9)?,
        account_number: r.get(10)?,
        account_type: parsed(r, 11, "account type", AccountType::parse)?,
        check_digit_verified: r.get(12)?,
        instalment_amount: parsed(r, 13, "amount", money)?,
        number_of_instalments: r.get(14)?,
        frequency: parsed(r, 15, "frequency", Frequency::parse)?,
        first_action_date: parsed(r, 16, "date", parse_date)?,
        tracking_days: r.get(17)?,
        created_without_card_or_pin: r.get(18)?,
        transaction_fees_recoverable: r.get(19)?,
        created_at: parsed(r, 20, "timestamp", parse_timestamp)?,
        cancelled_at: parsed_opt(r, 21, "timestamp", parse_timestamp)?,
        cancel_reason: r.get(22)?,
        number: r.get(23)?,
    })
}

/// Registers (PENDING → ACTIVE) every note created at least `delay` before `now`,
/// recording `registered_at` = created_at + delay (when it became due, not when this
/// ran, so the store does not depend on which request noticed). DEBICHECK notes are
/// left alone: their mandate's authentication registers them
/// (`store::mandates::record_answer`). Every promissory write
/// calls it first, in its own transaction; reads compute the same answer with
/// [`NoteRow::status_at`]. The collection engine's registration step replaces it.
/// Returns how many notes changed.
///
/// # Errors
///
/// SQLite.
pub fn activate_due(tx: &Tx<'_>, now: OffsetDateTime, delay: Duration) -> Result<usize, DbError> {
    let threshold = format_timestamp(now - delay);
    let due: Vec<(i64, String)> = tx
        .conn
        .prepare_cached(
            "SELECT id, created_at FROM promissory_notes
             WHERE status = 'PENDING' AND created_at <= ?1 AND payment_stream <> 'DEBICHECK'
             ORDER BY id",
        )?
        .query_map(params![threshold], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut update = tx.conn.prepare_cached(
        "UPDATE promissory_notes SET status = 'ACTIVE', registered_at = ?2
         WHERE id = ?1 AND status = 'PENDING'",
    )?;
    for (id, created_at) in &due {
        let created =
            parse_timestamp(created_at).ok_or_else(|| conversion(0, "timestamp", created_at))?;
        update.execute(params![id, format_timestamp(created + delay)])?;
    }
    Ok(due.len())
}

/// The note of the branch with this number (PromissoryNumber digits). Numbers count
/// within the organisation, so the branch (one organisation's) scopes the lookup; another
/// organisation's note with the same number is not found.
///
/// # Errors
///
/// SQLite.
pub fn note_by_number(
    tx: &Tx<'_>,
    branch_id: i64,
    number: i64,
) -> Result<Option<NoteRow>, DbError> {
    tx.conn
        .prepare_cached(&format!(
            "SELECT {NOTE_COLUMNS} FROM promissory_notes n JOIN clients c ON c.id = n.client_id
         WHERE n.number = ?2 AND n.branch_id = ?1
           AND n.organisation_id = (SELECT organisation_id FROM branches WHERE id = ?1)"
        ))?
        .query_row(params![branch_id, number], note_row)
        .optional()
        .map_err(DbError::from)
}

/// The note with this row id, whatever its branch (the collection engine, which holds
/// row ids; never a number from the wire).
///
/// # Errors
///
/// SQLite.
pub fn note(tx: &Tx<'_>, id: i64) -> Result<Option<NoteRow>, DbError> {
    tx.conn
        .prepare_cached(&format!(
            "SELECT {NOTE_COLUMNS} FROM promissory_notes n JOIN clients c ON c.id = n.client_id
         WHERE n.id = ?1"
        ))?
        .query_row(params![id], note_row)
        .optional()
        .map_err(DbError::from)
}

/// The note of the branch with this ContractReference.
///
/// # Errors
///
/// SQLite.
pub fn find_by_reference(
    tx: &Tx<'_>,
    branch_id: i64,
    contract_reference: &str,
) -> Result<Option<NoteRow>, DbError> {
    tx.conn
        .prepare_cached(&format!(
            "SELECT {NOTE_COLUMNS} FROM promissory_notes n JOIN clients c ON c.id = n.client_id
         WHERE n.branch_id = ?1 AND n.contract_reference = ?2"
        ))?
        .query_row(params![branch_id, contract_reference], note_row)
        .optional()
        .map_err(DbError::from)
}

/// A client's notes, oldest first.
///
/// # Errors
///
/// SQLite.
pub fn notes_of_client(tx: &Tx<'_>, client_id: i64) -> Result<Vec<NoteRow>, DbError> {
    tx.conn
        .prepare_cached(&format!(
            "SELECT {NOTE_COLUMNS} FROM promissory_notes n JOIN clients c ON c.id = n.client_id
         WHERE n.client_id = ?1 ORDER BY n.id"
        ))?
        .query_map(params![client_id], note_row)?
        .collect::<Result<_, _>>()
        .map_err(DbError::from)
}

/// Stores a new PENDING note with the next promissory number of its organisation, and
/// its PENDING instalments (each with the note's amount and tracking days). Returns the
/// row id and number.
///
/// # Errors
///
/// SQLite (including the unique ContractReference constraint).
pub fn insert_note(tx: &Tx<'_>, note: &NewNote<'_>) -> Result<Numbered, DbError> {
    let amount = note.instalment_amount.to_string();
    let (org_id, number) = counters::allocate_for_branch(tx, note.branch_id, Kind::Promissory, 1)?;
    tx.conn.prepare_cached(
        "INSERT INTO promissory_notes (branch_id, client_id, contract_reference, payment_stream, status,
             bank_branch_code, bank_id, bank_name, account_number, account_type, check_digit_verified,
             instalment_amount, number_of_instalments, frequency, first_action_date, tracking_days,
             created_without_card_or_pin, transaction_fees_recoverable, created_by, created_at,
             organisation_id, number)
         VALUES (?1, ?2, ?3, ?4, 'PENDING', ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?20, ?21, ?16, ?17,
                 ?18, ?19)",
    )?
    .execute(params![
        note.branch_id,
        note.client_id,
        note.contract_reference,
        note.stream.as_str(),
        note.bank_branch_code,
        note.bank_id,
        note.bank_name,
        note.account_number,
        note.account_type.as_str(),
        note.check_digit_verified,
        amount,
        note.action_dates.len() as i64,
        note.frequency.as_str(),
        format_date(note.first_action_date),
        note.tracking_days,
        note.created_by,
        format_timestamp(note.created_at),
        org_id,
        number,
        !note.card_and_pin,
        note.card_and_pin,
    ])?;
    let id = tx.conn.last_insert_rowid()?;
    let mut insert = tx.conn.prepare_cached(
        "INSERT INTO instalments (promissory_id, instalment_number, action_date, amount, tracking_days, status)
         VALUES (?1, ?2, ?3, ?4, ?5, 'PENDING')",
    )?;
    for (index, date) in note.action_dates.iter().enumerate() {
        insert.execute(params![
            id,
            index as i64 + 1,
            format_date(*date),
            amount,
            note.tracking_days
        ])?;
    }
    crate::store::collections::ensure_sweeps(tx, id, note.created_at)?;
    Ok(Numbered { id, number })
}

/// A note's instalments, by number.
///
/// # Errors
///
/// SQLite.
pub fn instalments(tx: &Tx<'_>, note_id: i64) -> Result<Vec<InstalmentRow>, DbError> {
    tx.conn
        .prepare_cached(
            "SELECT instalment_number, action_date, amount, tracking_days, status
         FROM instalments WHERE promissory_id = ?1 ORDER BY instalment_number",
        )?
        .query_map(params![note_id], |r| {
            Ok(InstalmentRow {
                number: r.get(0)?,
                action_date: parsed(r, 1, "date", parse_date)?,
                amount: parsed(r, 2, "amount", money)?,
                tracking_days: r.get(3)?,
                status: parsed(r, 4, "instalment status", InstalmentStatus::parse)?,
            })
        })?
        .collect::<Result<_, _>>()
        .map_err(DbError::from)
}

/// Every reply of a note's instalments, by instalment then sequence.
///
/// # Errors
///
/// SQLite.
pub fn replies(tx: &Tx<'_>, note_id: i64) -> Result<Vec<ReplyRow>, DbError> {
    tx.conn.prepare_cached(
        "SELECT sequence, reply_type, occurred_at, instalment_number, amount, reason_code, reason_text,
                disputable, disputable_reason
         FROM replies WHERE promissory_id = ?1 AND instalment_number IS NOT NULL
         ORDER BY instalment_number, sequence",
    )?
    .query_map(params![note_id], |r| {
        Ok(ReplyRow {
            sequence: r.get(0)?,
            reply_type: r.get(1)?,
            occurred_at: r.get(2)?,
            instalment_number: r.get(3)?,
            amount: r.get(4)?,
            reason_code: r.get(5)?,
            reason_text: r.get(6)?,
            disputable: r.get(7)?,
            disputable_reason: r.get(8)?,
        })
    })?
    .collect::<Result<_, _>>().map_err(DbError::from)
}

/// Cancels a PENDING or ACTIVE note: every unpresented (PENDING or SUBMITTED)
/// instalment becomes CANCELLED (a TRACKING one ends UNPAID at its next tracking day), the
/// note CANCELLED with the instant, reason and user. Returns how many instalments were
/// stopped.
///
/// # Errors
///
/// SQLite.
pub fn cancel(
    tx: &Tx<'_>,
    note_id: i64,
    now: OffsetDateTime,
    reason: Option<&str>,
    user_id: i64,
) -> Result<usize, DbError> {
    let stopped = tx
        .conn
        .prepare_cached(
            "UPDATE instalments SET status = 'CANCELLED'
             WHERE promissory_id = ?1 AND status IN ('PENDING', 'SUBMITTED')",
        )?
        .execute(params![note_id])?;
    let changed = tx
        .conn
        .prepare_cached(
            "UPDATE promissory_notes SET status = 'CANCELLED', cancelled_at = ?2, cancel_reason = ?3,
                 cancelled_by = ?4
             WHERE id = ?1 AND status IN ('PENDING', 'ACTIVE')",
        )?
        .execute(params![note_id, format_timestamp(now), reason, user_id])?;
    if changed != 1 {
        return Err(crate::store::sql::Error::ChangedRows(changed).into());
    }
    Ok(stopped)
}

/// Rewrites one PENDING instalment's date, amount and tracking days.
///
/// # Errors
///
/// SQLite; `sql::Error::ChangedRows` when the instalment is no longer PENDING.
pub fn update_instalment(
    tx: &Tx<'_>,
    note_id: i64,
    instalment: &InstalmentRow,
    now: OffsetDateTime,
    user_id: i64,
) -> Result<(), DbError> {
    let changed = tx
        .conn
        .prepare_cached(
            "UPDATE instalments SET action_date = ?3, amount = ?4, tracking_days = ?5, edited_at = ?6,
                 edited_by = ?7
             WHERE promissory_id = ?1 AND instalment_number = ?2 AND status = 'PENDING'",
        )?
        .execute(params![
            note_id,
            instalment.number,
            format_date(instalment.action_date),
            instalment.amount.to_string(),
            instalment.tracking_days,
            format_timestamp(now),
            user_id
        ])?;
    if changed != 1 {
        return Err(crate::store::sql::Error::ChangedRows(changed).into());
    }
    crate::store::collections::ensure_sweeps(tx, note_id, now)?;
    Ok(())
}

/// Re-presents an UNPAID instalment as an arrears collection: PENDING again on its new
/// date (and amount, tracking days), marked arrears, its presentment date cleared; the
/// date's collection sweep is queued.
///
/// # Errors
///
/// SQLite; `sql::Error::ChangedRows` when the instalment is no longer UNPAID.
pub fn represent_as_arrears(
    tx: &Tx<'_>,
    note_id: i64,
    instalment: &InstalmentRow,
    now: OffsetDateTime,
    user_id: i64,
) -> Result<(), DbError> {
    let changed = tx
        .conn
        .prepare_cached(
            "UPDATE instalments SET action_date = ?3, amount = ?4, tracking_days = ?5, edited_at = ?6,
                 edited_by = ?7, status = 'PENDING', arrears = 1, presented_on = NULL
             WHERE promissory_id = ?1 AND instalment_number = ?2 AND status = 'UNPAID'",
        )?
        .execute(params![
            note_id,
            instalment.number,
            format_date(instalment.action_date),
            instalment.amount.to_string(),
            instalment.tracking_days,
            format_timestamp(now),
            user_id
        ])?;
    if changed != 1 {
        return Err(crate::store::sql::Error::ChangedRows(changed).into());
    }
    crate::store::collections::ensure_sweeps(tx, note_id, now)?;
    Ok(())
}

/// The organisation and branch names a branch row belongs to (for printed documents).
///
/// # Errors
///
/// SQLite.
pub fn branch_names(tx: &Tx<'_>, branch_id: i64) -> Result<(String, String), DbError> {
    tx.conn
        .prepare_cached(
            "SELECT o.name, b.name FROM branches b JOIN organisations o ON o.id = b.organisation_id
         WHERE b.id = ?1",
        )?
        .query_row(params![branch_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(DbError::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MIGRATIONS;
    use time::macros::{date, datetime};

    fn db() -> crate::store::sql::Conn {
        let raw = rusqlite::Connection::open_in_memory().unwrap();
        raw.pragma_update(None, "foreign_keys", true).unwrap();
        let conn = crate::store::sql::Conn::sqlite(raw);
        for m in MIGRATIONS {
            conn.execute_batch(m).unwrap();
        }
        conn.execute_batch(
            "INSERT INTO organisations (id, code, name, created_at) VALUES (1, 'DEMO', 'Demo Lender', 'x');
             INSERT INTO branches (id, organisation_id, code, name, created_at) VALUES (1, 1, 'BR001', 'Main', 'x');
             INSERT INTO users (id, organisation_id, user_name, password_hash, created_at) VALUES (1, 1, 'u', 'h', 'x');
             INSERT INTO employers (id, branch_id, employer_code, employer_name, pay_frequency, created_by, created_at)
                 VALUES (1, 1, 'E', 'Employer', 'MONTHLY', 1, 'x');
             INSERT INTO clients (id, branch_id, employer_id, client_number, first_name, surname, id_type, id_number,
                 date_of_birth, gender, created_by, created_at)
                 VALUES (1, 1, 1, 'C1', 'A', 'B', 'PASSPORT', 'P12345', '1990-01-01', 'M', 1, 'x');",
        )
        .unwrap();
        conn
    }

    fn new_note<'a>(reference: &'a str, at: OffsetDateTime, dates: &'a [Date]) -> NewNote<'a> {
        NewNote {
            branch_id: 1,
            client_id: 1,
            contract_reference: reference,
            stream: NoteStream::Eft,
            bank_branch_code: "470010",
            bank_id: "capitec",
            bank_name: "Capitec Bank",
            account_number: "1234567890",
            account_type: AccountType::Savings,
            check_digit_verified: true,
            instalment_amount: Decimal::new(85000, 2),
            frequency: Frequency::Monthly,
            first_action_date: dates[0],
            tracking_days: 0,
            action_dates: dates,
            card_and_pin: false,
            created_by: 1,
            created_at: at,
        }
    }

    #[test]
    fn insert_read_activate_cancel() {
        let db = db();
        let conn = Tx::new(&db);
        let t0 = datetime!(2026-11-23 08:00 UTC);
        let dates = [date!(2026 - 11 - 25), date!(2026 - 12 - 24)];
        let a = insert_note(&conn, &new_note("A", t0, &dates)).unwrap();
        let b = insert_note(&conn, &new_note("B", t0 + Duration::minutes(5), &dates)).unwrap();
        // The organisation's first notes are numbers 1 and 2 (here also the row ids).
        assert_eq!((a.number, b.number), (1, 2));
        let (a, b) = (a.id, b.id);
        let note = note_by_number(&conn, 1, a).unwrap().unwrap();
        assert_eq!(note.status, NoteStatus::Pending);
        assert_eq!(note.instalment_amount.to_string(), "850.00");
        assert!(note.created_without_card_or_pin && !note.transaction_fees_recoverable);
        assert_eq!(find_by_reference(&conn, 1, "B").unwrap().unwrap().id, b);
        assert_eq!(note_by_number(&conn, 2, a).unwrap(), None);
        let delay = Duration::minutes(10);
        assert_eq!(
            note.status_at(t0 + Duration::minutes(10), delay),
            NoteStatus::Active
        );

        // At 08:12 only A is due; registered_at is created_at + delay, not now.
        assert_eq!(
            activate_due(&conn, t0 + Duration::minutes(12), delay).unwrap(),
            1
        );
        let registered: String = conn
            .conn
            .query_row(
                "SELECT registered_at FROM promissory_notes WHERE id = ?1",
                [a],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(registered, "2026-11-23T08:10:00Z");
        assert_eq!(
            note_by_number(&conn, 1, b).unwrap().unwrap().status,
            NoteStatus::Pending
        );
        assert_eq!(
            activate_due(&conn, t0 + Duration::minutes(12), delay).unwrap(),
            0
        );

        conn.conn.execute(
            "UPDATE instalments SET status = 'PRESENTED' WHERE promissory_id = ?1 AND instalment_number = 1",
            [a],
        )
        .unwrap();
        assert_eq!(
            cancel(&conn, a, t0 + Duration::hours(1), Some("settled"), 1).unwrap(),
            1
        );
        let statuses: Vec<InstalmentStatus> = instalments(&conn, a)
            .unwrap()
            .iter()
            .map(|i| i.status)
            .collect();
        assert_eq!(
            statuses,
            [InstalmentStatus::Presented, InstalmentStatus::Cancelled]
        );
        let note = note_by_number(&conn, 1, a).unwrap().unwrap();
        assert_eq!(note.status, NoteStatus::Cancelled);
        assert_eq!(note.cancel_reason.as_deref(), Some("settled"));
        assert!(cancel(&conn, a, t0, None, 1).is_err(), "already cancelled");
        assert_eq!(notes_of_client(&conn, 1).unwrap().len(), 2);
    }

    #[test]
    fn replies_are_listed_per_instalment_in_sequence() {
        let db = db();
        let conn = Tx::new(&db);
        let t0 = datetime!(2026-11-23 08:00 UTC);
        let dates = [date!(2026 - 11 - 25), date!(2026 - 12 - 24)];
        let a = insert_note(&conn, &new_note("A", t0, &dates)).unwrap().id;
        conn.conn.execute_batch(&format!(
            "INSERT INTO replies (sequence, branch_id, reply_type, occurred_at, client_id, promissory_id, instalment_number, amount)
             VALUES (1, 1, 'INSTALMENT_COLLECTED', '2026-12-24T02:00:00Z', 1, {a}, 2, '850.00'),
                    (2, 1, 'INSTALMENT_TRACKING', '2026-11-25T02:00:00Z', 1, {a}, 1, '850.00'),
                    (3, 1, 'INSTALMENT_COLLECTED', '2026-11-27T02:00:00Z', 1, {a}, 1, '850.00'),
                    (4, 1, 'PAYMENT_DELIVERED', '2026-11-27T02:00:00Z', 1, NULL, NULL, '10.00');"
        ))
        .unwrap();
        let got: Vec<(u16, i64)> = replies(&conn, a)
            .unwrap()
            .iter()
            .map(|r| (r.instalment_number, r.sequence))
            .collect();
        assert_eq!(got, [(1, 2), (1, 3), (2, 1)]);
    }
}
