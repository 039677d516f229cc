//! Operator changes to organisations, branches, users, rights, branch allocations and
//! computers. Used by `allps-ws admin` and by `serve --demo`. Every change to a user
//! bumps its `auth_version`, so the running server's credential cache and sessions
//! stop trusting the old state on the next call.

use crate::store::sql::{OptionalExtension, params};
use crate::store::{DbError, Tx};

/// The one right the web services check.
pub const RIGHT_WEB_SERVICES: &str = "WEB_SERVICES";

/// Every right an operator can grant: code and description.
pub const RIGHTS: &[(&str, &str)] = &[(RIGHT_WEB_SERVICES, "Allow access to Allps web services")];

/// Why an admin change was refused.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The named thing does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// The named thing exists already.
    #[error("{0} already exists")]
    Exists(String),
    /// A value is not acceptable.
    #[error("{0}")]
    Invalid(String),
    /// The database failed.
    #[error("database: {0}")]
    Sql(#[from] crate::store::sql::Error),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] DbError),
}

/// A user as `admin user list` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserInfo {
    /// The user name.
    pub user_name: String,
    /// Whether the user may log in.
    pub enabled: bool,
    /// Failed attempts since the last success.
    pub failed_attempts: i64,
    /// Locked until (RFC 3339), if locked.
    pub locked_until: Option<String>,
    /// Granted right codes.
    pub rights: Vec<String>,
    /// Allocated branch codes.
    pub branches: Vec<String>,
    /// Bound computer names.
    pub computers: Vec<String>,
}

fn check_code(what: &str, code: &str) -> Result<(), AdminError> {
    if code.is_empty()
        || code.len() > 20
        || !code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
    {
        return Err(AdminError::Invalid(format!(
            "{what} code must be 1-20 letters, digits, - or _"
        )));
    }
    Ok(())
}

/// The id of an organisation by code.
///
/// # Errors
///
/// [`AdminError::NotFound`].
pub fn organisation_id(tx: &Tx<'_>, org: &str) -> Result<i64, AdminError> {
    tx.conn
        .query_row("SELECT id FROM organisations WHERE code = ?1", [org], |r| {
            r.get(0)
        })
        .optional()?
        .ok_or_else(|| AdminError::NotFound(format!("organisation {org}")))
}

fn branch_id(tx: &Tx<'_>, org_id: i64, org: &str, branch: &str) -> Result<i64, AdminError> {
    tx.conn
        .query_row(
            "SELECT id FROM branches WHERE organisation_id = ?1 AND code = ?2",
            params![org_id, branch],
            |r| r.get(0),
        )
        .optional()?
        .ok_or_else(|| AdminError::NotFound(format!("branch {org}/{branch}")))
}

fn user_id(tx: &Tx<'_>, org: &str, user: &str) -> Result<i64, AdminError> {
    let org_id = organisation_id(tx, org)?;
    tx.conn
        .query_row(
            "SELECT id FROM users WHERE organisation_id = ?1 AND user_name = ?2",
            params![org_id, user],
            |r| r.get(0),
        )
        .optional()?
        .ok_or_else(|| AdminError::NotFound(format!("user {org}/{user}")))
}

/// Whether a user exists in an organisation.
///
/// # Errors
///
/// Unknown organisation.
pub fn user_exists(tx: &Tx<'_>, org: &str, user: &str) -> Result<bool, AdminError> {
    match user_id(tx, org, user) {
        Ok(_) => Ok(true),
        Err(AdminError::NotFound(what)) if what.starts_with("user ") => Ok(false),
        Err(e) => Err(e),
    }
}

fn bump(tx: &Tx<'_>, user_id: i64) -> Result<(), AdminError> {
    tx.conn.execute(
        "UPDATE users SET auth_version = auth_version + 1 WHERE id = ?1",
        [user_id],
    )?;
    Ok(())
}

/// Adds an organisation.
///
/// # Errors
///
/// Invalid code, or it exists.
pub fn add_organisation(tx: &Tx<'_>, code: &str, name: &str, now: &str) -> Result<i64, AdminError> {
    check_code("organisation", code)?;
    if organisation_id(tx, code).is_ok() {
        return Err(AdminError::Exists(format!("organisation {code}")));
    }
    tx.conn.execute(
        "INSERT INTO organisations (code, name, created_at) VALUES (?1, ?2, ?3)",
        params![code, name, now],
    )?;
    Ok(tx.conn.last_insert_rowid()?)
}

/// Enables or disables an organisation (a disabled one cannot log in at all).
///
/// # Errors
///
/// Unknown organisation.
pub fn set_organisation_enabled(tx: &Tx<'_>, code: &str, enabled: bool) -> Result<(), AdminError> {
    let id = organisation_id(tx, code)?;
    tx.conn.execute(
        "UPDATE organisations SET enabled = ?1 WHERE id = ?2",
        params![enabled, id],
    )?;
    tx.conn.execute(
        "UPDATE users SET auth_version = auth_version + 1 WHERE organisation_id = ?1",
        [id],
    )?;
    Ok(())
}

/// Lists organisations: code, name, enabled.
///
/// # Errors
///
/// SQLite.
pub fn list_organisations(tx: &Tx<'_>) -> Result<Vec<(String, String, bool)>, AdminError> {
    let mut stmt = tx
        .conn
        .prepare("SELECT code, name, enabled FROM organisations ORDER BY code")?;
    let rows = stmt
        .query_map(params![], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Adds a branch to an organisation.
///
/// # Errors
///
/// Unknown organisation, invalid code, or it exists.
pub fn add_branch(
    tx: &Tx<'_>,
    org: &str,
    code: &str,
    name: &str,
    now: &str,
) -> Result<i64, AdminError> {
    check_code("branch", code)?;
    let org_id = organisation_id(tx, org)?;
    if branch_id(tx, org_id, org, code).is_ok() {
        return Err(AdminError::Exists(format!("branch {org}/{code}")));
    }
    tx.conn.execute(
        "INSERT INTO branches (organisation_id, code, name, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![org_id, code, name, now],
    )?;
    Ok(tx.conn.last_insert_rowid()?)
}

/// Enables or disables a branch.
///
/// # Errors
///
/// Unknown organisation or branch.
pub fn set_branch_enabled(
    tx: &Tx<'_>,
    org: &str,
    code: &str,
    enabled: bool,
) -> Result<(), AdminError> {
    let org_id = organisation_id(tx, org)?;
    let id = branch_id(tx, org_id, org, code)?;
    tx.conn.execute(
        "UPDATE branches SET enabled = ?1 WHERE id = ?2",
        params![enabled, id],
    )?;
    Ok(())
}

/// Lists an organisation's branches: code, name, enabled.
///
/// # Errors
///
/// Unknown organisation.
pub fn list_branches(tx: &Tx<'_>, org: &str) -> Result<Vec<(String, String, bool)>, AdminError> {
    let org_id = organisation_id(tx, org)?;
    let mut stmt = tx.conn.prepare(
        "SELECT code, name, enabled FROM branches WHERE organisation_id = ?1 ORDER BY code",
    )?;
    let rows = stmt
        .query_map([org_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Adds a user with an already hashed password (argon2 PHC string).
///
/// # Errors
///
/// Unknown organisation, invalid name, or it exists.
pub fn add_user(
    tx: &Tx<'_>,
    org: &str,
    user: &str,
    password_hash: &str,
    now: &str,
) -> Result<i64, AdminError> {
    if user.is_empty()
        || user.len() > 50
        || user.chars().any(|c| c.is_control() || c.is_whitespace())
    {
        return Err(AdminError::Invalid(
            "user name must be 1-50 characters without spaces".into(),
        ));
    }
    let org_id = organisation_id(tx, org)?;
    if user_id(tx, org, user).is_ok() {
        return Err(AdminError::Exists(format!("user {org}/{user}")));
    }
    tx.conn.execute(
        "INSERT INTO users (organisation_id, user_name, password_hash, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![org_id, user, password_hash, now],
    )?;
    Ok(tx.conn.last_insert_rowid()?)
}

/// Replaces a user's password hash, clears any lockout and ends the user's sessions.
///
/// # Errors
///
/// Unknown organisation or user.
pub fn set_password(
    tx: &Tx<'_>,
    org: &str,
    user: &str,
    password_hash: &str,
) -> Result<(), AdminError> {
    let id = user_id(tx, org, user)?;
    tx.conn.execute(
        "UPDATE users SET password_hash = ?1, failed_attempts = 0, locked_until = NULL WHERE id = ?2",
        params![password_hash, id],
    )?;
    tx.conn
        .execute("DELETE FROM sessions WHERE user_id = ?1", params![id])?;
    bump(tx, id)
}

/// Enables or disables a user; disabling ends the user's sessions.
///
/// # Errors
///
/// Unknown organisation or user.
pub fn set_user_enabled(
    tx: &Tx<'_>,
    org: &str,
    user: &str,
    enabled: bool,
) -> Result<(), AdminError> {
    let id = user_id(tx, org, user)?;
    tx.conn.execute(
        "UPDATE users SET enabled = ?1 WHERE id = ?2",
        params![enabled, id],
    )?;
    if !enabled {
        tx.conn
            .execute("DELETE FROM sessions WHERE user_id = ?1", params![id])?;
    }
    bump(tx, id)
}

/// Clears a lockout and the failure count.
///
/// # Errors
///
/// Unknown organisation or user.
pub fn unlock_user(tx: &Tx<'_>, org: &str, user: &str) -> Result<(), AdminError> {
    let id = user_id(tx, org, user)?;
    tx.conn.execute(
        "UPDATE users SET failed_attempts = 0, locked_until = NULL WHERE id = ?1",
        [id],
    )?;
    bump(tx, id)
}

/// Locks a user until an instant (RFC 3339), as repeated failures would.
///
/// # Errors
///
/// Unknown organisation or user.
pub fn lock_user(tx: &Tx<'_>, org: &str, user: &str, until: &str) -> Result<(), AdminError> {
    let id = user_id(tx, org, user)?;
    tx.conn.execute(
        "UPDATE users SET locked_until = ?2 WHERE id = ?1",
        params![id, until],
    )?;
    bump(tx, id)
}

/// Grants (or with `grant = false` revokes) a right.
///
/// # Errors
///
/// Unknown organisation, user or right, or revoking a right the user does not hold.
pub fn set_right(
    tx: &Tx<'_>,
    org: &str,
    user: &str,
    right: &str,
    grant: bool,
) -> Result<(), AdminError> {
    if !RIGHTS.iter().any(|(code, _)| *code == right) {
        let known: Vec<_> = RIGHTS.iter().map(|(c, _)| *c).collect();
        return Err(AdminError::NotFound(format!(
            "right {right} (known: {})",
            known.join(", ")
        )));
    }
    let id = user_id(tx, org, user)?;
    if grant {
        tx.conn.execute(
            "INSERT INTO user_rights (user_id, right_code) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            params![id, right],
        )?;
    } else {
        let removed = tx.conn.execute(
            "DELETE FROM user_rights WHERE user_id = ?1 AND right_code = ?2",
            params![id, right],
        )?;
        if removed == 0 {
            return Err(AdminError::NotFound(format!(
                "right {right} held by {org}/{user}"
            )));
        }
    }
    bump(tx, id)
}

/// Allocates (or with `allocate = false` removes) a branch for a user.
///
/// # Errors
///
/// Unknown organisation, user or branch, or removing an allocation that does not exist.
pub fn set_branch_allocation(
    tx: &Tx<'_>,
    org: &str,
    user: &str,
    branch: &str,
    allocate: bool,
) -> Result<(), AdminError> {
    let org_id = organisation_id(tx, org)?;
    let uid = user_id(tx, org, user)?;
    let bid = branch_id(tx, org_id, org, branch)?;
    if allocate {
        tx.conn.execute(
            "INSERT INTO user_branches (user_id, branch_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            params![uid, bid],
        )?;
    } else {
        let removed = tx.conn.execute(
            "DELETE FROM user_branches WHERE user_id = ?1 AND branch_id = ?2",
            params![uid, bid],
        )?;
        if removed == 0 {
            return Err(AdminError::NotFound(format!(
                "allocation of {org}/{user} to branch {branch}"
            )));
        }
        tx.conn.execute(
            "DELETE FROM sessions WHERE user_id = ?1 AND branch_id = ?2",
            params![uid, bid],
        )?;
    }
    bump(tx, uid)
}

/// Binds (or with `bind = false` unbinds) a computer name to a user. A user with no
/// computers may call from anywhere.
///
/// # Errors
///
/// Unknown organisation or user, an empty name, or unbinding a computer not bound.
pub fn set_computer(
    tx: &Tx<'_>,
    org: &str,
    user: &str,
    computer: &str,
    bind: bool,
) -> Result<(), AdminError> {
    let computer = computer.trim();
    if computer.is_empty() || computer.len() > 64 {
        return Err(AdminError::Invalid(
            "computer name must be 1-64 characters".into(),
        ));
    }
    let uid = user_id(tx, org, user)?;
    if bind {
        tx.conn.execute(
            "INSERT INTO user_computers (user_id, computer_name) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            params![uid, computer],
        )?;
    } else {
        let removed = tx.conn.execute(
            "DELETE FROM user_computers WHERE user_id = ?1 AND computer_name = ?2",
            params![uid, computer],
        )?;
        if removed == 0 {
            return Err(AdminError::NotFound(format!(
                "computer {computer} bound to {org}/{user}"
            )));
        }
    }
    bump(tx, uid)
}

/// Lists an organisation's users with their rights, branches and computers.
///
/// # Errors
///
/// Unknown organisation.
pub fn list_users(tx: &Tx<'_>, org: &str) -> Result<Vec<UserInfo>, AdminError> {
    let org_id = organisation_id(tx, org)?;
    let mut stmt = tx.conn.prepare(
        "SELECT id, user_name, enabled, failed_attempts, locked_until FROM users
         WHERE organisation_id = ?1 ORDER BY user_name",
    )?;
    let users = stmt
        .query_map([org_id], |r| {
            Ok((
                r.get::<i64>(0)?,
                r.get::<String>(1)?,
                r.get::<bool>(2)?,
                r.get::<i64>(3)?,
                r.get::<Option<String>>(4)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let strings = |sql: &str, id: i64| -> Result<Vec<String>, crate::store::sql::Error> {
        let mut stmt = tx.conn.prepare(sql)?;
        stmt.query_map([id], |r| r.get(0))?.collect()
    };
    let mut out = Vec::with_capacity(users.len());
    for (id, user_name, enabled, failed_attempts, locked_until) in users {
        out.push(UserInfo {
            user_name,
            enabled,
            failed_attempts,
            locked_until,
            rights: strings(
                "SELECT right_code FROM user_rights WHERE user_id = ?1 ORDER BY 1",
                id,
            )?,
            branches: strings(
                "SELECT b.code FROM user_branches ub JOIN branches b ON b.id = ub.branch_id
                 WHERE ub.user_id = ?1 ORDER BY 1",
                id,
            )?,
            computers: strings(
                "SELECT computer_name FROM user_computers WHERE user_id = ?1 ORDER BY 1",
                id,
            )?,
        });
    }
    Ok(out)
}

/// The demo set-up `serve --demo` guarantees.
pub const DEMO_ORG: &str = "DEMO";
/// The demo branch.
pub const DEMO_BRANCH: &str = "BR001";
/// The demo user.
pub const DEMO_USER: &str = "demo";
/// The demo user's password (documented in the README; a demo only).
pub const DEMO_PASSWORD: &str = "demo-password";

/// Creates whatever of the demo organisation, branch and user is missing, and makes sure
/// the user holds the web-services right and the branch. Harmless when all exist; an
/// existing demo user's password is left as it is. `hash` is only called when the user
/// has to be created. Returns whether anything was created.
///
/// # Errors
///
/// SQLite.
pub fn ensure_demo(
    tx: &Tx<'_>,
    hash: impl FnOnce(&str) -> String,
    now: &str,
) -> Result<bool, AdminError> {
    let mut created = false;
    if organisation_id(tx, DEMO_ORG).is_err() {
        add_organisation(tx, DEMO_ORG, "Demo Micro Lender", now)?;
        created = true;
    }
    let org_id = organisation_id(tx, DEMO_ORG)?;
    if branch_id(tx, org_id, DEMO_ORG, DEMO_BRANCH).is_err() {
        add_branch(tx, DEMO_ORG, DEMO_BRANCH, "Demo Branch", now)?;
        created = true;
    }
    if user_id(tx, DEMO_ORG, DEMO_USER).is_err() {
        add_user(tx, DEMO_ORG, DEMO_USER, &hash(DEMO_PASSWORD), now)?;
        set_right(tx, DEMO_ORG, DEMO_USER, RIGHT_WEB_SERVICES, true)?;
        set_branch_allocation(tx, DEMO_ORG, DEMO_USER, DEMO_BRANCH, true)?;
        created = true;
    }
    Ok(created)
}
