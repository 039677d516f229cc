//! The `employers` table: lookups by EmployerCode and the insert.

use crate::store::sql::{OptionalExtension, params};
use time::OffsetDateTime;

use crate::clock::format_timestamp;
use crate::domain::PayFrequency;
use crate::store::{DbError, Tx, conversion};

/// An employer of a branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmployerRow {
    /// Row id.
    pub id: i64,
    /// The employer's name.
    pub name: String,
    /// How often it pays.
    pub pay_frequency: PayFrequency,
    /// The pay day, if given.
    pub pay_day: Option<i64>,
}

/// The row id of the branch's employer with this code.
///
/// # Errors
///
/// SQLite.
pub fn employer_id(tx: &Tx<'_>, branch_id: i64, code: &str) -> Result<Option<i64>, DbError> {
    Ok(tx
        .conn
        .prepare_cached("SELECT id FROM employers WHERE branch_id = ?1 AND employer_code = ?2")?
        .query_row(params![branch_id, code], |r| r.get(0))
        .optional()?)
}

/// The branch's employer with this code.
///
/// # Errors
///
/// SQLite.
pub fn find_employer(
    tx: &Tx<'_>,
    branch_id: i64,
    code: &str,
) -> Result<Option<EmployerRow>, DbError> {
    Ok(tx
        .conn
        .prepare_cached(
            "SELECT id, employer_name, pay_frequency, pay_day FROM employers
             WHERE branch_id = ?1 AND employer_code = ?2",
        )?
        .query_row(params![branch_id, code], |r| {
            let frequency: String = r.get(2)?;
            Ok(EmployerRow {
                id: r.get(0)?,
                name: r.get(1)?,
                pay_frequency: PayFrequency::parse(&frequency)
                    .ok_or_else(|| conversion(2, "pay_frequency", &frequency))?,
                pay_day: r.get(3)?,
            })
        })
        .optional()?)
}

/// An employer to register.
#[derive(Debug, Clone, Copy)]
pub struct NewEmployer<'a> {
    /// The branch.
    pub branch_id: i64,
    /// The EmployerCode (unique in the branch).
    pub code: &'a str,
    /// The employer's name.
    pub name: &'a str,
    /// How often it pays.
    pub pay_frequency: PayFrequency,
    /// The pay day, if given.
    pub pay_day: Option<i64>,
    /// The user.
    pub created_by: i64,
}

/// Stores a new employer of a branch; returns its row id.
///
/// # Errors
///
/// SQLite (a UNIQUE violation for a code already in the branch).
pub fn insert_employer(
    tx: &Tx<'_>,
    employer: &NewEmployer<'_>,
    now: OffsetDateTime,
) -> Result<i64, DbError> {
    tx.conn
        .prepare_cached(
            "INSERT INTO employers (branch_id, employer_code, employer_name, pay_frequency, pay_day, created_by, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?
        .execute(params![
            employer.branch_id,
            employer.code,
            employer.name,
            employer.pay_frequency.as_str(),
            employer.pay_day,
            employer.created_by,
            format_timestamp(now)
        ])?;
    Ok(tx.conn.last_insert_rowid()?)
}
