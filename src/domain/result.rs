//! Business-rule refusals: [`ResultCode`] (the stable numeric codes of `<Result><Code>`)
//! and [`Refusal`], the error every handler returns for a rule it enforces. Codes are
//! API: append new ones, never renumber. The README's table is generated from
//! [`ResultCode::ALL`] and checked by a test.

/// A stable Result code. Ranges: 1xx field validation, 2xx missing prerequisite or not
/// found, 3xx state or rule violation, 4xx duplicate or idempotency conflict, 5xx
/// processing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResultCode {
    /// Success.
    Ok,
    /// A required value is empty or blank.
    FieldRequired,
    /// A value is longer than its field allows.
    FieldTooLong,
    /// A value holds characters its field does not allow.
    FieldCharacters,
    /// An SA ID number is not 13 digits.
    IdNumberFormat,
    /// An SA ID number's first six digits are not a real date.
    IdNumberDate,
    /// An SA ID number's citizenship digit is not 0, 1 or 2.
    IdNumberCitizenship,
    /// An SA ID number fails its Luhn check digit.
    IdNumberCheckDigit,
    /// DateOfBirth disagrees with the ID number.
    DateOfBirthMismatch,
    /// Gender disagrees with the ID number.
    GenderMismatch,
    /// A passport number is not 5 to 20 letters and digits.
    PassportFormat,
    /// A cellphone number is not a South African mobile number.
    CellphoneInvalid,
    /// An e-mail address is malformed.
    EmailInvalid,
    /// PayDay is out of range for PayFrequency.
    PayDayInvalid,
    /// DateOfBirth is in the future or implausibly old.
    DateOfBirthInvalid,
    /// A name holds digits or symbols.
    NameInvalid,
    /// An amount is zero or negative.
    AmountNotPositive,
    /// An amount has more than two decimals.
    AmountPrecision,
    /// The employer does not exist in the branch.
    EmployerNotFound,
    /// The client does not exist in the branch.
    ClientNotFound,
    /// The EmployerCode exists in the branch with other details.
    EmployerCodeConflict,
    /// The ClientNumber exists in the branch with other details.
    ClientNumberConflict,
    /// Another client in the branch has this ID number.
    IdNumberInUse,
    /// The operation is declared in the WSDL but not available on this server yet.
    NotAvailable,
}

impl ResultCode {
    /// Every code, in numeric order.
    pub const ALL: &'static [ResultCode] = &[
        ResultCode::Ok,
        ResultCode::FieldRequired,
        ResultCode::FieldTooLong,
        ResultCode::FieldCharacters,
        ResultCode::IdNumberFormat,
        ResultCode::IdNumberDate,
        ResultCode::IdNumberCitizenship,
        ResultCode::IdNumberCheckDigit,
        ResultCode::DateOfBirthMismatch,
        ResultCode::GenderMismatch,
        ResultCode::PassportFormat,
        ResultCode::CellphoneInvalid,
        ResultCode::EmailInvalid,
        ResultCode::PayDayInvalid,
        ResultCode::DateOfBirthInvalid,
        ResultCode::NameInvalid,
        ResultCode::AmountNotPositive,
        ResultCode::AmountPrecision,
        ResultCode::EmployerNotFound,
        ResultCode::ClientNotFound,
        ResultCode::EmployerCodeConflict,
        ResultCode::ClientNumberConflict,
        ResultCode::IdNumberInUse,
        ResultCode::NotAvailable,
    ];

    /// The number sent in `<Code>`.
    pub fn number(self) -> u16 {
        match self {
            ResultCode::Ok => 0,
            ResultCode::FieldRequired => 100,
            ResultCode::FieldTooLong => 101,
            ResultCode::FieldCharacters => 102,
            ResultCode::IdNumberFormat => 103,
            ResultCode::IdNumberDate => 104,
            ResultCode::IdNumberCitizenship => 105,
            ResultCode::IdNumberCheckDigit => 106,
            ResultCode::DateOfBirthMismatch => 107,
            ResultCode::GenderMismatch => 108,
            ResultCode::PassportFormat => 109,
            ResultCode::CellphoneInvalid => 110,
            ResultCode::EmailInvalid => 111,
            ResultCode::PayDayInvalid => 112,
            ResultCode::DateOfBirthInvalid => 113,
            ResultCode::NameInvalid => 114,
            ResultCode::AmountNotPositive => 120,
            ResultCode::AmountPrecision => 121,
            ResultCode::EmployerNotFound => 200,
            ResultCode::ClientNotFound => 201,
            ResultCode::EmployerCodeConflict => 400,
            ResultCode::ClientNumberConflict => 401,
            ResultCode::IdNumberInUse => 402,
            ResultCode::NotAvailable => 500,
        }
    }

    /// The SCREAMING_SNAKE name, for logs and the README.
    pub fn name(self) -> &'static str {
        match self {
            ResultCode::Ok => "OK",
            ResultCode::FieldRequired => "FIELD_REQUIRED",
            ResultCode::FieldTooLong => "FIELD_TOO_LONG",
            ResultCode::FieldCharacters => "FIELD_CHARACTERS",
            ResultCode::IdNumberFormat => "ID_NUMBER_FORMAT",
            ResultCode::IdNumberDate => "ID_NUMBER_DATE",
            ResultCode::IdNumberCitizenship => "ID_NUMBER_CITIZENSHIP",
            ResultCode::IdNumberCheckDigit => "ID_NUMBER_CHECK_DIGIT",
            ResultCode::DateOfBirthMismatch => "DATE_OF_BIRTH_MISMATCH",
            ResultCode::GenderMismatch => "GENDER_MISMATCH",
            ResultCode::PassportFormat => "PASSPORT_FORMAT",
            ResultCode::CellphoneInvalid => "CELLPHONE_INVALID",
            ResultCode::EmailInvalid => "EMAIL_INVALID",
            ResultCode::PayDayInvalid => "PAY_DAY_INVALID",
            ResultCode::DateOfBirthInvalid => "DATE_OF_BIRTH_INVALID",
            ResultCode::NameInvalid => "NAME_INVALID",
            ResultCode::AmountNotPositive => "AMOUNT_NOT_POSITIVE",
            ResultCode::AmountPrecision => "AMOUNT_PRECISION",
            ResultCode::EmployerNotFound => "EMPLOYER_NOT_FOUND",
            ResultCode::ClientNotFound => "CLIENT_NOT_FOUND",
            ResultCode::EmployerCodeConflict => "EMPLOYER_CODE_CONFLICT",
            ResultCode::ClientNumberConflict => "CLIENT_NUMBER_CONFLICT",
            ResultCode::IdNumberInUse => "ID_NUMBER_IN_USE",
            ResultCode::NotAvailable => "NOT_AVAILABLE",
        }
    }

    /// What the code means, for the README.
    pub fn meaning(self) -> &'static str {
        match self {
            ResultCode::Ok => "success",
            ResultCode::FieldRequired => "a required value is empty or blank",
            ResultCode::FieldTooLong => "a value is longer than its field allows",
            ResultCode::FieldCharacters => {
                "a value holds characters its field does not allow (ClientNumber: letters and digits only)"
            }
            ResultCode::IdNumberFormat => "an SA ID number is not 13 digits",
            ResultCode::IdNumberDate => "an SA ID number does not start with a real date (YYMMDD)",
            ResultCode::IdNumberCitizenship => "an SA ID number's 11th digit is not 0, 1 or 2",
            ResultCode::IdNumberCheckDigit => "an SA ID number fails its Luhn check digit",
            ResultCode::DateOfBirthMismatch => "DateOfBirth disagrees with the SA ID number",
            ResultCode::GenderMismatch => "Gender disagrees with the SA ID number",
            ResultCode::PassportFormat => "a passport number is not 5 to 20 letters and digits",
            ResultCode::CellphoneInvalid => "CellphoneNumber is not a South African mobile number",
            ResultCode::EmailInvalid => "Email is not an e-mail address",
            ResultCode::PayDayInvalid => {
                "PayDay out of range (1-31 for MONTHLY, 1-7 for WEEKLY and FORTNIGHTLY)"
            }
            ResultCode::DateOfBirthInvalid => "DateOfBirth is in the future or over 130 years ago",
            ResultCode::NameInvalid => {
                "a name holds characters other than letters, spaces, hyphens, apostrophes and full stops"
            }
            ResultCode::AmountNotPositive => "an amount is zero or negative",
            ResultCode::AmountPrecision => "an amount has more than two decimals",
            ResultCode::EmployerNotFound => "no employer with that EmployerCode in the branch",
            ResultCode::ClientNotFound => "no client with that ClientNumber in the branch",
            ResultCode::EmployerCodeConflict => {
                "the EmployerCode exists in the branch with other details"
            }
            ResultCode::ClientNumberConflict => {
                "the ClientNumber exists in the branch with other details"
            }
            ResultCode::IdNumberInUse => "another client in the branch has this ID number",
            ResultCode::NotAvailable => "the operation is not available on this server yet",
        }
    }

    /// Renders the README's Markdown table of every code.
    pub fn markdown_table() -> String {
        let mut out = String::from("| Code | Name | Meaning |\n|---:|---|---|\n");
        for code in ResultCode::ALL {
            out.push_str(&format!(
                "| {} | `{}` | {} |\n",
                code.number(),
                code.name(),
                code.meaning()
            ));
        }
        out
    }
}

/// A business-rule refusal: a Result code, a message for the caller, and the field at
/// fault when there is one. The transaction it happens in is rolled back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code:?}: {message}")]
pub struct Refusal {
    /// The code.
    pub code: ResultCode,
    /// The caller-facing message.
    pub message: String,
    /// The request element at fault, if one is.
    pub field: Option<&'static str>,
}

impl Refusal {
    /// A refusal with no particular field.
    pub fn new(code: ResultCode, message: impl Into<String>) -> Self {
        Refusal {
            code,
            message: message.into(),
            field: None,
        }
    }

    /// A refusal naming the field at fault.
    pub fn field(code: ResultCode, field: &'static str, message: impl Into<String>) -> Self {
        Refusal {
            code,
            message: message.into(),
            field: Some(field),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_sorted_and_in_their_ranges() {
        let mut seen = HashSet::new();
        let mut last = None;
        for code in ResultCode::ALL {
            assert!(seen.insert(code.number()), "duplicate {}", code.number());
            assert!(
                seen.len() == 1 || last < Some(code.number()),
                "ALL is not sorted"
            );
            last = Some(code.number());
            assert!(code.number() == 0 || (100..600).contains(&code.number()));
        }
        let names: HashSet<_> = ResultCode::ALL.iter().map(|c| c.name()).collect();
        assert_eq!(names.len(), ResultCode::ALL.len());
    }
}
