//! Business-rule refusals: [`ResultCode`] (the stable numeric codes of `<Result><Code>`)
//! and [`Refusal`], the error every handler returns for a rule it enforces. Every code is
//! declared once, in the `result_codes!` table below, which generates the enum, its
//! number, name, meaning, parsing and [`ResultCode::ALL`]; docs/codes.md's table is
//! rendered from it and checked by a test. Codes are API: add new ones, never renumber.

/// Declares every Result code once: `Variant = number, "NAME", "meaning";`, in numeric
/// order. The enum's discriminant is the wire number, so a repeated number does not
/// compile; the meaning is also the variant's documentation.
macro_rules! result_codes {
    ($($variant:ident = $number:literal, $name:literal, $meaning:literal;)+) => {
        /// A stable Result code. Ranges: 1xx field validation, 2xx missing prerequisite or
        /// not found, 3xx state or rule violation, 4xx duplicate or idempotency conflict,
        /// 5xx processing.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(u16)]
        pub enum ResultCode {
            $(
                #[doc = $meaning]
                $variant = $number,
            )+
        }

        impl ResultCode {
            /// Every code, in numeric order.
            pub const ALL: &'static [ResultCode] = &[$(ResultCode::$variant),+];

            /// The SCREAMING_SNAKE name, for logs and the docs.
            pub const fn name(self) -> &'static str {
                match self {
                    $(ResultCode::$variant => $name,)+
                }
            }

            /// What the code means, for the docs' table.
            pub const fn meaning(self) -> &'static str {
                match self {
                    $(ResultCode::$variant => $meaning,)+
                }
            }

            /// The code sent as `number`, if there is one.
            pub const fn from_number(number: u16) -> Option<ResultCode> {
                match number {
                    $($number => Some(ResultCode::$variant),)+
                    _ => None,
                }
            }

            /// The code called `name` (SCREAMING_SNAKE), if there is one.
            pub fn from_name(name: &str) -> Option<ResultCode> {
                match name {
                    $($name => Some(ResultCode::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

result_codes! {
    Ok = 0, "OK", "success";
    FieldRequired = 100, "FIELD_REQUIRED", "a required value is empty or blank";
    FieldTooLong = 101, "FIELD_TOO_LONG", "a value is longer than its field allows";
    FieldCharacters = 102, "FIELD_CHARACTERS", "a value holds characters its field does not allow (ClientNumber: letters and digits only)";
    IdNumberFormat = 103, "ID_NUMBER_FORMAT", "an SA ID number is not 13 digits";
    IdNumberDate = 104, "ID_NUMBER_DATE", "an SA ID number does not start with a real date (YYMMDD)";
    IdNumberCitizenship = 105, "ID_NUMBER_CITIZENSHIP", "an SA ID number's 11th digit is not 0, 1 or 2";
    IdNumberCheckDigit = 106, "ID_NUMBER_CHECK_DIGIT", "an SA ID number fails its Luhn check digit";
    DateOfBirthMismatch = 107, "DATE_OF_BIRTH_MISMATCH", "DateOfBirth disagrees with the SA ID number";
    GenderMismatch = 108, "GENDER_MISMATCH", "Gender disagrees with the SA ID number";
    PassportFormat = 109, "PASSPORT_FORMAT", "a passport number is not 5 to 20 letters and digits";
    CellphoneInvalid = 110, "CELLPHONE_INVALID", "CellphoneNumber is not a South African mobile number";
    EmailInvalid = 111, "EMAIL_INVALID", "Email is not an e-mail address";
    PayDayInvalid = 112, "PAY_DAY_INVALID", "PayDay out of range (1-31 for MONTHLY, 1-7 for WEEKLY and FORTNIGHTLY)";
    DateOfBirthInvalid = 113, "DATE_OF_BIRTH_INVALID", "DateOfBirth is in the future or over 130 years ago";
    NameInvalid = 114, "NAME_INVALID", "a name holds characters other than letters, spaces, hyphens, apostrophes and full stops, or letters the printed documents cannot show exactly (Latin, Greek and Cyrillic print)";
    AmountNotPositive = 120, "AMOUNT_NOT_POSITIVE", "an amount is zero or negative";
    AmountPrecision = 121, "AMOUNT_PRECISION", "an amount has more than two decimals";
    BankBranchCodeFormat = 130, "BANK_BRANCH_CODE_FORMAT", "BankBranchCode is not six digits";
    AccountNumberFormat = 131, "ACCOUNT_NUMBER_FORMAT", "AccountNumber is not 1 to 11 digits (or is all zeros)";
    AccountCheckDigitFailed = 132, "ACCOUNT_CHECK_DIGIT_FAILED", "AccountNumber fails the bank's check-digit verification (CDV)";
    NumberOfInstalmentsOutOfRange = 133, "NUMBER_OF_INSTALMENTS_OUT_OF_RANGE", "NumberOfInstalments is below 1 or above the configured limit (`--max-instalments`, default 60)";
    AmountTooLarge = 134, "AMOUNT_TOO_LARGE", "an amount is above 99 999 999 999.99 (13 digits)";
    EditNothingRequested = 135, "EDIT_NOTHING_REQUESTED", "EditInstalment gave none of ActionDate, Amount and TrackingDays";
    AccountNumberLength = 136, "ACCOUNT_NUMBER_LENGTH", "AccountNumber has a length its bank does not issue (lengths per bank in the CDV parameter file)";
    CollectionDayInvalid = 140, "COLLECTION_DAY_INVALID", "CollectionDay out of range for the frequency (MONTHLY 1-31, 31 = last day; WEEKLY and FORTNIGHTLY 1-7, ISO weekday)";
    AdjustmentInvalid = 141, "ADJUSTMENT_INVALID", "AdjustmentCategory NEVER with an adjustment, another category without exactly one of AdjustmentRate and AdjustmentAmount, or an adjustment on a FIXED mandate";
    PaymentAccountRepeated = 160, "PAYMENT_ACCOUNT_REPEATED", "both Payment elements name the same AccountId";
    ActionDateInPast = 161, "ACTION_DATE_IN_PAST", "ActionDate is before today (South African time)";
    CardNumberFormat = 162, "CARD_NUMBER_FORMAT", "CardNumber is not 16 digits";
    CardNumberCheckDigit = 163, "CARD_NUMBER_CHECK_DIGIT", "CardNumber fails its Luhn check digit";
    PinMailerRequired = 164, "PIN_MAILER_REQUIRED", "a magstripe card (BIN in the configured magstripe list) needs its PinMailerNumber";
    SinceSequenceInvalid = 165, "SINCE_SEQUENCE_INVALID", "SinceSequence is negative";
    MaxCountOutOfRange = 166, "MAX_COUNT_OUT_OF_RANGE", "MaxCount is not between 1 and 1000";
    EmployerNotFound = 200, "EMPLOYER_NOT_FOUND", "no employer with that EmployerCode in the branch";
    ClientNotFound = 201, "CLIENT_NOT_FOUND", "no client with that ClientNumber in the branch";
    BankBranchUnknown = 210, "BANK_BRANCH_UNKNOWN", "no bank is known for BankBranchCode (CDV parameter file)";
    PromissoryNotFound = 211, "PROMISSORY_NOT_FOUND", "no promissory note with that PromissoryNumber in the branch";
    InstalmentNotFound = 212, "INSTALMENT_NOT_FOUND", "the note has no instalment with that InstalmentNumber";
    AccountNotFound = 230, "ACCOUNT_NOT_FOUND", "AccountId is not a registered account of the client";
    PaymentNotFound = 231, "PAYMENT_NOT_FOUND", "no credit payment with that PaymentNumber in the branch";
    CellphoneMissing = 232, "CELLPHONE_MISSING", "the client has no cellphone number (a wallet needs one)";
    WalletNotFound = 233, "WALLET_NOT_FOUND", "the client has no wallet request";
    CardNotAssigned = 234, "CARD_NOT_ASSIGNED", "the card was never assigned to the client's wallet";
    AuthenticationCellphoneMissing = 240, "AUTHENTICATION_CELLPHONE_MISSING", "a TT1 DebiCheck mandate needs the client's cellphone number (the payer is asked on it)";
    AccountTypeNotAccepted = 300, "ACCOUNT_TYPE_NOT_ACCEPTED", "the bank does not accept that AccountType at that branch";
    SocialGrantEftNotAllowed = 301, "SOCIAL_GRANT_EFT_NOT_ALLOWED", "SOCIAL_GRANT_EFT only for banks that offer it (Access Bank SA, formerly Bank of Athens, and Grindrod)";
    ActionDateBeforeCutOff = 302, "ACTION_DATE_BEFORE_CUT_OFF", "an action date is inside the stream's registration cut-off (before the N-th business day after today), or an instalment to edit already falls due inside it";
    ActionDateTooFar = 303, "ACTION_DATE_TOO_FAR", "an action date is more than the configured number of days after today (promissory notes: default 365; credit payments: default 60)";
    ActionDateWeekend = 304, "ACTION_DATE_WEEKEND", "an action date is a Saturday or a Sunday";
    ActionDatePublicHoliday = 305, "ACTION_DATE_PUBLIC_HOLIDAY", "an action date is a South African public holiday (the message names it)";
    TrackingDaysNotAllowed = 306, "TRACKING_DAYS_NOT_ALLOWED", "TrackingDays outside the stream's limits (NAEDO 0-32; DEBICHECK 0-10; EFT and SOCIAL_GRANT_EFT 0)";
    PromissoryNotCancellable = 307, "PROMISSORY_NOT_CANCELLABLE", "a COMPLETED note cannot be cancelled";
    PromissoryNotEditable = 308, "PROMISSORY_NOT_EDITABLE", "instalments change only on PENDING or ACTIVE notes";
    InstalmentAlreadyPresented = 309, "INSTALMENT_ALREADY_PRESENTED", "the instalment is no longer PENDING (already presented, or cancelled)";
    AmountNotEditable = 310, "AMOUNT_NOT_EDITABLE", "amounts change only on EFT and SOCIAL_GRANT_EFT notes (never on NAEDO or DebiCheck)";
    ActionDateOutOfSequence = 311, "ACTION_DATE_OUT_OF_SEQUENCE", "an edited ActionDate must fall after the previous and before the next instalment's date";
    PromissoryNotPrintable = 312, "PROMISSORY_NOT_PRINTABLE", "only ACTIVE, PENDING and CANCELLED notes print";
    DebtorMinor = 313, "DEBTOR_MINOR", "the client is under the age of majority (`--age-of-majority`, default 18) on the day of the request";
    AccountDisabled = 330, "ACCOUNT_DISABLED", "the account is disabled";
    WalletNotActive = 331, "WALLET_NOT_ACTIVE", "the client's wallet is PENDING or FAILED, not ACTIVE";
    PaymentBelowMinimum = 332, "PAYMENT_BELOW_MINIMUM", "the payment total is below the configured minimum (default 10.00)";
    PaymentAboveMaximum = 333, "PAYMENT_ABOVE_MAXIMUM", "the payment total is above the configured maximum (default 100 000.00)";
    PaymentPartAboveMaximum = 334, "PAYMENT_PART_ABOVE_MAXIMUM", "one Payment amount is above the configured maximum per account (default 50 000.00)";
    CashAboveLimit = 335, "CASH_ABOVE_LIMIT", "CashAmount is above the configured cash limit (default 5 000.00)";
    ActionDatePastCutOff = 336, "ACTION_DATE_PAST_CUT_OFF", "ActionDate is today but today's same-day cut-off (default 15:00) has passed";
    ClientDateOfBirthInvalid = 337, "CLIENT_DATE_OF_BIRTH_INVALID", "the client's stored date of birth is not valid (future or over 130 years ago)";
    ClientIdMismatch = 338, "CLIENT_ID_MISMATCH", "the client's date of birth or gender disagrees with its SA ID number";
    PinMailerNotAllowed = 339, "PIN_MAILER_NOT_ALLOWED", "a PinMailerNumber was given for an EMV card (EMV cards have none)";
    CardWalletTypeMismatch = 340, "CARD_WALLET_TYPE_MISMATCH", "the card's technology (EMV or magstripe) differs from the wallet's earlier card; a new wallet is needed";
    CardReplaced = 341, "CARD_REPLACED", "the card was replaced by a later card on the client's wallet: its receipt no longer prints (the card is released and may be assigned again)";
    CollectionDayMismatch = 350, "COLLECTION_DAY_MISMATCH", "FirstActionDate does not fall on the DebiCheck CollectionDay";
    MaximumBelowInstalment = 351, "MAXIMUM_BELOW_INSTALMENT", "MaximumCollectionAmount is below InstalmentAmount";
    MaximumAboveFactor = 352, "MAXIMUM_ABOVE_FACTOR", "MaximumCollectionAmount of a FIXED or VARIABLE mandate is above the configured factor times the instalment (`--debicheck-max-factor`, default 1.5)";
    MaximumAboveUsageLimit = 353, "MAXIMUM_ABOVE_USAGE_LIMIT", "MaximumCollectionAmount of a USAGE_BASED mandate is above the configured limit (`--debicheck-usage-limit`, default 50 000.00)";
    OnceOffInstalments = 354, "ONCE_OFF_INSTALMENTS", "a once-off (OOFF) mandate has NumberOfInstalments other than 1";
    DebicheckAccountTypeNotAllowed = 355, "DEBICHECK_ACCOUNT_TYPE_NOT_ALLOWED", "DebiCheck collects only from personal CURRENT, SAVINGS and TRANSMISSION accounts";
    Tt3OutsideHours = 356, "TT3_OUTSIDE_HOURS", "a TT3 (card and PIN) mandate is requested outside 00:30-23:30 South African time";
    EmployerCodeConflict = 400, "EMPLOYER_CODE_CONFLICT", "the EmployerCode exists in the branch with other details";
    ClientNumberConflict = 401, "CLIENT_NUMBER_CONFLICT", "the ClientNumber exists in the branch with other details";
    IdNumberInUse = 402, "ID_NUMBER_IN_USE", "another client in the branch has this ID number";
    ContractReferenceConflict = 410, "CONTRACT_REFERENCE_CONFLICT", "the ContractReference is used in the branch by a note with other details";
    PaymentReferenceConflict = 420, "PAYMENT_REFERENCE_CONFLICT", "the PaymentReference exists in the branch with other content";
    CellphoneInUse = 421, "CELLPHONE_IN_USE", "another client in the branch has the client's cellphone number";
    CardAssignedElsewhere = 422, "CARD_ASSIGNED_ELSEWHERE", "the card is held by another wallet, of this organisation or another (one answer: it never says where)";
    CardPinMailerConflict = 423, "CARD_PIN_MAILER_CONFLICT", "the card is assigned to this wallet with another PinMailerNumber";
    NotAvailable = 500, "NOT_AVAILABLE", "the operation is not available on this server yet";
}

impl ResultCode {
    /// The number sent in `<Code>`.
    pub const fn number(self) -> u16 {
        self as u16
    }

    /// Renders the docs' Markdown table of every code.
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

    /// `NAME` is the variant in SCREAMING_SNAKE case (`IdNumberFormat` is
    /// `ID_NUMBER_FORMAT`), so a new line in the table cannot misspell it silently.
    #[test]
    fn names_follow_the_variants() {
        for code in ResultCode::ALL {
            let variant = format!("{code:?}");
            let mut snake = String::new();
            for (i, ch) in variant.chars().enumerate() {
                if ch.is_ascii_uppercase() && i > 0 {
                    snake.push('_');
                }
                snake.push(ch.to_ascii_uppercase());
            }
            assert_eq!(code.name(), snake, "{variant}");
        }
    }

    #[test]
    fn numbers_and_names_parse_back() {
        for &code in ResultCode::ALL {
            assert_eq!(ResultCode::from_number(code.number()), Some(code));
            assert_eq!(ResultCode::from_name(code.name()), Some(code));
            assert!(!code.meaning().is_empty());
        }
        assert_eq!(ResultCode::from_number(1), None);
        assert_eq!(ResultCode::from_name("ok"), None);
        assert_eq!(ResultCode::NotAvailable.number(), 500);
        assert_eq!(
            ResultCode::AccountCheckDigitFailed.name(),
            "ACCOUNT_CHECK_DIGIT_FAILED"
        );
    }
}
