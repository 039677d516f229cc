//! The collection engine's timetable end to end, in memory: a portfolio of notes on
//! all four streams stepped through `engine::collections::{prepare, record}` (the
//! step logic the durable runner uses: `Plan` for what happens next and when,
//! `state::apply` for what it does to the instalment) and the simulated debtor bank
//! (`Simulator`), one due step at a time in time order. Checks each instalment's days, codes and attempts: tracking and its lapse, an
//! unpaid, an arrears re-presentment, a reversal, note completion, and that nothing is
//! presented twice.

use std::collections::BTreeMap;
use std::str::FromStr;

use allps_ws::clock::SAST;
use allps_ws::domain::calendar::Calendar;
use allps_ws::domain::collection::state::{Event, apply};
use allps_ws::domain::collection::{DebtorBanks, Due, Plan, Step, Terms};
use allps_ws::domain::promissory::{
    Frequency, InstalmentStatus as S, NoteStatus, NoteStream, PromissoryConfig, schedule,
};
use allps_ws::engine::collections::{
    AttemptRecord, Call, CollectionReply, Facts, Prepared, Reply, note_completed, prepare, record,
};
use allps_ws::engine::gateway::{AttemptKind, CollectionOutcome, Gateway, Simulator};
use rust_decimal::Decimal;
use time::macros::{date, datetime};
use time::{Date, OffsetDateTime};

#[derive(Debug, Clone)]
struct Attempt {
    on: Date,
    kind: AttemptKind,
    code: Option<String>,
}

#[derive(Debug, Clone)]
struct Inst {
    note: usize,
    number: u32,
    action_date: Date,
    tracking_days: u32,
    arrears: bool,
    status: S,
    presented_on: Option<Date>,
    attempts: Vec<Attempt>,
    last: Option<AttemptRecord>,
    collected_at: Option<OffsetDateTime>,
    settlement: Option<Date>,
    reversed_on: Option<Date>,
    replies: Vec<String>,
}

struct Note {
    stream: NoteStream,
    account: String,
    status: NoteStatus,
    /// NOTE_COMPLETED replies written.
    completions: u32,
}

struct World {
    calendar: Calendar,
    banks: DebtorBanks,
    config: PromissoryConfig,
    sim: Simulator,
    notes: Vec<Note>,
    insts: Vec<Inst>,
    queue: BTreeMap<(OffsetDateTime, u64), (usize, Step)>,
    seq: u64,
}

impl World {
    fn new() -> World {
        World {
            calendar: Calendar::south_africa(),
            banks: DebtorBanks::bundled().clone(),
            config: PromissoryConfig::default(),
            sim: Simulator::default(),
            notes: Vec::new(),
            insts: Vec::new(),
            queue: BTreeMap::new(),
            seq: 0,
        }
    }

    fn plan(&self) -> Plan<'_> {
        Plan {
            calendar: &self.calendar,
            banks: &self.banks,
        }
    }

    fn terms(&self, i: usize) -> Terms {
        let note = &self.notes[self.insts[i].note];
        Terms {
            stream: note.stream,
            lead_days: self.config.lead_days(note.stream),
            tracking_days: self.insts[i].tracking_days,
            bank: self.banks.default_profile(),
        }
    }

    fn push(&mut self, i: usize, due: Due) {
        self.seq += 1;
        self.queue.insert((due.at, self.seq), (i, due.step));
    }

    fn add_note(
        &mut self,
        stream: NoteStream,
        account: &str,
        first: Date,
        n: u16,
        tracking: u32,
    ) -> usize {
        let note = self.notes.len();
        self.notes.push(Note {
            stream,
            account: account.into(),
            status: NoteStatus::Active,
            completions: 0,
        });
        let dates = schedule(&self.calendar, first, Frequency::Monthly, n).unwrap();
        for (k, d) in dates.into_iter().enumerate() {
            self.insts.push(Inst {
                note,
                number: u32::try_from(k).unwrap() + 1,
                action_date: d,
                tracking_days: tracking,
                arrears: false,
                status: S::Pending,
                presented_on: None,
                attempts: Vec::new(),
                last: None,
                collected_at: None,
                settlement: None,
                reversed_on: None,
                replies: Vec::new(),
            });
            let i = self.insts.len() - 1;
            let first = self.plan().first(&self.terms(i), d);
            self.push(i, first);
        }
        note
    }

    fn facts(&self, i: usize) -> Facts {
        let inst = &self.insts[i];
        let note = &self.notes[inst.note];
        Facts {
            note_id: i64::try_from(inst.note).unwrap() + 1,
            note_status: note.status,
            terms: self.terms(i),
            number: inst.number,
            amount: Decimal::from_str("500.00").unwrap(),
            status: inst.status,
            action_date: inst.action_date,
            arrears: inst.arrears,
            presented_on: inst.presented_on,
            last_attempt: inst.last.clone(),
            branch_code: "250655".into(),
            account_number: note.account.clone(),
            account_type: "CURRENT".into(),
            disputable: (
                allps_ws::domain::collection::disputable(self.terms(i).stream, inst.arrears),
                None,
            ),
            collects: true,
        }
    }

    /// Runs every step due by `until`, in time order.
    fn run_until(&mut self, until: OffsetDateTime) {
        while let Some((&(at, seq), &(i, step))) = self.queue.iter().next() {
            if at > until {
                break;
            }
            self.queue.remove(&(at, seq));
            self.step(i, step, at);
        }
    }

    /// One step: prepare, call the simulated bank, record, as the runner does.
    fn step(&mut self, i: usize, step: Step, at: OffsetDateTime) {
        let facts = self.facts(i);
        let call = match prepare(step, &facts, at) {
            Prepared::Skip => return,
            Prepared::Call(call) => call,
        };
        let reply = match call {
            Call::None => Reply::Nothing,
            Call::Present(item) => Reply::Presented(self.sim.present_collection(&item).unwrap()),
            Call::CheckReversal {
                item,
                collected_on,
                today,
            } => Reply::Reversal(self.sim.check_reversal(&item, collected_on, today).unwrap()),
        };
        let effects = record(&self.plan(), step, &facts, at, reply).unwrap();
        let inst = &mut self.insts[i];
        if let Some(s) = effects.status {
            assert!(s == inst.status || inst.status.can_become(s));
            inst.status = s;
        }
        if effects.presented_on.is_some() {
            inst.presented_on = effects.presented_on;
        }
        if let Some(a) = effects.attempt {
            let code = match &a.outcome {
                CollectionOutcome::Collected => None,
                CollectionOutcome::Unpaid(r) => Some(r.code.clone()),
            };
            inst.attempts.push(Attempt {
                on: a.at.to_offset(SAST).date(),
                kind: a.kind,
                code,
            });
            assert_eq!(
                a.number as usize,
                inst.attempts.len(),
                "attempts are numbered in order"
            );
            inst.last = Some(a);
        }
        if let Some((collected_at, settlement)) = effects.collected {
            inst.collected_at = Some(collected_at);
            inst.settlement = settlement;
        }
        if effects.reversed_on.is_some() {
            inst.reversed_on = effects.reversed_on;
        }
        if let Some(r) = effects.reply {
            inst.replies.push(match (r.kind, r.reason) {
                (CollectionReply::Unpaid, Some(a)) => {
                    format!("INSTALMENT_UNPAID {} {}", a.code, a.reason)
                }
                (CollectionReply::Reversed, Some(a)) => format!("INSTALMENT_REVERSED {}", a.code),
                (kind, _) => kind.as_str().to_string(),
            });
        }
        if let Some(next) = effects.next {
            self.push(i, next);
        }
        self.settle_note(i);
    }

    fn settle_note(&mut self, i: usize) {
        let note = self.insts[i].note;
        let statuses: Vec<S> = self
            .insts
            .iter()
            .filter(|x| x.note == note)
            .map(|x| x.status)
            .collect();
        let before = self.notes[note].status;
        self.notes[note].status = before.settled(&statuses);
        if note_completed(before, self.notes[note].status) {
            self.notes[note].completions += 1;
        }
    }

    /// EditInstalment: an arrears re-presentment of an UNPAID instalment on a new date.
    fn represent_arrears(&mut self, i: usize, today: Date, action_date: Date) {
        let stream = self.notes[self.insts[i].note].stream;
        allps_ws::domain::promissory::check_action_date(
            &self.calendar,
            today,
            action_date,
            stream,
            &self.config,
            "ActionDate",
        )
        .unwrap();
        self.insts[i].status = apply(self.insts[i].status, Event::ArrearsRepresentment).unwrap();
        self.insts[i].arrears = true;
        self.insts[i].action_date = action_date;
        self.insts[i].presented_on = None;
        let due = self.plan().first(&self.terms(i), action_date);
        self.push(i, due);
    }

    fn of(&self, note: usize) -> Vec<&Inst> {
        self.insts.iter().filter(|x| x.note == note).collect()
    }
}

fn codes(inst: &Inst) -> Vec<Option<&str>> {
    inst.attempts.iter().map(|a| a.code.as_deref()).collect()
}

#[test]
fn a_portfolio_through_a_year_of_collections() {
    let mut w = World::new();
    // NAEDO, insufficient funds until tracking day 3, 12 monthly instalments from
    // Friday 15 Jan 2027, TrackingDays 5.
    let naedo = w.add_note(
        NoteStream::Naedo,
        "62001234703",
        date!(2027 - 01 - 15),
        12,
        5,
    );
    // EditInstalment before the cut-off: instalment 2 tracks only 2 days.
    let second = w
        .insts
        .iter()
        .position(|x| x.note == naedo && x.number == 2)
        .unwrap();
    w.insts[second].tracking_days = 2;
    // EFT, collected then disputed 5 days later.
    let eft = w.add_note(NoteStream::Eft, "62001234605", date!(2027 - 01 - 15), 3, 0);
    // SOCIAL_GRANT_EFT, account closed.
    let seft = w.add_note(
        NoteStream::SocialGrantEft,
        "62001234812",
        date!(2027 - 01 - 15),
        2,
        0,
    );
    // DEBICHECK with the dispute marker: authenticated, so never reversed.
    let dc = w.add_note(
        NoteStream::DebiCheck,
        "62001234605",
        date!(2027 - 01 - 15),
        2,
        10,
    );

    // Step to the morning after the first action date.
    w.run_until(datetime!(2027-01-15 23:59 +2));
    let n1 = w.of(naedo)[0].clone();
    assert_eq!(n1.status, S::Tracking);
    assert_eq!(n1.presented_on, Some(date!(2027 - 01 - 15)));
    assert_eq!(n1.replies, ["INSTALMENT_PRESENTED", "INSTALMENT_TRACKING"]);
    let e1 = w.of(eft)[0].clone();
    // EFT presented at 20:00; its answer comes at 06:00 the next morning.
    assert_eq!(e1.status, S::Presented);
    assert_eq!(w.of(dc)[0].status, S::Collected); // near real-time answer

    // Through the weekend: tracking runs only on the 5-day bank's processing days.
    w.run_until(datetime!(2027-01-31 23:59 +2));
    let n1 = w.of(naedo)[0].clone();
    assert_eq!(n1.status, S::Collected);
    let days: Vec<Date> = n1.attempts.iter().map(|a| a.on).collect();
    assert_eq!(
        days,
        [
            date!(2027 - 01 - 15),
            date!(2027 - 01 - 18),
            date!(2027 - 01 - 19),
            date!(2027 - 01 - 20)
        ]
    );
    assert_eq!(codes(&n1), [Some("02"), Some("02"), Some("02"), None]);
    assert_eq!(n1.settlement, Some(date!(2027 - 01 - 20))); // NAEDO settles the same day
    let e1 = w.of(eft)[0].clone();
    assert_eq!(e1.status, S::Reversed);
    assert_eq!(e1.collected_at, Some(datetime!(2027-01-15 20:00 +2)));
    assert_eq!(e1.settlement, Some(date!(2027 - 01 - 22))); // 5 business days
    assert_eq!(e1.reversed_on, Some(date!(2027 - 01 - 20)));
    assert_eq!(
        e1.replies,
        [
            "INSTALMENT_PRESENTED",
            "INSTALMENT_COLLECTED",
            "INSTALMENT_REVERSED 30"
        ]
    );
    let s1 = w.of(seft)[0].clone();
    assert_eq!(s1.status, S::Unpaid);
    assert_eq!(s1.replies[1], "INSTALMENT_UNPAID 12 ACCOUNT CLOSED");
    let d1 = w.of(dc)[0].clone();
    assert_eq!(d1.status, S::Collected);
    assert_eq!(d1.reversed_on, None);

    // February: instalment 2 (Monday 15 Feb) tracks 2 days and lapses UNPAID 02.
    w.run_until(datetime!(2027-02-17 12:00 +2));
    let n2 = w.insts[second].clone();
    assert_eq!(n2.action_date, date!(2027 - 02 - 15));
    assert_eq!(n2.status, S::Unpaid);
    assert_eq!(codes(&n2), [Some("02"), Some("02"), Some("02")]);
    assert_eq!(
        n2.replies.last().unwrap(),
        "INSTALMENT_UNPAID 02 NOT PROVIDED FOR"
    );
    // Arrears re-presentment on the earliest date the NAEDO cut-off allows.
    let today = date!(2027 - 02 - 17);
    // The NAEDO cut-off (3 business days) refuses Friday 19 Feb; Monday 22 Feb is the
    // earliest date.
    let refused = allps_ws::domain::promissory::check_action_date(
        &w.calendar,
        today,
        date!(2027 - 02 - 19),
        NoteStream::Naedo,
        &w.config,
        "ActionDate",
    )
    .unwrap_err();
    assert_eq!(
        refused.code,
        allps_ws::domain::ResultCode::ActionDateBeforeCutOff
    );
    w.represent_arrears(second, today, date!(2027 - 02 - 22));
    w.run_until(datetime!(2027-02-28 23:59 +2));
    let n2 = w.insts[second].clone();
    assert_eq!(n2.status, S::Collected);
    assert!(n2.arrears);
    assert_eq!(n2.attempts.last().unwrap().kind, AttemptKind::Arrears);
    assert_eq!(n2.attempts.last().unwrap().on, date!(2027 - 02 - 22));

    // The rest of the year.
    w.run_until(datetime!(2028-01-31 23:59 +2));
    assert!(w.queue.is_empty(), "steps left: {:?}", w.queue);
    for inst in w.of(naedo) {
        assert_eq!(inst.status, S::Collected, "instalment {}", inst.number);
        // Each presentment cycle presents once; tracking only re-presents.
        let firsts = inst
            .attempts
            .iter()
            .filter(|a| a.kind == AttemptKind::First)
            .count();
        assert_eq!(firsts, 1, "instalment {}", inst.number);
    }
    assert_eq!(w.notes[naedo].status, NoteStatus::Completed);
    assert_eq!(w.notes[naedo].completions, 1);
    assert_eq!(w.notes[eft].completions, 0);
    assert!(w.of(eft).iter().all(|x| x.status == S::Reversed));
    assert_eq!(w.notes[eft].status, NoteStatus::Active);
    assert!(
        w.of(seft)
            .iter()
            .all(|x| x.status == S::Unpaid && x.attempts.len() == 1)
    );
    assert!(
        w.of(dc)
            .iter()
            .all(|x| x.status == S::Collected && x.reversed_on.is_none())
    );
    assert_eq!(w.notes[dc].status, NoteStatus::Completed);
    // Every attempt of a tracked instalment falls on a 5-day processing day.
    for inst in &w.insts {
        for a in &inst.attempts {
            assert!(
                w.calendar.is_business_day(a.on),
                "{} on {}",
                inst.number,
                a.on
            );
        }
    }
}

#[test]
fn cancelling_the_note_stops_presentment_and_tracking() {
    let mut w = World::new();
    let n = w.add_note(
        NoteStream::Naedo,
        "62001234802",
        date!(2027 - 01 - 15),
        3,
        5,
    );
    w.run_until(datetime!(2027-01-18 12:00 +2));
    assert_eq!(w.of(n)[0].status, S::Tracking);
    // CancelPromissory: unpresented instalments are cancelled, tracking stops.
    w.notes[n].status = NoteStatus::Cancelled;
    for i in 0..w.insts.len() {
        let s = w.insts[i].status;
        if let Ok(next) =
            apply(s, Event::NoteCancelled).or_else(|_| apply(s, Event::TrackingStopped))
        {
            w.insts[i].status = next;
        }
    }
    w.run_until(datetime!(2027-12-31 23:59 +2));
    let insts = w.of(n);
    assert_eq!(insts[0].status, S::Unpaid);
    assert_eq!(insts[0].attempts.len(), 2); // the presentment and tracking day 1 only
    assert!(
        insts[1..]
            .iter()
            .all(|x| x.status == S::Cancelled && x.attempts.is_empty())
    );
}
