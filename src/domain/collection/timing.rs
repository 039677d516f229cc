//! When things happen to an instalment, as pure functions of the calendar, the
//! debtor-bank table and the dates: the cut-off at which it is submitted, the window
//! at which it is presented, its tracking days (counted from the presentment date on
//! the debtor bank's processing days, across weekends and holidays), the instant of
//! each tracking attempt, when the bank answers, and the settlement date.
//!
//! Tracking-day rule: tracking day `k` (1-based) is the `k`-th processing day of the
//! debtor bank strictly after the presentment date. A note with TrackingDays `n`
//! re-presents on tracking days 1..=n; after a failed attempt on day `n` (or with
//! `n` = 0, after the first presentment) the instalment is UNPAID 02.

use time::{Date, OffsetDateTime, PrimitiveDateTime, Time};

use super::banks::{BankProfile, DebtorBanks, TrackingKind};
use crate::clock::SAST;
use crate::domain::calendar::{Calendar, ProcessingWeek};
use crate::domain::promissory::NoteStream;

/// A South African wall-clock time on a date, as an instant.
pub fn at_sast(date: Date, time: Time) -> OffsetDateTime {
    PrimitiveDateTime::new(date, time).assume_offset(SAST)
}

/// The instant a stream's window opens on `date`: when an instalment with that
/// action date is PRESENTED.
pub fn presentment_at(
    banks: &DebtorBanks,
    stream: NoteStream,
    action_date: Date,
) -> OffsetDateTime {
    at_sast(action_date, banks.window(stream))
}

/// The registration cut-off date of an action date: the last calendar day on which a
/// note could still take it. That is the day before the business day following the
/// day `lead_days` business days before it (a weekend after that day still counts,
/// since Saturday + 1 business day = Friday + 1), or with 0 the action date itself.
/// `CreatePromissory`/`EditInstalment` accept `action_date` exactly while today is on
/// or before this date (see `promissory::earliest_action_date`; a test proves it).
pub fn cut_off_date(calendar: &Calendar, action_date: Date, lead_days: u16) -> Option<Date> {
    if lead_days == 0 {
        return Some(action_date);
    }
    let last_business = calendar.add_business_days(action_date, -i32::from(lead_days))?;
    calendar.next_business_day(last_business)?.previous_day()
}

/// The instant an instalment is SUBMITTED: when its cut-off passes (midnight SAST
/// after the cut-off date), never after its presentment.
pub fn submission_at(
    calendar: &Calendar,
    banks: &DebtorBanks,
    stream: NoteStream,
    action_date: Date,
    lead_days: u16,
) -> OffsetDateTime {
    let presented = presentment_at(banks, stream, action_date);
    cut_off_date(calendar, action_date, lead_days)
        .and_then(Date::next_day)
        .map(|d| at_sast(d, Time::MIDNIGHT))
        .map_or(presented, |cut| cut.min(presented))
}

/// Tracking day `k` (1-based): the `k`-th processing day of a bank with `week`
/// strictly after `presented_on`. `None` for `k` = 0 or past `Date::MAX`.
pub fn tracking_day(
    calendar: &Calendar,
    week: ProcessingWeek,
    presented_on: Date,
    k: u32,
) -> Option<Date> {
    if k == 0 {
        return None;
    }
    let mut day = presented_on;
    let mut found = 0;
    while found < k {
        day = day.next_day()?;
        if calendar.is_processing_day(day, week) {
            found += 1;
        }
    }
    Some(day)
}

/// Tracking days 1..=`n` in order.
pub fn tracking_days(
    calendar: &Calendar,
    week: ProcessingWeek,
    presented_on: Date,
    n: u32,
) -> Vec<Date> {
    let mut days = Vec::with_capacity(n as usize);
    let mut day = presented_on;
    while days.len() < n as usize {
        let Some(next) = day.next_day() else { break };
        day = next;
        if calendar.is_processing_day(day, week) {
            days.push(day);
        }
    }
    days
}

/// Which tracking day `date` is (1-based), if it is a processing day after
/// `presented_on`; `None` otherwise.
pub fn tracking_day_number(
    calendar: &Calendar,
    week: ProcessingWeek,
    presented_on: Date,
    date: Date,
) -> Option<u32> {
    if date <= presented_on || !calendar.is_processing_day(date, week) {
        return None;
    }
    let mut count = 0u32;
    let mut day = presented_on;
    while day < date {
        day = day.next_day()?;
        if calendar.is_processing_day(day, week) {
            count += 1;
        }
    }
    Some(count)
}

/// The instant of the attempt on tracking day `k`: at the stream's window for a
/// full-tracking bank, at the tracking window for a limited one.
pub fn tracking_attempt_at(
    calendar: &Calendar,
    banks: &DebtorBanks,
    bank: &BankProfile,
    stream: NoteStream,
    presented_on: Date,
    k: u32,
) -> Option<OffsetDateTime> {
    let day = tracking_day(calendar, bank.week, presented_on, k)?;
    let time = match bank.tracking {
        TrackingKind::Full => banks.window(stream),
        TrackingKind::Limited => banks.tracking_window(),
    };
    Some(at_sast(day, time))
}

/// When the debtor bank answers an attempt made at `attempted_at`.
pub fn response_at(
    bank: &BankProfile,
    stream: NoteStream,
    attempted_at: OffsetDateTime,
) -> OffsetDateTime {
    attempted_at + bank.response_delay(stream)
}

/// The settlement date of funds collected on `collected_on`: the stream's settlement
/// days later in business days (0: that day, or the next business day).
pub fn settlement_date(
    calendar: &Calendar,
    banks: &DebtorBanks,
    stream: NoteStream,
    collected_on: Date,
) -> Option<Date> {
    calendar.add_business_days(collected_on, i32::from(banks.settlement_days(stream)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};
    use time::{Duration, Weekday};

    fn cal() -> Calendar {
        Calendar::south_africa()
    }

    const WEEKS: [ProcessingWeek; 3] = [
        ProcessingWeek::FiveDay,
        ProcessingWeek::SixDay,
        ProcessingWeek::SevenDay,
    ];

    #[test]
    fn windows_per_stream() {
        let b = DebtorBanks::bundled();
        let d = date!(2026 - 12 - 15);
        assert_eq!(
            presentment_at(b, NoteStream::Naedo, d),
            datetime!(2026-12-15 00:00 UTC)
        );
        assert_eq!(
            presentment_at(b, NoteStream::DebiCheck, d),
            datetime!(2026-12-15 00:00 UTC)
        );
        assert_eq!(
            presentment_at(b, NoteStream::Eft, d),
            datetime!(2026-12-15 18:00 UTC)
        );
        assert_eq!(
            presentment_at(b, NoteStream::SocialGrantEft, d),
            datetime!(2026-12-15 18:00 UTC)
        );
        // Every window falls on the action date in South African time.
        for s in NoteStream::ALL {
            assert_eq!(presentment_at(b, *s, d).to_offset(SAST).date(), d);
        }
    }

    #[test]
    fn submission_at_the_cut_off() {
        let (c, b) = (cal(), DebtorBanks::bundled());
        // Thursday 26 Nov 2026, NAEDO lead 3: cut-off Monday 23 Nov; submitted at
        // midnight starting Tuesday 24 Nov.
        let d = date!(2026 - 11 - 26);
        assert_eq!(cut_off_date(&c, d, 3), Some(date!(2026 - 11 - 23)));
        assert_eq!(
            submission_at(&c, b, NoteStream::Naedo, d, 3),
            datetime!(2026-11-24 00:00 +2)
        );
        // Across a weekend: Tuesday 1 Dec, EFT lead 2: two business days back is
        // Friday 27 Nov, and a note made on Saturday or Sunday may still take 1 Dec.
        assert_eq!(
            cut_off_date(&c, date!(2026 - 12 - 01), 2),
            Some(date!(2026 - 11 - 29))
        );
        // Lead 0: the cut-off is the action date; submission happens at presentment.
        assert_eq!(
            submission_at(&c, b, NoteStream::Naedo, d, 0),
            presentment_at(b, NoteStream::Naedo, d)
        );
        // Lead 1 for an early-morning stream: midnight before the 02:00 window.
        assert_eq!(
            submission_at(&c, b, NoteStream::Naedo, d, 1),
            datetime!(2026-11-26 00:00 +2)
        );
    }

    #[test]
    fn submission_agrees_with_the_create_promissory_cut_off() {
        // For every action date and lead, a note may take the action date exactly
        // on the days before the instalment is submitted.
        let (c, b) = (cal(), DebtorBanks::bundled());
        let mut action = date!(2026 - 11 - 02);
        while action < date!(2027 - 05 - 01) {
            if c.is_business_day(action) {
                for lead in 0..=5u16 {
                    let submitted = submission_at(&c, b, NoteStream::Naedo, action, lead);
                    assert!(submitted <= presentment_at(b, NoteStream::Naedo, action));
                    let mut today = action - Duration::days(20);
                    while today <= action {
                        let allowed =
                            crate::domain::promissory::earliest_action_date(&c, today, lead)
                                .is_some_and(|earliest| earliest <= action);
                        let before_cut_off = at_sast(today, Time::MIDNIGHT) < submitted;
                        assert_eq!(
                            allowed, before_cut_off,
                            "{action} lead {lead} today {today}"
                        );
                        today = today.next_day().unwrap();
                    }
                }
            }
            action = action.next_day().unwrap();
        }
    }

    #[test]
    fn tracking_days_across_weekends_and_holidays() {
        let c = cal();
        // Presented Thursday 24 Dec 2026: 25 (Christmas, Fri), 26 (Goodwill, Sat),
        // 27 (Sun) are no 5-day processing days.
        let p = date!(2026 - 12 - 24);
        assert_eq!(
            tracking_days(&c, ProcessingWeek::FiveDay, p, 3),
            [
                date!(2026 - 12 - 28),
                date!(2026 - 12 - 29),
                date!(2026 - 12 - 30)
            ]
        );
        // A 6-day bank skips the holidays and Sunday too (26 Dec is a holiday).
        assert_eq!(
            tracking_days(&c, ProcessingWeek::SixDay, p, 2),
            [date!(2026 - 12 - 28), date!(2026 - 12 - 29)]
        );
        // A 7-day bank tracks every day.
        assert_eq!(
            tracking_days(&c, ProcessingWeek::SevenDay, p, 3),
            [
                date!(2026 - 12 - 25),
                date!(2026 - 12 - 26),
                date!(2026 - 12 - 27)
            ]
        );
        // Friday 27 Nov 2026: a 6-day bank tracks on Saturday, a 5-day bank on Monday.
        let f = date!(2026 - 11 - 27);
        assert_eq!(
            tracking_day(&c, ProcessingWeek::SixDay, f, 1),
            Some(date!(2026 - 11 - 28))
        );
        assert_eq!(
            tracking_day(&c, ProcessingWeek::FiveDay, f, 1),
            Some(date!(2026 - 11 - 30))
        );
        // Easter 2027: Thursday 25 Mar, Good Friday 26, Family Day Monday 29.
        let e = date!(2027 - 03 - 25);
        assert_eq!(
            tracking_day(&c, ProcessingWeek::FiveDay, e, 1),
            Some(date!(2027 - 03 - 30))
        );
        assert_eq!(
            tracking_day(&c, ProcessingWeek::SixDay, e, 1),
            Some(date!(2027 - 03 - 27))
        );
        assert_eq!(
            tracking_day(&c, ProcessingWeek::SixDay, e, 2),
            Some(date!(2027 - 03 - 30))
        );
        assert_eq!(tracking_day(&c, ProcessingWeek::FiveDay, e, 0), None);
        assert_eq!(
            tracking_day_number(&c, ProcessingWeek::FiveDay, e, date!(2027 - 03 - 30)),
            Some(1)
        );
        assert_eq!(
            tracking_day_number(&c, ProcessingWeek::FiveDay, e, date!(2027 - 03 - 29)),
            None
        );
        assert_eq!(tracking_day_number(&c, ProcessingWeek::FiveDay, e, e), None);
        // 32 NAEDO tracking days from 1 Dec 2026 on a 5-day bank.
        let days = tracking_days(&c, ProcessingWeek::FiveDay, date!(2026 - 12 - 01), 32);
        assert_eq!(days.len(), 32);
        // Dec: 2-4, 7-11, 14-15, 17-18, 21-24, 28-31 (20); Jan: 4-8, 11-15, 18, 19.
        assert_eq!(days[31], date!(2027 - 01 - 19));
    }

    /// Property: over every presentment date of 2026-2028, every processing week and
    /// every TrackingDays 0..=32, the tracking days are `n` strictly increasing
    /// processing days after the presentment date with no processing day skipped,
    /// and `tracking_day` / `tracking_day_number` agree with them.
    #[test]
    fn tracking_day_properties() {
        let c = cal();
        let mut p = date!(2026 - 01 - 01);
        while p <= date!(2028 - 12 - 31) {
            for week in WEEKS {
                let days = tracking_days(&c, week, p, 32);
                assert_eq!(days.len(), 32);
                let mut prev = p;
                for (i, d) in days.iter().enumerate() {
                    let k = u32::try_from(i).unwrap() + 1;
                    assert!(*d > prev);
                    assert!(c.is_processing_day(*d, week));
                    // Nothing between prev and d is a processing day.
                    let mut x = prev.next_day().unwrap();
                    while x < *d {
                        assert!(!c.is_processing_day(x, week), "{p} {week:?} skipped {x}");
                        x = x.next_day().unwrap();
                    }
                    match week {
                        ProcessingWeek::FiveDay => assert!(c.is_business_day(*d)),
                        ProcessingWeek::SixDay => {
                            assert!(d.weekday() != Weekday::Sunday && !c.is_public_holiday(*d));
                        }
                        ProcessingWeek::SevenDay => {
                            assert_eq!(*d, p + Duration::days(i64::from(k)))
                        }
                    }
                    if k <= 4 {
                        assert_eq!(tracking_day(&c, week, p, k), Some(*d));
                        assert_eq!(tracking_day_number(&c, week, p, *d), Some(k));
                    }
                    prev = *d;
                }
                for n in [0u32, 1, 10] {
                    assert_eq!(tracking_days(&c, week, p, n), days[..n as usize]);
                }
            }
            p = p.next_day().unwrap();
        }
    }

    #[test]
    fn tracking_attempts_full_and_limited() {
        let c = cal();
        let b = DebtorBanks::bundled();
        let full = b.default_profile();
        let text = crate::domain::collection::banks::BUNDLED_DEBTOR_BANKS.replace(
            "bank | capitec    | - | - |",
            "bank | capitec    | 6 | limited |",
        );
        let custom = DebtorBanks::parse(&text).unwrap();
        let limited = custom.profile("capitec");
        let p = date!(2026 - 11 - 27); // Friday
        assert_eq!(
            tracking_attempt_at(&c, b, &full, NoteStream::Naedo, p, 1),
            Some(datetime!(2026-11-30 02:00 +2))
        );
        assert_eq!(
            tracking_attempt_at(&c, &custom, &limited, NoteStream::Naedo, p, 1),
            Some(datetime!(2026-11-28 14:00 +2))
        );
        assert_eq!(
            response_at(&full, NoteStream::Naedo, datetime!(2026-11-30 02:00 +2)),
            datetime!(2026-11-30 06:00 +2)
        );
        assert_eq!(
            response_at(&full, NoteStream::Eft, datetime!(2026-11-30 20:00 +2)),
            datetime!(2026-12-01 06:00 +2)
        );
    }

    #[test]
    fn settlement_dates_per_stream() {
        let (c, b) = (cal(), DebtorBanks::bundled());
        let thu = date!(2026 - 12 - 24);
        assert_eq!(settlement_date(&c, b, NoteStream::Naedo, thu), Some(thu));
        assert_eq!(
            settlement_date(&c, b, NoteStream::DebiCheck, thu),
            Some(thu)
        );
        // EFT: five business days after Christmas Eve (25 Dec, 26 Dec and 1 Jan are
        // holidays): 28, 29, 30, 31 Dec, 4 Jan.
        assert_eq!(
            settlement_date(&c, b, NoteStream::Eft, thu),
            Some(date!(2027 - 01 - 04))
        );
        // A collection on a Saturday (a 6-day bank's tracking day) settles on the next
        // business day for same-day streams.
        assert_eq!(
            settlement_date(&c, b, NoteStream::Naedo, date!(2026 - 11 - 28)),
            Some(date!(2026 - 11 - 30))
        );
    }
}
