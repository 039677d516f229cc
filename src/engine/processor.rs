//! The processor: runs the due jobs of the queue ([`crate::store::jobs`]) against the
//! [`Gateway`] and records their outcomes: wallet creation, submission, delivery and return
//! of bank parts, and the crediting of wallet parts. Each outcome that the outside world
//! reports becomes a reply in the branch's feed in the same transaction as the state
//! change it reports.
//!
//! One job at a time, earliest due first, in three steps:
//!
//! 1. **claim** (one write transaction): take the job under a lease and load what the
//!    gateway call needs; a subject no longer in the expected state is finished as a
//!    no-op;
//! 2. **call** the gateway on a blocking thread, outside any transaction;
//! 3. **record** (one write transaction): only if the lease is still held, apply the
//!    outcome guarded on the subject's current state (so it can never apply twice), write
//!    the reply, queue the next step, and finish or reschedule the job; the same
//!    transaction claims the next job (step 1 again), so a run of jobs commits once per
//!    job.
//!
//! Time: a job's effects happen at its due instant (the simulated outside world answers
//! exactly when due), so `process --until T` is deterministic, and the jobs a step queues
//! that fall due before `T` run in the same call. Leases run on the processor's clock.
//!
//! The server runs [`Processor::serve`] as one background task (every poll interval, all
//! jobs due by the clock's now); `allps-ws process --until T` runs [`Processor::run_until`]
//! once. Both can run against the same database at the same time.

use std::sync::Arc;

use rust_decimal::Decimal;
use time::OffsetDateTime;
use tokio::sync::watch;

use crate::clock::{Clock, parse_date};
use crate::domain::payouts::{PartStatus, RecipientType, ReplyType, WalletStatus};
use crate::engine::collection_jobs::{self, CollectionSetup, Tally};
use crate::engine::gateway::{
    CreditInstruction, DeliveryOutcome, Gateway, GatewayUnavailable, ReturnAdvice, WalletOutcome,
    WalletRequest,
};
use crate::engine::mandate_jobs;
use crate::engine::payouts::PayoutConfig;
use crate::store::jobs::{self, ClaimedJob, JobKind, NewJob};
use crate::store::payments::{self, ReturnReason};
use crate::store::replies::{self, NewReply};
use crate::store::{Db, DbError, Tx, accounts, clients, collections, users, wallets};

/// The processor failed to talk to its store (the job stays leased and is taken over
/// when the lease expires).
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// The store failed: closed, a commit failed, a transaction panicked, or SQLite
    /// failed inside one.
    #[error("store: {0}")]
    Store(#[from] DbError),
    /// The gateway call panicked.
    #[error("gateway call panicked: {0}")]
    Gateway(String),
}

/// What a run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ProcessReport {
    /// Jobs claimed.
    pub jobs: u64,
    /// Wallets created.
    pub wallets_created: u64,
    /// Wallet requests that failed.
    pub wallets_failed: u64,
    /// Bank parts submitted.
    pub parts_submitted: u64,
    /// Parts delivered (bank) or credited (wallet).
    pub parts_delivered: u64,
    /// Bank parts returned or rejected.
    pub parts_returned: u64,
    /// Gateway calls that will be retried.
    pub retries: u64,
    /// Jobs whose lease was taken over before their outcome was recorded.
    pub fenced: u64,
    /// What the collection engine's jobs did.
    pub collections: Tally,
    /// DebiCheck mandates whose status changed (authenticated, declined, expired,
    /// suspended).
    pub mandates_changed: u64,
    /// DebiCheck mandates cancelled at the payer's bank.
    pub mandates_cancelled: u64,
}

impl ProcessReport {
    fn add(&mut self, step: Step) {
        self.jobs += 1;
        match step {
            Step::WalletCreated => self.wallets_created += 1,
            Step::WalletFailed => self.wallets_failed += 1,
            Step::Submitted => self.parts_submitted += 1,
            Step::Delivered => self.parts_delivered += 1,
            Step::Returned => self.parts_returned += 1,
            Step::Retry => self.retries += 1,
            Step::Fenced => self.fenced += 1,
            Step::Collection(t) => {
                self.collections.add(&t);
                self.retries += t.retries;
                self.jobs += t.extra_jobs;
                self.fenced += t.fenced;
            }
            Step::Mandate(outcome) => match outcome {
                mandate_jobs::Outcome::Changed => self.mandates_changed += 1,
                mandate_jobs::Outcome::CancelledAtBank => self.mandates_cancelled += 1,
                mandate_jobs::Outcome::Retry => self.retries += 1,
                mandate_jobs::Outcome::Unchanged => {}
            },
            Step::NoChange => {}
        }
    }
}

impl std::fmt::Display for ProcessReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} jobs: {} wallets created, {} wallets failed, {} parts submitted, {} delivered, {} returned, {} retries, {} taken over",
            self.jobs,
            self.wallets_created,
            self.wallets_failed,
            self.parts_submitted,
            self.parts_delivered,
            self.parts_returned,
            self.retries,
            self.fenced
        )?;
        let c = &self.collections;
        if *c != Tally::default() {
            write!(
                f,
                "; collections: {} submitted, {} attempts presented, {} collected, {} unpaid, {} tracking, {} reversed, {} notes completed",
                c.submitted,
                c.presented,
                c.collected,
                c.unpaid,
                c.tracking,
                c.reversed,
                c.completed
            )?;
        }
        if self.mandates_changed + self.mandates_cancelled > 0 {
            write!(
                f,
                "; mandates: {} changed, {} cancelled at the bank",
                self.mandates_changed, self.mandates_cancelled
            )?;
        }
        Ok(())
    }
}

/// What recording one job did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    WalletCreated,
    WalletFailed,
    Submitted,
    Delivered,
    Returned,
    Retry,
    Fenced,
    Collection(Tally),
    Mandate(mandate_jobs::Outcome),
    NoChange,
}

/// Where a part's reply goes and what it says.
#[derive(Debug, Clone)]
struct PartContext {
    branch_id: i64,
    client_id: i64,
    payment_id: i64,
    part_number: i64,
    amount: Decimal,
    wallet_number: Option<String>,
}

/// Which gateway call a credit job makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CreditStage {
    Submit,
    Delivery,
    ReturnCheck,
}

/// What a claimed job needs for its gateway call.
#[derive(Debug)]
enum Input {
    Wallet {
        request: WalletRequest,
        branch_id: i64,
        client_id: i64,
    },
    Credit {
        credit: CreditInstruction,
        part: PartContext,
        stage: CreditStage,
    },
    /// A wallet part: credited inside Allps, no gateway call.
    WalletCredit { part: PartContext },
    /// The subject is no longer in the state this step expects (already done): the job
    /// finishes without effect.
    Skip(String),
    /// The stored data cannot be used (never expected): the job gives up.
    Broken(String),
    /// A collection engine job.
    Collection(collection_jobs::Work),
    /// A batch of per-instalment collection steps (the claimed job first).
    CollectionBatch(Vec<(ClaimedJob, collection_jobs::Work)>),
    /// A DebiCheck mandate job.
    Mandate(mandate_jobs::Work),
    /// A collection batch job claimed again for its next batch, which a reader is
    /// reading ahead ([`ReadAhead`]).
    ReadAhead,
}

/// The next batch of a job, being read on a reader connection.
struct ReadAhead {
    job_id: i64,
    due_at: OffsetDateTime,
    work: tokio::task::JoinHandle<Result<Result<collection_jobs::Work, DbError>, DbError>>,
}

/// The gateway's answer.
#[derive(Debug)]
enum Answer {
    Wallet(Result<WalletOutcome, GatewayUnavailable>),
    Submitted(Result<(), GatewayUnavailable>),
    Delivery(Result<DeliveryOutcome, GatewayUnavailable>),
    Return(Result<Option<ReturnAdvice>, GatewayUnavailable>),
    /// No gateway call was made.
    NoCall,
    /// A collection engine job's answers.
    Collection(collection_jobs::Called),
    /// A batch's answers, in order.
    CollectionBatch(Vec<collection_jobs::Called>),
    /// A mandate job's answer.
    Mandate(mandate_jobs::Called),
}

type GatewayCall = Box<dyn FnOnce(&dyn Gateway) -> Answer + Send>;

/// Runs due jobs against a gateway.
pub struct Processor {
    db: Db,
    clock: Arc<dyn Clock>,
    config: PayoutConfig,
    gateway: Arc<dyn Gateway>,
    collections: Arc<CollectionSetup>,
    owner: String,
}

impl std::fmt::Debug for Processor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Processor")
            .field("owner", &self.owner)
            .finish_non_exhaustive()
    }
}

impl Processor {
    /// A processor with a fresh lease-owner identity (process id and a random suffix).
    pub fn new(
        db: Db,
        clock: Arc<dyn Clock>,
        config: PayoutConfig,
        gateway: Arc<dyn Gateway>,
    ) -> Processor {
        let mut bytes = [0u8; 6];
        getrandom::fill(&mut bytes).expect("the OS random source works");
        let owner = format!("{}-{}", std::process::id(), crate::auth::hex(&bytes));
        Processor {
            db,
            clock,
            config,
            gateway,
            collections: Arc::new(CollectionSetup::default()),
            owner,
        }
    }

    /// The same processor with the collection engine's calendar, tables and rules.
    #[must_use]
    pub fn with_collections(mut self, setup: CollectionSetup) -> Processor {
        self.collections = Arc::new(setup);
        self
    }

    /// This processor's lease-owner identity.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// Runs every job due at or before `until` (including jobs those jobs queue that are
    /// due by then), earliest first.
    ///
    /// # Errors
    ///
    /// [`ProcessError`] when the store fails; jobs already recorded stay recorded.
    pub async fn run_until(&self, until: OffsetDateTime) -> Result<ProcessReport, ProcessError> {
        self.run_until_or(until, || false).await
    }

    /// [`Processor::run_until`], stopping early (between jobs) once `stop` says so.
    ///
    /// # Errors
    ///
    /// As [`Processor::run_until`].
    pub async fn run_until_or(
        &self,
        until: OffsetDateTime,
        stop: impl Fn() -> bool,
    ) -> Result<ProcessReport, ProcessError> {
        let mut report = ProcessReport::default();
        if stop() {
            return Ok(report);
        }
        let mut claimed = self.claim(until).await?;
        // Claim, call, record; the record transaction also claims the next job (unless
        // told to stop), so a run of batches commits once per batch, not twice: half
        // the commits (and fsyncs) of a collection morning. A crash loses the record
        // and the claim together, exactly as if the processor had died before either.
        //
        // Read-ahead: while the writer records a full batch of a sweep, answers or
        // dispute-check job, a reader connection reads that job's next batch (the rows
        // after the last key of this one, so none the writer is moving). If the record
        // transaction then claims the same job again, at the same instant, it only takes
        // the lease and the batch read ahead is used: the writer thread, the bottleneck
        // of a collection morning, no longer reads the rows too.
        let mut ahead: Option<ReadAhead> = None;
        while let Some((job, input)) = claimed.take() {
            let input = match input {
                Input::ReadAhead => self.read_ahead_input(&job, ahead.take()).await?,
                other => other,
            };
            let answer = self.call(&input).await?;
            let claim_next = (!stop()).then(|| self.claim_terms(until));
            // Read ahead only when this transaction will claim again.
            ahead = match &input {
                Input::Collection(work) if claim_next.is_some() => {
                    collection_jobs::after(work, self.collections.batch)
                        .map(|after| self.read_ahead(&job, after))
                }
                _ => None,
            };
            let expect = ahead.as_ref().map(|a| (a.job_id, a.due_at));
            let config = self.config.clone();
            let setup = self.collections.clone();
            let (step, next) = self
                .db
                .write(move |tx| -> Result<_, DbError> {
                    let step = record(tx, &job, input, answer, &config, &setup)?;
                    let next = match claim_next {
                        Some(terms) => claim_in(tx, &terms, &setup, expect)?,
                        None => None,
                    };
                    Ok((step, next))
                })
                .await??;
            report.add(step);
            if let Some((job, _)) = &next {
                log_claimed(job);
            }
            claimed = next;
        }
        Ok(report)
    }

    /// Starts reading the batch of `job` after `after` on a reader connection.
    fn read_ahead(&self, job: &ClaimedJob, after: collections::After) -> ReadAhead {
        let db = self.db.clone();
        let setup = self.collections.clone();
        let claimed = job.clone();
        ReadAhead {
            job_id: job.id,
            due_at: job.due_at,
            work: tokio::spawn(async move {
                db.read(move |tx| collection_jobs::load_after(tx, &claimed, &setup, &after))
                    .await
            }),
        }
    }

    /// The input of a job claimed for its batch read ahead; read by the writer after
    /// all if the read-ahead failed.
    async fn read_ahead_input(
        &self,
        job: &ClaimedJob,
        ahead: Option<ReadAhead>,
    ) -> Result<Input, ProcessError> {
        if let Some(ahead) = ahead
            && ahead.job_id == job.id
            && let Ok(Ok(Ok(work))) = ahead.work.await
        {
            return Ok(Input::Collection(work));
        }
        let setup = self.collections.clone();
        let claimed = job.clone();
        let work = self
            .db
            .write(move |tx| collection_jobs::load(tx, &claimed, &setup))
            .await??;
        Ok(Input::Collection(work))
    }

    /// What a claim made now, for jobs due by `until`, needs.
    fn claim_terms(&self, until: OffsetDateTime) -> ClaimTerms {
        ClaimTerms {
            owner: self.owner.clone(),
            until,
            now: self.clock.now(),
            lease: self.config.lease,
        }
    }

    /// Step 1 alone: claims the earliest job due by `until` and loads its input, as a
    /// processor does before calling the gateway, and returns the claimed job. Tests use
    /// it to stop a processor part-way, as a crash between claim and record would.
    ///
    /// # Errors
    ///
    /// [`ProcessError`] when the store fails.
    pub async fn claim_only(
        &self,
        until: OffsetDateTime,
    ) -> Result<Option<ClaimedJob>, ProcessError> {
        Ok(self.claim(until).await?.map(|(job, _)| job))
    }

    async fn claim(
        &self,
        until: OffsetDateTime,
    ) -> Result<Option<(ClaimedJob, Input)>, ProcessError> {
        let terms = self.claim_terms(until);
        let setup = self.collections.clone();
        let claimed = self
            .db
            .write(move |tx| claim_in(tx, &terms, &setup, None))
            .await??;
        if let Some((job, _)) = &claimed {
            log_claimed(job);
        }
        Ok(claimed)
    }

    async fn call(&self, input: &Input) -> Result<Answer, ProcessError> {
        let call: GatewayCall = match input {
            Input::Wallet { request, .. } => {
                let request = request.clone();
                Box::new(move |g| Answer::Wallet(g.create_wallet(&request)))
            }
            Input::Credit { credit, stage, .. } => {
                let credit = credit.clone();
                match stage {
                    CreditStage::Submit => {
                        Box::new(move |g| Answer::Submitted(g.submit_credit(&credit)))
                    }
                    CreditStage::Delivery => {
                        Box::new(move |g| Answer::Delivery(g.credit_delivery(&credit)))
                    }
                    CreditStage::ReturnCheck => {
                        Box::new(move |g| Answer::Return(g.credit_return(&credit)))
                    }
                }
            }
            Input::Collection(work) => {
                let work = work.clone();
                Box::new(move |g| Answer::Collection(collection_jobs::call(&work, g)))
            }
            Input::CollectionBatch(batch) => {
                let works: Vec<collection_jobs::Work> =
                    batch.iter().map(|(_, w)| w.clone()).collect();
                Box::new(move |g| {
                    Answer::CollectionBatch(
                        works.iter().map(|w| collection_jobs::call(w, g)).collect(),
                    )
                })
            }
            Input::Mandate(work) => {
                let work = work.clone();
                Box::new(move |g| Answer::Mandate(mandate_jobs::call(&work, g)))
            }
            Input::WalletCredit { .. } | Input::Skip(_) | Input::Broken(_) | Input::ReadAhead => {
                return Ok(Answer::NoCall);
            }
        };
        let gateway = self.gateway.clone();
        tokio::task::spawn_blocking(move || call(gateway.as_ref()))
            .await
            .map_err(|e| ProcessError::Gateway(e.to_string()))
    }

    /// The server's background loop: every poll interval, runs the jobs due by the
    /// clock's now, until `stop` turns true (checked between jobs too).
    pub async fn serve(self, mut stop: watch::Receiver<bool>) {
        tracing::info!(owner = %self.owner, "processor started");
        loop {
            if *stop.borrow() {
                break;
            }
            let watcher = stop.clone();
            match self
                .run_until_or(self.clock.now(), || *watcher.borrow())
                .await
            {
                Ok(report) if report.jobs > 0 => {
                    tracing::info!(%report, "processor ran due jobs");
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "processor run failed; retrying next poll"),
            }
            tokio::select! {
                () = tokio::time::sleep(self.config.poll_interval) => {}
                changed = stop.changed() => {
                    if changed.is_err() {
                        break;
                    }
                }
            }
        }
        tracing::info!(owner = %self.owner, "processor stopped");
    }
}

/// Who claims, for jobs due by when, at what instant, for how long.
struct ClaimTerms {
    owner: String,
    until: OffsetDateTime,
    now: OffsetDateTime,
    lease: time::Duration,
}

/// Step 1: claims the earliest job due by `terms.until` and loads its input (a batch of
/// same-instant siblings for per-instalment collection steps), in the caller's
/// transaction. When that job is `ahead` (id, due instant), whose next batch a reader
/// is reading, only the writer's part of the load runs ([`Input::ReadAhead`]).
fn claim_in(
    tx: &Tx<'_>,
    terms: &ClaimTerms,
    setup: &CollectionSetup,
    ahead: Option<(i64, OffsetDateTime)>,
) -> Result<Option<(ClaimedJob, Input)>, DbError> {
    let ClaimTerms {
        owner,
        until,
        now,
        lease,
    } = terms;
    let (until, now, lease) = (*until, *now, *lease);
    let Some(job) = jobs::claim_next(tx, owner, until, now, lease)? else {
        return Ok(None);
    };
    if ahead == Some((job.id, job.due_at)) {
        collection_jobs::claim_ahead(tx, &job, setup)?;
        return Ok(Some((job, Input::ReadAhead)));
    }
    let input = if collection_jobs::STEP_KINDS.contains(&job.kind) {
        // Only siblings due at the same instant, so effects (and the feed) keep the
        // order of their instants.
        let more = jobs::claim_more(
            tx,
            owner,
            job.due_at,
            now,
            lease,
            collection_jobs::STEP_KINDS,
            setup.batch.saturating_sub(1),
        )?;
        let mut batch = Vec::with_capacity(more.len() + 1);
        let work = collection_jobs::load(tx, &job, setup)?;
        batch.push((job.clone(), work));
        for other in more {
            let work = collection_jobs::load(tx, &other, setup)?;
            batch.push((other, work));
        }
        Input::CollectionBatch(batch)
    } else if collection_jobs::is_collection(job.kind) {
        Input::Collection(collection_jobs::load(tx, &job, setup)?)
    } else if mandate_jobs::is_mandate(job.kind) {
        Input::Mandate(mandate_jobs::load(tx, &job)?)
    } else {
        load(tx, &job)?
    };
    Ok(Some((job, input)))
}

fn log_claimed(job: &ClaimedJob) {
    tracing::debug!(
        job = job.id,
        kind = job.kind.as_str(),
        subject = job.subject_id,
        part = job.part_number,
        attempt = job.attempts,
        "job claimed"
    );
}

/// The client of a wallet request or payment, with its branch's code.
fn client_of(tx: &Tx<'_>, client_id: i64) -> Result<Option<(clients::ClientRow, String)>, DbError> {
    let Some(client) = clients::client(tx, client_id)? else {
        return Ok(None);
    };
    Ok(users::branch_code(tx, client.branch_id)?.map(|code| (client, code)))
}

/// Loads what a claimed job's gateway call needs.
fn load(tx: &Tx<'_>, job: &ClaimedJob) -> Result<Input, DbError> {
    if job.kind == JobKind::WalletCreate {
        let Some(wallet) = wallets::wallet(tx, job.subject_id)? else {
            return Ok(Input::Broken(format!(
                "wallet request {} does not exist",
                job.subject_id
            )));
        };
        if wallet.status != WalletStatus::Pending {
            return Ok(Input::Skip(format!(
                "wallet request {} is already {}",
                wallet.id,
                wallet.status.as_str()
            )));
        }
        let Some((client, branch_code)) = client_of(tx, wallet.client_id)? else {
            return Ok(Input::Broken(format!(
                "client {} of wallet request {} does not exist",
                wallet.client_id, wallet.id
            )));
        };
        let Some(date_of_birth) = parse_date(&client.date_of_birth) else {
            return Ok(Input::Broken(format!(
                "client {} has an invalid date of birth",
                wallet.client_id
            )));
        };
        return Ok(Input::Wallet {
            request: WalletRequest {
                organisation_id: wallet.organisation_id,
                request_id: wallet.number,
                attempt: job.attempts,
                branch_code,
                cellphone: wallet.cellphone,
                first_name: client.first_name,
                surname: client.surname,
                id_type: client.id_type.as_str().to_string(),
                id_number: client.id_number,
                date_of_birth,
                gender: client.gender.as_str().to_string(),
            },
            branch_id: wallet.branch_id,
            client_id: wallet.client_id,
        });
    }
    let Some(payment) = payments::payment(tx, job.subject_id)? else {
        return Ok(Input::Broken(format!(
            "payment {} does not exist",
            job.subject_id
        )));
    };
    let Some(part) = payments::parts_of(tx, payment.id)?
        .into_iter()
        .find(|p| p.part_number == job.part_number)
    else {
        return Ok(Input::Broken(format!(
            "payment {} has no part {}",
            payment.id, job.part_number
        )));
    };
    let expected = match job.kind {
        JobKind::CreditSubmit | JobKind::WalletCredit => PartStatus::Accepted,
        JobKind::CreditDelivery => PartStatus::Submitted,
        JobKind::CreditReturnCheck => PartStatus::Delivered,
        other => {
            return Ok(Input::Broken(format!(
                "{} is not a payout job",
                other.as_str()
            )));
        }
    };
    if part.status != expected {
        return Ok(Input::Skip(format!(
            "payment {} part {} is already {}",
            payment.id,
            part.part_number,
            part.status.as_str()
        )));
    }
    let context = PartContext {
        branch_id: payment.branch_id,
        client_id: payment.client_id,
        payment_id: payment.id,
        part_number: part.part_number,
        amount: part.amount,
        wallet_number: (part.recipient_type == RecipientType::Wallet)
            .then(|| part.account_number.clone())
            .flatten(),
    };
    if job.kind == JobKind::WalletCredit {
        return Ok(Input::WalletCredit { part: context });
    }
    let Some((client, _)) = client_of(tx, payment.client_id)? else {
        return Ok(Input::Broken(format!(
            "client {} of payment {} does not exist",
            payment.client_id, payment.id
        )));
    };
    let (Some(branch_code), Some(account_number), Some(account_type), Some(action_date)) = (
        part.bank_branch_code.clone(),
        part.account_number.clone(),
        part.account_type.map(|t| t.as_str().to_string()),
        parse_date(&payment.action_date),
    ) else {
        return Ok(Input::Broken(format!(
            "payment {} part {} is not a bank part",
            payment.id, part.part_number
        )));
    };
    let holder_name = part
        .holder_name
        .clone()
        .unwrap_or_else(|| match &client.initials {
            Some(initials) => format!("{initials} {}", client.surname),
            None => format!("{} {}", client.first_name, client.surname),
        });
    Ok(Input::Credit {
        credit: CreditInstruction {
            payment_number: crate::domain::payouts::payment_number(payment.id),
            part_number: part.part_number,
            attempt: job.attempts,
            branch_code,
            account_number,
            account_type,
            holder_name,
            amount: part.amount,
            action_date,
        },
        part: context,
        stage: match job.kind {
            JobKind::CreditSubmit => CreditStage::Submit,
            JobKind::CreditDelivery => CreditStage::Delivery,
            _ => CreditStage::ReturnCheck,
        },
    })
}

/// Moves a part from `from` to `to` at `at`; false if it was no longer `from`.
fn move_part(
    tx: &Tx<'_>,
    part: &PartContext,
    from: PartStatus,
    to: PartStatus,
    at: OffsetDateTime,
    advice: Option<&ReturnAdvice>,
) -> Result<bool, DbError> {
    payments::move_part(
        tx,
        part.payment_id,
        part.part_number,
        from,
        to,
        at,
        advice.map(|a| ReturnReason {
            code: &a.code,
            reason: &a.reason,
        }),
    )
}

fn part_reply<'a>(
    part: &'a PartContext,
    reply_type: ReplyType,
    at: OffsetDateTime,
    advice: Option<&'a ReturnAdvice>,
) -> NewReply<'a> {
    NewReply {
        client_id: Some(part.client_id),
        payment_id: Some(part.payment_id),
        part_number: Some(part.part_number),
        wallet_number: part.wallet_number.as_deref(),
        amount: Some(part.amount),
        reason_code: advice.map(|a| a.code.as_str()),
        reason_text: advice.map(|a| a.reason.as_str()),
        ..NewReply::new(part.branch_id, reply_type, at)
    }
}

/// Fails a PENDING wallet request and writes its WALLET_FAILED reply; false if it was
/// no longer PENDING.
fn fail_wallet(
    tx: &Tx<'_>,
    wallet_id: i64,
    branch_id: i64,
    client_id: i64,
    code: &str,
    reason: &str,
    at: OffsetDateTime,
) -> Result<bool, DbError> {
    let changed = wallets::fail(tx, wallet_id, code, reason, at)?;
    if changed {
        replies::insert(
            tx,
            &NewReply {
                client_id: Some(client_id),
                reason_code: Some(code),
                reason_text: Some(reason),
                ..NewReply::new(branch_id, ReplyType::WalletFailed, at)
            },
        )?;
    }
    Ok(changed)
}

/// `step` if the subject changed, else [`Step::NoChange`].
fn changed(changed: bool, step: Step) -> Step {
    if changed { step } else { Step::NoChange }
}

/// Step 3: records a job's outcome if its lease is still held, one function per kind
/// of outcome.
fn record(
    tx: &Tx<'_>,
    job: &ClaimedJob,
    input: Input,
    answer: Answer,
    config: &PayoutConfig,
    setup: &CollectionSetup,
) -> Result<Step, DbError> {
    if let (Input::CollectionBatch(batch), Answer::CollectionBatch(answers)) = (&input, &answer)
        && batch.len() == answers.len()
    {
        let Input::CollectionBatch(batch) = input else {
            unreachable!("matched above")
        };
        let Answer::CollectionBatch(answers) = answer else {
            unreachable!("matched above")
        };
        let mut total = collection_jobs::Tally {
            extra_jobs: batch.len().saturating_sub(1) as u64,
            ..collection_jobs::Tally::default()
        };
        for ((claimed, work), called) in batch.into_iter().zip(answers) {
            if !jobs::holds(tx, &claimed)? {
                tracing::warn!(job = claimed.id, "job lease taken over; outcome discarded");
                total.fenced += 1;
                continue;
            }
            let t = collection_jobs::record(tx, &claimed, work, called, setup, config)?;
            total.add(&t);
        }
        return Ok(Step::Collection(total));
    }
    if !jobs::holds(tx, job)? {
        tracing::warn!(job = job.id, "job lease taken over; outcome discarded");
        return Ok(Step::Fenced);
    }
    let at = job.due_at;
    match (input, answer) {
        (Input::Collection(work), Answer::Collection(called)) => Ok(Step::Collection(
            collection_jobs::record(tx, job, work, called, setup, config)?,
        )),
        (Input::Mandate(work), Answer::Mandate(called)) => Ok(Step::Mandate(mandate_jobs::record(
            tx, job, work, called, config,
        )?)),
        (Input::Skip(why), _) => {
            jobs::finish(tx, job, at, &format!("nothing to do: {why}"))?;
            Ok(Step::NoChange)
        }
        (Input::Broken(why), _) => give_up(tx, job, &why),
        (
            Input::Wallet {
                branch_id,
                client_id,
                ..
            },
            Answer::Wallet(result),
        ) => record_wallet(tx, job, branch_id, client_id, result, config),
        (Input::Credit { part, .. }, Answer::Submitted(Ok(()))) => {
            record_submitted(tx, job, &part, config)
        }
        (Input::Credit { part, .. }, Answer::Delivery(Ok(DeliveryOutcome::Delivered))) => {
            record_delivered(tx, job, &part, config)
        }
        (Input::Credit { part, .. }, Answer::Delivery(Ok(DeliveryOutcome::Rejected(advice)))) => {
            record_returned(tx, job, &part, PartStatus::Submitted, &advice, "rejected")
        }
        (Input::Credit { part, .. }, Answer::Return(Ok(Some(advice)))) => {
            record_returned(tx, job, &part, PartStatus::Delivered, &advice, "returned")
        }
        (Input::Credit { .. }, Answer::Return(Ok(None))) => {
            jobs::finish(tx, job, at, "no return")?;
            Ok(Step::NoChange)
        }
        (
            Input::Credit { .. },
            Answer::Submitted(Err(e)) | Answer::Delivery(Err(e)) | Answer::Return(Err(e)),
        ) => {
            // Money in flight is never dropped: credit steps retry until the bank answers.
            tracing::warn!(job = job.id, attempt = job.attempts, error = %e, "bank call failed; will retry");
            jobs::retry(tx, job, at + config.backoff(job.attempts), &e.to_string())?;
            Ok(Step::Retry)
        }
        (Input::WalletCredit { part }, _) => record_wallet_credit(tx, job, &part),
        (input, answer) => give_up(
            tx,
            job,
            &format!("gateway answer {answer:?} does not fit job input {input:?}"),
        ),
    }
}

/// A job whose stored data cannot be used: it gives up without effect.
fn give_up(tx: &Tx<'_>, job: &ClaimedJob, why: &str) -> Result<Step, DbError> {
    tracing::error!(job = job.id, problem = %why, "job cannot run");
    jobs::give_up(tx, job, job.due_at, why)?;
    Ok(Step::NoChange)
}

/// `WALLET_CREATE`: the issuer created the wallet (it becomes ACTIVE with its wallet
/// account), refused it, or did not answer (retry, or fail the wallet after the last
/// attempt). The job's subject is the wallet's row id (the request carries the
/// organisation's WalletRequestId, which is not).
fn record_wallet(
    tx: &Tx<'_>,
    job: &ClaimedJob,
    branch_id: i64,
    client_id: i64,
    result: Result<WalletOutcome, GatewayUnavailable>,
    config: &PayoutConfig,
) -> Result<Step, DbError> {
    let at = job.due_at;
    match result {
        Ok(WalletOutcome::Created { wallet_number }) => {
            let activated = wallets::activate(tx, job.subject_id, &wallet_number, at)?;
            if activated {
                accounts::insert_wallet_account(
                    tx,
                    branch_id,
                    client_id,
                    &wallet_number,
                    job.subject_id,
                    at,
                )?;
                replies::insert(
                    tx,
                    &NewReply {
                        client_id: Some(client_id),
                        wallet_number: Some(&wallet_number),
                        ..NewReply::new(branch_id, ReplyType::WalletCreated, at)
                    },
                )?;
            }
            jobs::finish(tx, job, at, &format!("wallet {wallet_number} created"))?;
            Ok(changed(activated, Step::WalletCreated))
        }
        Ok(WalletOutcome::Refused { code, reason }) => {
            let failed = fail_wallet(tx, job.subject_id, branch_id, client_id, &code, &reason, at)?;
            jobs::finish(tx, job, at, &format!("wallet refused: {code}"))?;
            Ok(changed(failed, Step::WalletFailed))
        }
        Err(unavailable) if job.attempts >= config.max_attempts => {
            let reason = format!(
                "the wallet issuer did not answer in {} attempts",
                job.attempts
            );
            let failed = fail_wallet(
                tx,
                job.subject_id,
                branch_id,
                client_id,
                "ISSUER",
                &reason,
                at,
            )?;
            jobs::give_up(tx, job, at, &unavailable.to_string())?;
            Ok(changed(failed, Step::WalletFailed))
        }
        Err(unavailable) => {
            jobs::retry(
                tx,
                job,
                at + config.backoff(job.attempts),
                &unavailable.to_string(),
            )?;
            Ok(Step::Retry)
        }
    }
}

/// `CREDIT_SUBMIT` answered: the part is SUBMITTED and its delivery check queued.
fn record_submitted(
    tx: &Tx<'_>,
    job: &ClaimedJob,
    part: &PartContext,
    config: &PayoutConfig,
) -> Result<Step, DbError> {
    let at = job.due_at;
    let moved = move_part(
        tx,
        part,
        PartStatus::Accepted,
        PartStatus::Submitted,
        at,
        None,
    )?;
    if moved {
        jobs::enqueue(
            tx,
            &NewJob {
                kind: JobKind::CreditDelivery,
                subject_id: part.payment_id,
                part_number: part.part_number,
                due_at: at + config.delivery_delay,
            },
            at,
        )?;
    }
    jobs::finish(tx, job, at, "submitted to the bank")?;
    Ok(changed(moved, Step::Submitted))
}

/// `CREDIT_DELIVERY` delivered: the part is DELIVERED, replied, and its return check
/// queued.
fn record_delivered(
    tx: &Tx<'_>,
    job: &ClaimedJob,
    part: &PartContext,
    config: &PayoutConfig,
) -> Result<Step, DbError> {
    let at = job.due_at;
    let moved = move_part(
        tx,
        part,
        PartStatus::Submitted,
        PartStatus::Delivered,
        at,
        None,
    )?;
    if moved {
        replies::insert(tx, &part_reply(part, ReplyType::PaymentDelivered, at, None))?;
        jobs::enqueue(
            tx,
            &NewJob {
                kind: JobKind::CreditReturnCheck,
                subject_id: part.payment_id,
                part_number: part.part_number,
                due_at: at + config.return_delay,
            },
            at,
        )?;
    }
    jobs::finish(tx, job, at, "delivered")?;
    Ok(changed(moved, Step::Delivered))
}

/// `CREDIT_DELIVERY` rejected (from SUBMITTED) or `CREDIT_RETURN_CHECK` returned (from
/// DELIVERED): the part is RETURNED with the bank's reason, and replied.
fn record_returned(
    tx: &Tx<'_>,
    job: &ClaimedJob,
    part: &PartContext,
    from: PartStatus,
    advice: &ReturnAdvice,
    what: &str,
) -> Result<Step, DbError> {
    let at = job.due_at;
    let moved = move_part(tx, part, from, PartStatus::Returned, at, Some(advice))?;
    if moved {
        replies::insert(
            tx,
            &part_reply(part, ReplyType::PaymentReturned, at, Some(advice)),
        )?;
    }
    jobs::finish(tx, job, at, &format!("{what}: {}", advice.code))?;
    Ok(changed(moved, Step::Returned))
}

/// `WALLET_CREDIT`: a wallet part is credited inside Allps: DELIVERED, and replied.
fn record_wallet_credit(
    tx: &Tx<'_>,
    job: &ClaimedJob,
    part: &PartContext,
) -> Result<Step, DbError> {
    let at = job.due_at;
    let moved = move_part(
        tx,
        part,
        PartStatus::Accepted,
        PartStatus::Delivered,
        at,
        None,
    )?;
    if moved {
        replies::insert(tx, &part_reply(part, ReplyType::PaymentDelivered, at, None))?;
    }
    jobs::finish(tx, job, at, "credited to the wallet")?;
    Ok(changed(moved, Step::Delivered))
}

/// How long until the next job is due (for reports); `None` when none is waiting.
///
/// # Errors
///
/// [`ProcessError`] when the store fails.
pub async fn next_due(db: &Db) -> Result<Option<OffsetDateTime>, ProcessError> {
    Ok(db.write(jobs::next_due).await??)
}

/// The default gateway for a configuration: the simulator.
pub fn default_gateway(config: &PayoutConfig) -> Arc<dyn Gateway> {
    Arc::new(crate::engine::gateway::Simulator::new(
        config.simulator.clone(),
    ))
}
