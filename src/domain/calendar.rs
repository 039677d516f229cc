//! South African business calendar.
//!
//! Owns the answer to "is this date a business day?" for allps-ws: the statutory
//! public holidays of the Public Holidays Act, 1994 (computed for any year), the
//! once-off holidays the President declares under section 2A (bundled in
//! `data/declared-holidays.txt`, replaceable at run time), business-day navigation
//! and arithmetic for instalment dates, and the 5/6/7-day bank processing weeks
//! the collection engine builds on.
//!
//! Rules applied:
//! - Statutory holidays: 1 Jan New Year's Day, 21 Mar Human Rights Day, Good
//!   Friday and Family Day (the Friday before and the Monday after Gregorian
//!   Easter Sunday), 27 Apr Freedom Day, 1 May Workers' Day, 16 Jun Youth Day,
//!   9 Aug National Women's Day, 24 Sep Heritage Day, 16 Dec Day of
//!   Reconciliation, 25 Dec Christmas Day, 26 Dec Day of Goodwill.
//! - Section 2(1): a public holiday (statutory or declared) that falls on a
//!   Sunday makes the following Monday a public holiday, named
//!   `"<holiday> (observed)"`. If that Monday is already a public holiday the Act
//!   gives no further day (25 Dec on a Sunday: 26 Dec is the Monday anyway);
//!   extra days such as 27 Dec 2022 exist only when declared.
//! - Two holidays on one date are reported as one holiday whose names are joined
//!   with `" / "` (e.g. 21 Mar 2008, Human Rights Day and Good Friday).
//! - The Act took effect on 1 January 1995. The same rules are applied to every
//!   year `time` can represent, so results for years before 1995 are the current
//!   rules projected backwards, not the historical holidays.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use time::{Date, Month, Weekday};

/// The declared-holidays list compiled into the binary (`data/declared-holidays.txt`).
///
/// [`Calendar::south_africa`] uses it; an operator who needs a newer list copies
/// the file, extends it and loads it with [`Calendar::from_declared_file`].
pub const BUNDLED_DECLARED_HOLIDAYS: &str = include_str!("../../data/declared-holidays.txt");

/// Fixed-date statutory holidays, in calendar order.
const FIXED_HOLIDAYS: [(Month, u8, &str); 10] = [
    (Month::January, 1, "New Year's Day"),
    (Month::March, 21, "Human Rights Day"),
    (Month::April, 27, "Freedom Day"),
    (Month::May, 1, "Workers' Day"),
    (Month::June, 16, "Youth Day"),
    (Month::August, 9, "National Women's Day"),
    (Month::September, 24, "Heritage Day"),
    (Month::December, 16, "Day of Reconciliation"),
    (Month::December, 25, "Christmas Day"),
    (Month::December, 26, "Day of Goodwill"),
];

/// Why a date is not a business day.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum NonBusinessDay {
    /// An ordinary Saturday (not a public holiday).
    Saturday,
    /// An ordinary Sunday (not a public holiday).
    Sunday,
    /// A public holiday, whatever the weekday (a holiday on a weekend is reported
    /// as a holiday, because that is what stops 6-day banks processing it).
    PublicHoliday {
        /// The holiday's name, e.g. `"Good Friday"` or `"Youth Day (observed)"`.
        name: String,
    },
}

impl NonBusinessDay {
    /// True for [`NonBusinessDay::Saturday`] and [`NonBusinessDay::Sunday`].
    pub fn is_weekend(&self) -> bool {
        matches!(self, NonBusinessDay::Saturday | NonBusinessDay::Sunday)
    }
}

/// The days on which a bank processes collections (DebiCheck/NAEDO presentments
/// and tracking).
///
/// Per the DebiCheck seed ("A 6-day bank processes DebiCheck collections on six
/// days per week. A 7-day bank processes collections every day.") and the Kwik
/// distinction between a business day (Mon–Fri) and a banking day (Mon–Sat)
/// noted in the domain notes. Which bank is which is configuration, not part of
/// this module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProcessingWeek {
    /// Processes on business days only: Monday–Friday, not public holidays.
    FiveDay,
    /// Processes Monday–Saturday, not public holidays (a Saturday that is a
    /// public holiday is not a processing day); never on Sunday.
    SixDay,
    /// Processes every calendar day, including Sundays and public holidays.
    SevenDay,
}

/// Errors from loading a declared-holidays list. Line numbers are 1-based.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CalendarError {
    /// The line does not start with a `YYYY-MM-DD` token.
    #[error("declared holidays line {line}: expected `YYYY-MM-DD Name`, found `{content}`")]
    MalformedLine {
        /// 1-based line number.
        line: usize,
        /// The line, without its comment.
        content: String,
    },
    /// The date token has the right shape but is not a real date (e.g. `2023-02-30`).
    #[error("declared holidays line {line}: `{text}` is not a valid date")]
    InvalidDate {
        /// 1-based line number.
        line: usize,
        /// The offending date token.
        text: String,
    },
    /// A date with no holiday name after it.
    #[error("declared holidays line {line}: {date} has no holiday name")]
    MissingName {
        /// 1-based line number.
        line: usize,
        /// The date on that line.
        date: Date,
    },
    /// The same date appears twice.
    #[error("declared holidays line {line}: {date} is already declared on line {first_line}")]
    DuplicateDate {
        /// 1-based line number of the repeat.
        line: usize,
        /// 1-based line number of the first occurrence.
        first_line: usize,
        /// The repeated date.
        date: Date,
    },
    /// The file could not be read.
    #[error("cannot read declared holidays file {}: {source}", path.display())]
    Io {
        /// The path that was tried.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
}

/// A South African business calendar: statutory holidays plus a list of
/// declared once-off holidays.
///
/// Navigation methods return `None` only when the answer would lie outside the
/// dates `time::Date` can represent; no method panics for any `Date`.
#[derive(Debug, Clone)]
pub struct Calendar {
    declared: BTreeMap<Date, String>,
    /// Every public holiday of [`FAST_YEARS`], built on first use: the collection
    /// engine asks "is this a business day" millions of times a morning, and building
    /// a year's holiday map for each question was a measurable part of its time.
    fast: OnceLock<HashSet<Date>>,
}

/// The years whose holidays [`Calendar::is_public_holiday`] answers from its set;
/// other years are computed on each call, as before.
const FAST_YEARS: std::ops::RangeInclusive<i32> = 1990..=2150;

/// Two calendars are equal when they declare the same days (the set is derived).
impl PartialEq for Calendar {
    fn eq(&self, other: &Self) -> bool {
        self.declared == other.declared
    }
}

impl Eq for Calendar {}

impl Default for Calendar {
    fn default() -> Self {
        Self::south_africa()
    }
}

impl Calendar {
    /// The built-in calendar: statutory holidays plus [`BUNDLED_DECLARED_HOLIDAYS`].
    pub fn south_africa() -> Self {
        Self::with_declared(BUNDLED_DECLARED_HOLIDAYS)
            .expect("bundled data/declared-holidays.txt is valid (checked by unit tests)")
    }

    /// Statutory holidays plus the declared holidays in `text` (format of
    /// `data/declared-holidays.txt`). `text` replaces the bundled list; it does not
    /// add to it.
    pub fn with_declared(text: &str) -> Result<Self, CalendarError> {
        Ok(Self {
            declared: parse_declared(text)?,
            fast: OnceLock::new(),
        })
    }

    /// Like [`Calendar::with_declared`], reading the list from a file so an operator
    /// can add declarations without a rebuild. The file replaces the bundled list.
    pub fn from_declared_file(path: impl AsRef<Path>) -> Result<Self, CalendarError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| CalendarError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::with_declared(&text)
    }

    /// This calendar with more declared days (days it already knows are kept as they
    /// are): the server's calendar plus the holidays declared at run time.
    pub fn with_more_declared(&self, days: &[(Date, String)]) -> Calendar {
        let mut calendar = Calendar {
            declared: self.declared.clone(),
            fast: OnceLock::new(),
        };
        for (date, name) in days {
            calendar
                .declared
                .entry(*date)
                .or_insert_with(|| name.clone());
        }
        calendar
    }

    /// The declared once-off holidays this calendar knows, in date order (without
    /// any Monday that the Sunday rule adds).
    pub fn declared_holidays(&self) -> impl Iterator<Item = (Date, &str)> + '_ {
        self.declared.iter().map(|(d, n)| (*d, n.as_str()))
    }

    /// Every public holiday in `year`, sorted by date, one entry per date:
    /// statutory, declared, and Mondays added by the Sunday rule. Empty for a
    /// year `time` cannot represent.
    pub fn holidays_in(&self, year: i32) -> Vec<(Date, String)> {
        self.holiday_map(year).into_iter().collect()
    }

    /// The public holiday's name if `date` is a public holiday.
    pub fn holiday_name(&self, date: Date) -> Option<String> {
        self.holiday_map(date.year()).remove(&date)
    }

    /// True if `date` is a public holiday (on any weekday).
    pub fn is_public_holiday(&self, date: Date) -> bool {
        if FAST_YEARS.contains(&date.year()) {
            return self
                .fast
                .get_or_init(|| {
                    FAST_YEARS
                        .flat_map(|year| self.holiday_map(year).into_keys())
                        .collect()
                })
                .contains(&date);
        }
        self.holiday_map(date.year()).contains_key(&date)
    }

    /// True if `date` is Monday–Friday and not a public holiday.
    pub fn is_business_day(&self, date: Date) -> bool {
        !is_weekend(date) && !self.is_public_holiday(date)
    }

    /// Why `date` is not a business day, or `None` if it is one. A public holiday
    /// takes precedence over the weekend (see [`NonBusinessDay::PublicHoliday`]).
    pub fn non_business_reason(&self, date: Date) -> Option<NonBusinessDay> {
        if let Some(name) = self.holiday_name(date) {
            return Some(NonBusinessDay::PublicHoliday { name });
        }
        match date.weekday() {
            Weekday::Saturday => Some(NonBusinessDay::Saturday),
            Weekday::Sunday => Some(NonBusinessDay::Sunday),
            _ => None,
        }
    }

    /// The latest business day strictly before `date`.
    pub fn previous_business_day(&self, date: Date) -> Option<Date> {
        self.step(&mut Cursor::new(self), date, false)
    }

    /// The earliest business day strictly after `date`.
    pub fn next_business_day(&self, date: Date) -> Option<Date> {
        self.step(&mut Cursor::new(self), date, true)
    }

    /// `date` if it is a business day, otherwise the previous business day
    /// (roll back, e.g. for a "move collection before the weekend/holiday" rule).
    pub fn on_or_before(&self, date: Date) -> Option<Date> {
        if self.is_business_day(date) {
            Some(date)
        } else {
            self.previous_business_day(date)
        }
    }

    /// `date` if it is a business day, otherwise the next business day
    /// (roll forward).
    pub fn on_or_after(&self, date: Date) -> Option<Date> {
        if self.is_business_day(date) {
            Some(date)
        } else {
            self.next_business_day(date)
        }
    }

    /// Business-day arithmetic.
    ///
    /// - `days > 0`: the `days`-th business day strictly after `date`; `date`
    ///   itself is never counted, business day or not (Friday + 1 = Monday,
    ///   Saturday + 1 = Monday).
    /// - `days < 0`: the `|days|`-th business day strictly before `date`
    ///   (Monday − 1 = the Friday before, Sunday − 1 = that Friday too).
    /// - `days == 0`: [`Calendar::on_or_after`]: `date` if it is a business day,
    ///   else the next one (so Saturday + 0 = Saturday + 1 = Monday). Use
    ///   [`Calendar::on_or_before`] to roll back instead.
    ///
    /// `None` if the result would fall outside `time::Date`'s range.
    pub fn add_business_days(&self, date: Date, days: i32) -> Option<Date> {
        if days == 0 {
            return self.on_or_after(date);
        }
        let forward = days > 0;
        let count = i64::from(days.unsigned_abs());
        // Each step moves at least one calendar day: fail fast when out of range.
        let room = if forward {
            i64::from(Date::MAX.to_julian_day()) - i64::from(date.to_julian_day())
        } else {
            i64::from(date.to_julian_day()) - i64::from(Date::MIN.to_julian_day())
        };
        if count > room {
            return None;
        }
        let mut cursor = Cursor::new(self);
        let mut current = date;
        for _ in 0..count {
            current = self.step(&mut cursor, current, forward)?;
        }
        Some(current)
    }

    /// True if a bank with processing week `week` processes collections on `date`.
    /// See [`ProcessingWeek`] for the rule of each variant.
    pub fn is_processing_day(&self, date: Date, week: ProcessingWeek) -> bool {
        match week {
            ProcessingWeek::FiveDay => self.is_business_day(date),
            ProcessingWeek::SixDay => {
                date.weekday() != Weekday::Sunday && !self.is_public_holiday(date)
            }
            ProcessingWeek::SevenDay => true,
        }
    }

    /// The nearest business day strictly after (`forward`) or before `from`.
    fn step(&self, cursor: &mut Cursor<'_>, from: Date, forward: bool) -> Option<Date> {
        let mut current = from;
        loop {
            current = if forward {
                current.next_day()?
            } else {
                current.previous_day()?
            };
            if cursor.is_business_day(current) {
                return Some(current);
            }
        }
    }

    /// All public holidays of `year` keyed by date (see [`Calendar::holidays_in`]).
    fn holiday_map(&self, year: i32) -> BTreeMap<Date, String> {
        let (Ok(first), Ok(last)) = (
            Date::from_calendar_date(year, Month::January, 1),
            Date::from_calendar_date(year, Month::December, 31),
        ) else {
            return BTreeMap::new();
        };

        // Statutory and declared days, several names per date if they coincide.
        let mut base: BTreeMap<Date, Vec<&str>> = BTreeMap::new();
        for (month, day, name) in FIXED_HOLIDAYS {
            if let Ok(date) = Date::from_calendar_date(year, month, day) {
                base.entry(date).or_default().push(name);
            }
        }
        if let Some(easter) = easter_sunday(year) {
            let good_friday = easter.previous_day().and_then(|d| d.previous_day());
            if let Some(date) = good_friday {
                base.entry(date).or_default().push("Good Friday");
            }
            if let Some(date) = easter.next_day() {
                base.entry(date).or_default().push("Family Day");
            }
        }
        for (date, name) in self.declared.range(first..=last) {
            base.entry(*date).or_default().push(name);
        }

        // Section 2(1): Sunday holiday -> the Monday, unless that Monday already is
        // one. Only 31 Dec could spill into the next year, and 1 Jan always is a
        // holiday, so looking at one year at a time loses nothing.
        let mut holidays: BTreeMap<Date, String> = BTreeMap::new();
        for (date, names) in &base {
            let joined = names.join(" / ");
            if date.weekday() == Weekday::Sunday
                && let Some(monday) = date.next_day()
                && monday.year() == year
                && !base.contains_key(&monday)
            {
                holidays.insert(monday, format!("{joined} (observed)"));
            }
            holidays.insert(*date, joined);
        }
        holidays
    }
}

/// Caches one year's holiday dates while walking day by day.
struct Cursor<'a> {
    calendar: &'a Calendar,
    year: Option<i32>,
    holidays: BTreeSet<Date>,
}

impl<'a> Cursor<'a> {
    fn new(calendar: &'a Calendar) -> Self {
        Self {
            calendar,
            year: None,
            holidays: BTreeSet::new(),
        }
    }

    fn is_business_day(&mut self, date: Date) -> bool {
        if is_weekend(date) {
            return false;
        }
        if FAST_YEARS.contains(&date.year()) {
            return !self.calendar.is_public_holiday(date);
        }
        if self.year != Some(date.year()) {
            self.holidays = self.calendar.holiday_map(date.year()).into_keys().collect();
            self.year = Some(date.year());
        }
        !self.holidays.contains(&date)
    }
}

fn is_weekend(date: Date) -> bool {
    matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday)
}

/// Gregorian Easter Sunday (anonymous Gregorian / Meeus–Jones–Butcher computus).
/// Euclidean division keeps it total for negative years; `None` only if the
/// resulting date is not representable.
fn easter_sunday(year: i32) -> Option<Date> {
    let y = i64::from(year);
    let a = y.rem_euclid(19);
    let b = y.div_euclid(100);
    let c = y.rem_euclid(100);
    let d = b.div_euclid(4);
    let e = b.rem_euclid(4);
    let f = (b + 8).div_euclid(25);
    let g = (b - f + 1).div_euclid(3);
    let h = (19 * a + b - d - g + 15).rem_euclid(30);
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k).rem_euclid(7);
    let m = (a + 11 * h + 22 * l).div_euclid(451);
    let n = h + l - 7 * m + 114;
    let month = if n / 31 == 3 {
        Month::March
    } else {
        Month::April
    };
    let day = u8::try_from(n % 31 + 1).ok()?;
    Date::from_calendar_date(year, month, day).ok()
}

/// Parses the declared-holidays format (see `data/declared-holidays.txt`).
fn parse_declared(text: &str) -> Result<BTreeMap<Date, String>, CalendarError> {
    let mut found: BTreeMap<Date, (String, usize)> = BTreeMap::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let raw = if index == 0 {
            raw.trim_start_matches('\u{feff}')
        } else {
            raw
        };
        let content = raw.split('#').next().unwrap_or("").trim();
        if content.is_empty() {
            continue;
        }
        let (token, rest) = content
            .split_once(char::is_whitespace)
            .unwrap_or((content, ""));
        if !looks_like_iso_date(token) {
            return Err(CalendarError::MalformedLine {
                line,
                content: content.to_string(),
            });
        }
        let date = parse_iso_date(token).ok_or_else(|| CalendarError::InvalidDate {
            line,
            text: token.to_string(),
        })?;
        let name = rest.trim();
        if name.is_empty() {
            return Err(CalendarError::MissingName { line, date });
        }
        if let Some((_, first_line)) = found.get(&date) {
            return Err(CalendarError::DuplicateDate {
                line,
                first_line: *first_line,
                date,
            });
        }
        found.insert(date, (name.to_string(), line));
    }
    Ok(found
        .into_iter()
        .map(|(date, (name, _))| (date, name))
        .collect())
}

/// `NNNN-NN-NN` with ASCII digits.
fn looks_like_iso_date(token: &str) -> bool {
    let bytes = token.as_bytes();
    bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        })
}

/// Parses a token already checked by [`looks_like_iso_date`].
fn parse_iso_date(token: &str) -> Option<Date> {
    let year: i32 = token.get(0..4)?.parse().ok()?;
    let month: u8 = token.get(5..7)?.parse().ok()?;
    let day: u8 = token.get(8..10)?.parse().ok()?;
    let month = Month::try_from(month).ok()?;
    Date::from_calendar_date(year, month, day).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn sa() -> Calendar {
        Calendar::south_africa()
    }

    fn statutory_only() -> Calendar {
        Calendar::with_declared("").unwrap()
    }

    fn table(rows: &[(Date, &str)]) -> Vec<(Date, String)> {
        rows.iter().map(|(d, n)| (*d, n.to_string())).collect()
    }

    // ---- Easter -------------------------------------------------------------

    #[test]
    fn easter_sunday_2024_to_2030() {
        let expected = [
            date!(2024 - 03 - 31),
            date!(2025 - 04 - 20),
            date!(2026 - 04 - 05),
            date!(2027 - 03 - 28),
            date!(2028 - 04 - 16),
            date!(2029 - 04 - 01),
            date!(2030 - 04 - 21),
        ];
        for (year, want) in (2024..=2030).zip(expected) {
            assert_eq!(easter_sunday(year), Some(want), "Easter {year}");
        }
    }

    #[test]
    fn easter_sunday_extremes_and_known_years() {
        // 21 Mar 2008 was both Human Rights Day and Good Friday.
        assert_eq!(easter_sunday(2008), Some(date!(2008 - 03 - 23)));
        // Latest possible Easter (25 Apr) and earliest (22 Mar).
        assert_eq!(easter_sunday(1943), Some(date!(1943 - 04 - 25)));
        assert_eq!(easter_sunday(2038), Some(date!(2038 - 04 - 25)));
        assert_eq!(easter_sunday(1818), Some(date!(1818 - 03 - 22)));
        assert_eq!(easter_sunday(2285), Some(date!(2285 - 03 - 22)));
        assert_eq!(easter_sunday(2000), Some(date!(2000 - 04 - 23)));
    }

    // ---- Full holiday tables 2024-2030 --------------------------------------

    #[test]
    fn holidays_2024() {
        let want = table(&[
            (date!(2024 - 01 - 01), "New Year's Day"),
            (date!(2024 - 03 - 21), "Human Rights Day"),
            (date!(2024 - 03 - 29), "Good Friday"),
            (date!(2024 - 04 - 01), "Family Day"),
            (date!(2024 - 04 - 27), "Freedom Day"), // Saturday: no substitute
            (date!(2024 - 05 - 01), "Workers' Day"),
            (
                date!(2024 - 05 - 29),
                "National and provincial government elections",
            ),
            (date!(2024 - 06 - 16), "Youth Day"), // Sunday
            (date!(2024 - 06 - 17), "Youth Day (observed)"),
            (date!(2024 - 08 - 09), "National Women's Day"),
            (date!(2024 - 09 - 24), "Heritage Day"),
            (date!(2024 - 12 - 16), "Day of Reconciliation"),
            (date!(2024 - 12 - 25), "Christmas Day"),
            (date!(2024 - 12 - 26), "Day of Goodwill"),
        ]);
        assert_eq!(sa().holidays_in(2024), want);
    }

    #[test]
    fn holidays_2025() {
        let want = table(&[
            (date!(2025 - 01 - 01), "New Year's Day"),
            (date!(2025 - 03 - 21), "Human Rights Day"),
            (date!(2025 - 04 - 18), "Good Friday"),
            (date!(2025 - 04 - 21), "Family Day"),
            (date!(2025 - 04 - 27), "Freedom Day"), // Sunday
            (date!(2025 - 04 - 28), "Freedom Day (observed)"),
            (date!(2025 - 05 - 01), "Workers' Day"),
            (date!(2025 - 06 - 16), "Youth Day"),
            (date!(2025 - 08 - 09), "National Women's Day"), // Saturday
            (date!(2025 - 09 - 24), "Heritage Day"),
            (date!(2025 - 12 - 16), "Day of Reconciliation"),
            (date!(2025 - 12 - 25), "Christmas Day"),
            (date!(2025 - 12 - 26), "Day of Goodwill"),
        ]);
        assert_eq!(sa().holidays_in(2025), want);
    }

    #[test]
    fn holidays_2026() {
        let want = table(&[
            (date!(2026 - 01 - 01), "New Year's Day"),
            (date!(2026 - 03 - 21), "Human Rights Day"), // Saturday
            (date!(2026 - 04 - 03), "Good Friday"),
            (date!(2026 - 04 - 06), "Family Day"),
            (date!(2026 - 04 - 27), "Freedom Day"),
            (date!(2026 - 05 - 01), "Workers' Day"),
            (date!(2026 - 06 - 16), "Youth Day"),
            (date!(2026 - 08 - 09), "National Women's Day"), // Sunday
            (date!(2026 - 08 - 10), "National Women's Day (observed)"),
            (date!(2026 - 09 - 24), "Heritage Day"),
            // Declared: Proclamation Notice 346 of 2026, Government Gazette 55352.
            (date!(2026 - 11 - 04), "Local government elections"),
            (date!(2026 - 12 - 16), "Day of Reconciliation"),
            (date!(2026 - 12 - 25), "Christmas Day"),
            (date!(2026 - 12 - 26), "Day of Goodwill"), // Saturday
        ]);
        assert_eq!(sa().holidays_in(2026), want);
    }

    #[test]
    fn holidays_2027() {
        let want = table(&[
            (date!(2027 - 01 - 01), "New Year's Day"),
            (date!(2027 - 03 - 21), "Human Rights Day"), // Sunday
            (date!(2027 - 03 - 22), "Human Rights Day (observed)"),
            (date!(2027 - 03 - 26), "Good Friday"),
            (date!(2027 - 03 - 29), "Family Day"),
            (date!(2027 - 04 - 27), "Freedom Day"),
            (date!(2027 - 05 - 01), "Workers' Day"), // Saturday
            (date!(2027 - 06 - 16), "Youth Day"),
            (date!(2027 - 08 - 09), "National Women's Day"),
            (date!(2027 - 09 - 24), "Heritage Day"),
            (date!(2027 - 12 - 16), "Day of Reconciliation"),
            (date!(2027 - 12 - 25), "Christmas Day"), // Saturday
            (date!(2027 - 12 - 26), "Day of Goodwill"), // Sunday
            (date!(2027 - 12 - 27), "Day of Goodwill (observed)"),
        ]);
        assert_eq!(sa().holidays_in(2027), want);
    }

    #[test]
    fn holidays_2028() {
        let want = table(&[
            (date!(2028 - 01 - 01), "New Year's Day"), // Saturday
            (date!(2028 - 03 - 21), "Human Rights Day"),
            (date!(2028 - 04 - 14), "Good Friday"),
            (date!(2028 - 04 - 17), "Family Day"),
            (date!(2028 - 04 - 27), "Freedom Day"), // Thursday: 28 Apr is a working day
            (date!(2028 - 05 - 01), "Workers' Day"),
            (date!(2028 - 06 - 16), "Youth Day"),
            (date!(2028 - 08 - 09), "National Women's Day"),
            (date!(2028 - 09 - 24), "Heritage Day"), // Sunday
            (date!(2028 - 09 - 25), "Heritage Day (observed)"),
            (date!(2028 - 12 - 16), "Day of Reconciliation"), // Saturday
            (date!(2028 - 12 - 25), "Christmas Day"),
            (date!(2028 - 12 - 26), "Day of Goodwill"),
        ]);
        assert_eq!(sa().holidays_in(2028), want);
        assert!(sa().is_business_day(date!(2028 - 04 - 28)));
    }

    #[test]
    fn holidays_2029() {
        let want = table(&[
            (date!(2029 - 01 - 01), "New Year's Day"),
            (date!(2029 - 03 - 21), "Human Rights Day"),
            (date!(2029 - 03 - 30), "Good Friday"),
            (date!(2029 - 04 - 02), "Family Day"),
            (date!(2029 - 04 - 27), "Freedom Day"),
            (date!(2029 - 05 - 01), "Workers' Day"),
            (date!(2029 - 06 - 16), "Youth Day"), // Saturday
            (date!(2029 - 08 - 09), "National Women's Day"),
            (date!(2029 - 09 - 24), "Heritage Day"),
            (date!(2029 - 12 - 16), "Day of Reconciliation"), // Sunday
            (date!(2029 - 12 - 17), "Day of Reconciliation (observed)"),
            (date!(2029 - 12 - 25), "Christmas Day"),
            (date!(2029 - 12 - 26), "Day of Goodwill"),
        ]);
        assert_eq!(sa().holidays_in(2029), want);
    }

    #[test]
    fn holidays_2030() {
        let want = table(&[
            (date!(2030 - 01 - 01), "New Year's Day"),
            (date!(2030 - 03 - 21), "Human Rights Day"),
            (date!(2030 - 04 - 19), "Good Friday"),
            (date!(2030 - 04 - 22), "Family Day"),
            (date!(2030 - 04 - 27), "Freedom Day"), // Saturday
            (date!(2030 - 05 - 01), "Workers' Day"),
            (date!(2030 - 06 - 16), "Youth Day"), // Sunday
            (date!(2030 - 06 - 17), "Youth Day (observed)"),
            (date!(2030 - 08 - 09), "National Women's Day"),
            (date!(2030 - 09 - 24), "Heritage Day"),
            (date!(2030 - 12 - 16), "Day of Reconciliation"),
            (date!(2030 - 12 - 25), "Christmas Day"),
            (date!(2030 - 12 - 26), "Day of Goodwill"),
        ]);
        assert_eq!(sa().holidays_in(2030), want);
    }

    // ---- Sunday rule, coincidences, declared days ---------------------------

    #[test]
    fn christmas_on_sunday_gives_no_extra_day_unless_declared() {
        // 2022: 25 Dec Sunday, 26 Dec Monday. The Act adds nothing; 27 Dec was declared.
        let plain = statutory_only();
        assert_eq!(
            plain.holiday_name(date!(2022 - 12 - 26)).as_deref(),
            Some("Day of Goodwill")
        );
        assert!(plain.is_business_day(date!(2022 - 12 - 27)));
        let dec: Vec<Date> = plain
            .holidays_in(2022)
            .into_iter()
            .map(|(d, _)| d)
            .filter(|d| d.month() == Month::December)
            .collect();
        assert_eq!(
            dec,
            [
                date!(2022 - 12 - 16),
                date!(2022 - 12 - 25),
                date!(2022 - 12 - 26)
            ]
        );

        let cal = sa();
        assert_eq!(
            cal.holiday_name(date!(2022 - 12 - 27)).as_deref(),
            Some("Public holiday (Christmas Day fell on a Sunday)")
        );
        assert!(!cal.is_business_day(date!(2022 - 12 - 27)));
    }

    #[test]
    fn new_year_on_sunday_moves_to_monday() {
        let cal = sa();
        assert_eq!(
            cal.holiday_name(date!(2023 - 01 - 02)).as_deref(),
            Some("New Year's Day (observed)")
        );
        assert_eq!(
            cal.holiday_name(date!(2023 - 09 - 25)).as_deref(),
            Some("Heritage Day (observed)")
        );
    }

    #[test]
    fn coinciding_holidays_share_one_date() {
        let cal = sa();
        assert_eq!(
            cal.holiday_name(date!(2008 - 03 - 21)).as_deref(),
            Some("Human Rights Day / Good Friday")
        );
        assert_eq!(
            cal.holiday_name(date!(2008 - 05 - 02)).as_deref(),
            Some("Public holiday (Human Rights Day fell on Good Friday)")
        );
        // 12 statutory holidays on 11 dates, Freedom Day (Sunday 27 Apr) observed
        // on 28 Apr, plus the declared 2 May.
        assert_eq!(cal.holidays_in(2008).len(), 13);
        assert_eq!(
            cal.holiday_name(date!(2008 - 04 - 28)).as_deref(),
            Some("Freedom Day (observed)")
        );
    }

    #[test]
    fn sunday_rule_applies_to_declared_days() {
        // Y2K: 2 Jan 2000 (Sunday) was declared; 3 Jan followed by section 2(1).
        let cal = sa();
        assert_eq!(
            cal.holiday_name(date!(2000 - 01 - 02)).as_deref(),
            Some("Y2K changeover")
        );
        assert_eq!(
            cal.holiday_name(date!(2000 - 01 - 03)).as_deref(),
            Some("Y2K changeover (observed)")
        );
        assert!(statutory_only().is_business_day(date!(2000 - 01 - 03)));
    }

    #[test]
    fn bundled_declared_list_parses_and_holds_known_days() {
        let cal = sa();
        let dates: Vec<Date> = cal.declared_holidays().map(|(d, _)| d).collect();
        for d in [
            date!(2016 - 08 - 03),
            date!(2019 - 05 - 08),
            date!(2021 - 11 - 01),
            date!(2022 - 12 - 27),
            date!(2023 - 12 - 15),
            date!(2024 - 05 - 29),
            date!(2026 - 11 - 04),
        ] {
            assert!(dates.contains(&d), "{d} missing from bundled list");
            assert!(!cal.is_business_day(d), "{d} should not be a business day");
        }
        assert_eq!(dates.len(), 18);
        assert!(dates.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn every_year_1990_to_2200_is_consistent() {
        let cal = sa();
        for year in 1990..=2200 {
            let days = cal.holidays_in(year);
            assert!(days.len() >= 11, "{year}: only {} holidays", days.len());
            assert!(
                days.windows(2).all(|w| w[0].0 < w[1].0),
                "{year} not sorted"
            );
            assert!(days.iter().all(|(d, _)| d.year() == year));
            for (d, name) in &days {
                if name.contains("Good Friday") {
                    assert_eq!(d.weekday(), Weekday::Friday, "{year} {name}");
                }
                if name == "Family Day" {
                    assert_eq!(d.weekday(), Weekday::Monday, "{year} {name}");
                }
                if name.ends_with("(observed)") {
                    assert_eq!(d.weekday(), Weekday::Monday, "{year} {name}");
                    let sunday = d.previous_day().unwrap();
                    assert_eq!(sunday.weekday(), Weekday::Sunday);
                    assert!(cal.is_public_holiday(sunday));
                }
            }
            // Every Sunday holiday has a holiday on the following Monday.
            for (d, _) in &days {
                if d.weekday() == Weekday::Sunday {
                    assert!(cal.is_public_holiday(d.next_day().unwrap()), "{d}");
                }
            }
        }
    }

    // ---- Business days and reasons ------------------------------------------

    #[test]
    fn business_day_and_reasons() {
        let cal = sa();
        assert!(cal.is_business_day(date!(2025 - 04 - 17))); // Thursday before Easter
        assert_eq!(cal.non_business_reason(date!(2025 - 04 - 17)), None);
        assert_eq!(
            cal.non_business_reason(date!(2025 - 04 - 19)),
            Some(NonBusinessDay::Saturday)
        );
        assert_eq!(
            cal.non_business_reason(date!(2025 - 04 - 20)),
            Some(NonBusinessDay::Sunday)
        );
        assert_eq!(
            cal.non_business_reason(date!(2025 - 04 - 18)),
            Some(NonBusinessDay::PublicHoliday {
                name: "Good Friday".into()
            })
        );
        // A holiday on a Saturday is reported as the holiday.
        let reason = cal.non_business_reason(date!(2026 - 03 - 21)).unwrap();
        assert_eq!(
            reason,
            NonBusinessDay::PublicHoliday {
                name: "Human Rights Day".into()
            }
        );
        assert!(!reason.is_weekend());
        assert!(NonBusinessDay::Sunday.is_weekend());
        assert_eq!(cal.holiday_name(date!(2025 - 04 - 22)), None);
    }

    // ---- Navigation ---------------------------------------------------------

    #[test]
    fn navigation_across_easter() {
        let cal = sa();
        // 2025: Good Friday 18 Apr, Family Day 21 Apr.
        assert_eq!(
            cal.next_business_day(date!(2025 - 04 - 17)),
            Some(date!(2025 - 04 - 22))
        );
        assert_eq!(
            cal.previous_business_day(date!(2025 - 04 - 22)),
            Some(date!(2025 - 04 - 17))
        );
        assert_eq!(
            cal.on_or_before(date!(2025 - 04 - 20)),
            Some(date!(2025 - 04 - 17))
        );
        assert_eq!(
            cal.on_or_after(date!(2025 - 04 - 18)),
            Some(date!(2025 - 04 - 22))
        );
        assert_eq!(
            cal.on_or_after(date!(2025 - 04 - 22)),
            Some(date!(2025 - 04 - 22))
        );
        // 2027: Human Rights Day observed Mon 22 Mar, Easter the following weekend.
        assert_eq!(
            cal.next_business_day(date!(2027 - 03 - 19)),
            Some(date!(2027 - 03 - 23))
        );
        assert_eq!(
            cal.next_business_day(date!(2027 - 03 - 25)),
            Some(date!(2027 - 03 - 30))
        );
        assert_eq!(
            cal.previous_business_day(date!(2027 - 03 - 30)),
            Some(date!(2027 - 03 - 25))
        );
    }

    #[test]
    fn navigation_across_year_end() {
        let cal = sa();
        // 2026: Christmas Friday, 26 Dec Saturday (no substitute).
        assert_eq!(
            cal.next_business_day(date!(2026 - 12 - 24)),
            Some(date!(2026 - 12 - 28))
        );
        // 2027: 1 Jan Friday; back from Monday 4 Jan lands on Thursday 31 Dec 2026.
        assert_eq!(
            cal.previous_business_day(date!(2027 - 01 - 04)),
            Some(date!(2026 - 12 - 31))
        );
        // 2027: 26 Dec Sunday -> 27 Dec observed.
        assert_eq!(
            cal.next_business_day(date!(2027 - 12 - 24)),
            Some(date!(2027 - 12 - 28))
        );
        // 2022: 26 Dec Monday, 27 Dec declared.
        assert_eq!(
            cal.next_business_day(date!(2022 - 12 - 23)),
            Some(date!(2022 - 12 - 28))
        );
        assert_eq!(
            statutory_only().next_business_day(date!(2022 - 12 - 23)),
            Some(date!(2022 - 12 - 27))
        );
        // 2022 -> 2023: 1 Jan 2023 Sunday, Monday 2 Jan observed.
        assert_eq!(
            cal.next_business_day(date!(2022 - 12 - 30)),
            Some(date!(2023 - 01 - 03))
        );
        assert_eq!(
            cal.on_or_before(date!(2023 - 01 - 02)),
            Some(date!(2022 - 12 - 30))
        );
    }

    #[test]
    fn add_business_days_forward_and_backward() {
        let cal = sa();
        let thu = date!(2025 - 04 - 17);
        assert_eq!(cal.add_business_days(thu, 0), Some(thu));
        assert_eq!(cal.add_business_days(thu, 1), Some(date!(2025 - 04 - 22)));
        assert_eq!(cal.add_business_days(thu, 4), Some(date!(2025 - 04 - 25)));
        // 28 Apr is Freedom Day observed, 1 May Workers' Day.
        assert_eq!(cal.add_business_days(thu, 5), Some(date!(2025 - 04 - 29)));
        assert_eq!(cal.add_business_days(thu, 6), Some(date!(2025 - 04 - 30)));
        assert_eq!(cal.add_business_days(thu, 7), Some(date!(2025 - 05 - 02)));
        assert_eq!(cal.add_business_days(date!(2025 - 05 - 02), -7), Some(thu));
        assert_eq!(cal.add_business_days(date!(2025 - 04 - 22), -1), Some(thu));
        assert_eq!(
            cal.add_business_days(date!(2025 - 04 - 22), -3),
            Some(date!(2025 - 04 - 15))
        );
        // Weekend starts.
        let sat = date!(2025 - 04 - 19);
        assert_eq!(cal.add_business_days(sat, 0), Some(date!(2025 - 04 - 22)));
        assert_eq!(cal.add_business_days(sat, 1), Some(date!(2025 - 04 - 22)));
        assert_eq!(cal.add_business_days(sat, -1), Some(thu));
        let fri = date!(2025 - 06 - 13);
        assert_eq!(cal.add_business_days(fri, 1), Some(date!(2025 - 06 - 17))); // 16 Jun Youth Day
        // Across the year end: 10 business days from 19 Dec 2024.
        assert_eq!(
            cal.add_business_days(date!(2024 - 12 - 19), 10),
            Some(date!(2025 - 01 - 07))
        );
        assert_eq!(
            cal.add_business_days(date!(2025 - 01 - 07), -10),
            Some(date!(2024 - 12 - 19))
        );
    }

    // ---- Range edges ---------------------------------------------------------

    #[test]
    fn range_edges_do_not_panic() {
        let cal = sa();
        assert_eq!(cal.next_business_day(Date::MAX), None);
        assert_eq!(cal.previous_business_day(Date::MIN), None);
        assert_eq!(cal.add_business_days(date!(2025 - 01 - 06), i32::MAX), None);
        assert_eq!(cal.add_business_days(date!(2025 - 01 - 06), i32::MIN), None);
        assert_eq!(cal.add_business_days(Date::MAX, 1), None);
        assert_eq!(cal.add_business_days(Date::MIN, -1), None);
        for d in [Date::MIN, Date::MAX] {
            let _ = cal.is_business_day(d);
            let _ = cal.non_business_reason(d);
            let _ = cal.on_or_before(d);
            let _ = cal.on_or_after(d);
            for week in [
                ProcessingWeek::FiveDay,
                ProcessingWeek::SixDay,
                ProcessingWeek::SevenDay,
            ] {
                let _ = cal.is_processing_day(d, week);
            }
        }
        assert!(cal.holidays_in(Date::MAX.year()).len() >= 11);
        assert!(cal.holidays_in(Date::MAX.year() + 1).is_empty());
        assert!(cal.holidays_in(Date::MIN.year() - 1).is_empty());
        assert!(!cal.holidays_in(Date::MIN.year()).is_empty());
        // 31 Dec 9999 is a Friday and not a holiday, so it is a business day.
        assert_eq!(cal.on_or_after(Date::MAX), Some(Date::MAX));
    }

    // ---- Processing weeks ---------------------------------------------------

    #[test]
    fn processing_week_rules() {
        use ProcessingWeek::*;
        let cal = sa();
        let cases = [
            // (date, five, six, seven)
            (date!(2025 - 04 - 17), true, true, true), // ordinary Thursday
            (date!(2025 - 04 - 19), false, true, true), // ordinary Saturday
            (date!(2025 - 04 - 20), false, false, true), // Sunday
            (date!(2025 - 04 - 18), false, false, true), // Good Friday
            (date!(2025 - 04 - 28), false, false, true), // Freedom Day observed
            (date!(2026 - 03 - 21), false, false, true), // Human Rights Day on a Saturday
            (date!(2024 - 05 - 29), false, false, true), // declared election day
        ];
        for (d, five, six, seven) in cases {
            assert_eq!(cal.is_processing_day(d, FiveDay), five, "{d} FiveDay");
            assert_eq!(cal.is_processing_day(d, SixDay), six, "{d} SixDay");
            assert_eq!(cal.is_processing_day(d, SevenDay), seven, "{d} SevenDay");
        }
    }

    // ---- Declared-file parser -----------------------------------------------

    #[test]
    fn parses_good_file() {
        let text = "\u{feff}# header comment\n\
                    \n\
                    2031-03-05   Local government elections   # trailing comment\n\
                    \t2030-12-27 Extra day\r\n\
                    #2030-01-02 commented out\n";
        let cal = Calendar::with_declared(text).unwrap();
        let got: Vec<(Date, &str)> = cal.declared_holidays().collect();
        assert_eq!(
            got,
            [
                (date!(2030 - 12 - 27), "Extra day"),
                (date!(2031 - 03 - 05), "Local government elections"),
            ]
        );
        assert!(!cal.is_business_day(date!(2031 - 03 - 05)));
        assert!(cal.is_business_day(date!(2030 - 01 - 02)));
        // The text replaces the bundled list.
        assert!(cal.is_business_day(date!(2024 - 05 - 29)));
    }

    #[test]
    fn rejects_bad_date_with_line_number() {
        let err =
            Calendar::with_declared("# c\n2030-01-02 Fine\n2023-02-30 Not a day\n").unwrap_err();
        assert!(
            matches!(&err, CalendarError::InvalidDate { line: 3, text } if text == "2023-02-30"),
            "{err:?}"
        );
        assert!(err.to_string().contains("line 3"), "{err}");
        let err = Calendar::with_declared("2023-13-01 Month 13\n").unwrap_err();
        assert!(
            matches!(err, CalendarError::InvalidDate { line: 1, .. }),
            "{err:?}"
        );
    }

    #[test]
    fn rejects_bad_lines_with_line_number() {
        let err = Calendar::with_declared("\n\nChristmas 2030-12-25\n").unwrap_err();
        assert!(
            matches!(&err, CalendarError::MalformedLine { line: 3, content } if content == "Christmas 2030-12-25"),
            "{err:?}"
        );
        assert!(err.to_string().contains("line 3"));
        let err = Calendar::with_declared("2030/12/27 Slashes\n").unwrap_err();
        assert!(
            matches!(err, CalendarError::MalformedLine { line: 1, .. }),
            "{err:?}"
        );
        let err = Calendar::with_declared("2030-12-27Glued\n").unwrap_err();
        assert!(
            matches!(err, CalendarError::MalformedLine { line: 1, .. }),
            "{err:?}"
        );
        let err = Calendar::with_declared("ok\n").unwrap_err();
        assert!(
            matches!(err, CalendarError::MalformedLine { line: 1, .. }),
            "{err:?}"
        );
        let err = Calendar::with_declared("2030-12-27   # only a comment\n").unwrap_err();
        assert!(
            matches!(err, CalendarError::MissingName { line: 1, date } if date == date!(2030 - 12 - 27)),
            "{err:?}"
        );
        let err = Calendar::with_declared("2030-12-27 A\n# x\n2030-12-27 B\n").unwrap_err();
        assert!(
            matches!(
                err,
                CalendarError::DuplicateDate {
                    line: 3,
                    first_line: 1,
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn loads_declared_file_from_path() {
        let dir = std::env::temp_dir().join(format!("allps-ws-calendar-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("declared.txt");
        let text = format!("{BUNDLED_DECLARED_HOLIDAYS}\n2030-05-15 Test election day\n");
        std::fs::write(&path, text).unwrap();
        let cal = Calendar::from_declared_file(&path).unwrap();
        assert_eq!(cal.declared_holidays().count(), 19);
        assert_eq!(
            cal.holiday_name(date!(2030 - 05 - 15)).as_deref(),
            Some("Test election day")
        );
        assert!(!cal.is_business_day(date!(2024 - 05 - 29)));

        let missing = dir.join("missing.txt");
        let err = Calendar::from_declared_file(&missing).unwrap_err();
        assert!(
            matches!(&err, CalendarError::Io { path, .. } if path == &missing),
            "{err:?}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
