//! The injected clock. Every "now" in the service comes from a [`Clock`], never from the
//! system or from SQL, so tests and fixtures are deterministic. Business dates are taken
//! in South African Standard Time (UTC+2, no daylight saving).

use std::sync::Mutex;

use time::{Date, Duration, OffsetDateTime, UtcOffset};

/// South African Standard Time, the offset every business date is taken in.
pub const SAST: UtcOffset = match UtcOffset::from_hms(2, 0, 0) {
    Ok(offset) => offset,
    Err(_) => panic!("SAST offset is valid"),
};

/// A source of the current instant.
pub trait Clock: Send + Sync + 'static {
    /// The current instant.
    fn now(&self) -> OffsetDateTime;

    /// Today's date in South Africa.
    fn today(&self) -> Date {
        self.now().to_offset(SAST).date()
    }
}

/// The real wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that stands still until told to move: for tests, fixtures and `--fixed-time`.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<OffsetDateTime>,
}

impl ManualClock {
    /// A clock frozen at `at`.
    pub fn new(at: OffsetDateTime) -> Self {
        ManualClock {
            now: Mutex::new(at),
        }
    }

    /// Moves the clock to `at`.
    pub fn set(&self, at: OffsetDateTime) {
        *self.now.lock().unwrap_or_else(|e| e.into_inner()) = at;
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(|e| e.into_inner());
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.now.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Formats an instant as RFC 3339 in UTC with second precision (`2026-11-22T08:00:00Z`),
/// the one timestamp format used on the wire and in the store.
pub fn format_timestamp(at: OffsetDateTime) -> String {
    let at = at.to_offset(UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

/// Parses an RFC 3339 timestamp.
pub fn parse_timestamp(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()
}

/// Formats a date as `YYYY-MM-DD` (xs:date without a zone).
pub fn format_date(date: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// The South African date of a stored timestamp (the date part of the text if it
/// cannot be parsed, which the store never holds).
pub fn sast_date(timestamp: &str) -> String {
    parse_timestamp(timestamp)
        .map(|t| format_date(t.to_offset(SAST).date()))
        .unwrap_or_else(|| timestamp.chars().take(10).collect())
}

/// Parses `YYYY-MM-DD`, also accepting an xs:date zone suffix (`Z`, `+02:00`), which is ignored.
pub fn parse_date(text: &str) -> Option<Date> {
    let text = text.trim();
    let core = if text.len() > 10 {
        let (core, zone) = text.split_at(10);
        let zone_ok = zone == "Z"
            || (zone.len() == 6
                && (zone.starts_with('+') || zone.starts_with('-'))
                && zone.as_bytes()[3] == b':');
        if !zone_ok {
            return None;
        }
        core
    } else {
        text
    };
    let bytes = core.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let year: i32 = core[0..4].parse().ok()?;
    let month: u8 = core[5..7].parse().ok()?;
    let day: u8 = core[8..10].parse().ok()?;
    if !core[0..4].bytes().all(|b| b.is_ascii_digit())
        || !core[5..7].bytes().all(|b| b.is_ascii_digit())
        || !core[8..10].bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    Date::from_calendar_date(year, time::Month::try_from(month).ok()?, day).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn today_is_taken_in_south_africa() {
        let clock = ManualClock::new(datetime!(2026-11-22 22:30 UTC));
        assert_eq!(format_date(clock.today()), "2026-11-23");
        clock.advance(Duration::hours(-2));
        assert_eq!(format_date(clock.today()), "2026-11-22");
    }

    #[test]
    fn timestamps_round_trip() {
        let at = datetime!(2026-01-05 06:07:08 +02:00);
        let text = format_timestamp(at);
        assert_eq!(text, "2026-01-05T04:07:08Z");
        assert_eq!(parse_timestamp(&text), Some(at));
    }

    #[test]
    fn dates_parse_strictly() {
        assert_eq!(
            parse_date("2024-02-29").map(format_date).as_deref(),
            Some("2024-02-29")
        );
        assert_eq!(parse_date("2023-02-29"), None);
        assert_eq!(parse_date("2024-2-9"), None);
        assert_eq!(parse_date("2024-02-29Z").map(|d| d.day()), Some(29));
        assert_eq!(parse_date("2024-02-29+02:00").map(|d| d.day()), Some(29));
        assert_eq!(parse_date("2024-02-29T00:00"), None);
        assert_eq!(parse_date("+024-02-29"), None);
    }
}
