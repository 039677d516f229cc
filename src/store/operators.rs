//! Operator accounts of the console (not integration users), their sessions, and the
//! append-only audit log. A platform operator has no organisation; an organisation
//! administrator has one and the console scopes it to that organisation. Every change
//! to an operator bumps its `auth_version`; disabling one or changing its password
//! deletes its sessions, so the next page it asks for is the login page.

use crate::store::sql::{self, OptionalExtension, Row, params};

use crate::store::admin::{AdminError, organisation_id};
use crate::store::{DbError, Tx};

/// An operator as the console and `admin operator list` see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorRow {
    /// Row id.
    pub id: i64,
    /// Login name.
    pub login: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// The organisation administered (`None`: platform operator).
    pub organisation: Option<String>,
    /// Whether it may log in.
    pub enabled: bool,
    /// Failed logins in a row.
    pub failed_attempts: i64,
    /// Locked until (RFC 3339), if locked.
    pub locked_until: Option<String>,
    /// Bumped by every change.
    pub auth_version: i64,
}

const OPERATOR_COLUMNS: &str = "o.id, o.login, o.password_hash, g.code, o.enabled, \
     o.failed_attempts, o.locked_until, o.auth_version";

fn operator_row(r: &Row<'_>) -> sql::Result<OperatorRow> {
    Ok(OperatorRow {
        id: r.get(0)?,
        login: r.get(1)?,
        password_hash: r.get(2)?,
        organisation: r.get(3)?,
        enabled: r.get(4)?,
        failed_attempts: r.get(5)?,
        locked_until: r.get(6)?,
        auth_version: r.get(7)?,
    })
}

/// Checks an operator login name: 1-50 characters, no whitespace or control characters.
///
/// # Errors
///
/// [`AdminError::Invalid`].
pub fn check_login(login: &str) -> Result<(), AdminError> {
    if login.is_empty()
        || login.chars().count() > 50
        || login.chars().any(|c| c.is_control() || c.is_whitespace())
    {
        return Err(AdminError::Invalid(
            "operator login must be 1-50 characters without spaces".into(),
        ));
    }
    Ok(())
}

/// Adds an operator: a platform operator when `organisation` is `None`, else an
/// administrator of that organisation. `password_hash` is an argon2 PHC string.
///
/// # Errors
///
/// Invalid login, unknown organisation, or the login exists.
pub fn add(
    tx: &Tx<'_>,
    login: &str,
    password_hash: &str,
    organisation: Option<&str>,
    now: &str,
) -> Result<i64, AdminError> {
    check_login(login)?;
    let org_id = organisation.map(|o| organisation_id(tx, o)).transpose()?;
    if by_login(tx, login)?.is_some() {
        return Err(AdminError::Exists(format!("operator {login}")));
    }
    tx.conn.execute(
        "INSERT INTO operators (login, password_hash, organisation_id, created_at)
         VALUES (?1, ?2, ?3, ?4)",
        params![login, password_hash, org_id, now],
    )?;
    Ok(tx.conn.last_insert_rowid()?)
}

/// The operator with this login.
///
/// # Errors
///
/// SQLite.
pub fn by_login(tx: &Tx<'_>, login: &str) -> Result<Option<OperatorRow>, DbError> {
    Ok(tx
        .conn
        .prepare_cached(&format!(
            "SELECT {OPERATOR_COLUMNS} FROM operators o
             LEFT JOIN organisations g ON g.id = o.organisation_id WHERE o.login = ?1"
        ))?
        .query_row([login], operator_row)
        .optional()?)
}

fn existing(tx: &Tx<'_>, login: &str) -> Result<OperatorRow, AdminError> {
    by_login(tx, login)?.ok_or_else(|| AdminError::NotFound(format!("operator {login}")))
}

/// Lists operators: all of them (`None`), or one organisation's administrators.
///
/// # Errors
///
/// Unknown organisation, or SQLite.
pub fn list(tx: &Tx<'_>, organisation: Option<&str>) -> Result<Vec<OperatorRow>, AdminError> {
    let rows = match organisation {
        None => tx
            .conn
            .prepare(&format!(
                "SELECT {OPERATOR_COLUMNS} FROM operators o
                 LEFT JOIN organisations g ON g.id = o.organisation_id ORDER BY o.login"
            ))?
            .query_map([], operator_row)?
            .collect::<Result<Vec<_>, _>>()?,
        Some(org) => {
            let org_id = organisation_id(tx, org)?;
            tx.conn
                .prepare(&format!(
                    "SELECT {OPERATOR_COLUMNS} FROM operators o
                     LEFT JOIN organisations g ON g.id = o.organisation_id
                     WHERE o.organisation_id = ?1 ORDER BY o.login"
                ))?
                .query_map([org_id], operator_row)?
                .collect::<Result<Vec<_>, _>>()?
        }
    };
    Ok(rows)
}

/// Enables or disables an operator; disabling ends its sessions at once.
///
/// # Errors
///
/// Unknown operator.
pub fn set_enabled(tx: &Tx<'_>, login: &str, enabled: bool) -> Result<(), AdminError> {
    let op = existing(tx, login)?;
    tx.conn.execute(
        "UPDATE operators SET enabled = ?1, auth_version = auth_version + 1 WHERE id = ?2",
        params![enabled, op.id],
    )?;
    if !enabled {
        tx.conn.execute(
            "DELETE FROM operator_sessions WHERE operator_id = ?1",
            [op.id],
        )?;
    }
    Ok(())
}

/// Replaces an operator's password hash, clears any lockout and ends its sessions.
///
/// # Errors
///
/// Unknown operator.
pub fn set_password(tx: &Tx<'_>, login: &str, password_hash: &str) -> Result<(), AdminError> {
    let op = existing(tx, login)?;
    tx.conn.execute(
        "UPDATE operators SET password_hash = ?1, failed_attempts = 0, locked_until = NULL,
                auth_version = auth_version + 1 WHERE id = ?2",
        params![password_hash, op.id],
    )?;
    tx.conn.execute(
        "DELETE FROM operator_sessions WHERE operator_id = ?1",
        [op.id],
    )?;
    Ok(())
}

/// Clears an operator's lockout and failure count.
///
/// # Errors
///
/// Unknown operator.
pub fn unlock(tx: &Tx<'_>, login: &str) -> Result<(), AdminError> {
    let op = existing(tx, login)?;
    tx.conn.execute(
        "UPDATE operators SET failed_attempts = 0, locked_until = NULL,
                auth_version = auth_version + 1 WHERE id = ?1",
        [op.id],
    )?;
    Ok(())
}

/// Records a failed login: one more failure, and a lock until `lock_until` when the
/// count reaches `threshold` (0: never lock).
///
/// # Errors
///
/// SQLite.
pub fn record_failure(
    tx: &Tx<'_>,
    id: i64,
    threshold: u32,
    lock_until: &str,
) -> Result<(), DbError> {
    tx.conn.execute(
        "UPDATE operators SET failed_attempts = failed_attempts + 1 WHERE id = ?1",
        [id],
    )?;
    if threshold > 0 {
        tx.conn.execute(
            "UPDATE operators SET locked_until = ?2, failed_attempts = 0
             WHERE id = ?1 AND failed_attempts >= ?3",
            params![id, lock_until, i64::from(threshold)],
        )?;
    }
    Ok(())
}

/// Records a successful login: the failure count starts again.
///
/// # Errors
///
/// SQLite.
pub fn record_success(tx: &Tx<'_>, id: i64) -> Result<(), DbError> {
    tx.conn.execute(
        "UPDATE operators SET failed_attempts = 0, locked_until = NULL
         WHERE id = ?1 AND (failed_attempts <> 0 OR locked_until IS NOT NULL)",
        [id],
    )?;
    Ok(())
}

/// A new console session (the caller keeps the cookie value; only its hash is stored).
/// Expired sessions are removed in passing.
///
/// # Errors
///
/// SQLite.
pub fn create_session(
    tx: &Tx<'_>,
    token_hash: &str,
    operator_id: i64,
    csrf_token: &str,
    now: &str,
    expires_at: &str,
    peer: &str,
) -> Result<(), DbError> {
    tx.conn.execute(
        "DELETE FROM operator_sessions WHERE expires_at <= ?1",
        [now],
    )?;
    tx.conn.execute(
        "INSERT INTO operator_sessions (token_hash, operator_id, csrf_token, created_at, expires_at, peer)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![token_hash, operator_id, csrf_token, now, expires_at, peer],
    )?;
    Ok(())
}

/// The operator and CSRF token of a live session: not expired at `now`, and the
/// operator enabled (read from the operator's row on every request).
///
/// # Errors
///
/// SQLite.
pub fn session(
    tx: &Tx<'_>,
    token_hash: &str,
    now: &str,
) -> Result<Option<(OperatorRow, String)>, DbError> {
    Ok(tx
        .conn
        .prepare_cached(&format!(
            "SELECT {OPERATOR_COLUMNS}, s.csrf_token FROM operator_sessions s
             JOIN operators o ON o.id = s.operator_id
             LEFT JOIN organisations g ON g.id = o.organisation_id
             WHERE s.token_hash = ?1 AND s.expires_at > ?2 AND o.enabled = 1"
        ))?
        .query_row(params![token_hash, now], |r| {
            Ok((operator_row(r)?, r.get::<String>(8)?))
        })
        .optional()?)
}

/// Ends one session (logout).
///
/// # Errors
///
/// SQLite.
pub fn end_session(tx: &Tx<'_>, token_hash: &str) -> Result<(), DbError> {
    tx.conn.execute(
        "DELETE FROM operator_sessions WHERE token_hash = ?1",
        [token_hash],
    )?;
    Ok(())
}

/// One audit-log entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Row id (0 before it is written).
    pub id: i64,
    /// When (RFC 3339).
    pub at: String,
    /// Who: `console:<login>` or `cli:<OS user>`.
    pub actor: String,
    /// The organisation concerned, if any.
    pub organisation: Option<String>,
    /// What, e.g. `user.disable`.
    pub action: String,
    /// The arguments, e.g. `DEMO/alice`.
    pub detail: String,
    /// From where: the console client's address, or `cli`.
    pub peer: String,
}

/// Appends an audit entry (the table refuses UPDATE and DELETE).
///
/// # Errors
///
/// SQLite.
pub fn audit(tx: &Tx<'_>, entry: &AuditEntry) -> Result<(), DbError> {
    tx.conn
        .prepare_cached(
            "INSERT INTO audit_log (at, actor, organisation, action, detail, peer)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?
        .execute(params![
            entry.at,
            entry.actor,
            entry.organisation,
            entry.action,
            entry.detail,
            entry.peer
        ])?;
    Ok(())
}

/// Audit entries newest first, before id `before` (exclusive; `None`: from the newest),
/// at most `limit`: all of them, or one organisation's.
///
/// # Errors
///
/// SQLite.
pub fn audit_page(
    tx: &Tx<'_>,
    organisation: Option<&str>,
    before: Option<i64>,
    limit: usize,
) -> Result<Vec<AuditEntry>, DbError> {
    let before = before.unwrap_or(i64::MAX);
    let row = |r: &Row<'_>| {
        Ok(AuditEntry {
            id: r.get(0)?,
            at: r.get(1)?,
            actor: r.get(2)?,
            organisation: r.get(3)?,
            action: r.get(4)?,
            detail: r.get(5)?,
            peer: r.get(6)?,
        })
    };
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = match organisation {
        None => tx
            .conn
            .prepare_cached(
                "SELECT id, at, actor, organisation, action, detail, peer FROM audit_log
                 WHERE id < ?1 ORDER BY id DESC LIMIT ?2",
            )?
            .query_map(params![before, limit], row)?
            .collect::<Result<Vec<_>, _>>()?,
        Some(org) => tx
            .conn
            .prepare_cached(
                "SELECT id, at, actor, organisation, action, detail, peer FROM audit_log
                 WHERE organisation = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3",
            )?
            .query_map(params![org, before, limit], row)?
            .collect::<Result<Vec<_>, _>>()?,
    };
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{self, Tx};

    fn conn() -> store::sql::Conn {
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        store::migrate(&mut conn).unwrap();
        store::sql::Conn::sqlite(conn)
    }

    #[test]
    fn the_audit_log_refuses_update_and_delete() {
        let conn = conn();
        let tx = Tx::new(&conn);
        let entry = AuditEntry {
            id: 0,
            at: "2026-12-06T03:00:00Z".into(),
            actor: "console:root".into(),
            organisation: Some("DEMO".into()),
            action: "user.disable".into(),
            detail: "DEMO/alice".into(),
            peer: "127.0.0.1".into(),
        };
        audit(&tx, &entry).unwrap();
        let page = audit_page(&tx, Some("DEMO"), None, 10).unwrap();
        assert_eq!(page.len(), 1);
        assert_eq!(page[0].action, "user.disable");
        assert!(audit_page(&tx, Some("OTHER"), None, 10).unwrap().is_empty());
        let update = conn.execute("UPDATE audit_log SET actor = 'x'", []);
        assert!(update.unwrap_err().to_string().contains("append-only"));
        let delete = conn.execute("DELETE FROM audit_log", []);
        assert!(delete.unwrap_err().to_string().contains("append-only"));
        assert_eq!(audit_page(&tx, None, None, 10).unwrap(), page);
    }

    #[test]
    fn disabling_an_operator_ends_its_sessions() {
        let conn = conn();
        let tx = Tx::new(&conn);
        store::admin::add_organisation(&tx, "DEMO", "Demo", "2026-12-06T03:00:00Z").unwrap();
        add(&tx, "boss", "hash", Some("DEMO"), "2026-12-06T03:00:00Z").unwrap();
        let op = by_login(&tx, "boss").unwrap().unwrap();
        assert_eq!(op.organisation.as_deref(), Some("DEMO"));
        create_session(
            &tx,
            "h1",
            op.id,
            "csrf",
            "2026-12-06T03:00:00Z",
            "2026-12-06T04:00:00Z",
            "127.0.0.1",
        )
        .unwrap();
        assert!(
            session(&tx, "h1", "2026-12-06T03:30:00Z")
                .unwrap()
                .is_some()
        );
        assert!(
            session(&tx, "h1", "2026-12-06T04:00:00Z")
                .unwrap()
                .is_none()
        );
        set_enabled(&tx, "boss", false).unwrap();
        assert!(
            session(&tx, "h1", "2026-12-06T03:30:00Z")
                .unwrap()
                .is_none()
        );
        assert!(matches!(
            add(&tx, "boss", "hash", None, "2026-12-06T03:00:00Z"),
            Err(AdminError::Exists(_))
        ));
        record_failure(&tx, op.id, 2, "2026-12-06T05:00:00Z").unwrap();
        record_failure(&tx, op.id, 2, "2026-12-06T05:00:00Z").unwrap();
        let op = by_login(&tx, "boss").unwrap().unwrap();
        assert_eq!(op.locked_until.as_deref(), Some("2026-12-06T05:00:00Z"));
    }
}
