//! The durable job queue: work the processor does later, stored in the `jobs` table so it
//! survives restarts. A job is one step of one subject (a wallet request, or one part of
//! a credit payment), due at an instant on the injected clock.
//!
//! Exactly-once rules:
//!
//! - **Enqueue is idempotent**: `(kind, subject_id, part_number)` is unique, so a step is
//!   queued at most once however often the code that queues it runs.
//! - **Claim under a lease**: [`claim_next`] atomically (one write transaction; SQLite
//!   allows one writer, across processes too) takes the earliest due job that is PENDING,
//!   or RUNNING with an expired lease, marks it RUNNING for this owner until
//!   `now + lease`, and counts the attempt. Two processors (the server's and
//!   `allps-ws process`) never hold the same job at once.
//! - **Fenced completion**: the outcome is recorded by [`finish`], [`retry`] or
//!   [`give_up`] only while the caller still holds the lease it claimed (same owner and
//!   attempt count), in the same transaction as the job's effects, so a processor whose
//!   lease was taken over records nothing. Effects are also written to be idempotent
//!   (guarded on the subject's current state).
//! - **Crash recovery**: a processor that dies after claiming leaves the job RUNNING;
//!   when its lease expires another claim takes it over and repeats the gateway call,
//!   whose far end is idempotent on the request's identifiers.

use crate::store::sql::{Dialect, OptionalExtension, params};
use time::{Duration, OffsetDateTime};

use crate::clock::{format_timestamp, parse_timestamp};
use crate::store::{DbError, Tx};

/// Declares [`JobKind`]: one line per kind (variant, stored spelling, what it does) is
/// the whole registration of a new kind; `ALL`, `as_str` and `parse` follow from it.
macro_rules! job_kinds {
    ($($(#[$doc:meta])* $variant:ident => $text:literal,)+) => {
        /// What a job does.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum JobKind {
            $($(#[$doc])* $variant,)+
        }

        impl JobKind {
            /// Every kind.
            pub const ALL: &'static [JobKind] = &[$(JobKind::$variant),+];

            /// The stored spelling.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(JobKind::$variant => $text,)+
                }
            }
        }
    };
}

job_kinds! {
    /// Ask the wallet issuer to create a wallet (subject: wallet request id).
    WalletCreate => "WALLET_CREATE",
    /// Hand a bank part to the bank (subject: payment id, part number).
    CreditSubmit => "CREDIT_SUBMIT",
    /// Fetch a submitted bank part's delivery report.
    CreditDelivery => "CREDIT_DELIVERY",
    /// Check whether the recipient bank returned a delivered bank part.
    CreditReturnCheck => "CREDIT_RETURN_CHECK",
    /// Credit a wallet part inside Allps on the action date.
    WalletCredit => "WALLET_CREDIT",
    /// Submit (at the cut-off) and present (at the window) one stream's instalments of
    /// one action date, a batch per claim (subject: the date's Julian day number,
    /// part: the stream's position in `NoteStream::ALL`).
    CollectionSweep => "COLLECTION_SWEEP",
    /// Before migration 0012: one attempt's answer (subject: note id, part: instalment
    /// number × 1000 + attempt number). No longer queued; 0012 turned queued ones into
    /// `COLLECTION_ANSWERS` rows.
    CollectionAnswer => "COLLECTION_ANSWER",
    /// Re-present a tracked instalment on a tracking day (part: instalment number ×
    /// 1000 + the attempt number it makes).
    CollectionTrack => "COLLECTION_TRACK",
    /// Before migration 0012: one collected attempt's dispute check. No longer queued;
    /// 0012 turned queued ones into `COLLECTION_REVERSAL_CHECKS` rows.
    CollectionReversalCheck => "COLLECTION_REVERSAL_CHECK",
    /// Ask the payer's bank for the answer to a DebiCheck mandate's authentication
    /// request (subject: note id); rescheduled to when an answer may be there, never
    /// past the window's deadline.
    MandateAuthCheck => "MANDATE_AUTH_CHECK",
    /// At the authentication window's deadline: the answer given by then, or EXPIRED
    /// (subject: note id).
    MandateExpiry => "MANDATE_EXPIRY",
    /// Ask whether the payer's bank suspended an authenticated mandate (subject: note
    /// id); rescheduled while the bank names a later time.
    MandateSuspensionCheck => "MANDATE_SUSPENSION_CHECK",
    /// Cancel a cancelled note's mandate at the payer's bank (subject: note id).
    MandateCancel => "MANDATE_CANCEL",
    /// Apply the debtor bank's answers due at one instant (subject: its Unix time):
    /// every unanswered attempt whose `answer_due_at` is then, a batch per claim.
    CollectionAnswers => "COLLECTION_ANSWERS",
    /// Check the collections whose `reversal_check_at` is one instant (subject: its
    /// Unix time) for disputes, a batch per claim.
    CollectionReversalChecks => "COLLECTION_REVERSAL_CHECKS",
}

impl JobKind {
    /// Parses the stored spelling.
    pub fn parse(text: &str) -> Option<JobKind> {
        JobKind::ALL.iter().copied().find(|k| k.as_str() == text)
    }
}

/// A job to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    /// What to do.
    pub kind: JobKind,
    /// The wallet request or payment id.
    pub subject_id: i64,
    /// The payment part, or 0.
    pub part_number: i64,
    /// When it becomes due.
    pub due_at: OffsetDateTime,
}

/// A job this processor holds the lease of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedJob {
    /// Row id.
    pub id: i64,
    /// What to do.
    pub kind: JobKind,
    /// The wallet request or payment id.
    pub subject_id: i64,
    /// The payment part, or 0.
    pub part_number: i64,
    /// When it was due: the instant its simulated effects happen at.
    pub due_at: OffsetDateTime,
    /// Attempts so far, this one included (1 on the first claim).
    pub attempts: u32,
    /// Who holds the lease.
    pub owner: String,
}

/// Queues a job; does nothing if the same step is already queued (or done).
/// Returns whether a row was added.
///
/// # Errors
///
/// SQLite.
pub fn enqueue(tx: &Tx<'_>, job: &NewJob, now: OffsetDateTime) -> Result<bool, DbError> {
    let added = tx
        .conn
        .prepare_cached(
            "INSERT INTO jobs (kind, subject_id, part_number, status, due_at, created_at)
             VALUES (?1, ?2, ?3, 'PENDING', ?4, ?5)
             ON CONFLICT (kind, subject_id, part_number) DO NOTHING",
        )?
        .execute(params![
            job.kind.as_str(),
            job.subject_id,
            job.part_number,
            format_timestamp(job.due_at),
            format_timestamp(now)
        ])?;
    Ok(added == 1)
}

/// Queues a job that may already have run: a new row, or a DONE one made PENDING again
/// at `job.due_at` (a collection sweep whose date gained instalments after it ran). A
/// PENDING or RUNNING row is left alone. Returns whether a row was added or revived.
///
/// # Errors
///
/// SQLite.
pub fn ensure(tx: &Tx<'_>, job: &NewJob, now: OffsetDateTime) -> Result<bool, DbError> {
    let changed = tx
        .conn
        .prepare_cached(
            "INSERT INTO jobs (kind, subject_id, part_number, status, due_at, created_at)
             VALUES (?1, ?2, ?3, 'PENDING', ?4, ?5)
             ON CONFLICT (kind, subject_id, part_number) DO UPDATE
                 SET status = 'PENDING', due_at = excluded.due_at, finished_at = NULL, outcome = NULL
                 WHERE jobs.status = 'DONE'",
        )?
        .execute(params![
            job.kind.as_str(),
            job.subject_id,
            job.part_number,
            format_timestamp(job.due_at),
            format_timestamp(now)
        ])?;
    Ok(changed == 1)
}

/// Claims the earliest job due at or before `until` that is PENDING, or RUNNING under a
/// lease that expired before `now`; it becomes RUNNING for `owner` until `now + lease`.
///
/// # Errors
///
/// SQLite; a stored job with an unknown kind or malformed time is reported as
/// `InvalidColumnType`.
///
/// Exactly once across nodes: the outer WHERE repeats the claimable condition, so an
/// UPDATE that waited for another node's claim of the same row re-checks the row as
/// that node left it (PostgreSQL's READ COMMITTED) and takes nothing; on PostgreSQL the
/// subquery also skips rows another node holds locked (`FOR UPDATE SKIP LOCKED`).
pub fn claim_next(
    tx: &Tx<'_>,
    owner: &str,
    until: OffsetDateTime,
    now: OffsetDateTime,
    lease: Duration,
) -> Result<Option<ClaimedJob>, DbError> {
    let row = tx
        .conn
        .prepare_cached(match tx.conn.dialect() {
            // SQLite: the earliest PENDING and the earliest lapsed RUNNING job, each read
            // from its own index range with LIMIT 1 (no sort of the whole queue per claim).
            Dialect::Sqlite => {
                "UPDATE jobs SET status = 'RUNNING', lease_owner = ?1, lease_until = ?2, attempts = attempts + 1
             WHERE id = (SELECT id FROM (
                             SELECT id, due_at FROM (
                                 SELECT id, due_at FROM jobs
                                 WHERE status = 'PENDING' AND due_at <= ?3
                                 ORDER BY due_at, id LIMIT 1)
                             UNION ALL
                             SELECT id, due_at FROM (
                                 SELECT id, due_at FROM jobs
                                 WHERE status = 'RUNNING' AND due_at <= ?3 AND lease_until < ?4
                                 ORDER BY due_at, id LIMIT 1))
                         ORDER BY due_at, id LIMIT 1)
               AND due_at <= ?3 AND (status = 'PENDING' OR (status = 'RUNNING' AND lease_until < ?4))
             RETURNING id, kind, subject_id, part_number, due_at, attempts"
            }
            // PostgreSQL: FOR UPDATE SKIP LOCKED (not allowed beside UNION) skips rows
            // another node holds; the outer WHERE re-checks the row as that node left it.
            Dialect::Postgres => {
                "UPDATE jobs SET status = 'RUNNING', lease_owner = ?1, lease_until = ?2, attempts = attempts + 1
             WHERE id = (SELECT id FROM jobs
                         WHERE due_at <= ?3
                           AND (status = 'PENDING' OR (status = 'RUNNING' AND lease_until < ?4))
                         ORDER BY due_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
               AND due_at <= ?3 AND (status = 'PENDING' OR (status = 'RUNNING' AND lease_until < ?4))
             RETURNING id, kind, subject_id, part_number, due_at, attempts"
            }
        })?
        .query_row(
            params![
                owner,
                format_timestamp(now + lease),
                format_timestamp(until),
                format_timestamp(now)
            ],
            |r| {
                Ok((
                    r.get::<i64>(0)?,
                    r.get::<String>(1)?,
                    r.get::<i64>(2)?,
                    r.get::<i64>(3)?,
                    r.get::<String>(4)?,
                    r.get::<u32>(5)?,
                ))
            },
        )
        .optional()?;
    let Some((id, kind, subject_id, part_number, due_at, attempts)) = row else {
        return Ok(None);
    };
    let bad = |what: &str| {
        crate::store::sql::Error::conversion(0, "a known value", format!("jobs.{what} of job {id}"))
    };
    Ok(Some(ClaimedJob {
        id,
        kind: JobKind::parse(&kind).ok_or_else(|| bad("kind"))?,
        subject_id,
        part_number,
        due_at: parse_timestamp(&due_at).ok_or_else(|| bad("due_at"))?,
        attempts,
        owner: owner.to_string(),
    }))
}

/// Claims up to `limit` more jobs of `kinds` due at or before `until` (PENDING, or
/// RUNNING under an expired lease), earliest first, for `owner` until `now + lease`: a
/// processor that claimed one collection step takes its due siblings with it, so a
/// collection morning's answers are recorded a batch per transaction.
///
/// # Errors
///
/// SQLite, or a malformed stored job (as [`claim_next`]).
pub fn claim_more(
    tx: &Tx<'_>,
    owner: &str,
    until: OffsetDateTime,
    now: OffsetDateTime,
    lease: Duration,
    kinds: &[JobKind],
    limit: usize,
) -> Result<Vec<ClaimedJob>, DbError> {
    if kinds.is_empty() || limit == 0 {
        return Ok(Vec::new());
    }
    let kinds_sql = kinds
        .iter()
        .map(|k| format!("'{}'", k.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    let rows: Vec<(i64, String, i64, i64, String, u32)> = tx
        .conn
        .prepare_cached(&match tx.conn.dialect() {
            // SQLite: each state's index range read with its own LIMIT (see claim_next).
            Dialect::Sqlite => format!(
                "UPDATE jobs SET status = 'RUNNING', lease_owner = ?1, lease_until = ?2, attempts = attempts + 1
             WHERE id IN (SELECT id FROM (
                              SELECT id, due_at FROM (
                                  SELECT id, due_at FROM jobs
                                  WHERE status = 'PENDING' AND due_at <= ?3 AND kind IN ({kinds_sql})
                                  ORDER BY due_at, id LIMIT ?5)
                              UNION ALL
                              SELECT id, due_at FROM (
                                  SELECT id, due_at FROM jobs
                                  WHERE status = 'RUNNING' AND due_at <= ?3 AND lease_until < ?4
                                    AND kind IN ({kinds_sql})
                                  ORDER BY due_at, id LIMIT ?5))
                          ORDER BY due_at, id LIMIT ?5)
               AND due_at <= ?3 AND (status = 'PENDING' OR (status = 'RUNNING' AND lease_until < ?4))
             RETURNING id, kind, subject_id, part_number, due_at, attempts"
            ),
            // PostgreSQL: SKIP LOCKED (not allowed beside UNION), outer re-check.
            Dialect::Postgres => format!(
                "UPDATE jobs SET status = 'RUNNING', lease_owner = ?1, lease_until = ?2, attempts = attempts + 1
             WHERE id IN (SELECT id FROM jobs
                          WHERE kind IN ({kinds_sql}) AND due_at <= ?3
                            AND (status = 'PENDING' OR (status = 'RUNNING' AND lease_until < ?4))
                          ORDER BY due_at, id LIMIT ?5 FOR UPDATE SKIP LOCKED)
               AND due_at <= ?3 AND (status = 'PENDING' OR (status = 'RUNNING' AND lease_until < ?4))
             RETURNING id, kind, subject_id, part_number, due_at, attempts"
            ),
        })?
        .query_map(
            params![
                owner,
                format_timestamp(now + lease),
                format_timestamp(until),
                format_timestamp(now),
                limit as i64
            ],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
        )?
        .collect::<Result<_, _>>()?;
    let mut out = Vec::with_capacity(rows.len());
    for (id, kind, subject_id, part_number, due_at, attempts) in rows {
        let bad = |what: &str| {
            crate::store::sql::Error::conversion(
                0,
                "a known value",
                format!("jobs.{what} of job {id}"),
            )
        };
        out.push(ClaimedJob {
            id,
            kind: JobKind::parse(&kind).ok_or_else(|| bad("kind"))?,
            subject_id,
            part_number,
            due_at: parse_timestamp(&due_at).ok_or_else(|| bad("due_at"))?,
            attempts,
            owner: owner.to_string(),
        });
    }
    out.sort_by_key(|j| (j.due_at, j.id));
    Ok(out)
}

/// Whether `job`'s lease is still held by its claimer (nobody took it over).
///
/// # Errors
///
/// SQLite.
pub fn holds(tx: &Tx<'_>, job: &ClaimedJob) -> Result<bool, DbError> {
    Ok(tx
        .conn
        .prepare_cached(
            "SELECT 1 FROM jobs WHERE id = ?1 AND status = 'RUNNING' AND lease_owner = ?2 AND attempts = ?3",
        )?
        .query_row(params![job.id, job.owner, job.attempts], |_| Ok(()))
        .optional()?
        .is_some())
}

fn end(
    tx: &Tx<'_>,
    job: &ClaimedJob,
    status: &str,
    at: OffsetDateTime,
    outcome: Option<&str>,
    error: Option<&str>,
) -> Result<bool, DbError> {
    let changed = tx
        .conn
        .prepare_cached(
            "UPDATE jobs SET status = ?1, finished_at = ?2, outcome = ?3, last_error = coalesce(?4, last_error),
                             lease_owner = NULL, lease_until = NULL
             WHERE id = ?5 AND status = 'RUNNING' AND lease_owner = ?6 AND attempts = ?7",
        )?
        .execute(params![
            status,
            format_timestamp(at),
            outcome,
            error,
            job.id,
            job.owner,
            job.attempts
        ])?;
    Ok(changed == 1)
}

/// Marks a held job DONE at `at` with a short description of what it did. Returns
/// false (and changes nothing) if the lease is no longer held.
///
/// # Errors
///
/// SQLite.
pub fn finish(
    tx: &Tx<'_>,
    job: &ClaimedJob,
    at: OffsetDateTime,
    outcome: &str,
) -> Result<bool, DbError> {
    end(tx, job, "DONE", at, Some(outcome), None)
}

/// Marks a held job FAILED (gave up after its attempts) at `at`. Returns false if the
/// lease is no longer held.
///
/// # Errors
///
/// SQLite.
pub fn give_up(
    tx: &Tx<'_>,
    job: &ClaimedJob,
    at: OffsetDateTime,
    error: &str,
) -> Result<bool, DbError> {
    end(tx, job, "FAILED", at, Some("gave up"), Some(error))
}

/// Puts a held job back to PENDING, due again at `next_due`, remembering the error.
/// Returns false if the lease is no longer held.
///
/// # Errors
///
/// SQLite.
pub fn retry(
    tx: &Tx<'_>,
    job: &ClaimedJob,
    next_due: OffsetDateTime,
    error: &str,
) -> Result<bool, DbError> {
    put_back(
        tx,
        job,
        next_due,
        error,
        "UPDATE jobs SET status = 'PENDING', due_at = ?1, last_error = ?2, lease_owner = NULL, lease_until = NULL
         WHERE id = ?3 AND status = 'RUNNING' AND lease_owner = ?4 AND attempts = ?5",
    )
}

/// Puts a held job back to PENDING, due at `next_due`, without an error (a sweep with
/// more work, a reversal check asked again later). Returns false if the lease is no
/// longer held.
///
/// # Errors
///
/// SQLite.
pub fn reschedule(
    tx: &Tx<'_>,
    job: &ClaimedJob,
    next_due: OffsetDateTime,
    outcome: &str,
) -> Result<bool, DbError> {
    put_back(
        tx,
        job,
        next_due,
        outcome,
        "UPDATE jobs SET status = 'PENDING', due_at = ?1, outcome = ?2, lease_owner = NULL, lease_until = NULL
         WHERE id = ?3 AND status = 'RUNNING' AND lease_owner = ?4 AND attempts = ?5",
    )
}

/// Runs one of the PENDING-again updates above (`?1` due, `?2` the text, then the lease
/// fence): true when this owner still held the job's lease.
fn put_back(
    tx: &Tx<'_>,
    job: &ClaimedJob,
    next_due: OffsetDateTime,
    text: &str,
    sql: &str,
) -> Result<bool, DbError> {
    let changed = tx.conn.prepare_cached(sql)?.execute(params![
        format_timestamp(next_due),
        text,
        job.id,
        job.owner,
        job.attempts
    ])?;
    Ok(changed == 1)
}

/// The earliest due instant of a job not yet finished, if any.
///
/// # Errors
///
/// SQLite.
pub fn next_due(tx: &Tx<'_>) -> Result<Option<OffsetDateTime>, DbError> {
    let text: Option<String> = tx
        .conn
        .prepare_cached("SELECT min(due_at) FROM jobs WHERE status IN ('PENDING', 'RUNNING')")?
        .query_row(params![], |r| r.get(0))?;
    Ok(text.as_deref().and_then(parse_timestamp))
}

/// Jobs per status, for reports.
///
/// # Errors
///
/// SQLite.
pub fn counts(tx: &Tx<'_>) -> Result<Vec<(String, i64)>, DbError> {
    tx.conn
        .prepare_cached("SELECT status, count(*) FROM jobs GROUP BY status ORDER BY status")?
        .query_map(params![], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()
        .map_err(DbError::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store;
    use time::macros::datetime;

    fn conn() -> store::sql::Conn {
        let mut c = rusqlite::Connection::open_in_memory().unwrap();
        store::migrate(&mut c).unwrap();
        store::sql::Conn::sqlite(c)
    }

    const T0: OffsetDateTime = datetime!(2026-11-23 08:00 UTC);

    fn job(subject: i64, due: OffsetDateTime) -> NewJob {
        NewJob {
            kind: JobKind::WalletCreate,
            subject_id: subject,
            part_number: 0,
            due_at: due,
        }
    }

    #[test]
    fn enqueue_is_idempotent_and_claims_follow_due_order() {
        let db = conn();
        let c = Tx::new(&db);
        assert!(enqueue(&c, &job(2, T0 + Duration::minutes(5)), T0).unwrap());
        assert!(enqueue(&c, &job(1, T0 + Duration::minutes(1)), T0).unwrap());
        assert!(!enqueue(&c, &job(1, T0 + Duration::minutes(9)), T0).unwrap());
        let lease = Duration::minutes(5);
        assert_eq!(claim_next(&c, "a", T0, T0, lease).unwrap(), None);
        let first = claim_next(&c, "a", T0 + Duration::hours(1), T0, lease)
            .unwrap()
            .unwrap();
        assert_eq!((first.subject_id, first.attempts), (1, 1));
        let second = claim_next(&c, "b", T0 + Duration::hours(1), T0, lease)
            .unwrap()
            .unwrap();
        assert_eq!(second.subject_id, 2);
        // Both are leased: nothing else to claim.
        assert_eq!(
            claim_next(&c, "c", T0 + Duration::hours(1), T0, lease).unwrap(),
            None
        );
        assert!(finish(&c, &first, T0, "done").unwrap());
        assert!(!finish(&c, &first, T0, "again").unwrap());
        assert_eq!(next_due(&c).unwrap(), Some(T0 + Duration::minutes(5)));
    }

    #[test]
    fn an_expired_lease_is_taken_over_and_the_old_holder_is_fenced() {
        let db = conn();
        let c = Tx::new(&db);
        enqueue(&c, &job(1, T0), T0).unwrap();
        let lease = Duration::minutes(5);
        let a = claim_next(&c, "a", T0, T0, lease).unwrap().unwrap();
        assert!(holds(&c, &a).unwrap());
        // Before the lease expires nobody else gets it.
        let later = T0 + Duration::minutes(4);
        assert_eq!(claim_next(&c, "b", later, later, lease).unwrap(), None);
        let expired = T0 + Duration::minutes(6);
        let b = claim_next(&c, "b", expired, expired, lease)
            .unwrap()
            .unwrap();
        assert_eq!(b.attempts, 2);
        assert!(!holds(&c, &a).unwrap());
        assert!(!finish(&c, &a, expired, "late").unwrap());
        assert!(!retry(&c, &a, expired, "late").unwrap());
        assert!(holds(&c, &b).unwrap());
        assert!(retry(&c, &b, expired + Duration::minutes(2), "unavailable").unwrap());
        let c2 = claim_next(&c, "c", expired + Duration::minutes(2), expired, lease)
            .unwrap()
            .unwrap();
        assert_eq!(c2.attempts, 3);
        assert!(give_up(&c, &c2, expired, "still unavailable").unwrap());
        assert_eq!(next_due(&c).unwrap(), None);
        let counts = counts(&c).unwrap();
        assert_eq!(counts, vec![("FAILED".to_string(), 1)]);
    }

    #[test]
    fn claim_more_takes_due_jobs_of_the_kinds_asked_for_under_the_same_lease() {
        let db = conn();
        let c = Tx::new(&db);
        let step = |subject, kind, due| NewJob {
            kind,
            subject_id: subject,
            part_number: 1001,
            due_at: due,
        };
        for s in 1..=5 {
            enqueue(&c, &step(s, JobKind::CollectionAnswer, T0), T0).unwrap();
        }
        enqueue(
            &c,
            &step(6, JobKind::CollectionAnswer, T0 + Duration::hours(1)),
            T0,
        )
        .unwrap();
        enqueue(&c, &job(7, T0), T0).unwrap();
        let lease = Duration::minutes(5);
        let kinds = [JobKind::CollectionAnswer];
        let got = claim_more(&c, "a", T0, T0, lease, &kinds, 3).unwrap();
        assert_eq!(
            got.iter().map(|j| j.subject_id).collect::<Vec<_>>(),
            vec![1, 2, 3]
        );
        assert!(got.iter().all(|j| holds(&c, j).unwrap() && j.attempts == 1));
        // The rest of the due ones; not the later one, not another kind.
        let got = claim_more(&c, "b", T0, T0, lease, &kinds, 10).unwrap();
        assert_eq!(
            got.iter().map(|j| j.subject_id).collect::<Vec<_>>(),
            vec![4, 5]
        );
        assert!(
            claim_more(&c, "c", T0, T0, lease, &kinds, 10)
                .unwrap()
                .is_empty()
        );
        assert!(
            claim_more(&c, "c", T0, T0, lease, &[], 10)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn kinds_round_trip() {
        for k in JobKind::ALL {
            assert_eq!(JobKind::parse(k.as_str()), Some(*k));
        }
    }
}
