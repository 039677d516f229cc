//! Field validators shared by the operations: SA ID numbers, passports, names, cellphone
//! numbers, e-mail addresses and code-like identifiers. Each returns the normalised value
//! or a [`Refusal`] naming the field.

use time::{Date, Month};

use super::{Gender, Refusal, ResultCode};

/// Trims `value` and checks it is present and at most `max` characters.
///
/// # Errors
///
/// `FIELD_REQUIRED` or `FIELD_TOO_LONG`.
pub fn required(field: &'static str, value: &str, max: usize) -> Result<String, Refusal> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(Refusal::field(
            ResultCode::FieldRequired,
            field,
            format!("{field} is required"),
        ));
    }
    if trimmed.chars().count() > max {
        return Err(Refusal::field(
            ResultCode::FieldTooLong,
            field,
            format!("{field} may be at most {max} characters"),
        ));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(Refusal::field(
            ResultCode::FieldCharacters,
            field,
            format!("{field} may not hold control characters"),
        ));
    }
    Ok(trimmed.to_string())
}

/// Like [`required`], but an absent or blank value is `None`.
///
/// # Errors
///
/// `FIELD_TOO_LONG` or `FIELD_CHARACTERS`.
pub fn optional(
    field: &'static str,
    value: Option<&str>,
    max: usize,
) -> Result<Option<String>, Refusal> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => required(field, v, max).map(Some),
    }
}

/// A value of letters and digits only (ClientNumber).
///
/// # Errors
///
/// `FIELD_REQUIRED`, `FIELD_TOO_LONG` or `FIELD_CHARACTERS`.
pub fn alphanumeric(field: &'static str, value: &str, max: usize) -> Result<String, Refusal> {
    let v = required(field, value, max)?;
    if !v.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(Refusal::field(
            ResultCode::FieldCharacters,
            field,
            format!("{field} may hold only letters and digits"),
        ));
    }
    Ok(v)
}

/// A code-like identifier (EmployerCode): letters, digits and `-`, `_`, `/`, `.`.
///
/// # Errors
///
/// `FIELD_REQUIRED`, `FIELD_TOO_LONG` or `FIELD_CHARACTERS`.
pub fn code(field: &'static str, value: &str, max: usize) -> Result<String, Refusal> {
    let v = required(field, value, max)?;
    if !v
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '/' | '.'))
    {
        return Err(Refusal::field(
            ResultCode::FieldCharacters,
            field,
            format!("{field} may hold only letters, digits and - _ / ."),
        ));
    }
    Ok(v)
}

/// A person's name: letters (any script), spaces, hyphens, apostrophes and full stops.
/// Runs of spaces collapse to one.
///
/// # Errors
///
/// `FIELD_REQUIRED`, `FIELD_TOO_LONG` or `NAME_INVALID`.
pub fn person_name(field: &'static str, value: &str, max: usize) -> Result<String, Refusal> {
    let v = required(field, value, max)?;
    if !v
        .chars()
        .all(|c| c.is_alphabetic() || matches!(c, ' ' | '-' | '\'' | '\u{2019}' | '.'))
        || !v.chars().any(char::is_alphabetic)
    {
        return Err(Refusal::field(
            ResultCode::NameInvalid,
            field,
            format!("{field} may hold only letters, spaces, hyphens, apostrophes and full stops"),
        ));
    }
    Ok(v.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// A free-text business name (EmployerName): printable, trimmed, no control characters.
///
/// # Errors
///
/// `FIELD_REQUIRED`, `FIELD_TOO_LONG` or `FIELD_CHARACTERS`.
pub fn business_name(field: &'static str, value: &str, max: usize) -> Result<String, Refusal> {
    let v = required(field, value, max)?;
    Ok(v.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// What an SA ID number encodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SaIdNumber {
    /// Two-digit year of birth.
    pub yy: u8,
    /// Month of birth.
    pub month: Month,
    /// Day of birth.
    pub day: u8,
    /// Gender from the sequence digits (0000-4999 female, 5000-9999 male).
    pub gender: Gender,
    /// 0 citizen, 1 permanent resident, 2 refugee.
    pub citizenship: u8,
}

impl SaIdNumber {
    /// Whether `date` could be the birth date this number encodes.
    pub fn matches_birth_date(&self, date: Date) -> bool {
        date.year().rem_euclid(100) as u8 == self.yy
            && date.month() == self.month
            && date.day() == self.day
    }
}

/// Checks an SA ID number: 13 digits, a real date, citizenship digit, Luhn check digit.
///
/// # Errors
///
/// `ID_NUMBER_FORMAT`, `ID_NUMBER_DATE`, `ID_NUMBER_CITIZENSHIP` or `ID_NUMBER_CHECK_DIGIT`.
pub fn sa_id_number(field: &'static str, value: &str) -> Result<SaIdNumber, Refusal> {
    let v = value.trim();
    if v.len() != 13 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Refusal::field(
            ResultCode::IdNumberFormat,
            field,
            format!("{field} must be 13 digits for an SA ID"),
        ));
    }
    let d: Vec<u8> = v.bytes().map(|b| b - b'0').collect();
    let yy = d[0] * 10 + d[1];
    let mm = d[2] * 10 + d[3];
    let dd = d[4] * 10 + d[5];
    let month = Month::try_from(mm).ok();
    let real = month.is_some_and(|m| {
        [1900, 2000]
            .iter()
            .any(|c| Date::from_calendar_date(c + i32::from(yy), m, dd).is_ok())
    });
    let Some(month) = month.filter(|_| real) else {
        return Err(Refusal::field(
            ResultCode::IdNumberDate,
            field,
            format!("{field} does not start with a real date of birth (YYMMDD)"),
        ));
    };
    let citizenship = d[10];
    if citizenship > 2 {
        return Err(Refusal::field(
            ResultCode::IdNumberCitizenship,
            field,
            format!("{field} has citizenship digit {citizenship}; it must be 0, 1 or 2"),
        ));
    }
    if !luhn_valid(&d) {
        return Err(Refusal::field(
            ResultCode::IdNumberCheckDigit,
            field,
            format!("{field} fails the check digit"),
        ));
    }
    let sequence =
        u16::from(d[6]) * 1000 + u16::from(d[7]) * 100 + u16::from(d[8]) * 10 + u16::from(d[9]);
    Ok(SaIdNumber {
        yy,
        month,
        day: dd,
        gender: if sequence >= 5000 {
            Gender::Male
        } else {
            Gender::Female
        },
        citizenship,
    })
}

/// The Luhn check over digits (the last one being the check digit).
pub fn luhn_valid(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 1 {
                let dd = d * 2;
                if dd > 9 { dd - 9 } else { dd }
            } else {
                d
            }
        })
        .sum();
    !digits.is_empty() && sum.is_multiple_of(10)
}

/// A passport number: 5 to 20 letters and digits, returned upper case.
///
/// # Errors
///
/// `PASSPORT_FORMAT`.
pub fn passport_number(field: &'static str, value: &str) -> Result<String, Refusal> {
    let v = value.trim();
    if !(5..=20).contains(&v.len()) || !v.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(Refusal::field(
            ResultCode::PassportFormat,
            field,
            format!("{field} must be 5 to 20 letters and digits for a passport"),
        ));
    }
    Ok(v.to_ascii_uppercase())
}

/// A South African mobile number in any usual spelling (`082 123 4567`, `0821234567`,
/// `+27821234567`, `27821234567`, `(082) 123-4567`), returned as ten digits `0821234567`.
/// Mobile ranges start 06, 07 or 08; 080 (toll-free), 086 (share-call) and 087 (VoIP)
/// are not mobile.
///
/// # Errors
///
/// `CELLPHONE_INVALID`.
pub fn cellphone(field: &'static str, value: &str) -> Result<String, Refusal> {
    let bad = || {
        Refusal::field(
            ResultCode::CellphoneInvalid,
            field,
            format!(
                "{field} must be a South African mobile number such as 0821234567 or +27821234567"
            ),
        )
    };
    let v = value.trim();
    let mut digits = String::with_capacity(12);
    for (i, c) in v.chars().enumerate() {
        match c {
            '0'..='9' => digits.push(c),
            '+' if i == 0 => {}
            ' ' | '-' | '(' | ')' => {}
            _ => return Err(bad()),
        }
    }
    let national = if v.starts_with('+') {
        digits.strip_prefix("27").map(|rest| format!("0{rest}"))
    } else if digits.len() == 11 && digits.starts_with("27") {
        Some(format!("0{}", &digits[2..]))
    } else {
        Some(digits)
    }
    .ok_or_else(bad)?;
    let b = national.as_bytes();
    if b.len() != 10 || b[0] != b'0' || !matches!(b[1], b'6' | b'7' | b'8') {
        return Err(bad());
    }
    if b[1] == b'8' && matches!(b[2], b'0' | b'6' | b'7') {
        return Err(bad());
    }
    Ok(national)
}

/// An e-mail address of plausible shape (`local@domain.tld`), returned trimmed.
///
/// # Errors
///
/// `FIELD_TOO_LONG` or `EMAIL_INVALID`.
pub fn email(field: &'static str, value: &str, max: usize) -> Result<String, Refusal> {
    let v = required(field, value, max)?;
    let bad = || {
        Refusal::field(
            ResultCode::EmailInvalid,
            field,
            format!("{field} is not an e-mail address"),
        )
    };
    let (local, domain) = v.split_once('@').ok_or_else(bad)?;
    let ok_local = !local.is_empty()
        && local.len() <= 64
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let ok_domain = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if ok_local && ok_domain {
        Ok(v)
    } else {
        Err(bad())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn sa_id_numbers() {
        // 800101 5009 0 8 7: a commonly published valid example.
        let id = sa_id_number("IdNumber", "8001015009087").unwrap();
        assert_eq!(id.gender, Gender::Male);
        assert!(id.matches_birth_date(date!(1980 - 01 - 01)));
        assert!(!id.matches_birth_date(date!(1980 - 01 - 02)));
        let code = |s| sa_id_number("IdNumber", s).unwrap_err().code;
        assert_eq!(code("800101500908"), ResultCode::IdNumberFormat);
        assert_eq!(code("80010150090A7"), ResultCode::IdNumberFormat);
        assert_eq!(code("8013015009087"), ResultCode::IdNumberDate);
        assert_eq!(code("8002305009087"), ResultCode::IdNumberDate);
        assert_eq!(code("8001015009387"), ResultCode::IdNumberCitizenship);
        assert_eq!(code("8001015009088"), ResultCode::IdNumberCheckDigit);
        // 29 February exists in 2000, so 000229 is a real date.
        assert!(matches!(
            sa_id_number("IdNumber", "0002290000080").map_err(|e| e.code),
            Ok(_) | Err(ResultCode::IdNumberCheckDigit)
        ));
    }

    #[test]
    fn luhn() {
        assert!(luhn_valid(&[7, 9, 9, 2, 7, 3, 9, 8, 7, 1, 3]));
        assert!(!luhn_valid(&[7, 9, 9, 2, 7, 3, 9, 8, 7, 1, 4]));
    }

    #[test]
    fn cellphones() {
        for ok in [
            "0821234567",
            "+27821234567",
            "27821234567",
            "082 123 4567",
            "(082) 123-4567",
            "0601234567",
        ] {
            assert_eq!(
                cellphone("CellphoneNumber", ok).map(|s| s.len()),
                Ok(10),
                "{ok}"
            );
        }
        assert_eq!(cellphone("C", "+27821234567").unwrap(), "0821234567");
        for bad in [
            "0211234567",
            "0801234567",
            "0861234567",
            "082123456",
            "08212345678",
            "+44821234567",
            "082-123-456x",
            "+",
        ] {
            assert_eq!(
                cellphone("C", bad).unwrap_err().code,
                ResultCode::CellphoneInvalid,
                "{bad}"
            );
        }
    }

    #[test]
    fn names_and_codes() {
        assert_eq!(
            person_name("FirstName", "  Mary-Jane  O'Neil ", 30).unwrap(),
            "Mary-Jane O'Neil"
        );
        assert_eq!(person_name("FirstName", "Zoë", 30).unwrap(), "Zoë");
        assert_eq!(
            person_name("FirstName", "R2D2", 30).unwrap_err().code,
            ResultCode::NameInvalid
        );
        assert_eq!(
            person_name("FirstName", "   ", 30).unwrap_err().code,
            ResultCode::FieldRequired
        );
        assert_eq!(
            person_name("FirstName", &"a".repeat(31), 30)
                .unwrap_err()
                .code,
            ResultCode::FieldTooLong
        );
        assert_eq!(
            alphanumeric("ClientNumber", "C-1", 20).unwrap_err().code,
            ResultCode::FieldCharacters
        );
        assert_eq!(alphanumeric("ClientNumber", "C1", 20).unwrap(), "C1");
        assert_eq!(code("EmployerCode", "EMP/01", 20).unwrap(), "EMP/01");
        assert_eq!(
            code("EmployerCode", "EMP 01", 20).unwrap_err().code,
            ResultCode::FieldCharacters
        );
    }

    #[test]
    fn emails_and_passports() {
        assert!(email("Email", "a.b@example.co.za", 100).is_ok());
        for bad in ["a@b", "@x.co", "a b@x.co", "a@-x.co", "a@x..co"] {
            assert_eq!(
                email("Email", bad, 100).unwrap_err().code,
                ResultCode::EmailInvalid,
                "{bad}"
            );
        }
        assert_eq!(passport_number("IdNumber", "a1234567").unwrap(), "A1234567");
        assert_eq!(
            passport_number("IdNumber", "A12").unwrap_err().code,
            ResultCode::PassportFormat
        );
        assert_eq!(
            passport_number("IdNumber", "A12 345").unwrap_err().code,
            ResultCode::PassportFormat
        );
    }
}
