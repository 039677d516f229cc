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
        /// The claimed branch exists in the claimed organisation, so the request log
        /// may carry its code.
        branch_exists: bool,
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
        /// Failed attempts in a row recorded in the store when read.
        failed_attempts: i64,
        /// The claimed branch exists in the user's organisation (for the request log).
        branch_exists: bool,
    },
}

/// The lockout's one atomic step per user: a password may be checked only after it has
/// claimed one of the `--lockout-threshold` attempts of the current window, counting the
/// checks still running as well as the failures recorded. However many guesses arrive
/// at once, at most the threshold are ever verified before the user locks; the rest are
/// refused like a locked user (after a dummy verification, so timing tells nothing).
/// The store keeps the same count (for restarts and the admin tool); this in-memory
/// gate is what makes check-then-count atomic, since one server process owns the store.
#[derive(Debug, Default)]
pub struct Lockout {
    users: std::sync::Mutex<std::collections::HashMap<i64, Gate>>,
    /// Woken whenever a check finishes, for claims waiting on a full window.
    changed: tokio::sync::Notify,
}

/// What [`Lockout::try_claim`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// The check may run.
    Granted,
    /// The user is locked (or the window's attempts have all failed).
    Locked,
    /// Checks still running would fill the window: wait for one to finish.
    Full,
}

/// How long a claim waits for running checks before it is refused.
const CLAIM_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

#[derive(Debug)]
struct Gate {
    auth_version: i64,
    failed: i64,
    in_flight: i64,
    locked_until: Option<OffsetDateTime>,
}

/// What a finished password check reports back to [`Lockout`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The password was right: the count starts again.
    Right,
    /// The password was wrong: one more failure (locks at the threshold).
    Wrong,
    /// The check never ran (refused before, or failed): the claim is given back.
    Abandoned,
}

impl Lockout {
    fn lock(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<i64, Gate>> {
        self.users
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Claims one password check for `user_id`: `true` when it may run, `false` when the
    /// user is locked. While checks still running would fill the window it waits for
    /// them (a burst of right passwords is served one window at a time; a burst of
    /// guesses ends in the lock), at most [`CLAIM_WAIT`].
    pub async fn claim(
        &self,
        user_id: i64,
        stored_failures: i64,
        auth_version: i64,
        clock: &dyn crate::clock::Clock,
        config: &AuthConfig,
    ) -> bool {
        let deadline = tokio::time::Instant::now() + CLAIM_WAIT;
        loop {
            let changed = self.changed.notified();
            match self.try_claim(user_id, stored_failures, auth_version, clock.now(), config) {
                Claim::Granted => return true,
                Claim::Locked => return false,
                Claim::Full => {
                    if tokio::time::timeout_at(deadline, changed).await.is_err() {
                        return false;
                    }
                }
            }
        }
    }

    /// One claim attempt, without waiting.
    pub fn try_claim(
        &self,
        user_id: i64,
        stored_failures: i64,
        auth_version: i64,
        now: OffsetDateTime,
        config: &AuthConfig,
    ) -> Claim {
        if config.lockout_threshold == 0 {
            return Claim::Granted;
        }
        let mut users = self.lock();
        let fresh = || Gate {
            auth_version,
            failed: stored_failures.max(0),
            in_flight: 0,
            locked_until: None,
        };
        let gate = users.entry(user_id).or_insert_with(fresh);
        if gate.auth_version != auth_version && gate.in_flight == 0 {
            // An administrator changed the user (an unlock, a new password): the store's
            // count is the truth again.
            *gate = fresh();
        }
        if let Some(until) = gate.locked_until {
            if until > now {
                return Claim::Locked;
            }
            gate.locked_until = None;
            gate.failed = 0;
        }
        let threshold = i64::from(config.lockout_threshold);
        if gate.failed >= threshold {
            return Claim::Locked;
        }
        if gate.failed + gate.in_flight >= threshold {
            return Claim::Full;
        }
        gate.in_flight += 1;
        Claim::Granted
    }

    /// Reports how a claimed check ended.
    pub fn finish(&self, user_id: i64, verdict: Verdict, now: OffsetDateTime, config: &AuthConfig) {
        if config.lockout_threshold == 0 {
            return;
        }
        let mut users = self.lock();
        let Some(gate) = users.get_mut(&user_id) else {
            return;
        };
        gate.in_flight = (gate.in_flight - 1).max(0);
        match verdict {
            Verdict::Right => gate.failed = 0,
            Verdict::Wrong => {
                gate.failed += 1;
                if gate.failed >= i64::from(config.lockout_threshold) {
                    gate.locked_until = Some(now + config.lockout_duration);
                    gate.failed = 0;
                }
            }
            Verdict::Abandoned => {}
        }
        if gate.failed == 0 && gate.in_flight == 0 && gate.locked_until.is_none() {
            users.remove(&user_id);
        }
        drop(users);
        self.changed.notify_waiters();
    }

    /// Users with a gate in memory (failures, checks running or a lock).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no user has a gate.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A specific refusal of a caller whose user is known (a right password, or a session).
fn denied(code: FaultCode, message: &str) -> AuthStep {
    denied_known(false, code, message)
}

/// [`denied`] for a credentials caller whose claimed branch is known to exist or not.
fn denied_known(branch_exists: bool, code: FaultCode, message: &str) -> AuthStep {
    AuthStep::Denied {
        error: ServiceError::fault(code, message),
        record_failure: None,
        dummy_verify: false,
        user_exists: true,
        branch_exists,
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

    pub fn matches(
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

/// A password in Unicode NFC (as every text off the wire is), so a password typed
/// composed or decomposed is the same password.
fn nfc(password: &str) -> std::borrow::Cow<'_, str> {
    use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};
    if password.is_ascii() || is_nfc_quick(password.chars()) == IsNormalized::Yes {
        password.into()
    } else {
        password.nfc().collect::<String>().into()
    }
}

/// Hashes a password (in NFC) with argon2id (default parameters, random salt) as a PHC
/// string.
pub fn hash_password(password: &str) -> String {
    Argon2::default()
        .hash_password(nfc(password).as_bytes())
        .expect("argon2 hashing with default parameters works")
        .to_string()
}

/// Verifies a password (in NFC) against a PHC string; a malformed hash verifies nothing.
pub fn verify_password(password: &str, password_hash: &str) -> bool {
    Argon2::default()
        .verify_password(nfc(password).as_bytes(), password_hash)
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
        branch_exists: false,
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
    let generic = |user_exists, branch_exists| AuthStep::Denied {
        error: ServiceError::fault(FaultCode::AuthFailed, AUTH_FAILED_TEXT),
        record_failure: None,
        dummy_verify: true,
        user_exists,
        branch_exists,
    };
    let Some(user) = user else {
        return Err(generic(false, false).into());
    };
    let branch_exists = user.branch.is_some();
    if !user.org_enabled {
        return Err(generic(true, branch_exists).into());
    }
    if let Some(until) = user.locked_until.as_deref().and_then(parse_timestamp)
        && until > now
    {
        return Err(generic(true, branch_exists).into());
    }
    if !cache.matches(user.id, &c.password, &user.password_hash, user.auth_version) {
        return Err(AuthStep::VerifyPassword {
            user_id: user.id,
            password_hash: user.password_hash,
            auth_version: user.auth_version,
            failed_attempts: user.failed_attempts,
            branch_exists,
        }
        .into());
    }
    // The password is right: from here on the refusals may be specific.
    if !user.enabled {
        return Err(denied_known(
            branch_exists,
            FaultCode::UserDisabled,
            "the user is disabled",
        )
        .into());
    }
    if user.computer_bound && !user.computer_allowed {
        return Err(denied_known(
            branch_exists,
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
        branch_exists: false,
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
mod lockout_tests {
    use super::*;
    use crate::clock::Clock as _;

    #[test]
    fn at_most_threshold_checks_are_claimed_however_many_arrive() {
        let lockout = Lockout::default();
        let config = AuthConfig::default();
        let now = OffsetDateTime::UNIX_EPOCH;
        let claims: Vec<Claim> = (0..300)
            .map(|_| lockout.try_claim(7, 0, 1, now, &config))
            .collect();
        assert_eq!(claims.iter().filter(|c| **c == Claim::Granted).count(), 5);
        assert!(claims[5..].iter().all(|c| *c == Claim::Full));
        for _ in 0..5 {
            lockout.finish(7, Verdict::Wrong, now, &config);
        }
        // Locked for the window, even for the right password.
        let soon = now + Duration::minutes(14);
        assert_eq!(lockout.try_claim(7, 0, 1, soon, &config), Claim::Locked);
        // After the window: a fresh threshold.
        let later = now + Duration::minutes(16);
        let granted = (0..50)
            .filter(|_| lockout.try_claim(7, 0, 1, later, &config) == Claim::Granted)
            .count();
        assert_eq!(granted, 5);
    }

    #[test]
    fn stored_failures_count_and_a_success_starts_again() {
        let lockout = Lockout::default();
        let config = AuthConfig::default();
        let now = OffsetDateTime::UNIX_EPOCH;
        let granted = |l: &Lockout, user, stored, version| {
            l.try_claim(user, stored, version, now, &config) == Claim::Granted
        };
        // Three failures already recorded: two claims left.
        assert!(granted(&lockout, 1, 3, 1));
        assert!(granted(&lockout, 1, 3, 1));
        assert!(!granted(&lockout, 1, 3, 1));
        lockout.finish(1, Verdict::Right, now, &config);
        lockout.finish(1, Verdict::Abandoned, now, &config);
        assert!(lockout.is_empty(), "nothing left to remember");
        // An admin change (new auth_version) re-reads the store's count.
        assert!(granted(&lockout, 2, 0, 1));
        lockout.finish(2, Verdict::Wrong, now, &config);
        assert!(granted(&lockout, 2, 0, 2));
        lockout.finish(2, Verdict::Abandoned, now, &config);
    }

    #[test]
    fn threshold_zero_never_locks() {
        let lockout = Lockout::default();
        let config = AuthConfig {
            lockout_threshold: 0,
            ..AuthConfig::default()
        };
        let now = OffsetDateTime::UNIX_EPOCH;
        assert!((0..100).all(|_| lockout.try_claim(3, 0, 1, now, &config) == Claim::Granted));
    }

    #[tokio::test]
    async fn a_waiting_claim_runs_when_a_right_password_frees_the_window() {
        let lockout = std::sync::Arc::new(Lockout::default());
        let config = AuthConfig::default();
        let clock = crate::clock::ManualClock::new(OffsetDateTime::UNIX_EPOCH);
        for _ in 0..5 {
            assert_eq!(
                lockout.try_claim(9, 0, 1, clock.now(), &config),
                Claim::Granted
            );
        }
        let waiting = {
            let lockout = lockout.clone();
            tokio::spawn(async move {
                let clock = crate::clock::ManualClock::new(OffsetDateTime::UNIX_EPOCH);
                lockout.claim(9, 0, 1, &clock, &config).await
            })
        };
        tokio::task::yield_now().await;
        lockout.finish(9, Verdict::Right, clock.now(), &config);
        assert!(
            waiting.await.expect("task"),
            "granted once a check finished"
        );
        // Five wrong ones in a row lock: a claim is then refused.
        for _ in 0..5 {
            lockout.finish(9, Verdict::Wrong, clock.now(), &config);
        }
        assert!(!lockout.claim(9, 0, 1, &clock, &config).await);
    }
}

/// The shortest password `admin` and the console accept.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// The longest password `admin` and the console accept.
pub const MAX_PASSWORD_CHARS: usize = 128;

/// The password policy: 10-128 characters, no control characters, no leading or
/// trailing whitespace (clients trim it), not the user name.
///
/// # Errors
///
/// Which rule the password breaks (never the password itself).
pub fn check_password_policy(password: &str, user: &str) -> Result<(), String> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(format!(
            "the password is too short: use at least {MIN_PASSWORD_CHARS} characters"
        ));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(format!(
            "the password is too long: use at most {MAX_PASSWORD_CHARS} characters"
        ));
    }
    if password.chars().any(char::is_control) {
        return Err("the password must not contain control characters".into());
    }
    if password.trim() != password {
        return Err("the password must not start or end with whitespace".into());
    }
    if password.eq_ignore_ascii_case(user) {
        return Err("the password must not be the user name".into());
    }
    Ok(())
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
