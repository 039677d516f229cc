//! Public holidays declared at run time (`admin holiday add`): the rows, the calendar
//! version the server's cached calendar is checked against, and the move of every
//! instalment not yet presented off a newly declared day, each move recorded in the
//! replies feed (`INSTALMENT_MOVED`).

use crate::store::sql::{OptionalExtension, params};
use time::{Date, OffsetDateTime};

use crate::clock::{format_date, format_timestamp, parse_date};
use crate::domain::calendar::Calendar;
use crate::domain::payouts::ReplyType;
use crate::store::admin::AdminError;
use crate::store::replies::{self, NewReply};
use crate::store::{DbError, Tx};

/// The calendar version: bumped by every declaration.
///
/// # Errors
///
/// SQLite.
pub fn version(tx: &Tx<'_>) -> Result<i64, DbError> {
    tx.conn
        .prepare_cached("SELECT version FROM calendar_version WHERE id = 1")?
        .query_row(params![], |r| r.get(0))
        .optional()
        .map(|v| v.unwrap_or(0))
        .map_err(DbError::from)
}

/// Every holiday declared at run time, in date order.
///
/// # Errors
///
/// SQLite, or a stored date that does not parse.
pub fn all(tx: &Tx<'_>) -> Result<Vec<(Date, String)>, DbError> {
    let mut stmt = tx
        .conn
        .prepare_cached("SELECT holiday_date, name FROM declared_holidays ORDER BY holiday_date")?;
    let rows = stmt
        .query_map(params![], |r| {
            Ok((r.get::<String>(0)?, r.get::<String>(1)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter()
        .map(|(d, n)| {
            parse_date(&d)
                .map(|date| (date, n))
                .ok_or_else(|| DbError::from(crate::store::sql::Error::conversion(0, "a date", d)))
        })
        .collect()
}

/// One instalment moved off a declared holiday.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    /// The note's row id.
    pub promissory_id: i64,
    /// The note's organisation (code); numbers count within it.
    pub organisation: String,
    /// The note's number in its organisation (PromissoryNumber digits).
    pub promissory_number: i64,
    /// The instalment.
    pub instalment_number: i64,
    /// Its date before.
    pub from: Date,
    /// Its date now.
    pub to: Date,
}

/// Declares `date` a public holiday named `name`, bumps the calendar version, and moves
/// every PENDING instalment (not yet presented) on that date to the previous business
/// day of the calendar including the new day (the rule schedule generation uses), each
/// move recorded as an `INSTALMENT_MOVED` reply for the note's branch. `base` is the
/// calendar without the run-time declarations (statutory and bundled days).
///
/// # Errors
///
/// The date is already declared (here or in `base`), a blank name, or SQLite.
pub fn declare(
    tx: &Tx<'_>,
    base: &Calendar,
    date: Date,
    name: &str,
    now: OffsetDateTime,
) -> Result<Vec<Moved>, AdminError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.contains('#') {
        return Err(AdminError::Invalid(
            "the holiday name must be 1-100 characters, without '#'".into(),
        ));
    }
    let mut declared = all(tx)?;
    if declared.iter().any(|(d, _)| *d == date) || base.holiday_name(date).is_some() {
        return Err(AdminError::Exists(format!(
            "public holiday on {}",
            format_date(date)
        )));
    }
    tx.conn.execute(
        "INSERT INTO declared_holidays (holiday_date, name, added_at) VALUES (?1, ?2, ?3)",
        params![format_date(date), name, format_timestamp(now)],
    )?;
    tx.conn.execute(
        "UPDATE calendar_version SET version = version + 1 WHERE id = 1",
        [],
    )?;
    declared.push((date, name.to_string()));
    let calendar = base.with_more_declared(&declared);
    let Some(to) = calendar.on_or_before(date) else {
        return Ok(Vec::new());
    };

    let mut stmt = tx.conn.prepare(
        "SELECT i.promissory_id, i.instalment_number, i.amount, n.branch_id, n.client_id, o.code, n.number
         FROM instalments i JOIN promissory_notes n ON n.id = i.promissory_id
              JOIN organisations o ON o.id = n.organisation_id
         WHERE i.action_date = ?1 AND i.status IN ('PENDING', 'SUBMITTED')
           AND i.status = 'PENDING'
         ORDER BY i.promissory_id, i.instalment_number",
    )?;
    let due = stmt
        .query_map([format_date(date)], |r| {
            Ok((
                r.get::<i64>(0)?,
                r.get::<i64>(1)?,
                r.get::<String>(2)?,
                r.get::<i64>(3)?,
                r.get::<i64>(4)?,
                r.get::<String>(5)?,
                r.get::<i64>(6)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut moved = Vec::with_capacity(due.len());
    let reason = format!(
        "moved from {} to {}: {name} was declared a public holiday",
        format_date(date),
        format_date(to)
    );
    let mut replies = Vec::with_capacity(due.len());
    for (promissory_id, instalment_number, amount, branch_id, client_id, organisation, number) in
        due
    {
        tx.conn.execute(
            "UPDATE instalments SET action_date = ?1
             WHERE promissory_id = ?2 AND instalment_number = ?3",
            params![format_date(to), promissory_id, instalment_number],
        )?;
        let mut reply = NewReply::new(branch_id, ReplyType::InstalmentMoved, now);
        reply.client_id = Some(client_id);
        reply.promissory_id = Some(promissory_id);
        reply.instalment_number = Some(instalment_number);
        reply.amount = amount.parse().ok();
        reply.reason_code = Some("PUBLIC_HOLIDAY");
        reply.reason_text = Some(&reason);
        replies.push(reply);
        moved.push(Moved {
            promissory_id,
            organisation,
            promissory_number: number,
            instalment_number,
            from: date,
            to,
        });
    }
    // One block of reply sequences per organisation, in the order the moves were made.
    replies::insert_all(tx, &replies)?;
    Ok(moved)
}
