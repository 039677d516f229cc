//! DebiCheck mandates as business rules (no SQL, XML or clock): the mandate's
//! enumerations, the creation rules of `CreateDebiCheckPromissory` ([`DebiCheckConfig`],
//! [`check_mandate`]), the collection-day encoding, the four authentication windows
//! ([`authentication_deadline`], [`tt3_open`]) on South African time, where each
//! collection is presented at a 5-, 6- or 7-day bank ([`collection_dates`]) and whether
//! a collection can be disputed ([`disputability`]).
//!
//! Every rule comes from the DebiCheck seed (`shared/seeds/debicheck-payment-stream.txt`)
//! and the domain notes (5.2-5.4):
//!
//! - TT1 real time: the payer answers within 120 seconds; TT1 delayed: before 22:30 on
//!   the day of the request; TT2: before 21:00 on the second day counted from and
//!   including the request day; TT3 (card and PIN): real time, requests only between 00:30 and 23:30.
//! - A collection aligned with the authenticated mandate cannot be disputed. Arrears
//!   collections always can; so can an amount above the authenticated instalment
//!   (FIXED) or above the maximum collection amount (VARIABLE, USAGE_BASED), a date
//!   off the authenticated collection day unless the date adjustment indicator allows
//!   the move (to the business day before a non-business collection day; at a 6-day
//!   bank the next processing day), and an instalment edited after authentication.

use rust_decimal::Decimal;
use time::{Date, Duration, OffsetDateTime, Time, Weekday};

use super::calendar::{Calendar, ProcessingWeek};
pub use super::promissory::DebiCheckConfig;
use super::promissory::{Frequency, add_months};
use super::{Refusal, ResultCode};
use crate::clock::SAST;
use crate::domain::cdv::AccountType;

contract_enum!(
    /// How the payer authenticates the mandate (WSDL `AuthenticationType`).
    AuthenticationType {
        /// USSD push or banking app, answered within 120 seconds.
        Tt1Realtime => "TT1_REALTIME",
        /// Any bank channel, answered by 22:30 on the day of the request.
        Tt1Delayed => "TT1_DELAYED",
        /// Batch: answered by 21:00 on the second day counted from the request day.
        Tt2 => "TT2",
        /// Card and PIN on the card payment device, in real time (00:30-23:30).
        Tt3 => "TT3",
    }
);

contract_enum!(
    /// How the collection amount may vary (WSDL `DebitValueType`).
    DebitValueType {
        /// The instalment amount stays the same.
        Fixed => "FIXED",
        /// The amount changes with known factors (rate, premium).
        Variable => "VARIABLE",
        /// The amount depends on usage, up to the maximum collection amount.
        UsageBased => "USAGE_BASED",
    }
);

contract_enum!(
    /// Recurring or once-off (WSDL `DebitSequence`).
    DebitSequence {
        /// Recurring collections.
        Rcur => "RCUR",
        /// One collection.
        Ooff => "OOFF",
    }
);

contract_enum!(
    /// When the instalment may be adjusted (WSDL `AdjustmentCategory`).
    AdjustmentCategory {
        /// Never adjusted.
        Never => "NEVER",
        /// Every quarter.
        Quarterly => "QUARTERLY",
        /// Twice a year.
        Biannually => "BIANNUALLY",
        /// Once a year.
        Annually => "ANNUALLY",
        /// With the repo rate.
        Repo => "REPO",
    }
);

contract_enum!(
    /// Where the mandate's authentication stands (WSDL `AuthenticationStatus`).
    AuthenticationStatus {
        /// Requested; the payer has not answered yet.
        AwaitingAuthentication => "AWAITING_AUTHENTICATION",
        /// The payer authenticated it: its instalments present.
        Authenticated => "AUTHENTICATED",
        /// The payer declined it: it never presents.
        Declined => "DECLINED",
        /// The window passed without an answer: it never presents.
        Expired => "EXPIRED",
        /// The payer's bank suspended it: no further collection or tracking.
        Suspended => "SUSPENDED",
    }
);

contract_enum!(
    /// Through which channel the payer answered (WSDL `AuthenticationChannel`).
    AuthenticationChannel {
        /// USSD push to the cellphone.
        Ussd => "USSD",
        /// The bank's mobile app.
        MobileApp => "MOBILE_APP",
        /// Online banking.
        InternetBanking => "INTERNET_BANKING",
        /// An ATM.
        Atm => "ATM",
        /// A branch of the debtor bank.
        Branch => "BRANCH",
        /// The debtor bank's call centre.
        CallCentre => "CALL_CENTRE",
        /// Card and PIN on the card payment device (TT3).
        CardAndPin => "CARD_AND_PIN",
    }
);

contract_enum!(
    /// Why a DebiCheck collection is disputable or not (WSDL `DisputableReason`).
    DisputableReason {
        /// Aligned with the authenticated mandate: not disputable.
        WithinMandate => "WITHIN_MANDATE",
        /// The date moved off the collection day as the date adjustment indicator
        /// allows: not disputable.
        PermittedDateAdjustment => "PERMITTED_DATE_ADJUSTMENT",
        /// An arrears collection (re-presented after a failure): always disputable.
        Arrears => "ARREARS",
        /// The instalment was edited after authentication: disputable.
        Edited => "EDITED",
        /// A FIXED mandate collecting more than the authenticated instalment.
        AboveInstalment => "ABOVE_INSTALMENT",
        /// A VARIABLE or USAGE_BASED mandate collecting more than the maximum.
        AboveMaximum => "ABOVE_MAXIMUM",
        /// Presented off the authenticated collection day without a permitted
        /// adjustment.
        DateNotAuthenticated => "DATE_NOT_AUTHENTICATED",
    }
);

impl AuthenticationType {
    /// Whether the payer is reached on the cellphone (TT1 types need one).
    pub fn needs_cellphone(self) -> bool {
        matches!(
            self,
            AuthenticationType::Tt1Realtime | AuthenticationType::Tt1Delayed
        )
    }
}

impl AuthenticationStatus {
    /// Whether the mandate lets instalments present (only AUTHENTICATED).
    pub fn collects(self) -> bool {
        self == AuthenticationStatus::Authenticated
    }
}

/// The account types DebiCheck collects from: personal transactional accounts
/// (current, savings, transmission). Bond and subscription-share accounts are not
/// debit-order accounts of a person.
pub fn account_type_allowed(account_type: AccountType) -> bool {
    matches!(
        account_type,
        AccountType::Current | AccountType::Savings | AccountType::Transmission
    )
}

/// TT1 real time: the payer answers within 120 seconds of the request.
pub const TT1_REALTIME_WINDOW: Duration = Duration::seconds(120);
/// TT1 delayed: answer by 22:30 (SAST) on the day of the request.
pub const TT1_DELAYED_DEADLINE: Time = time::macros::time!(22:30);
/// TT2: answer by 21:00 (SAST) on the second day counted from the request day.
pub const TT2_DEADLINE: Time = time::macros::time!(21:00);
/// TT3 requests are taken from 00:30 (SAST) ...
pub const TT3_OPENS: Time = time::macros::time!(00:30);
/// ... until 23:30 (SAST), both inclusive.
pub const TT3_CLOSES: Time = time::macros::time!(23:30);

/// The instant the authentication window closes: an answer strictly before it
/// authenticates or declines ([`answered_in_time`]), none by then expires the request.
/// TT1_REALTIME closes 120 seconds after the request (an answer after 119 s counts,
/// after 120 s it does not); TT1_DELAYED at 22:30:00 SAST on the request day (the seed:
/// "before 22:30"); TT2 at 21:00:00 SAST on the second day counted from and including
/// the request day. TT3 is answered in the request itself, so its window closes at the
/// request instant.
///
/// TT1_DELAYED requested after 22:30 has its deadline in the past: it expires at once
/// (the payer could not answer in time).
pub fn authentication_deadline(
    kind: AuthenticationType,
    requested_at: OffsetDateTime,
) -> OffsetDateTime {
    let local = requested_at.to_offset(SAST);
    let on = |date: Date, time: Time| date.with_time(time).assume_offset(SAST);
    match kind {
        AuthenticationType::Tt1Realtime => requested_at + TT1_REALTIME_WINDOW,
        AuthenticationType::Tt1Delayed => on(local.date(), TT1_DELAYED_DEADLINE),
        AuthenticationType::Tt2 => on(
            local.date().next_day().unwrap_or(local.date()),
            TT2_DEADLINE,
        ),
        AuthenticationType::Tt3 => requested_at,
    }
}

/// Whether an answer given at `answered` counts for a window closing at `deadline`:
/// only strictly before it (22:29:59 counts for TT1_DELAYED, 22:30:00 does not).
pub fn answered_in_time(answered: OffsetDateTime, deadline: OffsetDateTime) -> bool {
    answered < deadline
}

/// Whether a TT3 request may be made at `now`: from 00:30:00 to 23:30:00 SAST
/// inclusive (23:30:01 and 00:29:59 are refused).
pub fn tt3_open(now: OffsetDateTime) -> bool {
    let t = now.to_offset(SAST).time();
    t >= TT3_OPENS && t <= TT3_CLOSES
}

/// The day `CollectionDay` 31 of a MONTHLY mandate stands for: the month's last day.
pub const LAST_DAY_OF_MONTH: u8 = 31;

/// The collection day encoded per frequency (domain notes 5.3): MONTHLY the day of the
/// month (1-31, 31 = the last day); WEEKLY and FORTNIGHTLY the ISO weekday (1 =
/// Monday .. 7 = Sunday).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CollectionDay(pub u8);

impl CollectionDay {
    /// The collection day `first` stands for under `frequency` (31 for a month's last
    /// day of a 31-day month; a shorter month's last day reads as its own number).
    pub fn of(first: Date, frequency: Frequency) -> CollectionDay {
        match frequency {
            Frequency::Monthly => CollectionDay(first.day()),
            Frequency::Weekly | Frequency::Fortnightly => {
                CollectionDay(first.weekday().number_from_monday())
            }
        }
    }

    /// Checks the range for `frequency` and that `first` falls on it.
    ///
    /// # Errors
    ///
    /// `COLLECTION_DAY_INVALID` for a value out of range, `COLLECTION_DAY_MISMATCH`
    /// when FirstActionDate is not on that collection day.
    pub fn check(value: i64, frequency: Frequency, first: Date) -> Result<CollectionDay, Refusal> {
        let max = match frequency {
            Frequency::Monthly => 31,
            Frequency::Weekly | Frequency::Fortnightly => 7,
        };
        let day = u8::try_from(value)
            .ok()
            .filter(|d| (1..=max).contains(d))
            .ok_or_else(|| {
                Refusal::field(
                    ResultCode::CollectionDayInvalid,
                    "CollectionDay",
                    format!(
                        "CollectionDay for a {frequency} mandate must be 1 to {max}{}, got {value}",
                        if max == 31 {
                            " (31 = last day of the month)"
                        } else {
                            " (ISO weekday, 1 = Monday)"
                        }
                    ),
                )
            })?;
        let day = CollectionDay(day);
        if day.nominal_in_month_of(first, frequency) != Some(first) {
            return Err(Refusal::field(
                ResultCode::CollectionDayMismatch,
                "CollectionDay",
                format!(
                    "FirstActionDate {} does not fall on CollectionDay {} of a {frequency} mandate",
                    crate::clock::format_date(first),
                    day.0
                ),
            ));
        }
        Ok(day)
    }

    /// The collection day's date in the month (MONTHLY) or week (WEEKLY,
    /// FORTNIGHTLY) of `date`: for a check against FirstActionDate.
    fn nominal_in_month_of(self, date: Date, frequency: Frequency) -> Option<Date> {
        match frequency {
            Frequency::Monthly => {
                let last = date.month().length(date.year());
                Date::from_calendar_date(date.year(), date.month(), self.0.min(last)).ok()
            }
            Frequency::Weekly | Frequency::Fortnightly => {
                let offset = i64::from(self.0) - i64::from(date.weekday().number_from_monday());
                date.checked_add(Duration::days(offset))
            }
        }
    }
}

/// The authenticated collection dates of a mandate: instalment `k` (from 0) on the
/// collection day `k` months, fortnights or weeks after the first (MONTHLY: the day of
/// the month, or the month's last day when it is shorter or the day is 31).
pub fn nominal_dates(
    first: Date,
    frequency: Frequency,
    day: CollectionDay,
    count: u16,
) -> Option<Vec<Date>> {
    (0..u32::from(count))
        .map(|k| nominal_date(first, frequency, day, k))
        .collect()
}

/// The authenticated collection date of instalment `k` (from 0): see [`nominal_dates`].
pub fn nominal_date(first: Date, frequency: Frequency, day: CollectionDay, k: u32) -> Option<Date> {
    match frequency {
        Frequency::Monthly => {
            let month = add_months(first.replace_day(1).ok()?, k)?;
            let last = month.month().length(month.year());
            month.replace_day(day.0.min(last)).ok()
        }
        Frequency::Fortnightly => first.checked_add(Duration::days(14 * i64::from(k))),
        Frequency::Weekly => first.checked_add(Duration::days(7 * i64::from(k))),
    }
}

/// The date a collection with authenticated date `nominal` is presented at a bank
/// processing `week`: the date itself when the bank processes on it; otherwise the next
/// processing day at a 6-day bank and the business day before at a 5-day bank (7-day
/// banks process every day). The move is permitted (not disputable) only with the
/// date adjustment indicator ([`disputability`]).
pub fn presentment_date(calendar: &Calendar, week: ProcessingWeek, nominal: Date) -> Option<Date> {
    if calendar.is_processing_day(nominal, week) {
        return Some(nominal);
    }
    match week {
        ProcessingWeek::SixDay => {
            let mut day = nominal.next_day()?;
            while !calendar.is_processing_day(day, week) {
                day = day.next_day()?;
            }
            Some(day)
        }
        ProcessingWeek::FiveDay | ProcessingWeek::SevenDay => {
            calendar.previous_business_day(nominal)
        }
    }
}

/// The action dates of a mandate's instalments at a bank processing `week`.
pub fn collection_dates(
    calendar: &Calendar,
    week: ProcessingWeek,
    nominal: &[Date],
) -> Option<Vec<Date>> {
    nominal
        .iter()
        .map(|d| presentment_date(calendar, week, *d))
        .collect()
}

/// The mandate parameters `CreateDebiCheckPromissory` checks beyond a note's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MandateAsked {
    /// Value type.
    pub value_type: DebitValueType,
    /// Instalment amount (scale 2).
    pub instalment: Decimal,
    /// Maximum collection amount (scale 2).
    pub maximum: Decimal,
    /// Once-off or recurring.
    pub sequence: DebitSequence,
    /// Number of instalments.
    pub count: u16,
    /// Adjustment category.
    pub adjustment: AdjustmentCategory,
    /// Adjustment rate in percent, if given.
    pub adjustment_rate: Option<Decimal>,
    /// Adjustment amount, if given.
    pub adjustment_amount: Option<Decimal>,
}

/// Checks a mandate's amounts, sequence and adjustment.
///
/// # Errors
///
/// `MAXIMUM_BELOW_INSTALMENT`, `MAXIMUM_ABOVE_FACTOR`, `MAXIMUM_ABOVE_USAGE_LIMIT`,
/// `ONCE_OFF_INSTALMENTS` or `ADJUSTMENT_INVALID`.
pub fn check_mandate(config: &DebiCheckConfig, m: &MandateAsked) -> Result<(), Refusal> {
    if m.maximum < m.instalment {
        return Err(Refusal::field(
            ResultCode::MaximumBelowInstalment,
            "MaximumCollectionAmount",
            format!(
                "MaximumCollectionAmount {} is below InstalmentAmount {}",
                m.maximum, m.instalment
            ),
        ));
    }
    match m.value_type {
        DebitValueType::Fixed | DebitValueType::Variable => {
            let cap = m.instalment * config.max_factor;
            if m.maximum > cap {
                return Err(Refusal::field(
                    ResultCode::MaximumAboveFactor,
                    "MaximumCollectionAmount",
                    format!(
                        "MaximumCollectionAmount of a {} mandate may be at most {} times the instalment ({}), got {}",
                        m.value_type,
                        config.max_factor.normalize(),
                        cap.round_dp(2),
                        m.maximum
                    ),
                ));
            }
        }
        DebitValueType::UsageBased => {
            if m.maximum > config.usage_limit {
                return Err(Refusal::field(
                    ResultCode::MaximumAboveUsageLimit,
                    "MaximumCollectionAmount",
                    format!(
                        "MaximumCollectionAmount of a USAGE_BASED mandate may be at most {}, got {}",
                        config.usage_limit, m.maximum
                    ),
                ));
            }
        }
    }
    if m.sequence == DebitSequence::Ooff && m.count != 1 {
        return Err(Refusal::field(
            ResultCode::OnceOffInstalments,
            "NumberOfInstalments",
            format!(
                "a once-off (OOFF) mandate has exactly one instalment, got {}",
                m.count
            ),
        ));
    }
    let given =
        usize::from(m.adjustment_rate.is_some()) + usize::from(m.adjustment_amount.is_some());
    let refuse = |message: String| {
        Err(Refusal::field(
            ResultCode::AdjustmentInvalid,
            "AdjustmentCategory",
            message,
        ))
    };
    match (m.adjustment, given) {
        (AdjustmentCategory::Never, 0) => {}
        (AdjustmentCategory::Never, _) => {
            return refuse(
                "AdjustmentCategory NEVER takes no AdjustmentRate or AdjustmentAmount".into(),
            );
        }
        (category, 1) => {
            if m.value_type == DebitValueType::Fixed {
                return refuse(format!(
                    "a FIXED mandate keeps its instalment: AdjustmentCategory must be NEVER, got {category}"
                ));
            }
        }
        (category, _) => {
            return refuse(format!(
                "AdjustmentCategory {category} needs exactly one of AdjustmentRate and AdjustmentAmount"
            ));
        }
    }
    Ok(())
}

/// What disputability needs about one collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CollectionTerms {
    /// The mandate's value type.
    pub value_type: DebitValueType,
    /// The authenticated instalment.
    pub instalment: Decimal,
    /// The authenticated maximum collection amount.
    pub maximum: Decimal,
    /// The date adjustment indicator.
    pub date_adjustment_allowed: bool,
    /// The debtor bank's processing week.
    pub week: ProcessingWeek,
}

/// One collection as presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Collection {
    /// The amount collected.
    pub amount: Decimal,
    /// The authenticated collection date of the instalment.
    pub nominal: Date,
    /// The date it is presented on.
    pub presented: Date,
    /// Re-presented after a failure (arrears).
    pub arrears: bool,
    /// Changed by EditInstalment after creation (a TrackingDays-only edit leaves the
    /// date and amount as authenticated and does not count).
    pub edited: bool,
}

/// Whether a collection can be disputed and why. The first rule that applies wins:
/// arrears, edited in date or amount (an edited instalment whose date or amount is no
/// longer the one its schedule gave), amount (FIXED above the instalment; VARIABLE and USAGE_BASED above
/// the maximum), then the date: on the collection day, or a permitted adjustment
/// (indicator set and the collection day not a processing day of the bank: the
/// business day before it, or at a 6-day bank the next processing day), else
/// disputable.
pub fn disputability(
    calendar: &Calendar,
    terms: &CollectionTerms,
    c: &Collection,
) -> (bool, DisputableReason) {
    use DisputableReason as R;
    if c.arrears {
        return (true, R::Arrears);
    }
    let scheduled = presentment_date(calendar, terms.week, c.nominal);
    if c.edited && (c.amount != terms.instalment || Some(c.presented) != scheduled) {
        return (true, R::Edited);
    }
    match terms.value_type {
        DebitValueType::Fixed if c.amount > terms.instalment => return (true, R::AboveInstalment),
        DebitValueType::Variable | DebitValueType::UsageBased if c.amount > terms.maximum => {
            return (true, R::AboveMaximum);
        }
        _ => {}
    }
    if c.presented == c.nominal {
        return (false, R::WithinMandate);
    }
    let permitted = terms.date_adjustment_allowed
        && !calendar.is_processing_day(c.nominal, terms.week)
        && (calendar.previous_business_day(c.nominal) == Some(c.presented)
            || (terms.week == ProcessingWeek::SixDay
                && presentment_date(calendar, terms.week, c.nominal) == Some(c.presented)));
    if permitted {
        (false, R::PermittedDateAdjustment)
    } else {
        (true, R::DateNotAuthenticated)
    }
}

/// The weekday of a WEEKLY/FORTNIGHTLY collection day, for documents.
pub fn weekday_name(day: CollectionDay) -> &'static str {
    match Weekday::Monday.nth_next(day.0.saturating_sub(1) % 7) {
        Weekday::Monday => "Monday",
        Weekday::Tuesday => "Tuesday",
        Weekday::Wednesday => "Wednesday",
        Weekday::Thursday => "Thursday",
        Weekday::Friday => "Friday",
        Weekday::Saturday => "Saturday",
        Weekday::Sunday => "Sunday",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;
    use time::macros::{date, datetime};

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn tt1_realtime_window_is_120_seconds() {
        let at = datetime!(2027-01-13 10:00:00 +2);
        let deadline = authentication_deadline(AuthenticationType::Tt1Realtime, at);
        assert_eq!(deadline, datetime!(2027-01-13 10:02:00 +2));
        // An answer after 119 s counts; after 120 s or 121 s it does not.
        assert!(answered_in_time(at + Duration::seconds(119), deadline));
        assert!(!answered_in_time(at + Duration::seconds(120), deadline));
        assert!(!answered_in_time(at + Duration::seconds(121), deadline));
    }

    #[test]
    fn tt1_delayed_until_22_30_that_day() {
        let at = datetime!(2027-01-13 08:15:00 +2);
        let deadline = authentication_deadline(AuthenticationType::Tt1Delayed, at);
        assert_eq!(deadline, datetime!(2027-01-13 22:30:00 +2));
        assert!(answered_in_time(
            datetime!(2027-01-13 22:29:59 +2),
            deadline
        ));
        assert!(!answered_in_time(
            datetime!(2027-01-13 22:30:00 +2),
            deadline
        ));
        // The day is South Africa's: 23:00 UTC on the 12th is the 13th in SAST.
        let late_utc = datetime!(2027-01-12 23:00:00 UTC);
        assert_eq!(
            authentication_deadline(AuthenticationType::Tt1Delayed, late_utc),
            datetime!(2027-01-13 22:30:00 +2)
        );
    }

    #[test]
    fn tt2_until_21_00_on_the_second_day_friday_request_ends_saturday() {
        let friday = datetime!(2027-01-15 16:00:00 +2);
        assert_eq!(friday.weekday(), Weekday::Friday);
        let deadline = authentication_deadline(AuthenticationType::Tt2, friday);
        assert_eq!(deadline, datetime!(2027-01-16 21:00:00 +2));
        assert_eq!(deadline.weekday(), Weekday::Saturday);
        assert!(answered_in_time(
            datetime!(2027-01-16 20:59:59 +2),
            deadline
        ));
        assert!(!answered_in_time(
            datetime!(2027-01-16 21:00:00 +2),
            deadline
        ));
        assert_eq!(
            authentication_deadline(AuthenticationType::Tt2, datetime!(2027-01-13 00:00:00 +2)),
            datetime!(2027-01-14 21:00:00 +2)
        );
    }

    #[test]
    fn tt3_hours_to_the_second() {
        assert!(!tt3_open(datetime!(2027-01-13 00:29:00 +2)));
        assert!(!tt3_open(datetime!(2027-01-13 00:29:59 +2)));
        assert!(tt3_open(datetime!(2027-01-13 00:30:00 +2)));
        assert!(tt3_open(datetime!(2027-01-13 23:30:00 +2)));
        assert!(!tt3_open(datetime!(2027-01-13 23:30:01 +2)));
        assert!(!tt3_open(datetime!(2027-01-13 23:31:00 +2)));
        // 22:00 UTC is midnight in South Africa: closed.
        assert!(!tt3_open(datetime!(2027-01-13 22:00:00 UTC)));
        assert_eq!(
            authentication_deadline(AuthenticationType::Tt3, datetime!(2027-01-13 12:00 +2)),
            datetime!(2027-01-13 12:00 +2)
        );
    }

    #[test]
    fn collection_day_encoding_and_mismatch() {
        let first = date!(2027 - 02 - 15); // Monday
        assert_eq!(
            CollectionDay::check(15, Frequency::Monthly, first),
            Ok(CollectionDay(15))
        );
        assert_eq!(
            CollectionDay::check(1, Frequency::Weekly, first),
            Ok(CollectionDay(1))
        );
        assert_eq!(
            CollectionDay::check(16, Frequency::Monthly, first)
                .unwrap_err()
                .code,
            ResultCode::CollectionDayMismatch
        );
        assert_eq!(
            CollectionDay::check(2, Frequency::Fortnightly, first)
                .unwrap_err()
                .code,
            ResultCode::CollectionDayMismatch
        );
        assert_eq!(
            CollectionDay::check(8, Frequency::Weekly, first)
                .unwrap_err()
                .code,
            ResultCode::CollectionDayInvalid
        );
        assert_eq!(
            CollectionDay::check(0, Frequency::Monthly, first)
                .unwrap_err()
                .code,
            ResultCode::CollectionDayInvalid
        );
        // 31 = the last day: 28 February 2027 is on it.
        assert_eq!(
            CollectionDay::check(31, Frequency::Monthly, date!(2027 - 02 - 28)),
            Ok(CollectionDay(31))
        );
        assert_eq!(
            CollectionDay::of(date!(2027 - 02 - 15), Frequency::Weekly),
            CollectionDay(1)
        );
    }

    #[test]
    fn nominal_dates_keep_the_collection_day() {
        let dates = nominal_dates(
            date!(2027 - 01 - 31),
            Frequency::Monthly,
            CollectionDay(31),
            4,
        )
        .unwrap();
        assert_eq!(
            dates,
            [
                date!(2027 - 01 - 31),
                date!(2027 - 02 - 28),
                date!(2027 - 03 - 31),
                date!(2027 - 04 - 30)
            ]
        );
        let weekly = nominal_dates(
            date!(2027 - 01 - 18),
            Frequency::Weekly,
            CollectionDay(1),
            2,
        )
        .unwrap();
        assert_eq!(weekly, [date!(2027 - 01 - 18), date!(2027 - 01 - 25)]);
    }

    #[test]
    fn six_and_seven_day_banks_differ_on_a_non_processing_day() {
        let cal = Calendar::south_africa();
        let sunday = date!(2027 - 01 - 31);
        let saturday = date!(2027 - 01 - 30);
        // 7-day: the Sunday itself.
        assert_eq!(
            presentment_date(&cal, ProcessingWeek::SevenDay, sunday),
            Some(sunday)
        );
        // 6-day: Saturday is processed, Sunday moves to Monday.
        assert_eq!(
            presentment_date(&cal, ProcessingWeek::SixDay, saturday),
            Some(saturday)
        );
        assert_eq!(
            presentment_date(&cal, ProcessingWeek::SixDay, sunday),
            Some(date!(2027 - 02 - 01))
        );
        // 5-day: the Friday before.
        assert_eq!(
            presentment_date(&cal, ProcessingWeek::FiveDay, sunday),
            Some(date!(2027 - 01 - 29))
        );
    }

    fn terms(value_type: DebitValueType, adjust: bool, week: ProcessingWeek) -> CollectionTerms {
        CollectionTerms {
            value_type,
            instalment: d("500.00"),
            maximum: d("750.00"),
            date_adjustment_allowed: adjust,
            week,
        }
    }

    /// Every disputability rule, one row each.
    #[test]
    fn disputability_table() {
        use DebitValueType::{Fixed, UsageBased, Variable};
        use DisputableReason as R;
        use ProcessingWeek::{FiveDay, SevenDay, SixDay};
        let cal = Calendar::south_africa();
        let wed = date!(2027 - 01 - 13);
        let sun = date!(2027 - 01 - 31);
        let fri_before = date!(2027 - 01 - 29);
        let mon_after = date!(2027 - 02 - 01);
        #[allow(clippy::type_complexity)]
        let rows: &[(
            &str,
            DebitValueType,
            bool,
            ProcessingWeek,
            &str,
            Date,
            Date,
            bool,
            bool,
            (bool, R),
        )] = &[
            (
                "on the day, instalment",
                Fixed,
                false,
                FiveDay,
                "500.00",
                wed,
                wed,
                false,
                false,
                (false, R::WithinMandate),
            ),
            (
                "lower amount on FIXED",
                Fixed,
                false,
                FiveDay,
                "400.00",
                wed,
                wed,
                false,
                false,
                (false, R::WithinMandate),
            ),
            (
                "arrears on the day",
                Fixed,
                true,
                FiveDay,
                "500.00",
                wed,
                wed,
                true,
                false,
                (true, R::Arrears),
            ),
            (
                "arrears wins over amount",
                Fixed,
                true,
                FiveDay,
                "900.00",
                wed,
                wed,
                true,
                false,
                (true, R::Arrears),
            ),
            (
                "edited date",
                Fixed,
                true,
                FiveDay,
                "500.00",
                wed,
                date!(2027 - 01 - 14),
                false,
                true,
                (true, R::Edited),
            ),
            (
                "edited tracking only",
                Fixed,
                true,
                FiveDay,
                "500.00",
                wed,
                wed,
                false,
                true,
                (false, R::WithinMandate),
            ),
            (
                "edited date onto the permitted move",
                Fixed,
                true,
                FiveDay,
                "500.00",
                sun,
                fri_before,
                false,
                true,
                (false, R::PermittedDateAdjustment),
            ),
            (
                "FIXED above instalment",
                Fixed,
                false,
                FiveDay,
                "500.01",
                wed,
                wed,
                false,
                false,
                (true, R::AboveInstalment),
            ),
            (
                "VARIABLE above instalment, within maximum",
                Variable,
                false,
                FiveDay,
                "750.00",
                wed,
                wed,
                false,
                false,
                (false, R::WithinMandate),
            ),
            (
                "VARIABLE above maximum",
                Variable,
                false,
                FiveDay,
                "750.01",
                wed,
                wed,
                false,
                false,
                (true, R::AboveMaximum),
            ),
            (
                "USAGE_BASED above maximum",
                UsageBased,
                false,
                FiveDay,
                "800.00",
                wed,
                wed,
                false,
                false,
                (true, R::AboveMaximum),
            ),
            (
                "USAGE_BASED within maximum",
                UsageBased,
                false,
                FiveDay,
                "700.00",
                wed,
                wed,
                false,
                false,
                (false, R::WithinMandate),
            ),
            (
                "5-day, Sunday to Friday, adjustment allowed",
                Fixed,
                true,
                FiveDay,
                "500.00",
                sun,
                fri_before,
                false,
                false,
                (false, R::PermittedDateAdjustment),
            ),
            (
                "5-day, Sunday to Friday, not allowed",
                Fixed,
                false,
                FiveDay,
                "500.00",
                sun,
                fri_before,
                false,
                false,
                (true, R::DateNotAuthenticated),
            ),
            (
                "5-day, Sunday to Monday (after)",
                Fixed,
                true,
                FiveDay,
                "500.00",
                sun,
                mon_after,
                false,
                false,
                (true, R::DateNotAuthenticated),
            ),
            (
                "6-day, Sunday to Monday, allowed",
                Fixed,
                true,
                SixDay,
                "500.00",
                sun,
                mon_after,
                false,
                false,
                (false, R::PermittedDateAdjustment),
            ),
            (
                "6-day, Sunday to Friday, allowed",
                Fixed,
                true,
                SixDay,
                "500.00",
                sun,
                fri_before,
                false,
                false,
                (false, R::PermittedDateAdjustment),
            ),
            (
                "6-day, Sunday to Monday, not allowed",
                Fixed,
                false,
                SixDay,
                "500.00",
                sun,
                mon_after,
                false,
                false,
                (true, R::DateNotAuthenticated),
            ),
            (
                "7-day, on the Sunday",
                Fixed,
                false,
                SevenDay,
                "500.00",
                sun,
                sun,
                false,
                false,
                (false, R::WithinMandate),
            ),
            (
                "7-day, Sunday moved to Monday",
                Fixed,
                true,
                SevenDay,
                "500.00",
                sun,
                mon_after,
                false,
                false,
                (true, R::DateNotAuthenticated),
            ),
            (
                "7-day, Sunday moved to Friday",
                Fixed,
                true,
                SevenDay,
                "500.00",
                sun,
                fri_before,
                false,
                false,
                (true, R::DateNotAuthenticated),
            ),
            (
                "business day moved",
                Fixed,
                true,
                FiveDay,
                "500.00",
                wed,
                date!(2027 - 01 - 12),
                false,
                false,
                (true, R::DateNotAuthenticated),
            ),
        ];
        for (name, vt, adjust, week, amount, nominal, presented, arrears, edited, want) in rows {
            let got = disputability(
                &cal,
                &terms(*vt, *adjust, *week),
                &Collection {
                    amount: d(amount),
                    nominal: *nominal,
                    presented: *presented,
                    arrears: *arrears,
                    edited: *edited,
                },
            );
            assert_eq!(got, *want, "{name}");
        }
    }

    #[test]
    fn mandate_amount_rules() {
        let config = DebiCheckConfig::default();
        let asked = |vt, maximum: &str| MandateAsked {
            value_type: vt,
            instalment: d("500.00"),
            maximum: d(maximum),
            sequence: DebitSequence::Rcur,
            count: 6,
            adjustment: AdjustmentCategory::Never,
            adjustment_rate: None,
            adjustment_amount: None,
        };
        let code = |m: MandateAsked| check_mandate(&config, &m).err().map(|r| r.code);
        assert_eq!(code(asked(DebitValueType::Fixed, "750.00")), None);
        assert_eq!(
            code(asked(DebitValueType::Fixed, "750.01")),
            Some(ResultCode::MaximumAboveFactor)
        );
        assert_eq!(
            code(asked(DebitValueType::Variable, "499.99")),
            Some(ResultCode::MaximumBelowInstalment)
        );
        assert_eq!(code(asked(DebitValueType::UsageBased, "50000.00")), None);
        assert_eq!(
            code(asked(DebitValueType::UsageBased, "50000.01")),
            Some(ResultCode::MaximumAboveUsageLimit)
        );
        let mut ooff = asked(DebitValueType::Fixed, "500.00");
        ooff.sequence = DebitSequence::Ooff;
        assert_eq!(code(ooff), Some(ResultCode::OnceOffInstalments));
        ooff.count = 1;
        assert_eq!(code(ooff), None);
        let mut adj = asked(DebitValueType::Variable, "600.00");
        adj.adjustment = AdjustmentCategory::Annually;
        assert_eq!(code(adj), Some(ResultCode::AdjustmentInvalid));
        adj.adjustment_rate = Some(d("5"));
        assert_eq!(code(adj), None);
        adj.adjustment_amount = Some(d("10.00"));
        assert_eq!(code(adj), Some(ResultCode::AdjustmentInvalid));
        let mut fixed_adj = asked(DebitValueType::Fixed, "600.00");
        fixed_adj.adjustment = AdjustmentCategory::Repo;
        fixed_adj.adjustment_rate = Some(d("1"));
        assert_eq!(code(fixed_adj), Some(ResultCode::AdjustmentInvalid));
        let mut never = asked(DebitValueType::Fixed, "600.00");
        never.adjustment_amount = Some(d("1.00"));
        assert_eq!(code(never), Some(ResultCode::AdjustmentInvalid));
    }

    #[test]
    fn enums_and_account_types() {
        for t in AuthenticationType::ALL {
            assert_eq!(AuthenticationType::parse(t.as_str()), Some(*t));
        }
        assert!(AuthenticationType::Tt1Delayed.needs_cellphone());
        assert!(!AuthenticationType::Tt2.needs_cellphone());
        assert!(account_type_allowed(AccountType::Savings));
        assert!(!account_type_allowed(AccountType::Bond));
        assert!(!account_type_allowed(AccountType::SubscriptionShare));
        assert_eq!(weekday_name(CollectionDay(7)), "Sunday");
    }
}
