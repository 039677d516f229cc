//! The console's read-only views and the figures `/metrics` reads from rows. Every list
//! is one page (keyset paging on an index: never a scan of a whole table), and every
//! query of a lender's data takes a branch id that [`branch_id`] resolved inside the
//! operator's organisation, so a page cannot reach another organisation's rows.
//! Identifiers come back raw; the console masks them (`domain::mask`) before rendering.

use crate::store::sql::{self, OptionalExtension, OwnedValue, Row, params};
use time::OffsetDateTime;

use crate::clock::{format_timestamp, parse_timestamp};
use crate::store::{DbError, Tx};

/// What `/metrics` reads from the store's rows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreFigures {
    /// Jobs waiting and due now (PENDING, due, never tried).
    pub jobs_due: i64,
    /// Jobs waiting for a later time (PENDING, not due yet, never tried).
    pub jobs_scheduled: i64,
    /// Jobs being run (RUNNING).
    pub jobs_running: i64,
    /// Jobs waiting for another attempt after a failure (PENDING, attempts > 0).
    pub jobs_retrying: i64,
    /// Jobs that gave up (FAILED).
    pub jobs_failed: i64,
    /// Age in seconds of the oldest due job (PENDING or RUNNING), 0 when none.
    pub oldest_due_age_secs: i64,
    /// Replies written to the GetReplies feed since the store was created.
    pub replies_written: i64,
    /// Collection attempts by outcome (COLLECTED, UNPAID).
    pub collections: Vec<(String, i64)>,
}

/// The id of branch `branch` of organisation `org`, if both exist.
///
/// # Errors
///
/// SQLite.
pub fn branch_id(tx: &Tx<'_>, org: &str, branch: &str) -> Result<Option<i64>, DbError> {
    Ok(tx
        .conn
        .prepare_cached(
            "SELECT b.id FROM branches b JOIN organisations o ON o.id = b.organisation_id
             WHERE o.code = ?1 AND b.code = ?2",
        )?
        .query_row(params![org, branch], |r| r.get(0))
        .optional()?)
}

/// What `/metrics` reads from rows: the job queue by state and the age of its oldest
/// due job, replies written, collection attempts by outcome.
///
/// # Errors
///
/// SQLite.
pub fn metrics_figures(tx: &Tx<'_>, now: OffsetDateTime) -> Result<StoreFigures, DbError> {
    let now_text = format_timestamp(now);
    let mut f = StoreFigures::default();
    let mut oldest: Option<String> = None;
    let mut stmt = tx.conn.prepare_cached(
        "SELECT status, CASE WHEN attempts > 0 THEN 1 ELSE 0 END,
                CASE WHEN due_at <= ?1 THEN 1 ELSE 0 END, count(*), min(due_at) FROM jobs
         WHERE status IN ('PENDING', 'RUNNING', 'FAILED') GROUP BY 1, 2, 3",
    )?;
    let rows = stmt.query_map([&now_text], |r| {
        Ok((
            r.get::<String>(0)?,
            r.get::<bool>(1)?,
            r.get::<bool>(2)?,
            r.get::<i64>(3)?,
            r.get::<Option<String>>(4)?,
        ))
    })?;
    for row in rows {
        let (status, retried, due, n, min_due) = row?;
        match (status.as_str(), retried, due) {
            ("FAILED", _, _) => f.jobs_failed += n,
            ("RUNNING", _, _) => f.jobs_running += n,
            ("PENDING", true, _) => f.jobs_retrying += n,
            ("PENDING", false, true) => f.jobs_due += n,
            _ => f.jobs_scheduled += n,
        }
        if status != "FAILED"
            && due
            && let Some(min_due) = min_due
            && oldest.as_ref().is_none_or(|o| min_due < *o)
        {
            oldest = Some(min_due);
        }
    }
    f.oldest_due_age_secs = oldest
        .as_deref()
        .and_then(parse_timestamp)
        .map_or(0, |at| (now - at).whole_seconds().max(0));
    f.replies_written = tx
        .conn
        .prepare_cached("SELECT coalesce(max(id), 0) FROM replies")?
        .query_row([], |r| r.get(0))?;
    f.collections = tx
        .conn
        .prepare_cached(
            "SELECT outcome, count(*) FROM instalment_attempts GROUP BY outcome ORDER BY outcome",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    Ok(f)
}

/// One client in a branch's list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientLine {
    /// ClientNumber.
    pub client_number: String,
    /// First name and surname.
    pub name: String,
    /// SA_ID or PASSPORT.
    pub id_type: String,
    /// The ID or passport number (raw: mask before showing).
    pub id_number: String,
    /// Cellphone, if recorded.
    pub cellphone: Option<String>,
    /// When created.
    pub created_at: String,
}

fn client_line(r: &Row<'_>) -> sql::Result<ClientLine> {
    Ok(ClientLine {
        client_number: r.get(0)?,
        name: format!("{} {}", r.get::<String>(1)?, r.get::<String>(2)?),
        id_type: r.get(3)?,
        id_number: r.get(4)?,
        cellphone: r.get(5)?,
        created_at: r.get(6)?,
    })
}

/// A branch's clients whose number starts with `prefix`, after client number `after`,
/// in client-number order, at most `limit`.
///
/// # Errors
///
/// SQLite.
pub fn clients_page(
    tx: &Tx<'_>,
    branch_id: i64,
    prefix: &str,
    after: &str,
    limit: usize,
) -> Result<Vec<ClientLine>, DbError> {
    // Everything starting with the prefix sorts below prefix + U+10FFFF (BINARY collation).
    let upper = format!("{prefix}\u{10FFFF}");
    let from = if after > prefix { after } else { prefix };
    let inclusive = after.is_empty() || after < prefix;
    let sql = if inclusive {
        "SELECT client_number, first_name, surname, id_type, id_number, cellphone, created_at
         FROM clients WHERE branch_id = ?1 AND client_number >= ?2 AND client_number < ?3
         ORDER BY client_number LIMIT ?4"
    } else {
        "SELECT client_number, first_name, surname, id_type, id_number, cellphone, created_at
         FROM clients WHERE branch_id = ?1 AND client_number > ?2 AND client_number < ?3
         ORDER BY client_number LIMIT ?4"
    };
    Ok(tx
        .conn
        .prepare_cached(sql)?
        .query_map(params![branch_id, from, upper, limit as i64], client_line)?
        .collect::<Result<_, _>>()?)
}

/// One client of a branch by number, with its row id.
///
/// # Errors
///
/// SQLite.
pub fn client(
    tx: &Tx<'_>,
    branch_id: i64,
    client_number: &str,
) -> Result<Option<(i64, ClientLine)>, DbError> {
    Ok(tx
        .conn
        .prepare_cached(
            "SELECT client_number, first_name, surname, id_type, id_number, cellphone, created_at, id
             FROM clients WHERE branch_id = ?1 AND client_number = ?2",
        )?
        .query_row(params![branch_id, client_number], |r| {
            Ok((r.get(7)?, client_line(r)?))
        })
        .optional()?)
}

/// One promissory note in a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteLine {
    /// Row id.
    pub id: i64,
    /// The organisation's number of the note (PromissoryNumber = `PN` + it).
    pub number: i64,
    /// ContractReference.
    pub contract_reference: String,
    /// The client's number.
    pub client_number: String,
    /// Payment stream.
    pub payment_stream: String,
    /// Stored status.
    pub status: String,
    /// Instalment amount.
    pub instalment_amount: String,
    /// Number of instalments.
    pub instalments: i64,
    /// First action date.
    pub first_action_date: String,
    /// Bank name.
    pub bank_name: String,
    /// Account number (raw: mask before showing).
    pub account_number: String,
    /// When created.
    pub created_at: String,
}

const NOTE_COLUMNS: &str = "n.id, n.contract_reference, c.client_number, n.payment_stream, \
     n.status, n.instalment_amount, n.number_of_instalments, n.first_action_date, n.bank_name, \
     n.account_number, n.created_at, coalesce(n.number, n.id)";

fn note_line(r: &Row<'_>) -> sql::Result<NoteLine> {
    Ok(NoteLine {
        id: r.get(0)?,
        contract_reference: r.get(1)?,
        client_number: r.get(2)?,
        payment_stream: r.get(3)?,
        status: r.get(4)?,
        instalment_amount: r.get(5)?,
        instalments: r.get(6)?,
        first_action_date: r.get(7)?,
        bank_name: r.get(8)?,
        account_number: r.get(9)?,
        created_at: r.get(10)?,
        number: r.get(11)?,
    })
}

/// A branch's notes after contract reference `after`, in reference order.
///
/// # Errors
///
/// SQLite.
pub fn notes_page(
    tx: &Tx<'_>,
    branch_id: i64,
    after: &str,
    limit: usize,
) -> Result<Vec<NoteLine>, DbError> {
    Ok(tx
        .conn
        .prepare_cached(&format!(
            "SELECT {NOTE_COLUMNS} FROM promissory_notes n JOIN clients c ON c.id = n.client_id
             WHERE n.branch_id = ?1 AND n.contract_reference > ?2
             ORDER BY n.contract_reference LIMIT ?3"
        ))?
        .query_map(params![branch_id, after, limit as i64], note_line)?
        .collect::<Result<_, _>>()?)
}

/// A client's notes, newest first, at most `limit`.
///
/// # Errors
///
/// SQLite.
pub fn client_notes(tx: &Tx<'_>, client_id: i64, limit: usize) -> Result<Vec<NoteLine>, DbError> {
    Ok(tx
        .conn
        .prepare_cached(&format!(
            "SELECT {NOTE_COLUMNS} FROM promissory_notes n JOIN clients c ON c.id = n.client_id
             WHERE n.client_id = ?1 ORDER BY n.id DESC LIMIT ?2"
        ))?
        .query_map(params![client_id, limit as i64], note_line)?
        .collect::<Result<_, _>>()?)
}

/// One note of a branch by id.
///
/// # Errors
///
/// SQLite.
pub fn note(tx: &Tx<'_>, branch_id: i64, id: i64) -> Result<Option<NoteLine>, DbError> {
    Ok(tx
        .conn
        .prepare_cached(&format!(
            "SELECT {NOTE_COLUMNS} FROM promissory_notes n JOIN clients c ON c.id = n.client_id
             WHERE n.branch_id = ?1 AND n.id = ?2"
        ))?
        .query_row(params![branch_id, id], note_line)
        .optional()?)
}

/// Generic rows of text cells, for the detail tables.
pub type Cells = Vec<String>;

fn text_rows(
    tx: &Tx<'_>,
    sql: &str,
    params: impl sql::Params,
    columns: usize,
) -> Result<Vec<Cells>, DbError> {
    let mut stmt = tx.conn.prepare_cached(sql)?;
    let rows = stmt.query_map(params, |r| {
        (0..columns)
            .map(|i| {
                let v: OwnedValue = r.get(i)?;
                Ok(match v {
                    OwnedValue::Null => String::new(),
                    OwnedValue::Integer(n) => n.to_string(),
                    OwnedValue::Real(x) => x.to_string(),
                    OwnedValue::Text(t) => t,
                    OwnedValue::Blob(_) => "(binary)".into(),
                })
            })
            .collect::<sql::Result<Cells>>()
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A note's instalments: number, action date, amount, status, arrears, presented on,
/// collected amount, settlement date (at most `limit`).
///
/// # Errors
///
/// SQLite.
pub fn instalments(tx: &Tx<'_>, note_id: i64, limit: usize) -> Result<Vec<Cells>, DbError> {
    text_rows(
        tx,
        "SELECT instalment_number, action_date, amount, status, arrears, presented_on,
                collected_amount, settlement_date
         FROM instalments WHERE promissory_id = ?1 ORDER BY instalment_number LIMIT ?2",
        params![note_id, limit as i64],
        8,
    )
}

/// A note's collection attempts: instalment, attempt, kind, presented at, outcome,
/// reason code and text, answered at (at most `limit`).
///
/// # Errors
///
/// SQLite.
pub fn attempts(tx: &Tx<'_>, note_id: i64, limit: usize) -> Result<Vec<Cells>, DbError> {
    text_rows(
        tx,
        "SELECT instalment_number, attempt_number, kind, presented_at, outcome, reason_code,
                reason_text, answered_at
         FROM instalment_attempts WHERE promissory_id = ?1
         ORDER BY instalment_number, attempt_number LIMIT ?2",
        params![note_id, limit as i64],
        8,
    )
}

/// A branch's payments after reference `after`: id, reference, client number, status,
/// action date, total, cash, created at, the organisation's payment number.
///
/// # Errors
///
/// SQLite.
pub fn payments_page(
    tx: &Tx<'_>,
    branch_id: i64,
    after: &str,
    limit: usize,
) -> Result<Vec<Cells>, DbError> {
    text_rows(
        tx,
        "SELECT p.id, p.payment_reference, c.client_number, p.status, p.action_date,
                p.total_amount, p.cash_amount, p.created_at, coalesce(p.number, p.id)
         FROM credit_payments p JOIN clients c ON c.id = p.client_id
         WHERE p.branch_id = ?1 AND p.payment_reference > ?2
         ORDER BY p.payment_reference LIMIT ?3",
        params![branch_id, after, limit as i64],
        9,
    )
}

/// One payment of a branch (as [`payments_page`]'s cells), if it is the branch's.
///
/// # Errors
///
/// SQLite.
pub fn payment(tx: &Tx<'_>, branch_id: i64, id: i64) -> Result<Option<Cells>, DbError> {
    Ok(text_rows(
        tx,
        "SELECT p.id, p.payment_reference, c.client_number, p.status, p.action_date,
                p.total_amount, p.cash_amount, p.created_at, coalesce(p.number, p.id)
         FROM credit_payments p JOIN clients c ON c.id = p.client_id
         WHERE p.branch_id = ?1 AND p.id = ?2",
        params![branch_id, id],
        9,
    )?
    .pop())
}

/// A payment's parts: part, recipient type, account number (raw), amount, status,
/// status at, return code, return reason.
///
/// # Errors
///
/// SQLite.
pub fn payment_parts(tx: &Tx<'_>, payment_id: i64, limit: usize) -> Result<Vec<Cells>, DbError> {
    text_rows(
        tx,
        "SELECT pp.part_number, pp.recipient_type, a.account_number, pp.amount, pp.status,
                pp.status_at, pp.return_code, pp.return_reason
         FROM credit_payment_parts pp LEFT JOIN client_accounts a ON a.id = pp.account_id
         WHERE pp.payment_id = ?1 ORDER BY pp.part_number LIMIT ?2",
        params![payment_id, limit as i64],
        8,
    )
}

/// A client's payments, newest first (as [`payments_page`]'s cells).
///
/// # Errors
///
/// SQLite.
pub fn client_payments(tx: &Tx<'_>, client_id: i64, limit: usize) -> Result<Vec<Cells>, DbError> {
    text_rows(
        tx,
        "SELECT p.id, p.payment_reference, c.client_number, p.status, p.action_date,
                p.total_amount, p.cash_amount, p.created_at, coalesce(p.number, p.id)
         FROM credit_payments p JOIN clients c ON c.id = p.client_id
         WHERE p.client_id = ?1 ORDER BY p.id DESC LIMIT ?2",
        params![client_id, limit as i64],
        9,
    )
}

/// A client's registered accounts: id, kind, bank, account number (raw), type, holder,
/// enabled, created at.
///
/// # Errors
///
/// SQLite.
pub fn client_accounts(tx: &Tx<'_>, client_id: i64, limit: usize) -> Result<Vec<Cells>, DbError> {
    text_rows(
        tx,
        "SELECT id, kind, bank_name, account_number, account_type, holder_name, enabled, created_at
         FROM client_accounts WHERE client_id = ?1 ORDER BY id LIMIT ?2",
        params![client_id, limit as i64],
        8,
    )
}

/// A branch's wallet requests before id `before` (newest first): id, client number,
/// status, cellphone, wallet number, requested at, completed at, active card (raw).
///
/// # Errors
///
/// SQLite.
pub fn wallets_page(
    tx: &Tx<'_>,
    branch_id: i64,
    before: i64,
    limit: usize,
) -> Result<Vec<Cells>, DbError> {
    text_rows(
        tx,
        "SELECT w.id, c.client_number, w.status, w.cellphone, w.wallet_number, w.requested_at,
                w.completed_at,
                (SELECT k.card_number FROM wallet_cards k
                 WHERE k.wallet_id = w.id AND k.status = 'ACTIVE')
         FROM wallets w JOIN clients c ON c.id = w.client_id
         WHERE w.branch_id = ?1 AND w.id < ?2 ORDER BY w.id DESC LIMIT ?3",
        params![branch_id, before, limit as i64],
        8,
    )
}

/// The cards of a branch's wallet: id, card number (raw), technology, status, assigned
/// at, replaced at. Empty when the wallet is not the branch's.
///
/// # Errors
///
/// SQLite.
pub fn wallet_cards(
    tx: &Tx<'_>,
    branch_id: i64,
    wallet_id: i64,
    limit: usize,
) -> Result<Vec<Cells>, DbError> {
    text_rows(
        tx,
        "SELECT k.id, k.card_number, k.technology, k.status, k.assigned_at, k.replaced_at
         FROM wallet_cards k JOIN wallets w ON w.id = k.wallet_id
         WHERE w.branch_id = ?1 AND k.wallet_id = ?2 ORDER BY k.id LIMIT ?3",
        params![branch_id, wallet_id, limit as i64],
        6,
    )
}

/// A branch's replies before sequence `before` (newest first): sequence, type,
/// occurred at, note id, instalment, payment id, part, wallet number, amount, reason.
///
/// # Errors
///
/// SQLite.
pub fn replies_page(
    tx: &Tx<'_>,
    branch_id: i64,
    before: i64,
    limit: usize,
) -> Result<Vec<Cells>, DbError> {
    text_rows(
        tx,
        "SELECT sequence, reply_type, occurred_at, promissory_id, instalment_number, payment_id,
                part_number, wallet_number, amount,
                coalesce(reason_code || ' ' || reason_text, reason_code, '')
         FROM replies WHERE branch_id = ?1 AND sequence < ?2
         ORDER BY sequence DESC LIMIT ?3",
        params![branch_id, before, limit as i64],
        10,
    )
}

/// Jobs in one state (`due`, `scheduled`, `running`, `retrying`, `failed`) in due order
/// after (`due_at`, `id`): id, kind, subject, part, status, due at, attempts, last
/// error, created at. An unknown state lists nothing.
///
/// # Errors
///
/// SQLite.
pub fn jobs_page(
    tx: &Tx<'_>,
    state: &str,
    now: OffsetDateTime,
    after: (&str, i64),
    limit: usize,
) -> Result<Vec<Cells>, DbError> {
    let filter = match state {
        "due" => "status = 'PENDING' AND attempts = 0 AND due_at <= ?1",
        "scheduled" => "status = 'PENDING' AND attempts = 0 AND due_at > ?1",
        "running" => "status = 'RUNNING' AND ?1 IS NOT NULL",
        "retrying" => "status = 'PENDING' AND attempts > 0 AND ?1 IS NOT NULL",
        "failed" => "status = 'FAILED' AND ?1 IS NOT NULL",
        _ => return Ok(Vec::new()),
    };
    text_rows(
        tx,
        &format!(
            "SELECT id, kind, subject_id, part_number, status, due_at, attempts, last_error,
                    created_at
             FROM jobs WHERE {filter} AND (due_at > ?2 OR (due_at = ?2 AND id > ?3))
             ORDER BY due_at, id LIMIT ?4"
        ),
        params![format_timestamp(now), after.0, after.1, limit as i64],
        9,
    )
}
