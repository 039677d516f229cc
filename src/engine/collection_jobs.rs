//! The collection engine's durable jobs, as the processor runs them: what a claimed
//! collection job loads ([`load`], in the claim transaction), the gateway calls it makes
//! ([`call`], outside any transaction) and what it writes ([`record`], in the record
//! transaction, guarded on the state it loaded).
//!
//! Jobs (kinds in [`crate::store::jobs::JobKind`]):
//!
//! - **`COLLECTION_SWEEP`**, one per (stream, action date), queued (or revived) by every
//!   write that creates or moves an unpresented instalment. It waits for the stream's
//!   cut-off, then submits the date's PENDING instalments of ACTIVE notes a batch per
//!   claim (PENDING → SUBMITTED), then waits for the window and presents them a batch
//!   per claim: one gateway call per instalment, all of a batch's outcomes recorded in
//!   one transaction. A day's work is never held in memory: each claim loads at most
//!   [`CollectionSetup::batch`] instalments and the sweep requeues itself while more
//!   remain.
//! - **`COLLECTION_ANSWERS`**, **`COLLECTION_REVERSAL_CHECKS`**, one per instant
//!   (subject: its Unix time), queued once per transaction by the steps that put rows on
//!   them: an attempt's `answer_due_at`, a collection's `reversal_check_at` (the instants
//!   [`Plan`] gives). Each claim works through a batch of the rows due then and requeues
//!   itself while the batch was full; no job row per instalment.
//! - **`COLLECTION_TRACK`**, one per tracked instalment and attempt (part = instalment ×
//!   1000 + attempt), claimed with its siblings due at the same instant.
//! - `COLLECTION_ANSWER`, `COLLECTION_REVERSAL_CHECK`: the per-instalment jobs of before
//!   migration 0012, which converted queued ones; still run if met.
//!
//! A transaction's replies are written at its end, in the order its steps made them, in
//! multi-row inserts.
//!
//! Exactly once: each presentment moves the instalment out of PENDING/SUBMITTED, each
//! tracking attempt is a new attempt row (its primary key), each answer marks its
//! attempt answered, each dispute check moves the instalment's `reversal_check_at` from
//! the instant it checked (and a reversal COLLECTED → REVERSED), all in the transaction
//! that writes the reply and queues the next job, and only while the job's lease is
//! held. A processor that dies after its gateway call repeats the call (the debtor
//! bank answers a repeated attempt the same) and records it once.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use time::OffsetDateTime;

use crate::domain::calendar::Calendar;
use crate::domain::cdv::CdvTable;
use crate::domain::collection::{CollectionTables, Plan, Step, Terms, disputable};
use crate::domain::debicheck::{
    Collection, CollectionTerms, DisputableReason, disputability, nominal_date,
};
use crate::domain::payouts::ReplyType;
use crate::domain::promissory::{InstalmentStatus, NoteStatus, PromissoryConfig};
use crate::engine::collections::{
    AttemptRecord, Call, Effects, Facts, Prepared, Reply, note_completed, prepare,
    record as record_step,
};
use crate::engine::gateway::{
    AttemptKind, CollectionItem, CollectionOutcome, Gateway, GatewayUnavailable, ReturnAdvice,
};
use crate::engine::payouts::PayoutConfig;
use crate::store::collections::{
    self, AttemptKindRow, AttemptRow, CollectionRow, InstalmentChange, MandateFacts, NewAttempt,
};
use crate::store::jobs::{self, ClaimedJob, JobKind, NewJob};
use crate::store::replies::{self, NewReply};
use crate::store::{DbError, Tx, holidays, promissory};

/// The calendar with the run-time holidays, and the holidays version it was built at.
pub type CalendarCache = Arc<Mutex<Option<(i64, Arc<Calendar>)>>>;

/// What the collection engine runs on: the calendar, its data tables, the promissory
/// rules (lead days, registration delay), the CDV table (debtor bank of a branch code)
/// and the sweep batch size. Holidays declared at run time (`store::holidays`) are
/// added to the calendar when a job loads, cached per holidays version.
#[derive(Debug, Clone)]
pub struct CollectionSetup {
    /// The business calendar (before holidays declared at run time).
    pub calendar: Calendar,
    /// Debtor banks, stream timetable, unpaid reasons.
    pub tables: CollectionTables,
    /// Lead days and registration delay.
    pub promissory: PromissoryConfig,
    /// Branch code → bank.
    pub cdv: CdvTable,
    /// Instalments per sweep claim.
    pub batch: usize,
    /// The calendar with the run-time holidays, by holidays version.
    pub calendar_cache: CalendarCache,
}

/// Instalments a sweep handles per claim by default.
pub const DEFAULT_BATCH: usize = 1_000;

impl Default for CollectionSetup {
    fn default() -> Self {
        CollectionSetup {
            calendar: Calendar::south_africa(),
            tables: CollectionTables::default(),
            promissory: PromissoryConfig::default(),
            cdv: CdvTable::bundled().clone(),
            batch: DEFAULT_BATCH,
            calendar_cache: Arc::default(),
        }
    }
}

impl CollectionSetup {
    fn plan<'a>(&'a self, calendar: &'a Calendar) -> Plan<'a> {
        Plan {
            calendar,
            banks: &self.tables.banks,
        }
    }

    /// The calendar with the holidays declared at run time.
    fn calendar(&self, tx: &Tx<'_>) -> Result<Arc<Calendar>, DbError> {
        let version = holidays::version(tx)?;
        let mut cache = self
            .calendar_cache
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some((v, calendar)) = cache.as_ref()
            && *v == version
        {
            return Ok(Arc::clone(calendar));
        }
        let calendar = Arc::new(self.calendar.with_more_declared(&holidays::all(tx)?));
        *cache = Some((version, Arc::clone(&calendar)));
        Ok(calendar)
    }

    fn terms(&self, row: &CollectionRow) -> Terms {
        Terms {
            stream: row.stream,
            lead_days: self.promissory.lead_days(row.stream),
            tracking_days: row.tracking_days,
            bank: self
                .tables
                .banks
                .profile_for_branch(&self.cdv, &row.branch_code),
        }
    }

    fn facts(&self, row: &CollectionRow, calendar: &Calendar) -> Facts {
        let terms = self.terms(row);
        let disputable = match &row.mandate {
            None => (disputable(row.stream, row.arrears), None),
            Some(m) => {
                let (yes, reason) = mandate_disputability(calendar, &terms, row, m);
                (yes, Some(reason))
            }
        };
        Facts {
            disputable,
            collects: row.mandate.as_ref().is_none_or(|m| m.status.collects()),
            note_id: row.note_id,
            note_status: row.note_status,
            terms,
            number: row.number,
            amount: row.amount,
            status: row.status,
            action_date: row.action_date,
            arrears: row.arrears,
            presented_on: row.presented_on,
            last_attempt: row.last_attempt.as_ref().map(attempt_record),
            branch_code: row.branch_code.clone(),
            account_number: row.account_number.clone(),
            account_type: row.account_type.clone(),
        }
    }
}

/// A DebiCheck collection's disputability: its instalment against the authenticated
/// mandate at the debtor bank's processing week.
fn mandate_disputability(
    calendar: &Calendar,
    terms: &Terms,
    row: &CollectionRow,
    m: &MandateFacts,
) -> (bool, DisputableReason) {
    let nominal = nominal_date(
        m.first_date,
        m.frequency,
        m.collection_day,
        row.number.saturating_sub(1),
    )
    .unwrap_or(row.action_date);
    disputability(
        calendar,
        &CollectionTerms {
            value_type: m.value_type,
            instalment: m.instalment,
            maximum: m.maximum,
            date_adjustment_allowed: m.date_adjustment_allowed,
            week: terms.bank.week,
        },
        &Collection {
            amount: row.amount,
            nominal,
            presented: row.action_date,
            arrears: row.arrears,
            edited: row.edited,
        },
    )
}

/// What a claimed collection job will do.
#[derive(Debug, Clone)]
pub enum Work {
    /// A sweep claimed before its time: requeue it for `at`.
    Wait(OffsetDateTime),
    /// A sweep's submission batch (no gateway call).
    Submit,
    /// A sweep's presentment batch.
    Present(Vec<(CollectionRow, CollectionItem)>),
    /// One instant's answers, a batch (no gateway call).
    Answers(Vec<CollectionRow>),
    /// One instant's dispute checks, a batch: each row with its call (`None`: the check
    /// no longer applies to it).
    ReversalChecks(Vec<(CollectionRow, Option<Call>)>),
    /// One step of one instalment.
    Step {
        /// The instalment.
        row: Box<CollectionRow>,
        /// The step.
        step: Step,
        /// Its gateway call.
        call: Call,
    },
    /// A tracked instalment whose note was cancelled or whose mandate was suspended:
    /// tracking stops, UNPAID.
    StopTracking(Box<CollectionRow>),
    /// Nothing to do (the instalment moved on).
    Skip(String),
    /// The stored data cannot be used.
    Broken(String),
}

/// The gateway's answers.
#[derive(Debug)]
pub enum Called {
    /// No call.
    Nothing,
    /// One answer per presented item, in order.
    Presented(Vec<Result<CollectionOutcome, GatewayUnavailable>>),
    /// A step's answer.
    Step(Result<Reply, GatewayUnavailable>),
    /// One answer per checked row, in order (`None`: no call was made).
    Checked(Vec<Option<Result<Reply, GatewayUnavailable>>>),
}

/// What recording did, for the processor's report.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    /// Instalments submitted.
    pub submitted: u64,
    /// Attempts made (presentments and tracking attempts).
    pub presented: u64,
    /// Instalments collected.
    pub collected: u64,
    /// Instalments that ended UNPAID.
    pub unpaid: u64,
    /// Answers that put or kept an instalment in TRACKING.
    pub tracking: u64,
    /// Collections reversed.
    pub reversed: u64,
    /// Notes completed.
    pub completed: u64,
    /// Gateway calls to be retried.
    pub retries: u64,
    /// Jobs run beside the one claimed first (a batch of instalment steps).
    pub extra_jobs: u64,
    /// Jobs of a batch whose lease was taken over.
    pub fenced: u64,
}

impl Tally {
    /// Adds another tally's counts.
    pub fn add(&mut self, t: &Tally) {
        self.submitted += t.submitted;
        self.presented += t.presented;
        self.collected += t.collected;
        self.unpaid += t.unpaid;
        self.tracking += t.tracking;
        self.reversed += t.reversed;
        self.completed += t.completed;
        self.retries += t.retries;
        self.extra_jobs += t.extra_jobs;
        self.fenced += t.fenced;
    }
}

/// A stored attempt in the engine's terms.
fn attempt_record(a: &AttemptRow) -> AttemptRecord {
    AttemptRecord {
        number: a.number,
        kind: match a.kind {
            AttemptKindRow::First => AttemptKind::First,
            AttemptKindRow::Tracking { day } => AttemptKind::Tracking { day },
            AttemptKindRow::Arrears => AttemptKind::Arrears,
        },
        at: a.at,
        outcome: match &a.unpaid {
            None => CollectionOutcome::Collected,
            Some((code, reason)) => CollectionOutcome::Unpaid(ReturnAdvice {
                code: code.clone(),
                reason: reason.clone(),
            }),
        },
    }
}

/// The part number of an instalment's step job.
fn step_part(number: u32, attempt: u32) -> i64 {
    i64::from(number) * 1000 + i64::from(attempt)
}

fn tracking_day_of(kind: AttemptKindRow) -> u32 {
    match kind {
        AttemptKindRow::Tracking { day } => day,
        AttemptKindRow::First | AttemptKindRow::Arrears => 0,
    }
}

/// Loads what a claimed collection job needs (claim transaction).
///
/// # Errors
///
/// SQLite.
pub fn load(tx: &Tx<'_>, job: &ClaimedJob, setup: &CollectionSetup) -> Result<Work, DbError> {
    match job.kind {
        JobKind::CollectionSweep => return load_sweep(tx, job, setup),
        JobKind::CollectionAnswers | JobKind::CollectionReversalChecks => {
            return load_batch(tx, job, setup);
        }
        _ => {}
    }
    let note_id = job.subject_id;
    let (Ok(number), Ok(attempt)) = (
        u32::try_from(job.part_number / 1000),
        u32::try_from(job.part_number % 1000),
    ) else {
        return Ok(Work::Broken(format!("bad part {}", job.part_number)));
    };
    let Some(row) = collections::load(tx, note_id, number)? else {
        return Ok(Work::Broken(format!(
            "note {note_id} has no instalment {number}"
        )));
    };
    let last = row.last_attempt.as_ref();
    let step = match job.kind {
        JobKind::CollectionAnswer => match last {
            Some(a) if a.number == attempt && a.answered_at.is_none() => Step::Answer {
                tracking_day: tracking_day_of(a.kind),
            },
            _ => return Ok(Work::Skip(format!("attempt {attempt} already answered"))),
        },
        JobKind::CollectionTrack => match last {
            Some(a) if a.number + 1 == attempt => Step::Track {
                day: tracking_day_of(a.kind) + 1,
            },
            _ => return Ok(Work::Skip(format!("attempt {attempt} already made"))),
        },
        JobKind::CollectionReversalCheck => match last {
            Some(a) if a.number == attempt => Step::CheckReversal,
            _ => return Ok(Work::Skip(format!("attempt {attempt} is not the latest"))),
        },
        other => {
            return Ok(Work::Broken(format!(
                "{} is not a collection job",
                other.as_str()
            )));
        }
    };
    let stopped = row.note_status == NoteStatus::Cancelled
        || row.mandate.as_ref().is_some_and(|m| !m.status.collects());
    if matches!(step, Step::Track { .. }) && row.status == InstalmentStatus::Tracking && stopped {
        return Ok(Work::StopTracking(Box::new(row)));
    }
    let calendar = setup.calendar(tx)?;
    let facts = setup.facts(&row, &calendar);
    Ok(match prepare(step, &facts, job.due_at) {
        Prepared::Skip => Work::Skip(format!(
            "{step:?} does not apply to a {} instalment",
            row.status
        )),
        Prepared::Call(call) => Work::Step {
            row: Box::new(row),
            step,
            call,
        },
    })
}

/// Where a full batch ended: the key the next batch of the same job is read after
/// ([`load_after`]). `None` for anything but a full presentment, answers or
/// dispute-check batch (a short batch is the last of its pass).
pub fn after(work: &Work, batch: usize) -> Option<collections::After> {
    use collections::After;
    match work {
        Work::Present(items) if items.len() == batch => items
            .last()
            .map(|(row, _)| After::Due(row.status, row.note_id, row.number)),
        Work::Answers(rows) if rows.len() == batch => rows.last().and_then(|row| {
            row.last_attempt
                .as_ref()
                .map(|a| After::Answer(row.note_id, row.number, a.number))
        }),
        Work::ReversalChecks(rows) if rows.len() == batch => rows
            .last()
            .map(|(row, _)| After::Check(row.note_id, row.number)),
        _ => None,
    }
}

/// The writer's part of claiming a job whose batch was read ahead ([`load_after`]):
/// what [`load`] writes before it reads (a sweep activates the notes registered by
/// then).
///
/// # Errors
///
/// SQLite.
pub fn claim_ahead(tx: &Tx<'_>, job: &ClaimedJob, setup: &CollectionSetup) -> Result<(), DbError> {
    if job.kind == JobKind::CollectionSweep {
        promissory::activate_due(tx, job.due_at, setup.promissory.registration_delay)?;
    }
    Ok(())
}

/// [`load`] for the batch after `after` of a sweep, answers or dispute-check job, read
/// without writing (on a reader connection, while the writer records the batch before
/// it): the rows after the key, so none of the batch being recorded. Whatever the
/// snapshot missed (a row before the key, a note activated since) is found by the
/// batch job's own last look before it finishes, which reads without a key.
///
/// # Errors
///
/// SQLite.
pub fn load_after(
    tx: &Tx<'_>,
    job: &ClaimedJob,
    setup: &CollectionSetup,
    after: &collections::After,
) -> Result<Work, DbError> {
    match job.kind {
        JobKind::CollectionSweep => sweep_work(tx, job, setup, Some(after)),
        JobKind::CollectionAnswers | JobKind::CollectionReversalChecks => {
            load_batch_after(tx, job, setup, Some(after))
        }
        other => Ok(Work::Broken(format!(
            "{} is not read ahead",
            other.as_str()
        ))),
    }
}

fn load_sweep(tx: &Tx<'_>, job: &ClaimedJob, setup: &CollectionSetup) -> Result<Work, DbError> {
    // Notes registered by now count as ACTIVE (registration is due-time based).
    promissory::activate_due(tx, job.due_at, setup.promissory.registration_delay)?;
    sweep_work(tx, job, setup, None)
}

fn sweep_work(
    tx: &Tx<'_>,
    job: &ClaimedJob,
    setup: &CollectionSetup,
    after: Option<&collections::After>,
) -> Result<Work, DbError> {
    let Some((stream, date)) = collections::sweep_of(job.subject_id, job.part_number) else {
        return Ok(Work::Broken(format!(
            "bad sweep key {}/{}",
            job.subject_id, job.part_number
        )));
    };
    let terms = Terms {
        stream,
        lead_days: setup.promissory.lead_days(stream),
        tracking_days: 0,
        bank: setup.tables.banks.default_profile(),
    };
    let calendar = setup.calendar(tx)?;
    let plan = setup.plan(&calendar);
    let first = plan.first(&terms, date);
    let present = plan.present(&terms, date);
    if job.due_at < first.at {
        return Ok(Work::Wait(first.at));
    }
    if job.due_at < present.at {
        return Ok(Work::Submit);
    }
    let rows = collections::due_batch_after(tx, stream, date, setup.batch, after)?;
    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        let facts = setup.facts(&row, &calendar);
        if let Prepared::Call(Call::Present(item)) = prepare(Step::Present, &facts, job.due_at) {
            items.push((row, item));
        }
    }
    Ok(Work::Present(items))
}

/// The instant a per-instant batch job is keyed by (its subject: Unix time).
fn batch_instant(job: &ClaimedJob) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(job.subject_id).ok()
}

/// Where the per-instant batch job of `kind` due at `at` is keyed.
fn batch_job(kind: JobKind, at: OffsetDateTime) -> NewJob {
    NewJob {
        kind,
        subject_id: at.unix_timestamp(),
        part_number: 0,
        due_at: at,
    }
}

fn load_batch(tx: &Tx<'_>, job: &ClaimedJob, setup: &CollectionSetup) -> Result<Work, DbError> {
    load_batch_after(tx, job, setup, None)
}

fn load_batch_after(
    tx: &Tx<'_>,
    job: &ClaimedJob,
    setup: &CollectionSetup,
    after: Option<&collections::After>,
) -> Result<Work, DbError> {
    let Some(instant) = batch_instant(job) else {
        return Ok(Work::Broken(format!("bad batch key {}", job.subject_id)));
    };
    if job.kind == JobKind::CollectionAnswers {
        return Ok(Work::Answers(collections::answers_due_after(
            tx,
            instant,
            setup.batch,
            after,
        )?));
    }
    let rows = collections::reversal_checks_due_after(tx, instant, setup.batch, after)?;
    let calendar = setup.calendar(tx)?;
    Ok(Work::ReversalChecks(
        rows.into_iter()
            .map(|row| {
                let call = match prepare(
                    Step::CheckReversal,
                    &setup.facts(&row, &calendar),
                    job.due_at,
                ) {
                    Prepared::Call(call) => Some(call),
                    Prepared::Skip => None,
                };
                (row, call)
            })
            .collect(),
    ))
}

/// Makes a collection job's gateway calls (blocking; outside any transaction).
pub fn call(work: &Work, gateway: &dyn Gateway) -> Called {
    match work {
        Work::Present(items) => Called::Presented(
            items
                .iter()
                .map(|(_, item)| gateway.present_collection(item))
                .collect(),
        ),
        Work::Step { call, .. } => Called::Step(call_one(call, gateway)),
        Work::ReversalChecks(rows) => Called::Checked(
            rows.iter()
                .map(|(_, call)| call.as_ref().map(|c| call_one(c, gateway)))
                .collect(),
        ),
        _ => Called::Nothing,
    }
}

fn call_one(call: &Call, gateway: &dyn Gateway) -> Result<Reply, GatewayUnavailable> {
    match call {
        Call::None => Ok(Reply::Nothing),
        Call::Present(item) => gateway.present_collection(item).map(Reply::Presented),
        Call::CheckReversal {
            item,
            collected_on,
            today,
        } => gateway
            .check_reversal(item, *collected_on, *today)
            .map(Reply::Reversal),
    }
}

/// Records a collection job (record transaction; the caller checked the lease).
///
/// # Errors
///
/// SQLite.
pub fn record(
    tx: &Tx<'_>,
    job: &ClaimedJob,
    work: Work,
    called: Called,
    setup: &CollectionSetup,
    config: &PayoutConfig,
) -> Result<Tally, DbError> {
    let mut out = Out::default();
    let tally = record_work(tx, job, work, called, setup, config, &mut out)?;
    let replies: Vec<NewReply<'_>> = out.replies.iter().map(ReplyOut::as_new).collect();
    replies::insert_many(tx, &replies)?;
    for (kind, at) in out.queued {
        jobs::ensure(tx, &batch_job(kind, at), job.due_at)?;
    }
    Ok(tally)
}

/// What a transaction's steps write at its end, in one go: the replies, in the order
/// the steps made them (multi-row inserts), and the per-instant batch jobs they need
/// (each queued once).
#[derive(Debug, Default)]
struct Out {
    replies: Vec<ReplyOut>,
    queued: BTreeSet<(JobKind, OffsetDateTime)>,
}

/// A reply a step made, owned until the transaction writes it.
#[derive(Debug)]
struct ReplyOut {
    branch_id: i64,
    client_id: i64,
    note_id: i64,
    instalment: Option<u32>,
    reply_type: ReplyType,
    at: OffsetDateTime,
    amount: Option<rust_decimal::Decimal>,
    reason: Option<ReturnAdvice>,
    settlement_date: Option<time::Date>,
    disputable: Option<(bool, String)>,
}

impl ReplyOut {
    fn as_new(&self) -> NewReply<'_> {
        NewReply {
            client_id: Some(self.client_id),
            promissory_id: Some(self.note_id),
            instalment_number: self.instalment.map(i64::from),
            amount: self.amount,
            reason_code: self.reason.as_ref().map(|a| a.code.as_str()),
            reason_text: self.reason.as_ref().map(|a| a.reason.as_str()),
            settlement_date: self.settlement_date,
            disputable: self.disputable.as_ref().map(|(d, why)| (*d, why.as_str())),
            ..NewReply::new(self.branch_id, self.reply_type, self.at)
        }
    }
}

#[allow(clippy::too_many_lines)]
fn record_work(
    tx: &Tx<'_>,
    job: &ClaimedJob,
    work: Work,
    called: Called,
    setup: &CollectionSetup,
    config: &PayoutConfig,
    out: &mut Out,
) -> Result<Tally, DbError> {
    let at = job.due_at;
    let mut tally = Tally::default();
    let calendar = setup.calendar(tx)?;
    let plan = setup.plan(&calendar);
    match (work, called) {
        (Work::Answers(rows), _) => {
            let full = rows.len() == setup.batch;
            for row in rows {
                let Some(attempt) = row.last_attempt.as_ref().map(|a| (a.number, a.kind)) else {
                    continue;
                };
                let step = Step::Answer {
                    tracking_day: tracking_day_of(attempt.1),
                };
                let facts = setup.facts(&row, &calendar);
                let effects = match prepare(step, &facts, at) {
                    Prepared::Call(_) => record_step(&plan, step, &facts, at, Reply::Nothing)
                        .map_err(
                            |e| tracing::error!(job = job.id, error = %e, "answer not recorded"),
                        )
                        .ok(),
                    Prepared::Skip => None,
                };
                match effects {
                    Some(effects) => {
                        apply(tx, &row, &facts, step, effects, at, &mut tally, out)?;
                    }
                    None => {
                        // Cannot apply: out of the queue, so the batch never finds it again.
                        collections::set_aside_answer(tx, row.note_id, row.number, attempt.0)?;
                    }
                }
            }
            // Rows added for this instant while the batch ran (another processor's
            // transaction, whose queueing found this job RUNNING) keep it going.
            let more = full
                || match batch_instant(job) {
                    Some(instant) => !collections::answers_due(tx, instant, 1)?.is_empty(),
                    None => false,
                };
            if more {
                jobs::reschedule(tx, job, at, "answered a batch")?;
            } else {
                jobs::finish(tx, job, at, "every answer applied")?;
            }
        }
        (Work::ReversalChecks(rows), Called::Checked(answers)) => {
            let Some(instant) = batch_instant(job) else {
                jobs::give_up(tx, job, at, "bad batch key")?;
                return Ok(tally);
            };
            let full = rows.len() == setup.batch;
            let mut unavailable = None;
            for ((row, _), answer) in rows.into_iter().zip(answers) {
                let reply = match answer {
                    None => {
                        collections::move_reversal_check(
                            tx,
                            row.note_id,
                            row.number,
                            instant,
                            None,
                        )?;
                        continue;
                    }
                    Some(Err(e)) => {
                        unavailable = Some(e);
                        continue;
                    }
                    Some(Ok(reply)) => reply,
                };
                let facts = setup.facts(&row, &calendar);
                let effects = match record_step(&plan, Step::CheckReversal, &facts, at, reply) {
                    Ok(effects) => effects,
                    Err(e) => {
                        tracing::error!(job = job.id, error = %e, "reversal check not recorded");
                        collections::move_reversal_check(
                            tx,
                            row.note_id,
                            row.number,
                            instant,
                            None,
                        )?;
                        continue;
                    }
                };
                let again = effects
                    .next
                    .filter(|d| d.step == Step::CheckReversal && d.at > instant)
                    .map(|d| d.at);
                // The guard: each check of each collection applies once.
                if !collections::move_reversal_check(tx, row.note_id, row.number, instant, again)? {
                    continue;
                }
                if let Some(again) = again {
                    out.queued
                        .insert((JobKind::CollectionReversalChecks, again));
                }
                let effects = Effects {
                    next: None,
                    ..effects
                };
                apply(
                    tx,
                    &row,
                    &facts,
                    Step::CheckReversal,
                    effects,
                    at,
                    &mut tally,
                    out,
                )?;
            }
            if let Some(e) = unavailable {
                tally.retries += 1;
                jobs::retry(tx, job, at + config.backoff(job.attempts), &e.to_string())?;
            } else if full || !collections::reversal_checks_due(tx, instant, 1)?.is_empty() {
                jobs::reschedule(tx, job, at, "checked a batch")?;
            } else {
                jobs::finish(tx, job, at, "every check made")?;
            }
        }
        (Work::Wait(when), _) => {
            jobs::reschedule(tx, job, when, "waiting for the cut-off")?;
        }
        (Work::Skip(why), _) => {
            jobs::finish(tx, job, at, &format!("nothing to do: {why}"))?;
        }
        (Work::Broken(why), _) => {
            tracing::error!(job = job.id, %why, "collection job cannot run");
            jobs::give_up(tx, job, at, &why)?;
        }
        (Work::Submit, _) => {
            let Some((stream, date)) = collections::sweep_of(job.subject_id, job.part_number)
            else {
                jobs::give_up(tx, job, at, "bad sweep key")?;
                return Ok(tally);
            };
            let n = collections::submit_batch(tx, stream, date, setup.batch)?;
            tally.submitted += n as u64;
            if n == setup.batch {
                jobs::reschedule(tx, job, at, "submitted a batch")?;
            } else {
                let terms = Terms {
                    stream,
                    lead_days: setup.promissory.lead_days(stream),
                    tracking_days: 0,
                    bank: setup.tables.banks.default_profile(),
                };
                let present = plan.present(&terms, date);
                jobs::reschedule(tx, job, present.at, "submitted; waiting for the window")?;
            }
        }
        (Work::Present(items), Called::Presented(outcomes)) => {
            let full = items.len() == setup.batch;
            let mut unavailable = None;
            for ((row, _), outcome) in items.into_iter().zip(outcomes) {
                match outcome {
                    Ok(outcome) => {
                        let facts = setup.facts(&row, &calendar);
                        match record_step(
                            &plan,
                            Step::Present,
                            &facts,
                            at,
                            Reply::Presented(outcome),
                        ) {
                            Ok(effects) => {
                                apply(
                                    tx,
                                    &row,
                                    &facts,
                                    Step::Present,
                                    effects,
                                    at,
                                    &mut tally,
                                    out,
                                )?;
                            }
                            Err(e) => {
                                tracing::error!(job = job.id, error = %e, "presentment not recorded")
                            }
                        }
                    }
                    Err(e) => unavailable = Some(e),
                }
            }
            if let Some(e) = unavailable {
                tally.retries += 1;
                jobs::retry(tx, job, at + config.backoff(job.attempts), &e.to_string())?;
            } else if full
                || match collections::sweep_of(job.subject_id, job.part_number) {
                    // Instalments queued for this date while the batch ran keep it going.
                    Some((stream, date)) => {
                        !collections::due_batch(tx, stream, date, 1)?.is_empty()
                    }
                    None => false,
                }
            {
                jobs::reschedule(tx, job, at, "presented a batch")?;
            } else {
                jobs::finish(tx, job, at, "every instalment presented")?;
            }
        }
        (Work::StopTracking(row), _) => {
            let reason = row
                .last_attempt
                .as_ref()
                .and_then(|a| a.unpaid.clone())
                .map(|(code, reason)| ReturnAdvice { code, reason });
            if collections::move_instalment(
                tx,
                row.note_id,
                row.number,
                InstalmentStatus::Tracking,
                InstalmentStatus::Unpaid,
                &InstalmentChange::default(),
            )? {
                tally.unpaid += 1;
                out.replies.push(ReplyOut {
                    branch_id: row.branch_id,
                    client_id: row.client_id,
                    note_id: row.note_id,
                    instalment: Some(row.number),
                    reply_type: ReplyType::InstalmentUnpaid,
                    at,
                    amount: Some(row.amount),
                    reason,
                    settlement_date: None,
                    disputable: None,
                });
            }
            jobs::finish(
                tx,
                job,
                at,
                "note cancelled or mandate suspended: tracking stopped",
            )?;
        }
        (Work::Step { row, step, .. }, Called::Step(Ok(reply))) => {
            let facts = setup.facts(&row, &calendar);
            match record_step(&plan, step, &facts, at, reply) {
                Ok(effects) => {
                    let next = effects.next;
                    // A reversal check asked again later is the same job, rescheduled.
                    if step == Step::CheckReversal
                        && let Some(due) = next.filter(|d| d.step == Step::CheckReversal)
                    {
                        jobs::reschedule(tx, job, due.at, "not reversed yet")?;
                        return Ok(tally);
                    }
                    apply(tx, &row, &facts, step, effects, at, &mut tally, out)?;
                    jobs::finish(tx, job, at, &format!("{step:?}"))?;
                }
                Err(e) => {
                    jobs::give_up(tx, job, at, &e)?;
                }
            }
        }
        (Work::Step { .. }, Called::Step(Err(e))) => {
            tally.retries += 1;
            jobs::retry(tx, job, at + config.backoff(job.attempts), &e.to_string())?;
        }
        (work, called) => {
            jobs::give_up(
                tx,
                job,
                at,
                &format!("answer {called:?} does not fit {work:?}"),
            )?;
        }
    }
    Ok(tally)
}

/// Writes one step's effects, guarded: nothing is written if the instalment is no
/// longer where the step found it.
#[allow(clippy::too_many_arguments)]
fn apply(
    tx: &Tx<'_>,
    row: &CollectionRow,
    facts: &Facts,
    step: Step,
    effects: Effects,
    at: OffsetDateTime,
    tally: &mut Tally,
    out: &mut Out,
) -> Result<(), DbError> {
    // An attempt's answer and a collection's first dispute check are rows of the
    // per-instant batch jobs: the instants go on the rows, the jobs are queued once.
    let answer_due = effects
        .next
        .filter(|d| matches!(d.step, Step::Answer { .. }))
        .map(|d| d.at);
    let reversal_check_at = effects
        .next
        .filter(|d| d.step == Step::CheckReversal)
        .map(|d| d.at);
    // The guard: an answer marks its attempt answered; a tracking attempt is a new
    // attempt row; everything else moves the status from the one loaded.
    match step {
        Step::Answer { .. } => {
            let Some(attempt) = &facts.last_attempt else {
                return Ok(());
            };
            if !collections::answer_attempt(tx, row.note_id, row.number, attempt.number, at)? {
                return Ok(());
            }
        }
        Step::Track { .. } => {
            let Some(attempt) = &effects.attempt else {
                return Ok(());
            };
            if !collections::insert_attempt(
                tx,
                row.note_id,
                row.number,
                &new_attempt(attempt, facts, answer_due),
            )? {
                return Ok(());
            }
            tally.presented += 1;
        }
        _ => {}
    }
    if let Some(to) = effects.status {
        let change = InstalmentChange {
            presented_on: effects.presented_on,
            collected: effects
                .collected
                .map(|(when, settlement)| (facts.amount, when, settlement)),
            reversed_on: effects.reversed_on,
            reversal_check_at,
        };
        if !collections::move_instalment(tx, row.note_id, row.number, facts.status, to, &change)? {
            return Ok(());
        }
        match to {
            InstalmentStatus::Collected => tally.collected += 1,
            InstalmentStatus::Unpaid => tally.unpaid += 1,
            InstalmentStatus::Tracking => tally.tracking += 1,
            InstalmentStatus::Reversed => tally.reversed += 1,
            _ => {}
        }
    }
    if step == Step::Present
        && let Some(attempt) = &effects.attempt
    {
        collections::insert_attempt(
            tx,
            row.note_id,
            row.number,
            &new_attempt(attempt, facts, answer_due),
        )?;
        tally.presented += 1;
    }
    if let Some(reply) = effects.reply {
        out.replies.push(ReplyOut {
            branch_id: row.branch_id,
            client_id: row.client_id,
            note_id: row.note_id,
            instalment: Some(row.number),
            reply_type: reply.kind.reply_type(),
            at: reply.occurred_at,
            amount: reply.amount,
            reason: reply.reason,
            settlement_date: reply.settlement_date,
            disputable: reply
                .disputable
                .map(|(d, why)| (d, why.as_str().to_string())),
        });
    }
    if let Some(at) = answer_due {
        out.queued.insert((JobKind::CollectionAnswers, at));
    }
    if let Some(at) = reversal_check_at {
        out.queued.insert((JobKind::CollectionReversalChecks, at));
    }
    if let Some(due) = effects
        .next
        .filter(|d| matches!(d.step, Step::Track { .. }))
    {
        let attempt_now = effects
            .attempt
            .as_ref()
            .map(|a| a.number)
            .or(facts.last_attempt.as_ref().map(|a| a.number))
            .unwrap_or(0);
        jobs::enqueue(
            tx,
            &NewJob {
                kind: JobKind::CollectionTrack,
                subject_id: row.note_id,
                part_number: step_part(row.number, attempt_now + 1),
                due_at: due.at,
            },
            at,
        )?;
    }
    if matches!(
        effects.status,
        Some(InstalmentStatus::Collected | InstalmentStatus::Reversed)
    ) {
        settle_note(tx, row, at, tally, out)?;
    }
    Ok(())
}

fn new_attempt<'a>(
    attempt: &'a AttemptRecord,
    facts: &Facts,
    answer_due: Option<OffsetDateTime>,
) -> NewAttempt<'a> {
    NewAttempt {
        number: attempt.number,
        kind: match attempt.kind {
            AttemptKind::First => AttemptKindRow::First,
            AttemptKind::Tracking { day } => AttemptKindRow::Tracking { day },
            AttemptKind::Arrears => AttemptKindRow::Arrears,
        },
        arrears: facts.arrears,
        at: attempt.at,
        unpaid: match &attempt.outcome {
            CollectionOutcome::Collected => None,
            CollectionOutcome::Unpaid(a) => Some((a.code.as_str(), a.reason.as_str())),
        },
        answer_due,
    }
}

/// COMPLETED exactly when every instalment is COLLECTED (and ACTIVE again after a
/// reversal); NOTE_COMPLETED is replied when it completes.
fn settle_note(
    tx: &Tx<'_>,
    row: &CollectionRow,
    at: OffsetDateTime,
    tally: &mut Tally,
    out: &mut Out,
) -> Result<(), DbError> {
    let Some((status, statuses)) = collections::note_and_statuses(tx, row.note_id)? else {
        return Ok(());
    };
    let after = status.settled(&statuses);
    if after != status
        && collections::move_note(tx, row.note_id, status, after, at)?
        && note_completed(status, after)
    {
        tally.completed += 1;
        out.replies.push(ReplyOut {
            branch_id: row.branch_id,
            client_id: row.client_id,
            note_id: row.note_id,
            instalment: None,
            reply_type: crate::engine::collections::NOTE_COMPLETED,
            at,
            amount: None,
            reason: None,
            settlement_date: None,
            disputable: None,
        });
    }
    Ok(())
}

/// The per-instalment step kinds, claimed in batches.
pub const STEP_KINDS: &[JobKind] = &[
    JobKind::CollectionAnswer,
    JobKind::CollectionTrack,
    JobKind::CollectionReversalCheck,
];

/// Whether a job kind belongs to the collection engine.
pub fn is_collection(kind: JobKind) -> bool {
    matches!(
        kind,
        JobKind::CollectionSweep
            | JobKind::CollectionAnswer
            | JobKind::CollectionTrack
            | JobKind::CollectionReversalCheck
            | JobKind::CollectionAnswers
            | JobKind::CollectionReversalChecks
    )
}
