//! The instalment state machine as events ([`Event`], [`apply`]): what each thing the
//! collection engine learns (a cut-off passing, a window opening, the debtor bank's
//! answer, a dispute, a cancellation, an arrears re-presentment) does to an
//! instalment's status. Every result obeys `InstalmentStatus::can_become` (a TRACKING
//! instalment answered 02 again stays TRACKING), and nothing leaves a final state.
//! Also: which collections are disputable, and a note's collected / outstanding /
//! arrears totals.

use rust_decimal::Decimal;

use super::reasons::INSUFFICIENT_FUNDS;
use crate::domain::promissory::{InstalmentStatus, NoteStream};

/// The debtor bank's answer to one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer<'a> {
    /// The debit was paid.
    Collected,
    /// Returned unpaid with an ACB reason code.
    Unpaid {
        /// Two-digit reason code (`02` is insufficient funds).
        code: &'a str,
    },
}

/// Something that happens to an instalment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event<'a> {
    /// Its stream's cut-off passed (PENDING → SUBMITTED).
    CutOffPassed,
    /// Its stream's window opened on the action date (PENDING/SUBMITTED → PRESENTED).
    Presented,
    /// The debtor bank answered the attempt made on tracking day `tracking_day`
    /// (0: the presentment itself) of a note with `tracking_days`.
    Answered {
        /// The answer.
        answer: Answer<'a>,
        /// Which attempt: 0 for the presentment, `k` for tracking day `k`.
        tracking_day: u32,
        /// The note's TrackingDays.
        tracking_days: u32,
    },
    /// The note was cancelled: an unpresented instalment is CANCELLED.
    NoteCancelled,
    /// The note was cancelled while the instalment was tracking: it ends UNPAID
    /// (with the last answer's reason, 02).
    TrackingStopped,
    /// The payer disputed the collected debit (COLLECTED → REVERSED).
    Disputed,
    /// `EditInstalment` re-presents an UNPAID instalment as arrears (→ PENDING).
    ArrearsRepresentment,
}

impl Event<'_> {
    /// A short name for messages.
    pub fn name(&self) -> &'static str {
        match self {
            Event::CutOffPassed => "cut-off",
            Event::Presented => "presentment",
            Event::Answered { .. } => "answer",
            Event::NoteCancelled => "note cancelled",
            Event::TrackingStopped => "tracking stopped",
            Event::Disputed => "dispute",
            Event::ArrearsRepresentment => "arrears re-presentment",
        }
    }
}

/// An event that does not apply to the instalment's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{event} does not apply to a {from} instalment")]
pub struct TransitionError {
    /// The status the instalment had.
    pub from: InstalmentStatus,
    /// The event's name.
    pub event: &'static str,
}

/// The status after `event`, or why it does not apply.
///
/// # Errors
/// [`TransitionError`] when the event is not allowed from `from` (in particular from
/// a final state).
pub fn apply(
    from: InstalmentStatus,
    event: Event<'_>,
) -> Result<InstalmentStatus, TransitionError> {
    use InstalmentStatus as S;
    let refused = || TransitionError {
        from,
        event: event.name(),
    };
    let to = match (from, event) {
        (S::Pending, Event::CutOffPassed) => S::Submitted,
        (S::Pending | S::Submitted, Event::Presented) => S::Presented,
        (
            S::Presented | S::Tracking,
            Event::Answered {
                answer,
                tracking_day,
                tracking_days,
            },
        ) => match answer {
            Answer::Collected => S::Collected,
            Answer::Unpaid { code }
                if code == INSUFFICIENT_FUNDS && tracking_day < tracking_days =>
            {
                S::Tracking
            }
            Answer::Unpaid { .. } => S::Unpaid,
        },
        (S::Pending | S::Submitted, Event::NoteCancelled) => S::Cancelled,
        (S::Tracking, Event::TrackingStopped) => S::Unpaid,
        (S::Collected, Event::Disputed) => S::Reversed,
        (S::Unpaid, Event::ArrearsRepresentment) => S::Pending,
        _ => return Err(refused()),
    };
    debug_assert!(to == from || from.can_become(to), "{from} -> {to}");
    Ok(to)
}

/// Whether the payer can dispute a collected debit and have it reversed: every
/// non-authenticated debit (NAEDO, EFT, SOCIAL_GRANT_EFT), and an authenticated
/// (DebiCheck) one only when it is an arrears collection (DebiCheck seed: "All arrears
/// (represented) DebiCheck collections are disputable").
pub fn disputable(stream: NoteStream, arrears: bool) -> bool {
    match stream {
        NoteStream::DebiCheck => arrears,
        NoteStream::Naedo | NoteStream::Eft | NoteStream::SocialGrantEft => true,
    }
}

/// What the totals need to know about one instalment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InstalmentMoney {
    /// Its status.
    pub status: InstalmentStatus,
    /// Its amount.
    pub amount: Decimal,
    /// Whether it is (or was last presented as) an arrears collection.
    pub arrears: bool,
}

/// A note's money as `GetPromissory` and `GetClient` report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NoteTotals {
    /// Sum of COLLECTED instalments.
    pub collected: Decimal,
    /// Sum of instalments neither COLLECTED nor CANCELLED (still owed).
    pub outstanding: Decimal,
    /// The part of `outstanding` already overdue: UNPAID and REVERSED instalments,
    /// and arrears re-presentments not yet collected.
    pub arrears: Decimal,
}

/// The totals of a note's instalments.
pub fn note_totals(instalments: &[InstalmentMoney]) -> NoteTotals {
    use InstalmentStatus as S;
    let mut t = NoteTotals::default();
    for i in instalments {
        match i.status {
            S::Collected => t.collected += i.amount,
            S::Cancelled => {}
            S::Unpaid | S::Reversed => {
                t.outstanding += i.amount;
                t.arrears += i.amount;
            }
            S::Pending | S::Submitted | S::Presented | S::Tracking => {
                t.outstanding += i.amount;
                if i.arrears {
                    t.arrears += i.amount;
                }
            }
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::promissory::NoteStatus;
    use InstalmentStatus as S;
    use std::str::FromStr;

    fn answered(answer: Answer<'_>, day: u32, days: u32) -> Event<'_> {
        Event::Answered {
            answer,
            tracking_day: day,
            tracking_days: days,
        }
    }

    #[test]
    fn the_happy_path_and_tracking() {
        let s = apply(S::Pending, Event::CutOffPassed).unwrap();
        assert_eq!(s, S::Submitted);
        let s = apply(s, Event::Presented).unwrap();
        assert_eq!(s, S::Presented);
        assert_eq!(
            apply(s, answered(Answer::Collected, 0, 0)),
            Ok(S::Collected)
        );
        // Insufficient funds with tracking days: TRACKING until collected or lapsed.
        let nsf = Answer::Unpaid { code: "02" };
        let t = apply(s, answered(nsf, 0, 3)).unwrap();
        assert_eq!(t, S::Tracking);
        assert_eq!(apply(t, answered(nsf, 1, 3)), Ok(S::Tracking));
        assert_eq!(apply(t, answered(nsf, 2, 3)), Ok(S::Tracking));
        assert_eq!(apply(t, answered(nsf, 3, 3)), Ok(S::Unpaid));
        assert_eq!(
            apply(t, answered(Answer::Collected, 2, 3)),
            Ok(S::Collected)
        );
        // Any other code ends tracking at once; without tracking days 02 is UNPAID.
        assert_eq!(
            apply(t, answered(Answer::Unpaid { code: "12" }, 1, 3)),
            Ok(S::Unpaid)
        );
        assert_eq!(apply(s, answered(nsf, 0, 0)), Ok(S::Unpaid));
        assert_eq!(
            apply(s, answered(Answer::Unpaid { code: "04" }, 0, 5)),
            Ok(S::Unpaid)
        );
        // Cancelling stops tracking; unpresented instalments are cancelled.
        assert_eq!(apply(t, Event::TrackingStopped), Ok(S::Unpaid));
        assert_eq!(apply(S::Submitted, Event::NoteCancelled), Ok(S::Cancelled));
        assert_eq!(apply(S::Pending, Event::NoteCancelled), Ok(S::Cancelled));
        assert!(apply(S::Presented, Event::NoteCancelled).is_err());
        // Reversal and arrears.
        assert_eq!(apply(S::Collected, Event::Disputed), Ok(S::Reversed));
        assert_eq!(
            apply(S::Unpaid, Event::ArrearsRepresentment),
            Ok(S::Pending)
        );
        assert!(apply(S::Reversed, Event::ArrearsRepresentment).is_err());
        let e = apply(S::Collected, Event::Presented).unwrap_err();
        assert_eq!(
            e.to_string(),
            "presentment does not apply to a COLLECTED instalment"
        );
    }

    fn all_events() -> Vec<Event<'static>> {
        let mut v = vec![
            Event::CutOffPassed,
            Event::Presented,
            Event::NoteCancelled,
            Event::TrackingStopped,
            Event::Disputed,
            Event::ArrearsRepresentment,
        ];
        for code in ["02", "03", "12", "26", "56"] {
            for (day, days) in [(0, 0), (0, 3), (2, 3), (3, 3)] {
                v.push(answered(Answer::Unpaid { code }, day, days));
            }
        }
        v.push(answered(Answer::Collected, 0, 0));
        v.push(answered(Answer::Collected, 2, 3));
        v
    }

    /// Property: from every status, every event either is refused or leads where
    /// `can_become` allows (or keeps a TRACKING instalment TRACKING); nothing leaves
    /// a final state; and every allowed transition is reached by some event.
    #[test]
    fn events_respect_the_transition_table() {
        let events = all_events();
        let mut reached = std::collections::BTreeSet::new();
        for from in S::ALL {
            for e in &events {
                match apply(*from, *e) {
                    Ok(to) => {
                        assert!(!from.is_final(), "{from} left by {e:?}");
                        if to == *from {
                            assert_eq!(*from, S::Tracking, "{e:?}");
                        } else {
                            assert!(from.can_become(to), "{from} -> {to} by {e:?}");
                            reached.insert((from.as_str(), to.as_str()));
                        }
                    }
                    Err(err) => assert_eq!(err.from, *from),
                }
            }
        }
        for a in S::ALL {
            for b in S::ALL {
                if a.can_become(*b) {
                    assert!(
                        reached.contains(&(a.as_str(), b.as_str())),
                        "{a} -> {b} unreachable"
                    );
                }
            }
        }
    }

    /// Property: random event sequences over notes of 1 to 12 instalments (a fixed
    /// pseudo-random generator, so the run is reproducible) never leave a final state,
    /// and the note is COMPLETED exactly when every instalment is COLLECTED.
    #[test]
    fn random_walks_and_note_completion() {
        let events = all_events();
        let mut seed: u64 = 0x5eed_1234_abcd_0001;
        let mut next = |n: usize| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            usize::try_from(seed >> 33).unwrap() % n
        };
        for _ in 0..2_000 {
            let count = 1 + next(12);
            let mut statuses = vec![S::Pending; count];
            let mut note = NoteStatus::Active;
            for _ in 0..60 {
                let i = next(count);
                let e = events[next(events.len())];
                let before = statuses[i];
                match apply(before, e) {
                    Ok(after) => {
                        assert!(!before.is_final());
                        statuses[i] = after;
                    }
                    Err(_) => assert_eq!(statuses[i], before),
                }
                note = note.settled(&statuses);
                let all = statuses.iter().all(|s| *s == S::Collected);
                assert_eq!(note == NoteStatus::Completed, all, "{statuses:?}");
            }
        }
    }

    #[test]
    fn disputability_per_stream() {
        assert!(disputable(NoteStream::Naedo, false));
        assert!(disputable(NoteStream::Eft, false));
        assert!(disputable(NoteStream::SocialGrantEft, false));
        assert!(!disputable(NoteStream::DebiCheck, false));
        assert!(disputable(NoteStream::DebiCheck, true));
    }

    #[test]
    fn totals() {
        let d = |s| Decimal::from_str(s).unwrap();
        let m = |status, amount, arrears| InstalmentMoney {
            status,
            amount: d(amount),
            arrears,
        };
        let t = note_totals(&[
            m(S::Collected, "100.00", false),
            m(S::Collected, "100.00", true),
            m(S::Unpaid, "100.00", false),
            m(S::Reversed, "50.00", false),
            m(S::Pending, "100.00", true),
            m(S::Tracking, "100.00", false),
            m(S::Submitted, "100.00", false),
            m(S::Cancelled, "100.00", false),
        ]);
        assert_eq!(t.collected, d("200.00"));
        assert_eq!(t.outstanding, d("450.00"));
        assert_eq!(t.arrears, d("250.00"));
        assert_eq!(note_totals(&[]), NoteTotals::default());
    }
}
