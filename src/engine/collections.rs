//! One step of one instalment's collection, as the processor will run it: [`prepare`]
//! (from what is stored, which gateway call the step needs, if any) and [`record`] (from
//! the gateway's answer, the instalment's new status, the attempt to store, the reply
//! for the feed and the next step with its instant). Both are pure: the durable runner
//! loads [`Facts`] in its claim transaction, makes the call outside any transaction,
//! and writes the [`Effects`] in its record transaction guarded on the status it
//! loaded, so a step applies at most once whatever restarts or second processors do.
//! `tests/collection_schedule.rs` drives a portfolio through a year with these two
//! functions and an in-memory store.

use rust_decimal::Decimal;
use time::{Date, OffsetDateTime};

use crate::clock::SAST;
use crate::domain::collection::plan::{Due, Plan, Step, Terms, dispute_checked};
use crate::domain::collection::state::{Answer, Event, apply};
use crate::domain::debicheck::DisputableReason;
use crate::domain::payouts::ReplyType;
use crate::domain::promissory::{InstalmentStatus, NoteStatus, promissory_number};
use crate::engine::gateway::{
    AttemptKind, CollectionItem, CollectionOutcome, ReturnAdvice, ReversalCheck,
};

/// The replies a collection step writes (their `ReplyType` spellings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CollectionReply {
    /// The instalment was presented (first presentment or arrears).
    Presented,
    /// It was collected (amount and settlement date).
    Collected,
    /// It came back unpaid (reason code and text).
    Unpaid,
    /// It failed for insufficient funds and is being tracked.
    Tracking,
    /// A collected debit was disputed and reversed (reason code and text).
    Reversed,
    /// A DebiCheck collection within the mandate was disputed; the bank declined the
    /// dispute (funds kept).
    DisputeDeclined,
}

impl CollectionReply {
    /// The feed's reply type.
    pub fn reply_type(self) -> ReplyType {
        match self {
            CollectionReply::Presented => ReplyType::InstalmentPresented,
            CollectionReply::Collected => ReplyType::InstalmentCollected,
            CollectionReply::Unpaid => ReplyType::InstalmentUnpaid,
            CollectionReply::Tracking => ReplyType::InstalmentTracking,
            CollectionReply::Reversed => ReplyType::InstalmentReversed,
            CollectionReply::DisputeDeclined => ReplyType::InstalmentDisputeDeclined,
        }
    }

    /// The `ReplyType` spelling.
    pub fn as_str(self) -> &'static str {
        self.reply_type().as_str()
    }
}

/// The note-level reply written when a note completes.
pub const NOTE_COMPLETED: ReplyType = ReplyType::NoteCompleted;

/// A reply to write, without its feed bookkeeping (branch, sequence).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyDraft {
    /// What happened.
    pub kind: CollectionReply,
    /// When.
    pub occurred_at: OffsetDateTime,
    /// Collected amount (COLLECTED), or the instalment amount.
    pub amount: Option<Decimal>,
    /// Settlement date (COLLECTED).
    pub settlement_date: Option<Date>,
    /// Reason (UNPAID, REVERSED).
    pub reason: Option<ReturnAdvice>,
    /// A DebiCheck collection's disputability and its reason.
    pub disputable: Option<(bool, DisputableReason)>,
}

/// One stored attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptRecord {
    /// 1 for the first presentment; each tracking or arrears attempt adds one.
    pub number: u32,
    /// First, tracking day or arrears.
    pub kind: AttemptKind,
    /// When it was made.
    pub at: OffsetDateTime,
    /// The bank's answer, stored with the attempt and applied at its Answer step.
    pub outcome: CollectionOutcome,
}

/// What a step needs to know about its instalment (loaded in the claim transaction).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    /// The note's row id (its PromissoryNumber is derived from it).
    pub note_id: i64,
    /// The note's status.
    pub note_status: NoteStatus,
    /// Stream, lead days, tracking days, debtor bank.
    pub terms: Terms,
    /// The instalment's number.
    pub number: u32,
    /// Its amount.
    pub amount: Decimal,
    /// Its status.
    pub status: InstalmentStatus,
    /// Its (current) action date.
    pub action_date: Date,
    /// Whether the current presentment cycle is an arrears re-presentment.
    pub arrears: bool,
    /// The presentment date of the current cycle.
    pub presented_on: Option<Date>,
    /// The latest attempt, if any.
    pub last_attempt: Option<AttemptRecord>,
    /// Debtor branch code, account number and account type.
    pub branch_code: String,
    /// Debtor account number.
    pub account_number: String,
    /// Debtor account type.
    pub account_type: String,
    /// Whether the collection can be disputed, and for a DebiCheck note why
    /// (`domain::debicheck::disputability`; other streams: `state::disputable`).
    pub disputable: (bool, Option<DisputableReason>),
    /// False when the note's DebiCheck mandate does not let it collect (not
    /// authenticated, or suspended): nothing presents and tracking stops.
    pub collects: bool,
}

impl Facts {
    fn item(&self, number: u32, kind: AttemptKind, on: Date) -> CollectionItem {
        CollectionItem {
            promissory_number: promissory_number(self.note_id),
            instalment_number: self.number,
            attempt: number,
            kind,
            stream: self.terms.stream,
            branch_code: self.branch_code.clone(),
            account_number: self.account_number.clone(),
            account_type: self.account_type.clone(),
            amount: self.amount,
            action_date: self.action_date,
            attempted_on: on,
            disputable: self.disputable.0,
        }
    }

    fn next_attempt_number(&self) -> u32 {
        self.last_attempt.as_ref().map_or(1, |a| a.number + 1)
    }
}

/// The gateway call a step makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    /// No call: the step is decided from stored facts (submission, answer).
    None,
    /// Present the attempt to the debtor bank.
    Present(CollectionItem),
    /// Ask whether the collected attempt was reversed.
    CheckReversal {
        /// The collected attempt.
        item: CollectionItem,
        /// When it was collected.
        collected_on: Date,
        /// Today (SAST).
        today: Date,
    },
}

/// What a due step does before any call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prepared {
    /// Nothing to do: the instalment is no longer where this step expects it (done
    /// already, cancelled, or its note stopped).
    Skip,
    /// Make this call, then [`record`].
    Call(Call),
}

/// Decides what a step due at `at` needs.
pub fn prepare(step: Step, facts: &Facts, at: OffsetDateTime) -> Prepared {
    use InstalmentStatus as S;
    let live = (facts.note_status == NoteStatus::Active
        || facts.note_status == NoteStatus::Completed)
        && facts.collects;
    let today = at.to_offset(SAST).date();
    match (step, facts.status) {
        (Step::Submit, S::Pending) if live => Prepared::Call(Call::None),
        (Step::Present, S::Pending | S::Submitted) if live => {
            let kind = if facts.arrears {
                AttemptKind::Arrears
            } else {
                AttemptKind::First
            };
            Prepared::Call(Call::Present(facts.item(
                facts.next_attempt_number(),
                kind,
                today,
            )))
        }
        (Step::Track { day }, S::Tracking) if live => Prepared::Call(Call::Present(facts.item(
            facts.next_attempt_number(),
            AttemptKind::Tracking { day },
            today,
        ))),
        (Step::Answer { .. }, S::Presented | S::Tracking) if facts.last_attempt.is_some() => {
            Prepared::Call(Call::None)
        }
        (Step::CheckReversal, S::Collected) => match &facts.last_attempt {
            Some(a) if a.outcome == CollectionOutcome::Collected => {
                Prepared::Call(Call::CheckReversal {
                    item: facts.item(a.number, a.kind, a.at.to_offset(SAST).date()),
                    collected_on: a.at.to_offset(SAST).date(),
                    today,
                })
            }
            _ => Prepared::Skip,
        },
        _ => Prepared::Skip,
    }
}

/// The gateway's answer to a [`Call`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// [`Call::None`] was made.
    Nothing,
    /// The debtor bank's answer to a presentment.
    Presented(CollectionOutcome),
    /// The reversal check's answer.
    Reversal(ReversalCheck),
}

/// What to write for a step.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Effects {
    /// The instalment's new status (`None`: unchanged).
    pub status: Option<InstalmentStatus>,
    /// The presentment date of this cycle, set at presentment.
    pub presented_on: Option<Date>,
    /// An attempt to store.
    pub attempt: Option<AttemptRecord>,
    /// Set when collected: when, and the settlement date.
    pub collected: Option<(OffsetDateTime, Option<Date>)>,
    /// Set when reversed: the reversal date.
    pub reversed_on: Option<Date>,
    /// The reply for the branch's feed.
    pub reply: Option<ReplyDraft>,
    /// The next step.
    pub next: Option<Due>,
}

/// The effects of a prepared step given the gateway's reply.
///
/// # Errors
/// A sentence when the reply does not fit the step (a bug in the caller).
pub fn record(
    plan: &Plan<'_>,
    step: Step,
    facts: &Facts,
    at: OffsetDateTime,
    reply: Reply,
) -> Result<Effects, String> {
    let terms = &facts.terms;
    let dispute = facts
        .disputable
        .1
        .map(|reason| (facts.disputable.0, reason));
    let draft = |kind, amount, settlement_date, reason| ReplyDraft {
        kind,
        occurred_at: at,
        amount,
        settlement_date,
        reason,
        disputable: dispute,
    };
    let transition = |event| apply(facts.status, event).map_err(|e| e.to_string());
    match (step, reply) {
        (Step::Submit, Reply::Nothing) => Ok(Effects {
            status: Some(transition(Event::CutOffPassed)?),
            next: Some(plan.present(terms, facts.action_date)),
            ..Effects::default()
        }),
        (Step::Present, Reply::Presented(outcome)) => {
            let Call::Present(item) = prepare_call(step, facts, at)? else {
                return Err("presentment without an item".into());
            };
            Ok(Effects {
                status: Some(transition(Event::Presented)?),
                presented_on: Some(at.to_offset(SAST).date()),
                attempt: Some(AttemptRecord {
                    number: item.attempt,
                    kind: item.kind,
                    at,
                    outcome,
                }),
                reply: Some(draft(
                    CollectionReply::Presented,
                    Some(facts.amount),
                    None,
                    None,
                )),
                next: Some(plan.answer(terms, at, 0)),
                ..Effects::default()
            })
        }
        (Step::Track { day }, Reply::Presented(outcome)) => {
            let Call::Present(item) = prepare_call(step, facts, at)? else {
                return Err("tracking attempt without an item".into());
            };
            Ok(Effects {
                attempt: Some(AttemptRecord {
                    number: item.attempt,
                    kind: item.kind,
                    at,
                    outcome,
                }),
                next: Some(plan.answer(terms, at, day)),
                ..Effects::default()
            })
        }
        (Step::Answer { tracking_day }, Reply::Nothing) => {
            let attempt = facts
                .last_attempt
                .as_ref()
                .ok_or("an answer without an attempt")?;
            let presented_on = facts.presented_on.ok_or("an answer before presentment")?;
            let answer = match &attempt.outcome {
                CollectionOutcome::Collected => Answer::Collected,
                CollectionOutcome::Unpaid(a) => Answer::Unpaid { code: &a.code },
            };
            let status = transition(Event::Answered {
                answer,
                tracking_day,
                tracking_days: terms.tracking_days,
            })?;
            let attempted_on = attempt.at.to_offset(SAST).date();
            let mut effects = Effects {
                status: Some(status),
                next: plan.after_answer(
                    terms,
                    status,
                    presented_on,
                    tracking_day,
                    attempted_on,
                    dispute_checked(terms.stream, facts.arrears),
                ),
                ..Effects::default()
            };
            effects.reply = Some(match (status, &attempt.outcome) {
                (InstalmentStatus::Collected, _) => {
                    let settlement = plan.settlement(terms, attempt.at);
                    effects.collected = Some((attempt.at, settlement));
                    draft(
                        CollectionReply::Collected,
                        Some(facts.amount),
                        settlement,
                        None,
                    )
                }
                (InstalmentStatus::Tracking, CollectionOutcome::Unpaid(a)) => draft(
                    CollectionReply::Tracking,
                    Some(facts.amount),
                    None,
                    Some(a.clone()),
                ),
                (_, CollectionOutcome::Unpaid(a)) => draft(
                    CollectionReply::Unpaid,
                    Some(facts.amount),
                    None,
                    Some(a.clone()),
                ),
                (other, CollectionOutcome::Collected) => {
                    return Err(format!("a collected answer left the instalment {other}"));
                }
            });
            Ok(effects)
        }
        (Step::CheckReversal, Reply::Reversal(check)) => match check {
            ReversalCheck::Reversed { on, advice } => Ok(Effects {
                status: Some(transition(Event::Disputed)?),
                reversed_on: Some(on),
                reply: Some(draft(
                    CollectionReply::Reversed,
                    Some(facts.amount),
                    None,
                    Some(advice),
                )),
                ..Effects::default()
            }),
            ReversalCheck::DisputeDeclined { advice, .. } => Ok(Effects {
                reply: Some(draft(
                    CollectionReply::DisputeDeclined,
                    Some(facts.amount),
                    None,
                    Some(advice),
                )),
                ..Effects::default()
            }),
            ReversalCheck::NotYet {
                check_again_on: Some(d),
            } => Ok(Effects {
                next: Some(plan.reversal_check_on(d)),
                ..Effects::default()
            }),
            ReversalCheck::NotYet {
                check_again_on: None,
            } => Ok(Effects::default()),
        },
        (step, reply) => Err(format!("{reply:?} does not answer {step:?}")),
    }
}

fn prepare_call(step: Step, facts: &Facts, at: OffsetDateTime) -> Result<Call, String> {
    match prepare(step, facts, at) {
        Prepared::Call(call) => Ok(call),
        Prepared::Skip => Err(format!(
            "{step:?} does not apply to a {} instalment",
            facts.status
        )),
    }
}

/// Whether `before` → `after` of a note's status means it just completed (a
/// NOTE_COMPLETED reply is due).
pub fn note_completed(before: NoteStatus, after: NoteStatus) -> bool {
    before != NoteStatus::Completed && after == NoteStatus::Completed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::calendar::Calendar;
    use crate::domain::collection::DebtorBanks;
    use crate::domain::promissory::NoteStream;
    use time::macros::{date, datetime};

    fn facts(status: InstalmentStatus, note_status: NoteStatus) -> Facts {
        Facts {
            note_id: 7,
            note_status,
            terms: Terms {
                stream: NoteStream::Naedo,
                lead_days: 3,
                tracking_days: 2,
                bank: DebtorBanks::bundled().default_profile(),
            },
            number: 1,
            amount: Decimal::new(50_000, 2),
            status,
            action_date: date!(2027 - 01 - 15),
            arrears: false,
            presented_on: None,
            last_attempt: None,
            branch_code: "250655".into(),
            account_number: "62001234567".into(),
            account_type: "CURRENT".into(),
            disputable: (true, None),
            collects: true,
        }
    }

    #[test]
    fn steps_skip_what_no_longer_applies() {
        use InstalmentStatus as S;
        let at = datetime!(2027-01-15 02:00 +2);
        // A cancelled note presents nothing; a presented instalment is not presented
        // again; a collected one is not tracked.
        assert_eq!(
            prepare(
                Step::Present,
                &facts(S::Submitted, NoteStatus::Cancelled),
                at
            ),
            Prepared::Skip
        );
        assert_eq!(
            prepare(Step::Present, &facts(S::Presented, NoteStatus::Active), at),
            Prepared::Skip
        );
        assert_eq!(
            prepare(
                Step::Track { day: 1 },
                &facts(S::Collected, NoteStatus::Active),
                at
            ),
            Prepared::Skip
        );
        assert_eq!(
            prepare(Step::Submit, &facts(S::Submitted, NoteStatus::Active), at),
            Prepared::Skip
        );
        assert_eq!(
            prepare(
                Step::Answer { tracking_day: 0 },
                &facts(S::Presented, NoteStatus::Active),
                at
            ),
            Prepared::Skip
        );
        assert_eq!(
            prepare(
                Step::Track { day: 1 },
                &facts(S::Tracking, NoteStatus::Cancelled),
                at
            ),
            Prepared::Skip
        );
        match prepare(Step::Present, &facts(S::Submitted, NoteStatus::Active), at) {
            Prepared::Call(Call::Present(item)) => {
                assert_eq!(item.promissory_number, "PN00000007");
                assert_eq!(item.attempt, 1);
                assert_eq!(item.kind, AttemptKind::First);
                assert_eq!(item.attempted_on, date!(2027 - 01 - 15));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_presentment_and_its_answer() {
        use InstalmentStatus as S;
        let cal = Calendar::south_africa();
        let plan = Plan {
            calendar: &cal,
            banks: DebtorBanks::bundled(),
        };
        let at = datetime!(2027-01-15 02:00 +2);
        let f = facts(S::Submitted, NoteStatus::Active);
        let nsf = CollectionOutcome::Unpaid(ReturnAdvice {
            code: "02".into(),
            reason: "NOT PROVIDED FOR".into(),
        });
        let e = record(&plan, Step::Present, &f, at, Reply::Presented(nsf.clone())).unwrap();
        assert_eq!(e.status, Some(S::Presented));
        assert_eq!(e.presented_on, Some(date!(2027 - 01 - 15)));
        assert_eq!(
            e.reply.as_ref().map(|r| r.kind),
            Some(CollectionReply::Presented)
        );
        assert_eq!(
            e.next,
            Some(Due {
                step: Step::Answer { tracking_day: 0 },
                at: datetime!(2027-01-15 06:00 +2)
            })
        );
        let mut f = facts(S::Presented, NoteStatus::Active);
        f.presented_on = e.presented_on;
        f.last_attempt = e.attempt;
        let answer_at = datetime!(2027-01-15 06:00 +2);
        let e = record(
            &plan,
            Step::Answer { tracking_day: 0 },
            &f,
            answer_at,
            Reply::Nothing,
        )
        .unwrap();
        assert_eq!(e.status, Some(S::Tracking));
        let reply = e.reply.unwrap();
        assert_eq!(reply.kind, CollectionReply::Tracking);
        assert_eq!(reply.reason.unwrap().code, "02");
        assert_eq!(
            e.next,
            Some(Due {
                step: Step::Track { day: 1 },
                at: datetime!(2027-01-18 02:00 +2)
            })
        );
        // A reply that does not fit the step is refused, not applied.
        assert!(record(&plan, Step::Submit, &f, answer_at, Reply::Presented(nsf)).is_err());
        assert!(note_completed(NoteStatus::Active, NoteStatus::Completed));
        assert_eq!(NOTE_COMPLETED.as_str(), "NOTE_COMPLETED");
        assert_eq!(CollectionReply::Reversed.as_str(), "INSTALMENT_REVERSED");
        assert_eq!(CollectionReply::Presented.as_str(), "INSTALMENT_PRESENTED");
        assert!(!note_completed(
            NoteStatus::Completed,
            NoteStatus::Completed
        ));
    }
}
