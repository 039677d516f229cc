//! The integration users as authentication reads them (with their organisation, rights,
//! computers and branch allocations), and the failure counter and lockout it writes.
//! Operator changes to the same tables are in [`crate::store::admin`].

use crate::store::sql::{OptionalExtension, params};
use time::OffsetDateTime;

use crate::clock::format_timestamp;
use crate::store::{DbError, Tx};

/// A branch as a call names it: whether it is enabled and allocated to the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BranchAccess {
    /// Row id.
    pub id: i64,
    /// The branch is enabled.
    pub enabled: bool,
    /// The user is allocated to it.
    pub allocated: bool,
}

/// Everything a credentials check needs about one user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialRow {
    /// The user's row id.
    pub id: i64,
    /// The argon2id hash.
    pub password_hash: String,
    /// The user may log in.
    pub enabled: bool,
    /// Failed attempts since the last success.
    pub failed_attempts: i64,
    /// Locked until (RFC 3339), if locked.
    pub locked_until: Option<String>,
    /// Bumped by every operator change to the user.
    pub auth_version: i64,
    /// The organisation's row id.
    pub org_id: i64,
    /// The organisation is enabled.
    pub org_enabled: bool,
    /// The user is bound to at least one computer.
    pub computer_bound: bool,
    /// The calling computer is one of them (NOCASE, as the column is declared).
    pub computer_allowed: bool,
    /// The user holds the right asked about.
    pub has_right: bool,
    /// The branch named in the credentials, if it exists in the organisation.
    pub branch: Option<BranchAccess>,
}

/// Everything a credentials check needs, in one statement: the user and organisation,
/// the computer binding, the right and the branch with its allocation. (It was four
/// statements per call.)
const CREDENTIALS_SQL: &str =
    "SELECT u.id, u.password_hash, u.enabled, u.failed_attempts, u.locked_until,
        u.auth_version, o.id, o.enabled,
        EXISTS (SELECT 1 FROM user_computers uc WHERE uc.user_id = u.id),
        EXISTS (SELECT 1 FROM user_computers uc WHERE uc.user_id = u.id AND uc.computer_name = ?3),
        EXISTS (SELECT 1 FROM user_rights ur WHERE ur.user_id = u.id AND ur.right_code = ?4),
        b.id, b.enabled,
        EXISTS (SELECT 1 FROM user_branches ub WHERE ub.user_id = u.id AND ub.branch_id = b.id)
 FROM users u
 JOIN organisations o ON o.id = u.organisation_id
 LEFT JOIN branches b ON b.organisation_id = o.id AND b.code = ?5
 WHERE o.code = ?1 AND u.user_name = ?2";

/// The user `user_name` of organisation `org_code`, with the binding of `computer_name`,
/// whether it holds `right` and its access to the organisation's branch `branch_code`.
///
/// # Errors
///
/// SQLite.
pub fn credentials(
    tx: &Tx<'_>,
    org_code: &str,
    user_name: &str,
    computer_name: &str,
    right: &str,
    branch_code: &str,
) -> Result<Option<CredentialRow>, DbError> {
    Ok(tx
        .conn
        .prepare_cached(CREDENTIALS_SQL)?
        .query_row(
            params![org_code, user_name, computer_name, right, branch_code],
            |r| {
                let branch_id: Option<i64> = r.get(11)?;
                Ok(CredentialRow {
                    id: r.get(0)?,
                    password_hash: r.get(1)?,
                    enabled: r.get(2)?,
                    failed_attempts: r.get(3)?,
                    locked_until: r.get(4)?,
                    auth_version: r.get(5)?,
                    org_id: r.get(6)?,
                    org_enabled: r.get(7)?,
                    computer_bound: r.get(8)?,
                    computer_allowed: r.get(9)?,
                    has_right: r.get(10)?,
                    branch: match branch_id {
                        Some(id) => Some(BranchAccess {
                            id,
                            enabled: r.get(12)?,
                            allocated: r.get(13)?,
                        }),
                        None => None,
                    },
                })
            },
        )
        .optional()?)
}

/// The computers a user is bound to (none: any computer).
///
/// # Errors
///
/// SQLite.
pub fn computers(tx: &Tx<'_>, user_id: i64) -> Result<Vec<String>, DbError> {
    Ok(tx
        .conn
        .prepare_cached("SELECT computer_name FROM user_computers WHERE user_id = ?1")?
        .query_map([user_id], |r| r.get(0))?
        .collect::<Result<_, _>>()?)
}

/// Whether the user holds a right.
///
/// # Errors
///
/// SQLite.
pub fn has_right(tx: &Tx<'_>, user_id: i64, right: &str) -> Result<bool, DbError> {
    Ok(tx
        .conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM user_rights WHERE user_id = ?1 AND right_code = ?2)",
        )?
        .query_row(params![user_id, right], |r| r.get(0))?)
}

/// The organisation's branch `branch_code` and the user's access to it.
///
/// # Errors
///
/// SQLite.
pub fn branch_access(
    tx: &Tx<'_>,
    user_id: i64,
    org_id: i64,
    branch_code: &str,
) -> Result<Option<BranchAccess>, DbError> {
    Ok(tx
        .conn
        .prepare_cached(
            "SELECT b.id, b.enabled,
                    EXISTS (SELECT 1 FROM user_branches ub WHERE ub.user_id = ?1 AND ub.branch_id = b.id)
             FROM branches b WHERE b.organisation_id = ?2 AND b.code = ?3",
        )?
        .query_row(params![user_id, org_id, branch_code], |r| {
            Ok(BranchAccess {
                id: r.get(0)?,
                enabled: r.get(1)?,
                allocated: r.get(2)?,
            })
        })
        .optional()?)
}

/// The code of a branch row.
///
/// # Errors
///
/// SQLite.
pub fn branch_code(tx: &Tx<'_>, branch_id: i64) -> Result<Option<String>, DbError> {
    Ok(tx
        .conn
        .prepare_cached("SELECT code FROM branches WHERE id = ?1")?
        .query_row([branch_id], |r| r.get(0))
        .optional()?)
}

/// Counts a failed password attempt; once `threshold` (if not 0) is reached the user is
/// locked until `now + lockout` and the counter restarts.
///
/// # Errors
///
/// SQLite.
pub fn record_failure(
    tx: &Tx<'_>,
    user_id: i64,
    now: OffsetDateTime,
    threshold: u32,
    lockout: time::Duration,
) -> Result<(), DbError> {
    tx.conn.execute(
        "UPDATE users SET failed_attempts = failed_attempts + 1 WHERE id = ?1",
        [user_id],
    )?;
    if threshold > 0 {
        tx.conn.execute(
            "UPDATE users SET locked_until = ?2, failed_attempts = 0
             WHERE id = ?1 AND failed_attempts >= ?3",
            params![user_id, format_timestamp(now + lockout), threshold],
        )?;
    }
    Ok(())
}

/// Clears the failure counter and any lock after a success.
///
/// # Errors
///
/// SQLite.
pub fn reset_failures(tx: &Tx<'_>, user_id: i64) -> Result<(), DbError> {
    tx.conn.execute(
        "UPDATE users SET failed_attempts = 0, locked_until = NULL WHERE id = ?1",
        [user_id],
    )?;
    Ok(())
}
