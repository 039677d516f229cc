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
    // Four-digit years (every instant the service meets) are written digit by digit:
    // `format!` with padding was ~4% of a collection morning, where every attempt,
    // answer and collection stores a timestamp. Same text either way (tested).
    if let Ok(year) = u16::try_from(at.year())
        && year <= 9999
    {
        let mut text = String::with_capacity(20);
        push_digits(&mut text, u32::from(year), 4);
        text.push('-');
        push_digits(&mut text, u32::from(u8::from(at.month())), 2);
        text.push('-');
        push_digits(&mut text, u32::from(at.day()), 2);
        text.push('T');
        push_digits(&mut text, u32::from(at.hour()), 2);
        text.push(':');
        push_digits(&mut text, u32::from(at.minute()), 2);
        text.push(':');
        push_digits(&mut text, u32::from(at.second()), 2);
        text.push('Z');
        return text;
    }
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

/// Appends `value` as exactly `width` decimal digits (the caller keeps it in range).
fn push_digits(text: &mut String, value: u32, width: u32) {
    let mut divisor = 10u32.pow(width - 1);
    while divisor > 0 {
        text.push(char::from(b'0' + ((value / divisor) % 10) as u8));
        divisor /= 10;
    }
}

/// Parses an RFC 3339 timestamp.
pub fn parse_timestamp(text: &str) -> Option<OffsetDateTime> {
    // The store's own form (`format_timestamp`) is read without the general parser; any
    // other text, and anything the fast path is unsure of, goes through it.
    if let Some(at) = parse_stored_timestamp(text) {
        return Some(at);
    }
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()
}

/// `YYYY-MM-DDTHH:MM:SSZ` exactly, seconds below 60; `None` for anything else.
fn parse_stored_timestamp(text: &str) -> Option<OffsetDateTime> {
    let b = text.as_bytes();
    if b.len() != 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'Z'
    {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        b[range].iter().try_fold(0u32, |n, c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let year = i32::try_from(number(0..4)?).ok()?;
    let month = time::Month::try_from(u8::try_from(number(5..7)?).ok()?).ok()?;
    let day = u8::try_from(number(8..10)?).ok()?;
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    if second >= 60 {
        return None;
    }
    let date = Date::from_calendar_date(year, month, day).ok()?;
    let time = time::Time::from_hms(
        u8::try_from(hour).ok()?,
        u8::try_from(minute).ok()?,
        u8::try_from(second).ok()?,
    )
    .ok()?;
    Some(date.with_time(time).assume_utc())
}

/// Formats a date as `YYYY-MM-DD` (xs:date without a zone).
pub fn format_date(date: Date) -> String {
    if let Ok(year) = u16::try_from(date.year())
        && year <= 9999
    {
        let mut text = String::with_capacity(10);
        push_digits(&mut text, u32::from(year), 4);
        text.push('-');
        push_digits(&mut text, u32::from(u8::from(date.month())), 2);
        text.push('-');
        push_digits(&mut text, u32::from(date.day()), 2);
        return text;
    }
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

    /// The digit-by-digit writer and the stored-form reader agree with `format!` and
    /// with the general RFC 3339 parser, over instants spread across 0000–9999 and every
    /// second of a day, and on texts the fast path must leave to the parser.
    #[test]
    fn fast_timestamps_match_the_general_ones() {
        let slow = |at: OffsetDateTime| {
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
        };
        let rfc3339 = |text: &str| {
            OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()
        };
        let start = datetime!(0000-01-01 00:00 UTC).unix_timestamp();
        let end = datetime!(9999-12-31 23:59:59 UTC).unix_timestamp();
        let mut at = start;
        let step = (end - start) / 20_011;
        while at <= end {
            let instant = OffsetDateTime::from_unix_timestamp(at).unwrap();
            for shifted in [instant, instant.to_offset(SAST)] {
                let text = format_timestamp(shifted);
                assert_eq!(text, slow(shifted));
                let date = shifted.date();
                assert_eq!(
                    format_date(date),
                    format!(
                        "{:04}-{:02}-{:02}",
                        date.year(),
                        u8::from(date.month()),
                        date.day()
                    )
                );
                assert_eq!(parse_timestamp(&text), rfc3339(&text), "{text}");
                assert_eq!(parse_timestamp(&text), Some(instant));
            }
            at += step + 7;
        }
        for second in 0..86_400 {
            let instant = datetime!(2027-01-14 00:00 UTC) + Duration::seconds(second);
            let text = format_timestamp(instant);
            assert_eq!(text, slow(instant));
            assert_eq!(parse_timestamp(&text), Some(instant));
        }
        for text in [
            "2027-01-14T02:00:00+02:00",
            "2027-01-14T02:00:00.5Z",
            "2027-02-29T02:00:00Z",
            "2027-13-01T02:00:00Z",
            "2027-01-14T24:00:00Z",
            "2016-12-31T23:59:60Z",
            "2027-01-14t02:00:00z",
            "2027-01-14T0a:00:00Z",
            "+027-01-14T02:00:00Z",
            "",
        ] {
            assert_eq!(parse_timestamp(text), rfc3339(text), "{text}");
        }
    }

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
