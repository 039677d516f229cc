//! Authentication and authorisation of every call: the `AuthHeader` credentials or a
//! `SessionId`, argon2 password hashes, lockout after repeated failures, the
//! verified-credential cache that spares a repeat caller another argon2 hash, sessions,
//! and the live checks (user enabled, right held, branch allocated, computer bound)
//! that make an operator's change apply on the next call.
//!
//! [`authorize`] only reads; what it decides needs writing (a failure to count, a
//! counter to reset) is returned for the caller to write.

use std::collections::HashMap;
use std::sync::Mutex;

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use crate::clock::parse_timestamp;
use crate::domain::TerminalType;
use crate::store::admin::RIGHT_WEB_SERVICES;
use crate::store::users::{self, BranchAccess};
use crate::store::{DbError, Tx, sessions};
use crate::wire::fault::{FaultCode, ServiceError};

/// Full credentials, from the `AuthHeader` or a `Login` request.
#[derive(Clone)]
pub struct Credentials {
    /// The integration user's name.
    pub user_name: String,
    /// The password (never logged; `Debug` hides it).
    pub password: String,
    /// The calling machine.
    pub computer_name: String,
    /// The organisation code.
    pub org_code: String,
    /// The branch the call acts in.
    pub branch_code: String,
    /// The terminal type.
    pub terminal_type: TerminalType,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("user_name", &self.user_name)
            .field("password", &"***")
            .field("computer_name", &self.computer_name)
            .field("org_code", &self.org_code)
            .field("branch_code", &self.branch_code)
            .field("terminal_type", &self.terminal_type)
            .finish()
    }
}

/// What a call authenticates with.
#[derive(Debug, Clone)]
pub enum AuthInput {
    /// Full credentials.
    Credentials(Credentials),
    /// A session id from `Login`.
    Session(String),
}

/// Who is calling and where: the scope every handler works in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The user row id.
    pub user_id: i64,
    /// The user name.
    pub user_name: String,
    /// The organisation row id.
    pub org_id: i64,
    /// The organisation code.
    pub org_code: String,
    /// The branch row id every query is scoped to.
    pub branch_id: i64,
    /// The branch code.
    pub branch_code: String,
    /// The calling machine.
    pub computer_name: String,
    /// The terminal type.
    pub terminal_type: TerminalType,
    /// The user had failed attempts that this success should clear.
    pub reset_failures: bool,
}

/// Lockout and session settings.
#[derive(Debug, Clone, Copy)]
pub struct AuthConfig {
    /// Failed password attempts in a row that lock a user (0 = never lock).
    pub lockout_threshold: u32,
    /// How long a lockout lasts.
    pub lockout_duration: Duration,
    /// How long a session lives.
    pub session_ttl: Duration,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            lockout_threshold: 5,
            lockout_duration: Duration::minutes(15),
            session_ttl: Duration::hours(12),
        }
    }
}

/// Why [`authorize`] did not return a principal.
#[derive(Debug)]
pub enum AuthStep {
    /// Refused. `record_failure` names a user whose failure count must go up; `dummy_verify`
    /// asks the caller to spend an argon2 verification first so that unknown users and
    /// locked users take as long as wrong passwords.
    Denied {
        /// The fault to answer with.
        error: ServiceError,
        /// A user whose failure counter must be incremented.
        record_failure: Option<i64>,
        /// Spend one argon2 verification before answering.
        dummy_verify: bool,
        /// The credentials named a user that exists in the named organisation, so the
        /// request log may carry its name. (A name that matches no user may be a
        /// password typed into the wrong field; it is never logged.)
        user_exists: bool,
    },
    /// The password must be checked against this hash (off the async threads), then
    /// [`authorize`] called again.
    VerifyPassword {
        /// The user row id.
        user_id: i64,
        /// The stored PHC hash.
        password_hash: String,
        /// The user's auth_version when read.
        auth_version: i64,
    },
}

/// A specific refusal of a caller whose user is known (a right password, or a session).
fn denied(code: FaultCode, message: &str) -> AuthStep {
    AuthStep::Denied {
        error: ServiceError::fault(code, message),
        record_failure: None,
        dummy_verify: false,
        user_exists: true,
    }
}

const AUTH_FAILED_TEXT: &str = "the organisation, user name or password is not valid";

/// The verified-credential cache: for each user, a keyed digest of the password last
/// verified, and the stored hash and `auth_version` it was verified against. A changed
/// password, any admin change (which bumps `auth_version`) or a failed login makes the
/// entry useless or removes it. The key is random per process, so the digests are worth
/// nothing outside it.
pub struct AuthCache {
    key: [u8; 32],
    entries: Mutex<HashMap<i64, CacheEntry>>,
}

struct CacheEntry {
    digest: [u8; 32],
    password_hash: String,
    auth_version: i64,
}

impl std::fmt::Debug for AuthCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthCache").finish_non_exhaustive()
    }
}

impl Default for AuthCache {
    fn default() -> Self {
        AuthCache::new()
    }
}

impl AuthCache {
    /// An empty cache with a fresh random key.
    pub fn new() -> Self {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).expect("the OS random source works");
        AuthCache {
            key,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn digest(&self, user_id: i64, password: &str) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(self.key);
        h.update(user_id.to_le_bytes());
        h.update(password.as_bytes());
        h.finalize().into()
    }

    fn matches(
        &self,
        user_id: i64,
        password: &str,
        password_hash: &str,
        auth_version: i64,
    ) -> bool {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        match entries.get(&user_id) {
            Some(e) => {
                e.auth_version == auth_version
                    && e.password_hash == password_hash
                    && constant_time_eq(&e.digest, &self.digest(user_id, password))
            }
            None => false,
        }
    }

    /// Remembers a successful verification.
    pub fn remember(&self, user_id: i64, password: &str, password_hash: &str, auth_version: i64) {
        let digest = self.digest(user_id, password);
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(
                user_id,
                CacheEntry {
                    digest,
                    password_hash: password_hash.to_string(),
                    auth_version,
                },
            );
    }

    /// Forgets a user (after a failed login).
    pub fn forget(&self, user_id: i64) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&user_id);
    }

    /// How many users are cached.
    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Whether no user is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Hashes a password with argon2id (default parameters, random salt) as a PHC string.
pub fn hash_password(password: &str) -> String {
    Argon2::default()
        .hash_password(password.as_bytes())
        .expect("argon2 hashing with default parameters works")
        .to_string()
}

/// Verifies a password against a PHC string; a malformed hash verifies nothing.
pub fn verify_password(password: &str, password_hash: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), password_hash)
        .is_ok()
}

/// A valid hash of a random password, verified against when a user does not exist so the
/// answer takes as long as for a wrong password.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).expect("the OS random source works");
        hash_password(&hex(&bytes))
    })
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 15) as usize] as char);
    }
    out
}

fn session_hash(session_id: &str) -> String {
    hex(&Sha256::digest(session_id.trim().as_bytes()))
}

/// Decides whether the caller may act, reading only.
///
/// # Errors
///
/// [`AuthStep`] says what to do instead. SQLite failures come back as an internal fault.
pub fn authorize(
    tx: &Tx<'_>,
    cache: &AuthCache,
    input: &AuthInput,
    now: OffsetDateTime,
) -> Result<Principal, AuthStep> {
    let internal = |e: DbError| AuthStep::Denied {
        error: ServiceError::storage(e),
        record_failure: None,
        dummy_verify: false,
        user_exists: false,
    };
    match input {
        AuthInput::Credentials(c) => {
            authorize_credentials(tx, cache, c, now).map_err(|e| match e {
                Fail::Step(step) => step,
                Fail::Sql(e) => internal(e),
            })
        }
        AuthInput::Session(id) => authorize_session(tx, id, now).map_err(|e| match e {
            Fail::Step(step) => step,
            Fail::Sql(e) => internal(e),
        }),
    }
}

enum Fail {
    Step(AuthStep),
    Sql(DbError),
}

impl From<DbError> for Fail {
    fn from(e: DbError) -> Self {
        Fail::Sql(e)
    }
}

impl From<AuthStep> for Fail {
    fn from(s: AuthStep) -> Self {
        Fail::Step(s)
    }
}

fn authorize_credentials(
    tx: &Tx<'_>,
    cache: &AuthCache,
    c: &Credentials,
    now: OffsetDateTime,
) -> Result<Principal, Fail> {
    let user = users::credentials(
        tx,
        &c.org_code,
        &c.user_name,
        c.computer_name.trim(),
        RIGHT_WEB_SERVICES,
        &c.branch_code,
    )?;
    let generic = |user_exists| AuthStep::Denied {
        error: ServiceError::fault(FaultCode::AuthFailed, AUTH_FAILED_TEXT),
        record_failure: None,
        dummy_verify: true,
        user_exists,
    };
    let Some(user) = user else {
        return Err(generic(false).into());
    };
    if !user.org_enabled {
        return Err(generic(true).into());
    }
    if let Some(until) = user.locked_until.as_deref().and_then(parse_timestamp)
        && until > now
    {
        return Err(generic(true).into());
    }
    if !cache.matches(user.id, &c.password, &user.password_hash, user.auth_version) {
        return Err(AuthStep::VerifyPassword {
            user_id: user.id,
            password_hash: user.password_hash,
            auth_version: user.auth_version,
        }
        .into());
    }
    // The password is right: from here on the refusals may be specific.
    if !user.enabled {
        return Err(denied(FaultCode::UserDisabled, "the user is disabled").into());
    }
    if user.computer_bound && !user.computer_allowed {
        return Err(denied(
            FaultCode::ComputerNotAllowed,
            "the user is bound to other computers; check ComputerName",
        )
        .into());
    }
    if !user.has_right {
        return Err(right_missing().into());
    }
    let branch_id = branch_decision(user.branch)?;
    Ok(Principal {
        user_id: user.id,
        user_name: c.user_name.clone(),
        org_id: user.org_id,
        org_code: c.org_code.clone(),
        branch_id,
        branch_code: c.branch_code.clone(),
        computer_name: c.computer_name.clone(),
        terminal_type: c.terminal_type,
        reset_failures: user.failed_attempts > 0,
    })
}

fn check_right(tx: &Tx<'_>, user_id: i64) -> Result<(), Fail> {
    if users::has_right(tx, user_id, RIGHT_WEB_SERVICES)? {
        Ok(())
    } else {
        Err(right_missing().into())
    }
}

fn right_missing() -> AuthStep {
    denied(
        FaultCode::RightMissing,
        "the user does not hold the right \"Allow access to Allps web services\"",
    )
}

/// The branch a call may act in, from the user's access to it if it exists.
fn branch_decision(access: Option<BranchAccess>) -> Result<i64, Fail> {
    match access.map(|a| (a.id, a.enabled, a.allocated)) {
        Some((id, true, true)) => Ok(id),
        Some((_, false, _)) => {
            Err(denied(FaultCode::BranchNotAllowed, "the branch is disabled").into())
        }
        Some((_, true, false)) => Err(denied(
            FaultCode::BranchNotAllowed,
            "the user is not allocated to the branch",
        )
        .into()),
        None => Err(denied(FaultCode::BranchNotAllowed, "the branch does not exist").into()),
    }
}

fn authorize_session(
    tx: &Tx<'_>,
    session_id: &str,
    now: OffsetDateTime,
) -> Result<Principal, Fail> {
    let invalid = || AuthStep::Denied {
        error: ServiceError::fault(
            FaultCode::SessionInvalid,
            "the session is unknown, expired or ended",
        ),
        record_failure: None,
        dummy_verify: false,
        user_exists: false,
    };
    let Some(session) = sessions::find(tx, &session_hash(session_id))? else {
        return Err(invalid().into());
    };
    if !session.org_enabled || parse_timestamp(&session.expires_at).is_none_or(|e| e <= now) {
        return Err(invalid().into());
    }
    if !session.user_enabled {
        return Err(denied(FaultCode::UserDisabled, "the user is disabled").into());
    }
    let user_id = session.user_id;
    let computers = users::computers(tx, user_id)?;
    if !computers.is_empty()
        && !computers
            .iter()
            .any(|m| m.eq_ignore_ascii_case(&session.computer_name))
    {
        return Err(denied(
            FaultCode::ComputerNotAllowed,
            "the user is bound to other computers; check ComputerName",
        )
        .into());
    }
    check_right(tx, user_id)?;
    let Some(branch_code) = users::branch_code(tx, session.branch_id)? else {
        return Err(denied(FaultCode::BranchNotAllowed, "the branch does not exist").into());
    };
    let branch_id = branch_decision(users::branch_access(
        tx,
        user_id,
        session.org_id,
        &branch_code,
    )?)?;
    Ok(Principal {
        user_id,
        user_name: session.user_name,
        org_id: session.org_id,
        org_code: session.org_code,
        branch_id,
        branch_code,
        computer_name: session.computer_name,
        terminal_type: session.terminal_type,
        reset_failures: false,
    })
}

/// Counts a failed password attempt, locking the user once the threshold is reached.
///
/// # Errors
///
/// SQLite.
pub fn record_failure(
    tx: &Tx<'_>,
    user_id: i64,
    now: OffsetDateTime,
    config: &AuthConfig,
) -> Result<(), DbError> {
    users::record_failure(
        tx,
        user_id,
        now,
        config.lockout_threshold,
        config.lockout_duration,
    )
}

/// Starts a session for a principal; returns the session id (shown once, stored hashed)
/// and its expiry.
///
/// # Errors
///
/// SQLite.
pub fn create_session(
    tx: &Tx<'_>,
    principal: &Principal,
    now: OffsetDateTime,
    config: &AuthConfig,
) -> Result<(String, OffsetDateTime), DbError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the OS random source works");
    let id = hex(&bytes);
    let expires = now + config.session_ttl;
    sessions::create(
        tx,
        &sessions::NewSession {
            token_hash: &session_hash(&id),
            user_id: principal.user_id,
            branch_id: principal.branch_id,
            computer_name: &principal.computer_name,
            terminal_type: principal.terminal_type,
            expires_at: expires,
        },
        now,
    )?;
    Ok((id, expires))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_differ() {
        let a = hash_password("s3cret");
        let b = hash_password("s3cret");
        assert_ne!(a, b, "salts differ");
        assert!(a.starts_with("$argon2id$"));
        assert!(verify_password("s3cret", &a));
        assert!(!verify_password("S3cret", &a));
        assert!(!verify_password("s3cret", "not a hash"));
    }

    #[test]
    fn cache_matches_only_same_password_hash_and_version() {
        let cache = AuthCache::new();
        cache.remember(1, "pw", "$h1", 3);
        assert!(cache.matches(1, "pw", "$h1", 3));
        assert!(!cache.matches(1, "pw2", "$h1", 3));
        assert!(!cache.matches(1, "pw", "$h2", 3));
        assert!(!cache.matches(1, "pw", "$h1", 4));
        assert!(!cache.matches(2, "pw", "$h1", 3));
        cache.forget(1);
        assert!(!cache.matches(1, "pw", "$h1", 3));
    }
}
