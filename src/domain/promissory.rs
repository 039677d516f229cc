//! Promissory notes (debit-order instructions) as business rules: payment streams,
//! frequencies, the note and instalment state machines, the `PN` number format, the
//! per-stream rules ([`PromissoryConfig`]: registration lead days, tracking limits) and
//! the instalment schedule on the South African business calendar. No SQL, no XML.
//!
//! Note lifecycle: `PENDING` on creation → `ACTIVE` once registered → `COMPLETED` when
//! every instalment is `COLLECTED`; `PENDING` or `ACTIVE` → `CANCELLED` by
//! `CancelPromissory`. Registration belongs to the collection engine once it exists;
//! until then a note counts as registered when [`PromissoryConfig::registration_delay`]
//! has passed since it was created (on the injected clock).
//!
//! Instalment lifecycle (the collection engine drives everything but cancellation and
//! the arrears re-presentment; `domain::collection::state` names the events):
//! `PENDING` → `SUBMITTED` (its stream's cut-off passed) → `PRESENTED` (the stream's
//! window) → `COLLECTED` / `UNPAID` / `TRACKING`; `TRACKING` → `COLLECTED` / `UNPAID`;
//! `COLLECTED` → `REVERSED` (a disputed debit); `UNPAID` → `PENDING` (an arrears
//! re-presentment by `EditInstalment`); `PENDING` / `SUBMITTED` → `CANCELLED`.
//! `REVERSED` and `CANCELLED` are final. Only a `PENDING` instalment can be edited;
//! `PENDING` and `SUBMITTED` ones have not been presented and are cancelled with their
//! note.

use rust_decimal::Decimal;
use time::{Date, Duration, Month, OffsetDateTime};

use super::{Refusal, ResultCode};
use crate::clock::format_date;
use crate::domain::calendar::{Calendar, NonBusinessDay};

contract_enum!(
    /// The stream a note collects through (WSDL `NoteStream`; `CreatePromissory` takes
    /// the first three, WSDL `PaymentStream`).
    NoteStream {
        /// Non-authenticated early debit order.
        Naedo => "NAEDO",
        /// An ordinary EFT debit order.
        Eft => "EFT",
        /// EFT debit against a social grant account (Access Bank SA, Grindrod).
        SocialGrantEft => "SOCIAL_GRANT_EFT",
        /// An authenticated collection (DebiCheck mandate), created by
        /// `CreateDebiCheckPromissory`.
        DebiCheck => "DEBICHECK",
    }
);

impl NoteStream {
    /// The streams `CreatePromissory` accepts (WSDL `PaymentStream`).
    pub const CREATABLE: &'static [NoteStream] = &[
        NoteStream::Naedo,
        NoteStream::Eft,
        NoteStream::SocialGrantEft,
    ];

    /// Parses a WSDL `PaymentStream` value (NAEDO, EFT or SOCIAL_GRANT_EFT).
    pub fn parse_payment_stream(text: &str) -> Option<NoteStream> {
        NoteStream::parse(text).filter(|s| NoteStream::CREATABLE.contains(s))
    }

    /// A description for printed documents.
    pub fn description(self) -> &'static str {
        match self {
            NoteStream::Naedo => "NAEDO (non-authenticated early debit order)",
            NoteStream::Eft => "EFT debit order",
            NoteStream::SocialGrantEft => "Social Grant EFT debit order",
            NoteStream::DebiCheck => "DebiCheck authenticated collection",
        }
    }

    /// Whether `EditInstalment` may change an instalment's amount on this stream
    /// (seed: "amounts can only be changed for ... EFT, and Social Grant EFT").
    pub fn amount_editable(self) -> bool {
        matches!(self, NoteStream::Eft | NoteStream::SocialGrantEft)
    }
}

contract_enum!(
    /// How often instalments fall due.
    Frequency {
        /// Every calendar month, on the first date's day of the month.
        Monthly => "MONTHLY",
        /// Every 14 days.
        Fortnightly => "FORTNIGHTLY",
        /// Every 7 days.
        Weekly => "WEEKLY",
    }
);

contract_enum!(
    /// A note's status.
    NoteStatus {
        /// Created, not yet registered.
        Pending => "PENDING",
        /// Registered: its instalments will be presented.
        Active => "ACTIVE",
        /// Cancelled: no instalment not yet presented will be presented.
        Cancelled => "CANCELLED",
        /// Every instalment was collected.
        Completed => "COMPLETED",
    }
);

contract_enum!(
    /// An instalment's status.
    InstalmentStatus {
        /// Not yet presented for collection.
        Pending => "PENDING",
        /// Its stream's cut-off passed: handed to the collection run, not yet
        /// presented (no longer editable).
        Submitted => "SUBMITTED",
        /// Presented, outcome not known yet.
        Presented => "PRESENTED",
        /// Collected.
        Collected => "COLLECTED",
        /// Returned unpaid.
        Unpaid => "UNPAID",
        /// Unpaid on its date and being tracked (re-presented) within TrackingDays.
        Tracking => "TRACKING",
        /// Collected, then disputed by the payer: the funds went back.
        Reversed => "REVERSED",
        /// Cancelled before it was presented.
        Cancelled => "CANCELLED",
    }
);

impl NoteStatus {
    /// Whether the state machine allows `self` → `next`.
    pub fn can_become(self, next: NoteStatus) -> bool {
        use NoteStatus::*;
        matches!(
            (self, next),
            (Pending, Active)
                | (Pending | Active, Cancelled)
                | (Active, Completed)
                | (Completed, Active)
        )
    }

    /// `PrintPromissory` serves ACTIVE, PENDING and CANCELLED notes (seed).
    pub fn printable(self) -> bool {
        matches!(
            self,
            NoteStatus::Pending | NoteStatus::Active | NoteStatus::Cancelled
        )
    }

    /// `EditInstalment` works on PENDING and ACTIVE notes.
    pub fn editable(self) -> bool {
        matches!(self, NoteStatus::Pending | NoteStatus::Active)
    }

    /// The status a note reaches given its instalments: an ACTIVE note whose every
    /// instalment is COLLECTED is COMPLETED, and a COMPLETED note one of whose
    /// instalments is no longer COLLECTED (a reversal) is ACTIVE again, so a note is
    /// COMPLETED exactly when every instalment is COLLECTED. Anything else stays as it
    /// is. The collection engine applies this after recording an outcome.
    pub fn settled(self, instalments: &[InstalmentStatus]) -> NoteStatus {
        let all_collected = !instalments.is_empty()
            && instalments
                .iter()
                .all(|s| *s == InstalmentStatus::Collected);
        match self {
            NoteStatus::Active if all_collected => NoteStatus::Completed,
            NoteStatus::Completed if !all_collected => NoteStatus::Active,
            other => other,
        }
    }

    /// The status a stored status stands for at `now`: a PENDING note created at
    /// least `delay` ago is registered, so ACTIVE. Reads use it (a read-only
    /// connection cannot record the change); writes record it first with
    /// `store::promissory::activate_due`.
    pub fn effective(
        self,
        created_at: OffsetDateTime,
        now: OffsetDateTime,
        delay: Duration,
    ) -> NoteStatus {
        if self == NoteStatus::Pending && registration_due(created_at, now, delay) {
            NoteStatus::Active
        } else {
            self
        }
    }
}

/// Whether a note created at `created_at` is registered by `now`.
pub fn registration_due(created_at: OffsetDateTime, now: OffsetDateTime, delay: Duration) -> bool {
    created_at + delay <= now
}

impl InstalmentStatus {
    /// Whether the state machine allows `self` → `next`.
    pub fn can_become(self, next: InstalmentStatus) -> bool {
        use InstalmentStatus::*;
        matches!(
            (self, next),
            (Pending, Submitted | Presented | Cancelled)
                | (Submitted, Presented | Cancelled)
                | (Presented, Collected | Unpaid | Tracking)
                | (Tracking, Collected | Unpaid)
                | (Collected, Reversed)
                | (Unpaid, Pending)
        )
    }

    /// True only for PENDING: before its cut-off, so it can be edited.
    pub fn not_yet_presented(self) -> bool {
        self == InstalmentStatus::Pending
    }

    /// PENDING or SUBMITTED: never presented, so cancelling the note cancels it.
    pub fn cancellable(self) -> bool {
        matches!(
            self,
            InstalmentStatus::Pending | InstalmentStatus::Submitted
        )
    }

    /// REVERSED or CANCELLED: nothing happens to the instalment any more.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            InstalmentStatus::Reversed | InstalmentStatus::Cancelled
        )
    }
}

/// The PromissoryNumber of a note row: `PN` and at least eight digits of the row id
/// (`PN00000042`).
pub fn promissory_number(note_id: i64) -> String {
    format!("PN{note_id:08}")
}

/// The row id a PromissoryNumber names: `PN` (either case) and 1 to 18 digits, surrounding
/// blanks ignored. `None` for anything else (no note can have that number).
pub fn parse_promissory_number(text: &str) -> Option<i64> {
    let t = text.trim();
    let digits = t.strip_prefix("PN").or_else(|| t.strip_prefix("pn"))?;
    if digits.is_empty() || digits.len() > 18 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<i64>().ok().filter(|id| *id > 0)
}

/// The largest amount `Money` (xs:decimal, 13 digits, 2 decimals) carries.
pub fn max_money() -> Decimal {
    Decimal::new(9_999_999_999_999, 2)
}

/// Checks an instalment amount: positive, at most two decimals, at most
/// [`max_money`]. Returns it at scale 2.
///
/// # Errors
///
/// `AMOUNT_NOT_POSITIVE`, `AMOUNT_PRECISION` or `AMOUNT_TOO_LARGE`, naming `field`.
pub fn check_instalment_amount(field: &'static str, amount: Decimal) -> Result<Decimal, Refusal> {
    let amount = super::check_amount(field, amount)?;
    if amount > max_money() {
        return Err(Refusal::field(
            ResultCode::AmountTooLarge,
            field,
            format!("{field} may be at most {} (13 digits)", max_money()),
        ));
    }
    Ok(amount)
}

/// Operator settings for promissory notes. Defaults (each a `serve` flag):
///
/// - registration lead days (business days between today and the earliest action
///   date): NAEDO 3, EFT 2, SOCIAL_GRANT_EFT 3. NAEDO: an instruction whose mandate was
///   obtained less than 3 days before the first action date is not eligible for
///   clearing (Direct Debit NAEDO eligibility rules, domain notes 5.7; AEDO's 3-day
///   minimum loading); 3 business days are always at least 3 calendar days. EFT: the
///   two-day EFT debit-order service (files delivered two business days before the
///   action date, e.g. Peach Payments' 2-day debit orders). SOCIAL_GRANT_EFT: no public
///   source; one day more than EFT as a margin for the grant-payment cycle. Allps'
///   own cut-offs are not published (domain notes 9.7), so all three are settings.
/// - tracking limits: NAEDO 32 days (Mercantile, MyGate), EFT and SOCIAL_GRANT_EFT 0
///   (EFT debits are not tracked). DebiCheck's 10 is fixed by the scheme.
/// - at most 60 instalments (five years monthly); the WSDL allows up to 999.
/// - FirstActionDate (and an edited ActionDate) at most 365 days after today.
/// - registration delay 10 minutes: the stand-in for the Allps processing step (the
///   seed's only processing time, wallet creation, is "normally within 10 minutes").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PromissoryConfig {
    /// Business days from today to the earliest NAEDO action date.
    pub naedo_lead_days: u16,
    /// Business days from today to the earliest EFT action date.
    pub eft_lead_days: u16,
    /// Business days from today to the earliest SOCIAL_GRANT_EFT action date.
    pub social_grant_eft_lead_days: u16,
    /// Most TrackingDays on a NAEDO note (at most 32, the WSDL's bound).
    pub naedo_max_tracking_days: u8,
    /// Most TrackingDays on an EFT note.
    pub eft_max_tracking_days: u8,
    /// Most TrackingDays on a SOCIAL_GRANT_EFT note.
    pub social_grant_eft_max_tracking_days: u8,
    /// Most NumberOfInstalments (at most 999, the WSDL's bound).
    pub max_instalments: u16,
    /// Latest action date, in calendar days after today.
    pub max_action_days_ahead: u16,
    /// Time from creation until a note counts as registered (ACTIVE).
    pub registration_delay: Duration,
    /// The age of majority: a debtor younger than this on the day of the request
    /// cannot sign a promissory note or debit order mandate (18 in South Africa,
    /// Children's Act 38 of 2005, s17).
    pub age_of_majority: u8,
    /// DebiCheck mandate limits (maximum collection amount).
    pub debicheck: DebiCheckConfig,
}

/// DebiCheck tracking is at most 10 days (PASA; domain notes 5.5).
pub const DEBICHECK_MAX_TRACKING_DAYS: u8 = 10;

/// The WSDL's bound on TrackingDays.
pub const WSDL_MAX_TRACKING_DAYS: u8 = 32;

/// The WSDL's bound on NumberOfInstalments.
pub const WSDL_MAX_INSTALMENTS: u16 = 999;

impl Default for PromissoryConfig {
    fn default() -> Self {
        PromissoryConfig {
            naedo_lead_days: 3,
            eft_lead_days: 2,
            social_grant_eft_lead_days: 3,
            naedo_max_tracking_days: 32,
            eft_max_tracking_days: 0,
            social_grant_eft_max_tracking_days: 0,
            max_instalments: 60,
            max_action_days_ahead: 365,
            registration_delay: Duration::minutes(10),
            age_of_majority: 18,
            debicheck: DebiCheckConfig::default(),
        }
    }
}

impl PromissoryConfig {
    /// Registration lead days for a stream. DEBICHECK notes authenticate instead and
    /// use the EFT lead.
    pub fn lead_days(&self, stream: NoteStream) -> u16 {
        match stream {
            NoteStream::Naedo => self.naedo_lead_days,
            NoteStream::Eft | NoteStream::DebiCheck => self.eft_lead_days,
            NoteStream::SocialGrantEft => self.social_grant_eft_lead_days,
        }
    }

    /// The most TrackingDays a stream allows.
    pub fn max_tracking_days(&self, stream: NoteStream) -> u8 {
        match stream {
            NoteStream::Naedo => self.naedo_max_tracking_days,
            NoteStream::Eft => self.eft_max_tracking_days,
            NoteStream::SocialGrantEft => self.social_grant_eft_max_tracking_days,
            NoteStream::DebiCheck => DEBICHECK_MAX_TRACKING_DAYS,
        }
    }

    /// Checks the settings against the WSDL's bounds.
    ///
    /// # Errors
    ///
    /// A sentence for the operator naming the setting.
    pub fn validate(&self) -> Result<(), String> {
        for (name, v) in [
            ("NAEDO tracking days", self.naedo_max_tracking_days),
            ("EFT tracking days", self.eft_max_tracking_days),
            (
                "SOCIAL_GRANT_EFT tracking days",
                self.social_grant_eft_max_tracking_days,
            ),
        ] {
            if v > WSDL_MAX_TRACKING_DAYS {
                return Err(format!(
                    "{name} may be at most {WSDL_MAX_TRACKING_DAYS} (the WSDL's TrackingDays bound), got {v}"
                ));
            }
        }
        if !(1..=WSDL_MAX_INSTALMENTS).contains(&self.max_instalments) {
            return Err(format!(
                "the instalment limit must be 1 to {WSDL_MAX_INSTALMENTS}, got {}",
                self.max_instalments
            ));
        }
        if self.max_action_days_ahead == 0 {
            return Err("the action-date horizon must be at least 1 day".into());
        }
        if self.registration_delay.is_negative() {
            return Err("the registration delay may not be negative".into());
        }
        self.debicheck.validate()?;
        if !(1..=99).contains(&self.age_of_majority) {
            return Err(format!(
                "the age of majority must be 1 to 99, got {}",
                self.age_of_majority
            ));
        }
        Ok(())
    }

    /// Refuses a debtor younger than the age of majority on `today` (the request's
    /// date in South Africa): a minor cannot sign a promissory note or a debit order
    /// mandate.
    ///
    /// # Errors
    ///
    /// `DEBTOR_MINOR` naming `ClientNumber`.
    pub fn check_of_age(&self, date_of_birth: Date, today: Date) -> Result<(), Refusal> {
        let majority = coming_of_age(date_of_birth, self.age_of_majority);
        if majority.is_none_or(|d| today < d) {
            return Err(Refusal::field(
                ResultCode::DebtorMinor,
                "ClientNumber",
                format!(
                    "the client is under {} on {today} and cannot sign a promissory note or debit order mandate",
                    self.age_of_majority
                ),
            ));
        }
        Ok(())
    }

    /// Checks TrackingDays against the stream's limit.
    ///
    /// # Errors
    ///
    /// `TRACKING_DAYS_NOT_ALLOWED` naming `TrackingDays`.
    pub fn check_tracking_days(&self, stream: NoteStream, days: i64) -> Result<u8, Refusal> {
        let max = self.max_tracking_days(stream);
        match u8::try_from(days) {
            Ok(d) if d <= max => Ok(d),
            _ => Err(Refusal::field(
                ResultCode::TrackingDaysNotAllowed,
                "TrackingDays",
                if max == 0 {
                    format!("{stream} notes are not tracked: TrackingDays must be 0, got {days}")
                } else {
                    format!("TrackingDays for {stream} notes must be 0 to {max}, got {days}")
                },
            )),
        }
    }
}

/// Operator settings for DebiCheck mandates (each a `serve` flag).
///
/// - the maximum collection amount of a FIXED or VARIABLE mandate is at most
///   `max_factor` times the instalment (MaxMoney's Allps default "maximum collection
///   rate 1.5", domain notes 1.6);
/// - a USAGE_BASED mandate's maximum collection amount is at most `usage_limit`
///   (no public figure; 50 000.00, the per-account payout maximum, by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DebiCheckConfig {
    /// Most MaximumCollectionAmount / InstalmentAmount for FIXED and VARIABLE.
    pub max_factor: Decimal,
    /// Most MaximumCollectionAmount for USAGE_BASED.
    pub usage_limit: Decimal,
}

impl Default for DebiCheckConfig {
    fn default() -> Self {
        DebiCheckConfig {
            max_factor: Decimal::new(15, 1),
            usage_limit: Decimal::new(5_000_000, 2),
        }
    }
}

impl DebiCheckConfig {
    /// Checks the settings.
    ///
    /// # Errors
    ///
    /// A sentence for the operator.
    pub fn validate(&self) -> Result<(), String> {
        if self.max_factor < Decimal::ONE {
            return Err(format!(
                "the DebiCheck maximum factor must be at least 1, got {}",
                self.max_factor
            ));
        }
        if self.usage_limit <= Decimal::ZERO {
            return Err("the DebiCheck usage-based limit must be positive".into());
        }
        Ok(())
    }
}

/// The registration cut-off: the earliest action date a note of a stream with
/// `lead_days` may have when created on `today`, i.e. the `lead_days`-th business day
/// after today (with 0: today if it is a business day, else the next one).
pub fn earliest_action_date(calendar: &Calendar, today: Date, lead_days: u16) -> Option<Date> {
    calendar.add_business_days(today, i32::from(lead_days))
}

/// Checks an action date (FirstActionDate, or an edited ActionDate): on or after the
/// stream's registration cut-off, at most `max_days_ahead` days after today, and a
/// business day. Each failure has its own code; the holiday message names the holiday.
///
/// # Errors
///
/// `ACTION_DATE_BEFORE_CUT_OFF`, `ACTION_DATE_TOO_FAR`, `ACTION_DATE_WEEKEND` or
/// `ACTION_DATE_PUBLIC_HOLIDAY`, naming `field`.
pub fn check_action_date(
    calendar: &Calendar,
    today: Date,
    date: Date,
    stream: NoteStream,
    config: &PromissoryConfig,
    field: &'static str,
) -> Result<(), Refusal> {
    let lead = config.lead_days(stream);
    let earliest = earliest_action_date(calendar, today, lead).ok_or_else(|| {
        Refusal::field(
            ResultCode::ActionDateBeforeCutOff,
            field,
            "no action date is possible from today",
        )
    })?;
    if date < earliest {
        return Err(Refusal::field(
            ResultCode::ActionDateBeforeCutOff,
            field,
            format!(
                "{field} {} is before the {stream} registration cut-off: the earliest action date is {} ({lead} business day(s) after {})",
                format_date(date),
                format_date(earliest),
                format_date(today)
            ),
        ));
    }
    let latest = today.saturating_add(Duration::days(i64::from(config.max_action_days_ahead)));
    if date > latest {
        return Err(Refusal::field(
            ResultCode::ActionDateTooFar,
            field,
            format!(
                "{field} {} is more than {} days after today: the latest action date is {}",
                format_date(date),
                config.max_action_days_ahead,
                format_date(latest)
            ),
        ));
    }
    match calendar.non_business_reason(date) {
        None => Ok(()),
        Some(NonBusinessDay::PublicHoliday { name }) => Err(Refusal::field(
            ResultCode::ActionDatePublicHoliday,
            field,
            format!(
                "{field} {} is a public holiday ({name}); action dates must be business days",
                format_date(date)
            ),
        )),
        Some(day) => Err(Refusal::field(
            ResultCode::ActionDateWeekend,
            field,
            format!(
                "{field} {} is a {}; action dates must be business days",
                format_date(date),
                if day == NonBusinessDay::Saturday {
                    "Saturday"
                } else {
                    "Sunday"
                }
            ),
        )),
    }
}

/// The date `months` calendar months after `first`, keeping `first`'s day of the month
/// or the month's last day when it is shorter (31 Jan + 1 = 28/29 Feb, + 2 = 31 Mar).
pub fn add_months(first: Date, months: u32) -> Option<Date> {
    let index =
        i64::from(first.year()) * 12 + i64::from(u8::from(first.month()) - 1) + i64::from(months);
    let year = i32::try_from(index.div_euclid(12)).ok()?;
    let month = Month::try_from(u8::try_from(index.rem_euclid(12) + 1).ok()?).ok()?;
    let day = first.day().min(month.length(year));
    Date::from_calendar_date(year, month, day).ok()
}

/// The day a person born on `date_of_birth` turns `age`. Someone born on 29 February
/// turns that age on 1 March of a common year (the anniversary day does not exist, and
/// the later reading never lets a minor sign). `None` past `time`'s range.
pub fn coming_of_age(date_of_birth: Date, age: u8) -> Option<Date> {
    let year = date_of_birth.year().checked_add(i32::from(age))?;
    match Date::from_calendar_date(year, date_of_birth.month(), date_of_birth.day()) {
        Ok(d) => Some(d),
        // Only 29 February in a common year fails.
        Err(_) => Date::from_calendar_date(year, Month::March, 1).ok(),
    }
}

/// The action dates of a schedule: instalment `k` (from 0) falls `k` months, fortnights
/// or weeks after `first`, each derived from `first` (never from the previous date, so
/// a short month does not shift later ones), and a date that is not a business day
/// moves to the previous business day. `None` if a date leaves `time`'s range.
pub fn schedule(
    calendar: &Calendar,
    first: Date,
    frequency: Frequency,
    count: u16,
) -> Option<Vec<Date>> {
    (0..u32::from(count))
        .map(|k| {
            let nominal = match frequency {
                Frequency::Monthly => add_months(first, k)?,
                Frequency::Fortnightly => first.checked_add(Duration::days(14 * i64::from(k)))?,
                Frequency::Weekly => first.checked_add(Duration::days(7 * i64::from(k)))?,
            };
            calendar.on_or_before(nominal)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;
    use time::macros::{date, datetime};

    fn sa() -> Calendar {
        Calendar::south_africa()
    }

    #[test]
    fn month_ends_keep_the_day_of_the_first_date() {
        let first = date!(2027 - 01 - 29); // Friday
        let nominal: Vec<Date> = (0..4).map(|k| add_months(first, k).unwrap()).collect();
        assert_eq!(
            nominal,
            [
                date!(2027 - 01 - 29),
                date!(2027 - 02 - 28),
                date!(2027 - 03 - 29),
                date!(2027 - 04 - 29)
            ]
        );
        let d31 = date!(2027 - 12 - 31);
        assert_eq!(add_months(d31, 2), Some(date!(2028 - 02 - 29))); // leap year
        assert_eq!(add_months(d31, 3), Some(date!(2028 - 03 - 31)));
        assert_eq!(add_months(d31, 14), Some(date!(2029 - 02 - 28)));
        assert_eq!(
            add_months(date!(2026 - 11 - 30), 1),
            Some(date!(2026 - 12 - 30))
        );
        assert_eq!(
            add_months(date!(2026 - 11 - 30), 13),
            Some(date!(2027 - 12 - 30))
        );
        assert_eq!(add_months(date!(9999 - 12 - 01), 1), None);
    }

    #[test]
    fn monthly_schedule_31st_with_month_ends_and_weekends() {
        // 31 Mar 2027 is a Wednesday.
        let dates = schedule(&sa(), date!(2027 - 03 - 31), Frequency::Monthly, 6).unwrap();
        assert_eq!(
            dates,
            [
                date!(2027 - 03 - 31), // Wed
                date!(2027 - 04 - 30), // 30 Apr, Fri
                date!(2027 - 05 - 31), // Mon
                date!(2027 - 06 - 30), // Wed
                date!(2027 - 07 - 30), // 31 Jul is a Saturday -> Fri 30
                date!(2027 - 08 - 31), // Tue
            ]
        );
    }

    #[test]
    fn age_of_majority_on_the_request_date() {
        let config = PromissoryConfig::default();
        let today = date!(2026 - 12 - 06);
        // Born ten months ago, and aged 16: refused.
        for dob in [date!(2026 - 02 - 06), date!(2010 - 05 - 01)] {
            let refusal = config.check_of_age(dob, today).unwrap_err();
            assert_eq!(refusal.code, ResultCode::DebtorMinor);
            assert_eq!(refusal.field, Some("ClientNumber"));
        }
        // The day before the 18th birthday is refused; the birthday itself is not.
        assert!(config.check_of_age(date!(2008 - 12 - 07), today).is_err());
        assert!(config.check_of_age(date!(2008 - 12 - 06), today).is_ok());
        assert!(config.check_of_age(date!(1960 - 01 - 01), today).is_ok());
        // 29 February: of age on 1 March of a common year, on 29 Feb of a leap year.
        assert_eq!(
            coming_of_age(date!(2008 - 02 - 29), 18),
            Some(date!(2026 - 03 - 01))
        );
        assert_eq!(
            coming_of_age(date!(2010 - 02 - 28), 18),
            Some(date!(2028 - 02 - 28))
        );
        assert_eq!(
            coming_of_age(date!(2012 - 02 - 29), 20),
            Some(date!(2032 - 02 - 29))
        );
        assert!(
            config
                .check_of_age(date!(2008 - 02 - 29), date!(2026 - 02 - 28))
                .is_err()
        );
        // Configurable: 21.
        let config21 = PromissoryConfig {
            age_of_majority: 21,
            ..PromissoryConfig::default()
        };
        assert!(config21.check_of_age(date!(2006 - 01 - 01), today).is_err());
        assert!(config21.check_of_age(date!(2005 - 12 - 06), today).is_ok());
    }

    #[test]
    fn monthly_schedule_avoids_the_declared_2026_election_day() {
        // 4 Nov 2026 (Wednesday) is declared for the local government elections
        // (Proclamation Notice 346 of 2026, Government Gazette 55352): the third date of a
        // monthly note from 4 Sep 2026 moves to the previous business day.
        let dates = schedule(&sa(), date!(2026 - 09 - 04), Frequency::Monthly, 3).unwrap();
        assert_eq!(
            dates,
            [
                date!(2026 - 09 - 04),
                date!(2026 - 10 - 02), // 4 Oct is a Sunday
                date!(2026 - 11 - 03),
            ]
        );
    }

    #[test]
    fn monthly_schedule_through_a_leap_february() {
        // 31 Jan 2028 (Monday): 29 Feb 2028 is a Tuesday, 31 Mar a Friday.
        let dates = schedule(&sa(), date!(2028 - 01 - 31), Frequency::Monthly, 3).unwrap();
        assert_eq!(
            dates,
            [
                date!(2028 - 01 - 31),
                date!(2028 - 02 - 29),
                date!(2028 - 03 - 31)
            ]
        );
        // 2027 is not a leap year: 28 Feb 2027 is a Sunday -> Friday 26 Feb; 29 Mar 2027
        // is Family Day -> Thursday 25 Mar (Good Friday 26 Mar).
        let dates = schedule(&sa(), date!(2027 - 01 - 29), Frequency::Monthly, 3).unwrap();
        assert_eq!(
            dates,
            [
                date!(2027 - 01 - 29),
                date!(2027 - 02 - 26),
                date!(2027 - 03 - 25)
            ]
        );
    }

    #[test]
    fn holidays_move_instalments_to_the_previous_business_day() {
        // The 25th: 25 Dec 2026 (Christmas, Friday) -> Thursday 24 Dec.
        let dates = schedule(&sa(), date!(2026 - 11 - 25), Frequency::Monthly, 5).unwrap();
        assert_eq!(
            dates,
            [
                date!(2026 - 11 - 25),
                date!(2026 - 12 - 24), // Christmas Day
                date!(2027 - 01 - 25),
                date!(2027 - 02 - 25),
                date!(2027 - 03 - 25),
            ]
        );
        // The 22nd: 22 Mar 2027 is Human Rights Day observed (Sunday 21 Mar) -> Fri 19.
        let dates = schedule(&sa(), date!(2027 - 02 - 22), Frequency::Monthly, 2).unwrap();
        assert_eq!(dates[1], date!(2027 - 03 - 19));
        // Easter: Family Day Monday 29 Mar 2027, Good Friday 26 Mar -> Thursday 25 Mar.
        let dates = schedule(&sa(), date!(2027 - 02 - 26), Frequency::Monthly, 2).unwrap();
        assert_eq!(dates[1], date!(2027 - 03 - 25));
        // The 29th: Family Day Monday 29 Mar 2027 -> back over Sunday, Saturday and Good
        // Friday to Thursday 25 Mar.
        let dates = schedule(&sa(), date!(2027 - 01 - 29), Frequency::Monthly, 3).unwrap();
        assert_eq!(dates[2], date!(2027 - 03 - 25));
    }

    #[test]
    fn weekly_and_fortnightly_schedules() {
        // Weekly from Friday 4 Dec 2026: 25 Dec (Christmas) -> Thursday 24 Dec;
        // 1 Jan 2027 (New Year) -> Thursday 31 Dec.
        let dates = schedule(&sa(), date!(2026 - 12 - 04), Frequency::Weekly, 6).unwrap();
        assert_eq!(
            dates,
            [
                date!(2026 - 12 - 04),
                date!(2026 - 12 - 11),
                date!(2026 - 12 - 18),
                date!(2026 - 12 - 24),
                date!(2026 - 12 - 31),
                date!(2027 - 01 - 08),
            ]
        );
        // Fortnightly from Wednesday 2 Dec 2026: 16 Dec is Day of Reconciliation -> 15 Dec.
        let dates = schedule(&sa(), date!(2026 - 12 - 02), Frequency::Fortnightly, 4).unwrap();
        assert_eq!(
            dates,
            [
                date!(2026 - 12 - 02),
                date!(2026 - 12 - 15),
                date!(2026 - 12 - 30),
                date!(2027 - 01 - 13),
            ]
        );
        // Every schedule is strictly increasing and made of business days.
        for frequency in Frequency::ALL {
            let dates = schedule(&sa(), date!(2026 - 11 - 26), *frequency, 120).unwrap();
            assert!(dates.windows(2).all(|w| w[0] < w[1]), "{frequency}");
            assert!(
                dates.iter().all(|d| sa().is_business_day(*d)),
                "{frequency}"
            );
        }
    }

    #[test]
    fn schedule_edges() {
        assert_eq!(
            schedule(&sa(), date!(2026 - 11 - 26), Frequency::Weekly, 0),
            Some(vec![])
        );
        assert_eq!(
            schedule(&sa(), date!(9999 - 12 - 01), Frequency::Weekly, 10),
            None
        );
    }

    #[test]
    fn cut_off_counts_business_days_after_today() {
        let cal = sa();
        // Monday 23 Nov 2026.
        let today = date!(2026 - 11 - 23);
        assert_eq!(
            earliest_action_date(&cal, today, 2),
            Some(date!(2026 - 11 - 25))
        );
        assert_eq!(
            earliest_action_date(&cal, today, 3),
            Some(date!(2026 - 11 - 26))
        );
        assert_eq!(earliest_action_date(&cal, today, 0), Some(today));
        // From Friday: the weekend does not count.
        assert_eq!(
            earliest_action_date(&cal, date!(2026 - 11 - 27), 2),
            Some(date!(2026 - 12 - 01))
        );
        // From a Saturday with lead 0: the next business day.
        assert_eq!(
            earliest_action_date(&cal, date!(2026 - 11 - 28), 0),
            Some(date!(2026 - 11 - 30))
        );
        // Across Christmas 2026: Thu 24 Dec + 2 = Tue 29 Dec (25 Fri and 26 Sat are holidays).
        assert_eq!(
            earliest_action_date(&cal, date!(2026 - 12 - 24), 2),
            Some(date!(2026 - 12 - 29))
        );
        // Across Easter 2027: Thu 25 Mar + 1 = Tue 30 Mar.
        assert_eq!(
            earliest_action_date(&cal, date!(2027 - 03 - 25), 1),
            Some(date!(2027 - 03 - 30))
        );
    }

    #[test]
    fn action_date_rules_and_their_codes() {
        let cal = sa();
        let cfg = PromissoryConfig::default();
        let today = date!(2026 - 11 - 23);
        let check = |d, s| check_action_date(&cal, today, d, s, &cfg, "FirstActionDate");
        assert!(check(date!(2026 - 11 - 26), NoteStream::Naedo).is_ok());
        assert!(check(date!(2026 - 11 - 25), NoteStream::Eft).is_ok());
        let e = check(date!(2026 - 11 - 25), NoteStream::Naedo).unwrap_err();
        assert_eq!(e.code, ResultCode::ActionDateBeforeCutOff);
        assert!(e.message.contains("2026-11-26"), "{}", e.message);
        assert_eq!(
            check(date!(2026 - 11 - 25), NoteStream::SocialGrantEft)
                .unwrap_err()
                .code,
            ResultCode::ActionDateBeforeCutOff
        );
        assert_eq!(
            check(date!(2026 - 11 - 20), NoteStream::Eft)
                .unwrap_err()
                .code,
            ResultCode::ActionDateBeforeCutOff
        );
        let e = check(date!(2026 - 11 - 28), NoteStream::Eft).unwrap_err();
        assert_eq!(e.code, ResultCode::ActionDateWeekend);
        assert!(e.message.contains("Saturday"));
        let e = check(date!(2026 - 11 - 29), NoteStream::Eft).unwrap_err();
        assert_eq!(e.code, ResultCode::ActionDateWeekend);
        assert!(e.message.contains("Sunday"));
        let e = check(date!(2026 - 12 - 16), NoteStream::Eft).unwrap_err();
        assert_eq!(e.code, ResultCode::ActionDatePublicHoliday);
        assert!(e.message.contains("Day of Reconciliation"));
        // A holiday on a Saturday is reported as the holiday.
        let e = check(date!(2026 - 12 - 26), NoteStream::Eft).unwrap_err();
        assert_eq!(e.code, ResultCode::ActionDatePublicHoliday);
        assert!(e.message.contains("Day of Goodwill"));
        let e = check(date!(2027 - 03 - 26), NoteStream::Eft).unwrap_err();
        assert!(e.message.contains("Good Friday"));
        let e = check(date!(2027 - 03 - 22), NoteStream::Eft).unwrap_err();
        assert!(e.message.contains("Human Rights Day (observed)"));
        assert!(check(date!(2027 - 11 - 23), NoteStream::Eft).is_ok());
        assert_eq!(
            check(date!(2027 - 11 - 24), NoteStream::Eft)
                .unwrap_err()
                .code,
            ResultCode::ActionDateTooFar
        );
    }

    #[test]
    fn tracking_limits_per_stream() {
        let cfg = PromissoryConfig::default();
        assert_eq!(cfg.check_tracking_days(NoteStream::Naedo, 32), Ok(32));
        assert_eq!(cfg.check_tracking_days(NoteStream::Naedo, 0), Ok(0));
        for (stream, days) in [
            (NoteStream::Naedo, 33),
            (NoteStream::Naedo, -1),
            (NoteStream::Eft, 1),
            (NoteStream::SocialGrantEft, 1),
            (NoteStream::DebiCheck, 11),
        ] {
            assert_eq!(
                cfg.check_tracking_days(stream, days).unwrap_err().code,
                ResultCode::TrackingDaysNotAllowed,
                "{stream} {days}"
            );
        }
        assert_eq!(cfg.check_tracking_days(NoteStream::Eft, 0), Ok(0));
        assert_eq!(cfg.check_tracking_days(NoteStream::DebiCheck, 10), Ok(10));
    }

    #[test]
    fn config_bounds() {
        assert!(PromissoryConfig::default().validate().is_ok());
        let bad = PromissoryConfig {
            naedo_max_tracking_days: 33,
            ..PromissoryConfig::default()
        };
        assert!(bad.validate().is_err());
        let bad = PromissoryConfig {
            max_instalments: 1000,
            ..PromissoryConfig::default()
        };
        assert!(bad.validate().is_err());
        let bad = PromissoryConfig {
            registration_delay: Duration::minutes(-1),
            ..PromissoryConfig::default()
        };
        assert!(bad.validate().is_err());
    }

    #[test]
    fn note_state_machine() {
        use NoteStatus::*;
        let allowed: Vec<(NoteStatus, NoteStatus)> = NoteStatus::ALL
            .iter()
            .flat_map(|a| NoteStatus::ALL.iter().map(move |b| (*a, *b)))
            .filter(|(a, b)| a.can_become(*b))
            .collect();
        assert_eq!(
            allowed,
            [
                (Pending, Active),
                (Pending, Cancelled),
                (Active, Cancelled),
                (Active, Completed),
                (Completed, Active)
            ]
        );
        assert!(Pending.printable() && Active.printable() && Cancelled.printable());
        assert!(!Completed.printable());
        assert!(Pending.editable() && Active.editable());
        assert!(!Cancelled.editable() && !Completed.editable());
        use InstalmentStatus as I;
        assert_eq!(Active.settled(&[I::Collected, I::Collected]), Completed);
        assert_eq!(Active.settled(&[I::Collected, I::Unpaid]), Active);
        assert_eq!(Active.settled(&[I::Collected, I::Pending]), Active);
        assert_eq!(Pending.settled(&[I::Collected]), Pending);
        assert_eq!(Cancelled.settled(&[I::Collected]), Cancelled);
        assert_eq!(Active.settled(&[]), Active);
        assert_eq!(Completed.settled(&[I::Collected, I::Reversed]), Active);
        assert_eq!(Completed.settled(&[I::Collected]), Completed);
    }

    #[test]
    fn instalment_state_machine() {
        use InstalmentStatus::*;
        let allowed: Vec<(InstalmentStatus, InstalmentStatus)> = InstalmentStatus::ALL
            .iter()
            .flat_map(|a| InstalmentStatus::ALL.iter().map(move |b| (*a, *b)))
            .filter(|(a, b)| a.can_become(*b))
            .collect();
        assert_eq!(
            allowed,
            [
                (Pending, Submitted),
                (Pending, Presented),
                (Pending, Cancelled),
                (Submitted, Presented),
                (Submitted, Cancelled),
                (Presented, Collected),
                (Presented, Unpaid),
                (Presented, Tracking),
                (Collected, Reversed),
                (Unpaid, Pending),
                (Tracking, Collected),
                (Tracking, Unpaid),
            ]
        );
        assert!(Pending.not_yet_presented());
        for s in [
            Submitted, Presented, Collected, Unpaid, Tracking, Reversed, Cancelled,
        ] {
            assert!(!s.not_yet_presented(), "{s}");
        }
        // Final states have no way out; every other state has one.
        for a in InstalmentStatus::ALL {
            let exits = InstalmentStatus::ALL.iter().any(|b| a.can_become(*b));
            assert_eq!(a.is_final(), !exits, "{a}");
        }
        assert!(Pending.cancellable() && Submitted.cancellable());
        assert!(!Presented.cancellable() && !Tracking.cancellable());
    }

    #[test]
    fn registration_after_the_delay() {
        let created = datetime!(2026-11-23 08:00 UTC);
        let delay = Duration::minutes(10);
        let s = NoteStatus::Pending;
        assert_eq!(
            s.effective(created, created + Duration::minutes(9), delay),
            NoteStatus::Pending
        );
        assert_eq!(
            s.effective(created, created + delay, delay),
            NoteStatus::Active
        );
        assert_eq!(
            NoteStatus::Cancelled.effective(created, created + delay, delay),
            NoteStatus::Cancelled
        );
        assert_eq!(
            s.effective(created, created, Duration::ZERO),
            NoteStatus::Active
        );
    }

    #[test]
    fn numbers_and_streams() {
        assert_eq!(promissory_number(42), "PN00000042");
        assert_eq!(promissory_number(123_456_789), "PN123456789");
        assert_eq!(parse_promissory_number(" PN00000042 "), Some(42));
        assert_eq!(parse_promissory_number("pn42"), Some(42));
        for bad in [
            "",
            "PN",
            "PN0",
            "XX00000042",
            "PN-1",
            "PN12a",
            "PN1234567890123456789",
        ] {
            assert_eq!(parse_promissory_number(bad), None, "{bad}");
        }
        assert_eq!(
            NoteStream::parse_payment_stream("EFT"),
            Some(NoteStream::Eft)
        );
        assert_eq!(NoteStream::parse_payment_stream("DEBICHECK"), None);
        assert!(NoteStream::Eft.amount_editable() && NoteStream::SocialGrantEft.amount_editable());
        assert!(!NoteStream::Naedo.amount_editable());
    }

    #[test]
    fn instalment_amounts() {
        let d = |s| Decimal::from_str(s).unwrap();
        assert_eq!(
            check_instalment_amount("Amount", d("850.5"))
                .unwrap()
                .to_string(),
            "850.50"
        );
        assert_eq!(
            check_instalment_amount("Amount", d("99999999999.99"))
                .unwrap()
                .to_string(),
            "99999999999.99"
        );
        assert_eq!(
            check_instalment_amount("Amount", d("100000000000"))
                .unwrap_err()
                .code,
            ResultCode::AmountTooLarge
        );
        assert_eq!(
            check_instalment_amount("Amount", d("0")).unwrap_err().code,
            ResultCode::AmountNotPositive
        );
        assert_eq!(
            check_instalment_amount("Amount", d("1.001"))
                .unwrap_err()
                .code,
            ResultCode::AmountPrecision
        );
    }
}
