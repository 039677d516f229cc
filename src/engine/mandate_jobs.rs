//! DebiCheck mandates' durable jobs, as the processor runs them: what a claimed mandate
//! job loads ([`load`], claim transaction), its gateway call ([`call`], outside any
//! transaction) and what it writes ([`record`], record transaction, guarded on the
//! mandate's status).
//!
//! - **`MANDATE_AUTH_CHECK`**, queued at the request (TT1, TT2): asks the payer's
//!   bank for the answer as of the job's instant. An answer given before the window
//!   closes (`domain::debicheck::answered_in_time`) is recorded (AUTHENTICATED: the note turns ACTIVE; DECLINED: it never presents) with
//!   its MANDATE_* reply; "not yet, ask at t" reschedules the job to t while t is
//!   before the window closes.
//! - **`MANDATE_EXPIRY`**, queued when the window closes: asks for the answer as of
//!   that instant (so an answer just before it counts whichever job runs first) and
//!   records it, or EXPIRED with MANDATE_EXPIRED.
//! - **`MANDATE_SUSPENSION_CHECK`**, queued at authentication: asks whether the
//!   payer's bank suspended the mandate; SUSPENDED stops presentments and tracking
//!   (the collection engine reads the mandate's status) and writes MANDATE_SUSPENDED.
//! - **`MANDATE_CANCEL`**, queued by CancelPromissory: cancels the mandate in the
//!   payer's bank's register, retried until the bank takes it.
//!
//! Each outcome is written at most once: every status change names the status it
//! leaves (`store::mandates`), in the transaction that writes its reply.

use time::OffsetDateTime;

use crate::domain::debicheck::{AuthenticationChannel, AuthenticationStatus, answered_in_time};
use crate::domain::payouts::ReplyType;
use crate::domain::promissory::promissory_number;
use crate::engine::gateway::{
    Gateway, GatewayUnavailable, MandateAnswer, MandateRequest, SuspensionCheck,
};
use crate::engine::payouts::PayoutConfig;
use crate::store::jobs::{self, ClaimedJob, JobKind, NewJob};
use crate::store::mandates::{self, MandateRow};
use crate::store::promissory::{self, NoteRow};
use crate::store::replies::{self, NewReply};
use crate::store::{DbError, Tx};

/// Whether a job kind is a mandate job.
pub fn is_mandate(kind: JobKind) -> bool {
    matches!(
        kind,
        JobKind::MandateAuthCheck
            | JobKind::MandateExpiry
            | JobKind::MandateSuspensionCheck
            | JobKind::MandateCancel
    )
}

/// What a claimed mandate job will do.
#[derive(Debug, Clone)]
pub enum Work {
    /// Ask for the payer's answer as of `as_of`.
    Answer {
        /// The mandate.
        request: MandateRequest,
        /// The instant asked about (the job's, or the deadline for the expiry).
        as_of: OffsetDateTime,
    },
    /// Ask whether the bank suspended it.
    Suspension {
        /// The mandate.
        request: MandateRequest,
        /// When it was authenticated.
        authenticated_at: OffsetDateTime,
        /// The instant asked about (the job's).
        as_of: OffsetDateTime,
    },
    /// Cancel it at the bank.
    Cancel(MandateRequest),
    /// Nothing to do.
    Skip(String),
}

/// The gateway's answer.
#[derive(Debug)]
pub enum Called {
    /// To [`Work::Answer`].
    Answer(Result<MandateAnswer, GatewayUnavailable>),
    /// To [`Work::Suspension`].
    Suspension(Result<SuspensionCheck, GatewayUnavailable>),
    /// To [`Work::Cancel`].
    Cancel(Result<(), GatewayUnavailable>),
    /// No call.
    Nothing,
}

/// What recording a mandate job changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A mandate's status changed (a MANDATE_* reply was written).
    Changed,
    /// Cancelled at the bank.
    CancelledAtBank,
    /// The gateway call will be retried.
    Retry,
    /// Nothing changed.
    Unchanged,
}

/// The mandate as the payer's bank sees it.
pub fn request(note: &NoteRow, m: &MandateRow) -> MandateRequest {
    MandateRequest {
        promissory_number: promissory_number(note.number),
        authentication_type: m.authentication_type,
        branch_code: note.bank_branch_code.clone(),
        account_number: note.account_number.clone(),
        cellphone: m.cellphone.clone(),
        instalment: note.instalment_amount,
        maximum: m.maximum,
        requested_at: m.requested_at,
        deadline: m.deadline,
    }
}

/// The jobs a new TT1/TT2 authentication request needs: a check at the request and
/// the expiry at the deadline.
///
/// # Errors
///
/// SQLite.
pub fn queue_request(tx: &Tx<'_>, note_id: i64, m: &MandateRow) -> Result<(), DbError> {
    for (kind, due_at) in [
        (JobKind::MandateAuthCheck, m.requested_at),
        (JobKind::MandateExpiry, m.deadline),
    ] {
        jobs::enqueue(
            tx,
            &NewJob {
                kind,
                subject_id: note_id,
                part_number: 0,
                due_at,
            },
            m.requested_at,
        )?;
    }
    Ok(())
}

/// Queues the cancellation of a cancelled note's mandate at the payer's bank, unless
/// it never reached the register (DECLINED, EXPIRED). Returns whether one was queued.
///
/// # Errors
///
/// SQLite.
pub fn queue_cancel(tx: &Tx<'_>, note_id: i64, at: OffsetDateTime) -> Result<bool, DbError> {
    let Some(m) = mandates::find(tx, note_id)? else {
        return Ok(false);
    };
    if matches!(
        m.status,
        AuthenticationStatus::Declined | AuthenticationStatus::Expired
    ) {
        return Ok(false);
    }
    jobs::enqueue(
        tx,
        &NewJob {
            kind: JobKind::MandateCancel,
            subject_id: note_id,
            part_number: 0,
            due_at: at,
        },
        at,
    )
}

/// Records the payer's answer at `at` through `channel` (guarded on
/// AWAITING_AUTHENTICATION), writes its reply and, when authenticated, queues the
/// suspension check. Returns whether anything changed. Used by the jobs and by
/// `CreateDebiCheckPromissory` for TT3, answered in the request.
///
/// # Errors
///
/// SQLite.
pub fn record_answer(
    tx: &Tx<'_>,
    note_id: i64,
    authenticated: bool,
    at: OffsetDateTime,
    channel: AuthenticationChannel,
) -> Result<bool, DbError> {
    if !mandates::record_answer(tx, note_id, authenticated, at, channel)? {
        return Ok(false);
    }
    let Some(m) = mandates::find(tx, note_id)? else {
        return Ok(false);
    };
    let (kind, text) = if authenticated {
        (
            ReplyType::MandateAuthenticated,
            format!(
                "authenticated by {} through {}",
                m.authentication_type,
                channel.as_str()
            ),
        )
    } else {
        (
            ReplyType::MandateDeclined,
            format!(
                "declined by the payer ({} through {})",
                m.authentication_type,
                channel.as_str()
            ),
        )
    };
    reply(tx, note_id, kind, at, &text)?;
    if authenticated {
        jobs::enqueue(
            tx,
            &NewJob {
                kind: JobKind::MandateSuspensionCheck,
                subject_id: note_id,
                part_number: 0,
                due_at: at,
            },
            at,
        )?;
    }
    Ok(true)
}

fn reply(
    tx: &Tx<'_>,
    note_id: i64,
    kind: ReplyType,
    at: OffsetDateTime,
    text: &str,
) -> Result<(), DbError> {
    let Some((branch_id, client_id)) = mandates::note_owner(tx, note_id)? else {
        return Ok(());
    };
    replies::insert(
        tx,
        &NewReply {
            client_id: Some(client_id),
            promissory_id: Some(note_id),
            reason_text: Some(text),
            ..NewReply::new(branch_id, kind, at)
        },
    )?;
    Ok(())
}

/// Loads what a claimed mandate job needs (claim transaction).
///
/// # Errors
///
/// SQLite.
pub fn load(tx: &Tx<'_>, job: &ClaimedJob) -> Result<Work, DbError> {
    let note_id = job.subject_id;
    let Some(m) = mandates::find(tx, note_id)? else {
        return Ok(Work::Skip(format!("note {note_id} has no mandate")));
    };
    let Some(note) = promissory::note(tx, note_id)? else {
        return Ok(Work::Skip(format!("note {note_id} is missing")));
    };
    let request = request(&note, &m);
    Ok(match job.kind {
        JobKind::MandateAuthCheck | JobKind::MandateExpiry
            if m.status == AuthenticationStatus::AwaitingAuthentication =>
        {
            let as_of = if job.kind == JobKind::MandateExpiry {
                m.deadline
            } else {
                job.due_at.min(m.deadline)
            };
            Work::Answer { request, as_of }
        }
        JobKind::MandateSuspensionCheck if m.status == AuthenticationStatus::Authenticated => {
            match m.answered_at {
                Some(authenticated_at) => Work::Suspension {
                    request,
                    authenticated_at,
                    as_of: job.due_at,
                },
                None => Work::Skip("authenticated without an answer time".into()),
            }
        }
        JobKind::MandateCancel if m.cancelled_at_bank.is_none() => Work::Cancel(request),
        _ => Work::Skip(format!("the mandate is {}", m.status)),
    })
}

/// Makes a mandate job's gateway call (blocking; outside any transaction).
pub fn call(work: &Work, gateway: &dyn Gateway) -> Called {
    match work {
        Work::Answer { request, as_of } => {
            Called::Answer(gateway.mandate_authentication(request, *as_of))
        }
        Work::Suspension {
            request,
            authenticated_at,
            as_of,
        } => Called::Suspension(gateway.mandate_suspension(request, *authenticated_at, *as_of)),
        Work::Cancel(request) => Called::Cancel(gateway.cancel_mandate(request)),
        Work::Skip(_) => Called::Nothing,
    }
}

/// Records a mandate job (record transaction; the caller checked the lease).
///
/// # Errors
///
/// SQLite.
pub fn record(
    tx: &Tx<'_>,
    job: &ClaimedJob,
    work: Work,
    called: Called,
    config: &PayoutConfig,
) -> Result<Outcome, DbError> {
    let at = job.due_at;
    let retry = |e: GatewayUnavailable| -> Result<Outcome, DbError> {
        tracing::warn!(job = job.id, error = %e, "mandate call failed; will retry");
        jobs::retry(tx, job, at + config.backoff(job.attempts), &e.to_string())?;
        Ok(Outcome::Retry)
    };
    match (work, called) {
        (Work::Skip(why), _) => {
            jobs::finish(tx, job, at, &format!("nothing to do: {why}"))?;
            Ok(Outcome::Unchanged)
        }
        (Work::Answer { request, .. }, Called::Answer(answer)) => {
            let answer = match answer {
                Ok(a) => a,
                Err(e) => return retry(e),
            };
            let note_id = job.subject_id;
            match answer {
                MandateAnswer::Answered {
                    at: answered,
                    authenticated,
                    channel,
                } if answered_in_time(answered, request.deadline) => {
                    let changed = record_answer(tx, note_id, authenticated, answered, channel)?;
                    jobs::finish(tx, job, at, "answered")?;
                    Ok(if changed {
                        Outcome::Changed
                    } else {
                        Outcome::Unchanged
                    })
                }
                MandateAnswer::Awaiting {
                    ask_again_at: Some(next),
                } if job.kind == JobKind::MandateAuthCheck
                    && answered_in_time(next, request.deadline) =>
                {
                    jobs::reschedule(tx, job, next.max(at), "no answer yet")?;
                    Ok(Outcome::Unchanged)
                }
                _ if job.kind == JobKind::MandateExpiry => {
                    let changed = mandates::record_expired(tx, note_id, request.deadline)?;
                    if changed {
                        reply(
                            tx,
                            note_id,
                            ReplyType::MandateExpired,
                            request.deadline,
                            &format!(
                                "no answer before the {} window closed",
                                request.authentication_type
                            ),
                        )?;
                    }
                    jobs::finish(tx, job, at, "expired")?;
                    Ok(if changed {
                        Outcome::Changed
                    } else {
                        Outcome::Unchanged
                    })
                }
                _ => {
                    jobs::finish(tx, job, at, "no answer before the deadline")?;
                    Ok(Outcome::Unchanged)
                }
            }
        }
        (Work::Suspension { .. }, Called::Suspension(check)) => match check {
            Err(e) => retry(e),
            Ok(SuspensionCheck::Suspended { at: suspended }) => {
                let changed = mandates::record_suspended(tx, job.subject_id, suspended)?;
                if changed {
                    reply(
                        tx,
                        job.subject_id,
                        ReplyType::MandateSuspended,
                        suspended,
                        "suspended by the payer's bank: no further collection or tracking",
                    )?;
                }
                jobs::finish(tx, job, at, "suspended")?;
                Ok(if changed {
                    Outcome::Changed
                } else {
                    Outcome::Unchanged
                })
            }
            Ok(SuspensionCheck::NotSuspended {
                ask_again_at: Some(next),
            }) => {
                jobs::reschedule(tx, job, next.max(at), "not suspended yet")?;
                Ok(Outcome::Unchanged)
            }
            Ok(SuspensionCheck::NotSuspended { ask_again_at: None }) => {
                jobs::finish(tx, job, at, "not suspended")?;
                Ok(Outcome::Unchanged)
            }
        },
        (Work::Cancel(_), Called::Cancel(result)) => match result {
            Err(e) => retry(e),
            Ok(()) => {
                let changed = mandates::record_cancelled_at_bank(tx, job.subject_id, at)?;
                jobs::finish(tx, job, at, "cancelled at the bank")?;
                Ok(if changed {
                    Outcome::CancelledAtBank
                } else {
                    Outcome::Unchanged
                })
            }
        },
        (work, called) => {
            let why = format!("gateway answer {called:?} does not fit {work:?}");
            tracing::error!(job = job.id, problem = %why, "mandate job cannot run");
            jobs::give_up(tx, job, at, &why)?;
            Ok(Outcome::Unchanged)
        }
    }
}
