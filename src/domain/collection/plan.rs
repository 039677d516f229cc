//! The collection engine's schedule: after each step of an instalment, which step comes
//! next and when ([`Plan`]). The durable jobs run exactly these steps at exactly these
//! instants, so the whole timetable (cut-off, window, response, each tracking day,
//! reversal checks) is decided here, in pure code, and tested without a store.
//!
//! Steps of one instalment, in order:
//!
//! 1. [`Step::Submit`] at the stream's cut-off ([`timing::submission_at`]): PENDING →
//!    SUBMITTED. Skipped (straight to presentment) when the cut-off is the window.
//! 2. [`Step::Present`] at the stream's window on the action date: → PRESENTED, attempt 1
//!    goes to the debtor bank.
//! 3. [`Step::Answer`] at the attempt + the bank's response delay: the bank's answer is
//!    applied ([`super::state::apply`]). COLLECTED: a disputable debit gets a
//!    [`Step::CheckReversal`]; TRACKING: the next [`Step::Track`]; UNPAID: nothing more.
//! 4. [`Step::Track`] on tracking day `k` (the stream's window for a full-tracking bank,
//!    the tracking window for a limited one), then its own [`Step::Answer`].
//! 5. [`Step::CheckReversal`] on the dates the gateway names (the first on the day after
//!    collection), until it says reversed or never.
//!
//! An arrears re-presentment (EditInstalment on an UNPAID instalment) starts again at 1
//! with the new action date.

use time::{Date, OffsetDateTime, Time};

use super::banks::{BankProfile, DebtorBanks};
use super::state::disputable;
use super::timing::{
    at_sast, presentment_at, response_at, settlement_date, submission_at, tracking_attempt_at,
};
use crate::clock::SAST;
use crate::domain::calendar::Calendar;
use crate::domain::promissory::{InstalmentStatus, NoteStream};

/// One step of an instalment's collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Step {
    /// The cut-off passed: SUBMITTED.
    Submit,
    /// The window opened: PRESENTED, the first attempt.
    Present,
    /// A tracking attempt on tracking day `day`.
    Track {
        /// 1-based tracking day.
        day: u32,
    },
    /// The debtor bank's answer to the attempt of tracking day `tracking_day` (0: the
    /// presentment).
    Answer {
        /// 0 for the presentment, `k` for tracking day `k`.
        tracking_day: u32,
    },
    /// Ask the gateway whether the collected debit was disputed.
    CheckReversal,
}

/// A step and its instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Due {
    /// What to do.
    pub step: Step,
    /// When.
    pub at: OffsetDateTime,
}

/// What the schedule needs about a note.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Terms {
    /// Its stream.
    pub stream: NoteStream,
    /// The stream's registration lead days (`PromissoryConfig::lead_days`).
    pub lead_days: u16,
    /// The note's TrackingDays.
    pub tracking_days: u32,
    /// The debtor bank's profile ([`DebtorBanks::profile_for_branch`]).
    pub bank: BankProfile,
}

/// The schedule on a calendar and a debtor-bank table.
#[derive(Debug, Clone, Copy)]
pub struct Plan<'a> {
    /// The business calendar.
    pub calendar: &'a Calendar,
    /// Windows, settlement, bank profiles.
    pub banks: &'a DebtorBanks,
}

impl Plan<'_> {
    /// The first step of an instalment (or an arrears re-presentment) with this action
    /// date: its submission, or its presentment when the cut-off is the window.
    pub fn first(&self, terms: &Terms, action_date: Date) -> Due {
        let submit = submission_at(
            self.calendar,
            self.banks,
            terms.stream,
            action_date,
            terms.lead_days,
        );
        let present = self.present(terms, action_date);
        if submit < present.at {
            Due {
                step: Step::Submit,
                at: submit,
            }
        } else {
            present
        }
    }

    /// The presentment of an action date.
    pub fn present(&self, terms: &Terms, action_date: Date) -> Due {
        Due {
            step: Step::Present,
            at: presentment_at(self.banks, terms.stream, action_date),
        }
    }

    /// The answer to an attempt made at `attempted_at` on tracking day `tracking_day`.
    pub fn answer(&self, terms: &Terms, attempted_at: OffsetDateTime, tracking_day: u32) -> Due {
        Due {
            step: Step::Answer { tracking_day },
            at: response_at(&terms.bank, terms.stream, attempted_at),
        }
    }

    /// The tracking attempt on day `day` after a presentment on `presented_on`.
    pub fn track(&self, terms: &Terms, presented_on: Date, day: u32) -> Option<Due> {
        tracking_attempt_at(
            self.calendar,
            self.banks,
            &terms.bank,
            terms.stream,
            presented_on,
            day,
        )
        .map(|at| Due {
            step: Step::Track { day },
            at,
        })
    }

    /// What follows an answer that left the instalment in `status`: the next tracking
    /// attempt, the first dispute check of a collection the payer may dispute
    /// (`dispute_checked`: every non-authenticated debit and every DebiCheck
    /// collection, whose disputes the bank reverses or declines; see
    /// [`dispute_checked`]) the morning after `collected_on`, 08:00 SAST, or nothing.
    pub fn after_answer(
        &self,
        terms: &Terms,
        status: InstalmentStatus,
        presented_on: Date,
        tracking_day: u32,
        collected_on: Date,
        dispute_checked: bool,
    ) -> Option<Due> {
        match status {
            InstalmentStatus::Tracking => self.track(terms, presented_on, tracking_day + 1),
            InstalmentStatus::Collected if dispute_checked => {
                Some(self.reversal_check_on(collected_on.next_day()?))
            }
            _ => None,
        }
    }

    /// A reversal check on `date` (08:00 SAST, when the day's dispute file is in).
    pub fn reversal_check_on(&self, date: Date) -> Due {
        Due {
            step: Step::CheckReversal,
            at: at_sast(date, REVERSAL_CHECK_TIME),
        }
    }

    /// The settlement date of a collection made at `collected_at`.
    pub fn settlement(&self, terms: &Terms, collected_at: OffsetDateTime) -> Option<Date> {
        settlement_date(
            self.calendar,
            self.banks,
            terms.stream,
            collected_at.to_offset(SAST).date(),
        )
    }
}

/// Whether a collection on `stream` is watched for disputes: every disputable one
/// (`state::disputable`), and every DebiCheck collection, since the payer may dispute
/// even a collection within the mandate and the bank then declines it.
pub fn dispute_checked(stream: NoteStream, arrears: bool) -> bool {
    stream == NoteStream::DebiCheck || disputable(stream, arrears)
}

/// When reversal checks run (SAST): 08:00, once the day's dispute reports are in.
pub const REVERSAL_CHECK_TIME: Time = time::macros::time!(08:00);

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    fn terms(stream: NoteStream, lead_days: u16, tracking_days: u32) -> Terms {
        Terms {
            stream,
            lead_days,
            tracking_days,
            bank: DebtorBanks::bundled().default_profile(),
        }
    }

    #[test]
    fn steps_and_their_instants() {
        let cal = Calendar::south_africa();
        let plan = Plan {
            calendar: &cal,
            banks: DebtorBanks::bundled(),
        };
        let d = date!(2027 - 01 - 15); // Friday
        let naedo = terms(NoteStream::Naedo, 3, 5);
        assert_eq!(
            plan.first(&naedo, d),
            Due {
                step: Step::Submit,
                at: datetime!(2027-01-13 00:00 +2)
            }
        );
        // Lead 0: no separate submission, straight to the window.
        assert_eq!(
            plan.first(&terms(NoteStream::Naedo, 0, 0), d),
            plan.present(&naedo, d)
        );
        assert_eq!(plan.present(&naedo, d).at, datetime!(2027-01-15 02:00 +2));
        let answer = plan.answer(&naedo, datetime!(2027-01-15 02:00 +2), 0);
        assert_eq!(answer.step, Step::Answer { tracking_day: 0 });
        assert_eq!(answer.at, datetime!(2027-01-15 06:00 +2));
        // Tracking: the next processing day after the weekend.
        assert_eq!(
            plan.after_answer(&naedo, InstalmentStatus::Tracking, d, 0, d, false),
            Some(Due {
                step: Step::Track { day: 1 },
                at: datetime!(2027-01-18 02:00 +2)
            })
        );
        // A collected NAEDO debit is checked for disputes from the next morning (and
        // so is every DebiCheck one: its disputes are reversed or declined); UNPAID
        // ends.
        assert_eq!(
            plan.after_answer(
                &naedo,
                InstalmentStatus::Collected,
                d,
                0,
                d,
                dispute_checked(NoteStream::Naedo, false)
            ),
            Some(Due {
                step: Step::CheckReversal,
                at: datetime!(2027-01-16 08:00 +2)
            })
        );
        let dc = terms(NoteStream::DebiCheck, 2, 10);
        assert_eq!(
            plan.after_answer(&dc, InstalmentStatus::Collected, d, 0, d, false),
            None
        );
        assert!(dispute_checked(NoteStream::DebiCheck, false));
        assert!(dispute_checked(NoteStream::Eft, false));
        assert!(
            plan.after_answer(&dc, InstalmentStatus::Collected, d, 0, d, true)
                .is_some()
        );
        assert_eq!(
            plan.after_answer(&naedo, InstalmentStatus::Unpaid, d, 5, d, false),
            None
        );
        assert_eq!(
            plan.settlement(
                &terms(NoteStream::Eft, 2, 0),
                datetime!(2027-01-15 20:00 +2)
            ),
            Some(date!(2027 - 01 - 22))
        );
    }
}
