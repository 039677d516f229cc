//! The `sessions` table: sessions started by `Login`, stored by the SHA-256 of their id.

use crate::store::sql::{OptionalExtension, params};
use time::OffsetDateTime;

use crate::clock::format_timestamp;
use crate::domain::TerminalType;
use crate::store::{DbError, Tx};

/// A session with its user and organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    /// The user's row id.
    pub user_id: i64,
    /// The branch the session acts in.
    pub branch_id: i64,
    /// The computer it was started from.
    pub computer_name: String,
    /// The terminal it was started with (unknown spellings read as `NONE`).
    pub terminal_type: TerminalType,
    /// Expiry (RFC 3339).
    pub expires_at: String,
    /// The user's name.
    pub user_name: String,
    /// The user may log in.
    pub user_enabled: bool,
    /// The organisation's row id.
    pub org_id: i64,
    /// The organisation's code.
    pub org_code: String,
    /// The organisation is enabled.
    pub org_enabled: bool,
}

/// The session stored under this token hash.
///
/// # Errors
///
/// SQLite.
pub fn find(tx: &Tx<'_>, token_hash: &str) -> Result<Option<SessionRow>, DbError> {
    Ok(tx
        .conn
        .prepare_cached(
            "SELECT s.user_id, s.branch_id, s.computer_name, s.terminal_type, s.expires_at,
                    u.user_name, u.enabled, o.id, o.code, o.enabled
             FROM sessions s
             JOIN users u ON u.id = s.user_id
             JOIN organisations o ON o.id = u.organisation_id
             WHERE s.token_hash = ?1",
        )?
        .query_row([token_hash], |r| {
            let terminal: String = r.get(3)?;
            Ok(SessionRow {
                user_id: r.get(0)?,
                branch_id: r.get(1)?,
                computer_name: r.get(2)?,
                terminal_type: TerminalType::parse(&terminal).unwrap_or(TerminalType::None),
                expires_at: r.get(4)?,
                user_name: r.get(5)?,
                user_enabled: r.get(6)?,
                org_id: r.get(7)?,
                org_code: r.get(8)?,
                org_enabled: r.get(9)?,
            })
        })
        .optional()?)
}

/// A session to store.
#[derive(Debug, Clone, Copy)]
pub struct NewSession<'a> {
    /// SHA-256 of the session id (the id itself is never stored).
    pub token_hash: &'a str,
    /// The user.
    pub user_id: i64,
    /// The branch.
    pub branch_id: i64,
    /// The calling computer.
    pub computer_name: &'a str,
    /// The terminal.
    pub terminal_type: TerminalType,
    /// When it ends.
    pub expires_at: OffsetDateTime,
}

/// Deletes the sessions expired by `now` and stores a new one.
///
/// # Errors
///
/// SQLite.
pub fn create(tx: &Tx<'_>, session: &NewSession<'_>, now: OffsetDateTime) -> Result<(), DbError> {
    tx.conn.execute(
        "DELETE FROM sessions WHERE expires_at <= ?1",
        [format_timestamp(now)],
    )?;
    tx.conn.execute(
        "INSERT INTO sessions (token_hash, user_id, branch_id, computer_name, terminal_type, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            session.token_hash,
            session.user_id,
            session.branch_id,
            session.computer_name,
            session.terminal_type.as_str(),
            format_timestamp(now),
            format_timestamp(session.expires_at)
        ],
    )?;
    Ok(())
}
