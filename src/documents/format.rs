//! Formatting of money and instants for printed documents, shared by every document.

use rust_decimal::Decimal;
use time::OffsetDateTime;

use crate::clock::{SAST, format_date};

/// Rand with spaces between thousands: `R 10 200.00`.
pub fn rands(amount: Decimal) -> String {
    let mut a = amount;
    a.rescale(2);
    let text = a.abs().to_string();
    let (whole, cents) = text.split_once('.').unwrap_or((&text, "00"));
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(' ');
        }
        grouped.push(c);
    }
    let sign = if a.is_sign_negative() && !a.is_zero() {
        "-"
    } else {
        ""
    };
    format!("{sign}R {grouped}.{cents}")
}

/// An instant to the minute in South African time, zone named: `2026-11-23 10:00 SAST`.
pub fn sast_minute(at: OffsetDateTime) -> String {
    let t = at.to_offset(SAST);
    format!(
        "{} {:02}:{:02} SAST",
        format_date(t.date()),
        t.hour(),
        t.minute()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;
    use time::macros::datetime;

    #[test]
    fn money_and_time() {
        let d = |s| Decimal::from_str(s).unwrap();
        assert_eq!(rands(d("850")), "R 850.00");
        assert_eq!(rands(d("10200.5")), "R 10 200.50");
        assert_eq!(rands(d("1234567.89")), "R 1 234 567.89");
        assert_eq!(rands(d("0.1")), "R 0.10");
        assert_eq!(rands(d("-12.5")), "-R 12.50");
        assert_eq!(
            sast_minute(datetime!(2026-11-23 22:30 UTC)),
            "2026-11-24 00:30 SAST"
        );
    }
}
