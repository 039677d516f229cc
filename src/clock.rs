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
        if !text.is_char_boundary(10) {
            return None;
        }
        let (core, zone) = text.split_at(10);
        if !zone_ok(zone) {
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

/// An xs:date time-zone: `Z`, or `+hh:mm` / `-hh:mm` with hh 00-13 and mm 00-59, or
/// exactly 14:00 (XML Schema's range, -14:00 to +14:00).
fn zone_ok(zone: &str) -> bool {
    if zone == "Z" {
        return true;
    }
    let b = zone.as_bytes();
    if b.len() != 6 || !matches!(b[0], b'+' | b'-') || b[3] != b':' {
        return false;
    }
    let two = |i: usize| -> Option<u8> {
        (b[i].is_ascii_digit() && b[i + 1].is_ascii_digit())
            .then(|| (b[i] - b'0') * 10 + (b[i + 1] - b'0'))
    };
    match (two(1), two(4)) {
        (Some(hh), Some(mm)) => (hh <= 13 && mm <= 59) || (hh == 14 && mm == 0),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn dates_refuse_impossible_zones() {
        for ok in [
            "2027-01-15",
            "2027-01-15Z",
            "2027-01-15+02:00",
            "2027-01-15-13:59",
            "2027-01-15+14:00",
            "2027-01-15-00:00",
        ] {
            assert!(parse_date(ok).is_some(), "{ok}");
        }
        for bad in [
            "2027-01-15+99:99",
            "2027-01-15+14:01",
            "2027-01-15+15:00",
            "2027-01-15+02:60",
            "2027-01-15+0a:00",
            "2027-01-15+-1:00",
            "2027-01-15z",
            "2027-01-15+02:00Z",
            "2027-01-1\u{e9}+02:00",
            "2027-01-15\u{e9}",
        ] {
            assert!(parse_date(bad).is_none(), "{bad}");
        }
    }

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
