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
    /// BankBranchCode is not six digits.
    BankBranchCodeFormat,
    /// An account number is not 1 to 11 digits, or all zeros where the bank needs a number.
    AccountNumberFormat,
    /// An account number fails its bank's check-digit verification (CDV).
    AccountCheckDigitFailed,
    /// NumberOfInstalments is below 1 or above the configured limit.
    NumberOfInstalmentsOutOfRange,
    /// An amount has more than 13 digits.
    AmountTooLarge,
    /// EditInstalment named none of ActionDate, Amount and TrackingDays.
    EditNothingRequested,
    /// No bank is known for the branch code.
    BankBranchUnknown,
    /// The promissory note does not exist in the branch.
    PromissoryNotFound,
    /// The note has no instalment with that number.
    InstalmentNotFound,
    /// The bank does not accept the account type at that branch.
    AccountTypeNotAccepted,
    /// SOCIAL_GRANT_EFT was asked for an account at a bank that does not offer it.
    SocialGrantEftNotAllowed,
    /// An action date is before the stream's registration cut-off.
    ActionDateBeforeCutOff,
    /// An action date is too far in the future.
    ActionDateTooFar,
    /// An action date is a Saturday or Sunday.
    ActionDateWeekend,
    /// An action date is a South African public holiday.
    ActionDatePublicHoliday,
    /// TrackingDays is outside the stream's limits.
    TrackingDaysNotAllowed,
    /// The note is COMPLETED and cannot be cancelled.
    PromissoryNotCancellable,
    /// The note is not PENDING or ACTIVE, so its instalments cannot change.
    PromissoryNotEditable,
    /// The instalment is no longer PENDING (presented, collected, unpaid, tracking or cancelled).
    InstalmentAlreadyPresented,
    /// Amounts change only on EFT and SOCIAL_GRANT_EFT notes.
    AmountNotEditable,
    /// An edited action date is not between the neighbouring instalments' dates.
    ActionDateOutOfSequence,
    /// Only ACTIVE, PENDING and CANCELLED notes print.
    PromissoryNotPrintable,
    /// The ContractReference is used in the branch by a note with other details.
    ContractReferenceConflict,
    /// Both Payment elements name the same account.
    PaymentAccountRepeated,
    /// ActionDate is before today.
    ActionDateInPast,
    /// A card number is not 16 digits.
    CardNumberFormat,
    /// A card number fails its Luhn check digit.
    CardNumberCheckDigit,
    /// A magstripe card was assigned without its PIN mailer number.
    PinMailerRequired,
    /// SinceSequence is negative.
    SinceSequenceInvalid,
    /// MaxCount is out of range.
    MaxCountOutOfRange,
    /// The account is not a registered account of the client.
    AccountNotFound,
    /// The credit payment does not exist in the branch.
    PaymentNotFound,
    /// The client has no cellphone number.
    CellphoneMissing,
    /// The client has no wallet request.
    WalletNotFound,
    /// The card is not assigned to the client.
    CardNotAssigned,
    /// The account is disabled.
    AccountDisabled,
    /// The wallet is not ACTIVE.
    WalletNotActive,
    /// The payment total is below the minimum.
    PaymentBelowMinimum,
    /// The payment total is above the maximum.
    PaymentAboveMaximum,
    /// One account part is above the maximum per part.
    PaymentPartAboveMaximum,
    /// The cash amount is above the cash limit.
    CashAboveLimit,
    /// Today was asked for after the cut-off time.
    ActionDatePastCutOff,
    /// The client's date of birth is not valid.
    ClientDateOfBirthInvalid,
    /// The client's date of birth or gender disagrees with the SA ID number.
    ClientIdMismatch,
    /// A PIN mailer number was given for an EMV card.
    PinMailerNotAllowed,
    /// The card does not match the wallet type.
    CardWalletTypeMismatch,
    /// The card was replaced by another card.
    CardReplaced,
    /// The PaymentReference exists with other content.
    PaymentReferenceConflict,
    /// Another client in the branch has this cellphone number.
    CellphoneInUse,
    /// The card is assigned to another wallet.
    CardAssignedElsewhere,
    /// The card is assigned with another PIN mailer number.
    CardPinMailerConflict,
    /// An account number's length is not one its bank issues.
    AccountNumberLength,
    /// The client is under the age of majority on the day of the request.
    DebtorMinor,
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
        ResultCode::BankBranchCodeFormat,
        ResultCode::AccountNumberFormat,
        ResultCode::AccountCheckDigitFailed,
        ResultCode::NumberOfInstalmentsOutOfRange,
        ResultCode::AmountTooLarge,
        ResultCode::EditNothingRequested,
        ResultCode::AccountNumberLength,
        ResultCode::PaymentAccountRepeated,
        ResultCode::ActionDateInPast,
        ResultCode::CardNumberFormat,
        ResultCode::CardNumberCheckDigit,
        ResultCode::PinMailerRequired,
        ResultCode::SinceSequenceInvalid,
        ResultCode::MaxCountOutOfRange,
        ResultCode::EmployerNotFound,
        ResultCode::ClientNotFound,
        ResultCode::BankBranchUnknown,
        ResultCode::PromissoryNotFound,
        ResultCode::InstalmentNotFound,
        ResultCode::AccountNotFound,
        ResultCode::PaymentNotFound,
        ResultCode::CellphoneMissing,
        ResultCode::WalletNotFound,
        ResultCode::CardNotAssigned,
        ResultCode::AccountTypeNotAccepted,
        ResultCode::SocialGrantEftNotAllowed,
        ResultCode::ActionDateBeforeCutOff,
        ResultCode::ActionDateTooFar,
        ResultCode::ActionDateWeekend,
        ResultCode::ActionDatePublicHoliday,
        ResultCode::TrackingDaysNotAllowed,
        ResultCode::PromissoryNotCancellable,
        ResultCode::PromissoryNotEditable,
        ResultCode::InstalmentAlreadyPresented,
        ResultCode::AmountNotEditable,
        ResultCode::ActionDateOutOfSequence,
        ResultCode::PromissoryNotPrintable,
        ResultCode::DebtorMinor,
        ResultCode::AccountDisabled,
        ResultCode::WalletNotActive,
        ResultCode::PaymentBelowMinimum,
        ResultCode::PaymentAboveMaximum,
        ResultCode::PaymentPartAboveMaximum,
        ResultCode::CashAboveLimit,
        ResultCode::ActionDatePastCutOff,
        ResultCode::ClientDateOfBirthInvalid,
        ResultCode::ClientIdMismatch,
        ResultCode::PinMailerNotAllowed,
        ResultCode::CardWalletTypeMismatch,
        ResultCode::CardReplaced,
        ResultCode::EmployerCodeConflict,
        ResultCode::ClientNumberConflict,
        ResultCode::IdNumberInUse,
        ResultCode::ContractReferenceConflict,
        ResultCode::PaymentReferenceConflict,
        ResultCode::CellphoneInUse,
        ResultCode::CardAssignedElsewhere,
        ResultCode::CardPinMailerConflict,
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
            ResultCode::BankBranchCodeFormat => 130,
            ResultCode::AccountNumberFormat => 131,
            ResultCode::AccountCheckDigitFailed => 132,
            ResultCode::NumberOfInstalmentsOutOfRange => 133,
            ResultCode::AmountTooLarge => 134,
            ResultCode::EditNothingRequested => 135,
            ResultCode::AccountNumberLength => 136,
            ResultCode::BankBranchUnknown => 210,
            ResultCode::PromissoryNotFound => 211,
            ResultCode::InstalmentNotFound => 212,
            ResultCode::AccountTypeNotAccepted => 300,
            ResultCode::SocialGrantEftNotAllowed => 301,
            ResultCode::ActionDateBeforeCutOff => 302,
            ResultCode::ActionDateTooFar => 303,
            ResultCode::ActionDateWeekend => 304,
            ResultCode::ActionDatePublicHoliday => 305,
            ResultCode::TrackingDaysNotAllowed => 306,
            ResultCode::PromissoryNotCancellable => 307,
            ResultCode::PromissoryNotEditable => 308,
            ResultCode::InstalmentAlreadyPresented => 309,
            ResultCode::AmountNotEditable => 310,
            ResultCode::ActionDateOutOfSequence => 311,
            ResultCode::PromissoryNotPrintable => 312,
            ResultCode::DebtorMinor => 313,
            ResultCode::ContractReferenceConflict => 410,
            ResultCode::PaymentAccountRepeated => 160,
            ResultCode::ActionDateInPast => 161,
            ResultCode::CardNumberFormat => 162,
            ResultCode::CardNumberCheckDigit => 163,
            ResultCode::PinMailerRequired => 164,
            ResultCode::SinceSequenceInvalid => 165,
            ResultCode::MaxCountOutOfRange => 166,
            ResultCode::AccountNotFound => 230,
            ResultCode::PaymentNotFound => 231,
            ResultCode::CellphoneMissing => 232,
            ResultCode::WalletNotFound => 233,
            ResultCode::CardNotAssigned => 234,
            ResultCode::AccountDisabled => 330,
            ResultCode::WalletNotActive => 331,
            ResultCode::PaymentBelowMinimum => 332,
            ResultCode::PaymentAboveMaximum => 333,
            ResultCode::PaymentPartAboveMaximum => 334,
            ResultCode::CashAboveLimit => 335,
            ResultCode::ActionDatePastCutOff => 336,
            ResultCode::ClientDateOfBirthInvalid => 337,
            ResultCode::ClientIdMismatch => 338,
            ResultCode::PinMailerNotAllowed => 339,
            ResultCode::CardWalletTypeMismatch => 340,
            ResultCode::CardReplaced => 341,
            ResultCode::PaymentReferenceConflict => 420,
            ResultCode::CellphoneInUse => 421,
            ResultCode::CardAssignedElsewhere => 422,
            ResultCode::CardPinMailerConflict => 423,
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
            ResultCode::BankBranchCodeFormat => "BANK_BRANCH_CODE_FORMAT",
            ResultCode::AccountNumberFormat => "ACCOUNT_NUMBER_FORMAT",
            ResultCode::AccountCheckDigitFailed => "ACCOUNT_CHECK_DIGIT_FAILED",
            ResultCode::NumberOfInstalmentsOutOfRange => "NUMBER_OF_INSTALMENTS_OUT_OF_RANGE",
            ResultCode::AmountTooLarge => "AMOUNT_TOO_LARGE",
            ResultCode::EditNothingRequested => "EDIT_NOTHING_REQUESTED",
            ResultCode::AccountNumberLength => "ACCOUNT_NUMBER_LENGTH",
            ResultCode::BankBranchUnknown => "BANK_BRANCH_UNKNOWN",
            ResultCode::PromissoryNotFound => "PROMISSORY_NOT_FOUND",
            ResultCode::InstalmentNotFound => "INSTALMENT_NOT_FOUND",
            ResultCode::AccountTypeNotAccepted => "ACCOUNT_TYPE_NOT_ACCEPTED",
            ResultCode::SocialGrantEftNotAllowed => "SOCIAL_GRANT_EFT_NOT_ALLOWED",
            ResultCode::ActionDateBeforeCutOff => "ACTION_DATE_BEFORE_CUT_OFF",
            ResultCode::ActionDateTooFar => "ACTION_DATE_TOO_FAR",
            ResultCode::ActionDateWeekend => "ACTION_DATE_WEEKEND",
            ResultCode::ActionDatePublicHoliday => "ACTION_DATE_PUBLIC_HOLIDAY",
            ResultCode::TrackingDaysNotAllowed => "TRACKING_DAYS_NOT_ALLOWED",
            ResultCode::PromissoryNotCancellable => "PROMISSORY_NOT_CANCELLABLE",
            ResultCode::PromissoryNotEditable => "PROMISSORY_NOT_EDITABLE",
            ResultCode::InstalmentAlreadyPresented => "INSTALMENT_ALREADY_PRESENTED",
            ResultCode::AmountNotEditable => "AMOUNT_NOT_EDITABLE",
            ResultCode::ActionDateOutOfSequence => "ACTION_DATE_OUT_OF_SEQUENCE",
            ResultCode::PromissoryNotPrintable => "PROMISSORY_NOT_PRINTABLE",
            ResultCode::DebtorMinor => "DEBTOR_MINOR",
            ResultCode::ContractReferenceConflict => "CONTRACT_REFERENCE_CONFLICT",
            ResultCode::PaymentAccountRepeated => "PAYMENT_ACCOUNT_REPEATED",
            ResultCode::ActionDateInPast => "ACTION_DATE_IN_PAST",
            ResultCode::CardNumberFormat => "CARD_NUMBER_FORMAT",
            ResultCode::CardNumberCheckDigit => "CARD_NUMBER_CHECK_DIGIT",
            ResultCode::PinMailerRequired => "PIN_MAILER_REQUIRED",
            ResultCode::SinceSequenceInvalid => "SINCE_SEQUENCE_INVALID",
            ResultCode::MaxCountOutOfRange => "MAX_COUNT_OUT_OF_RANGE",
            ResultCode::AccountNotFound => "ACCOUNT_NOT_FOUND",
            ResultCode::PaymentNotFound => "PAYMENT_NOT_FOUND",
            ResultCode::CellphoneMissing => "CELLPHONE_MISSING",
            ResultCode::WalletNotFound => "WALLET_NOT_FOUND",
            ResultCode::CardNotAssigned => "CARD_NOT_ASSIGNED",
            ResultCode::AccountDisabled => "ACCOUNT_DISABLED",
            ResultCode::WalletNotActive => "WALLET_NOT_ACTIVE",
            ResultCode::PaymentBelowMinimum => "PAYMENT_BELOW_MINIMUM",
            ResultCode::PaymentAboveMaximum => "PAYMENT_ABOVE_MAXIMUM",
            ResultCode::PaymentPartAboveMaximum => "PAYMENT_PART_ABOVE_MAXIMUM",
            ResultCode::CashAboveLimit => "CASH_ABOVE_LIMIT",
            ResultCode::ActionDatePastCutOff => "ACTION_DATE_PAST_CUT_OFF",
            ResultCode::ClientDateOfBirthInvalid => "CLIENT_DATE_OF_BIRTH_INVALID",
            ResultCode::ClientIdMismatch => "CLIENT_ID_MISMATCH",
            ResultCode::PinMailerNotAllowed => "PIN_MAILER_NOT_ALLOWED",
            ResultCode::CardWalletTypeMismatch => "CARD_WALLET_TYPE_MISMATCH",
            ResultCode::CardReplaced => "CARD_REPLACED",
            ResultCode::PaymentReferenceConflict => "PAYMENT_REFERENCE_CONFLICT",
            ResultCode::CellphoneInUse => "CELLPHONE_IN_USE",
            ResultCode::CardAssignedElsewhere => "CARD_ASSIGNED_ELSEWHERE",
            ResultCode::CardPinMailerConflict => "CARD_PIN_MAILER_CONFLICT",
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
                "a name holds characters other than letters, spaces, hyphens, apostrophes and full stops, or letters the printed documents cannot show exactly (Latin, Greek and Cyrillic print)"
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
            ResultCode::BankBranchCodeFormat => "BankBranchCode is not six digits",
            ResultCode::AccountNumberFormat => {
                "AccountNumber is not 1 to 11 digits (or is all zeros)"
            }
            ResultCode::AccountCheckDigitFailed => {
                "AccountNumber fails the bank's check-digit verification (CDV)"
            }
            ResultCode::NumberOfInstalmentsOutOfRange => {
                "NumberOfInstalments is below 1 or above the configured limit (`--max-instalments`, default 60)"
            }
            ResultCode::AmountTooLarge => "an amount is above 99 999 999 999.99 (13 digits)",
            ResultCode::EditNothingRequested => {
                "EditInstalment gave none of ActionDate, Amount and TrackingDays"
            }
            ResultCode::AccountNumberLength => {
                "AccountNumber has a length its bank does not issue (lengths per bank in the CDV parameter file)"
            }
            ResultCode::BankBranchUnknown => {
                "no bank is known for BankBranchCode (CDV parameter file)"
            }
            ResultCode::PromissoryNotFound => {
                "no promissory note with that PromissoryNumber in the branch"
            }
            ResultCode::InstalmentNotFound => {
                "the note has no instalment with that InstalmentNumber"
            }
            ResultCode::AccountTypeNotAccepted => {
                "the bank does not accept that AccountType at that branch"
            }
            ResultCode::SocialGrantEftNotAllowed => {
                "SOCIAL_GRANT_EFT only for banks that offer it (Access Bank SA, formerly Bank of Athens, and Grindrod)"
            }
            ResultCode::ActionDateBeforeCutOff => {
                "an action date is inside the stream's registration cut-off (before the N-th business day after today), or an instalment to edit already falls due inside it"
            }
            ResultCode::ActionDateTooFar => {
                "an action date is more than the configured number of days after today (promissory notes: default 365; credit payments: default 60)"
            }
            ResultCode::ActionDateWeekend => "an action date is a Saturday or a Sunday",
            ResultCode::ActionDatePublicHoliday => {
                "an action date is a South African public holiday (the message names it)"
            }
            ResultCode::TrackingDaysNotAllowed => {
                "TrackingDays outside the stream's limits (NAEDO 0-32; EFT and SOCIAL_GRANT_EFT 0)"
            }
            ResultCode::PromissoryNotCancellable => "a COMPLETED note cannot be cancelled",
            ResultCode::PromissoryNotEditable => {
                "instalments change only on PENDING or ACTIVE notes"
            }
            ResultCode::InstalmentAlreadyPresented => {
                "the instalment is no longer PENDING (already presented, or cancelled)"
            }
            ResultCode::AmountNotEditable => {
                "amounts change only on EFT and SOCIAL_GRANT_EFT notes"
            }
            ResultCode::ActionDateOutOfSequence => {
                "an edited ActionDate must fall after the previous and before the next instalment's date"
            }
            ResultCode::PromissoryNotPrintable => "only ACTIVE, PENDING and CANCELLED notes print",
            ResultCode::DebtorMinor => {
                "the client is under the age of majority (`--age-of-majority`, default 18) on the day of the request"
            }
            ResultCode::ContractReferenceConflict => {
                "the ContractReference is used in the branch by a note with other details"
            }
            ResultCode::PaymentAccountRepeated => "both Payment elements name the same AccountId",
            ResultCode::ActionDateInPast => "ActionDate is before today (South African time)",
            ResultCode::CardNumberFormat => "CardNumber is not 16 digits",
            ResultCode::CardNumberCheckDigit => "CardNumber fails its Luhn check digit",
            ResultCode::PinMailerRequired => {
                "a magstripe card (BIN in the configured magstripe list) needs its PinMailerNumber"
            }
            ResultCode::SinceSequenceInvalid => "SinceSequence is negative",
            ResultCode::MaxCountOutOfRange => "MaxCount is not between 1 and 1000",
            ResultCode::AccountNotFound => "AccountId is not a registered account of the client",
            ResultCode::PaymentNotFound => {
                "no credit payment with that PaymentNumber in the branch"
            }
            ResultCode::CellphoneMissing => {
                "the client has no cellphone number (a wallet needs one)"
            }
            ResultCode::WalletNotFound => "the client has no wallet request",
            ResultCode::CardNotAssigned => "the card was never assigned to the client's wallet",
            ResultCode::AccountDisabled => "the account is disabled",
            ResultCode::WalletNotActive => "the client's wallet is PENDING or FAILED, not ACTIVE",
            ResultCode::PaymentBelowMinimum => {
                "the payment total is below the configured minimum (default 10.00)"
            }
            ResultCode::PaymentAboveMaximum => {
                "the payment total is above the configured maximum (default 100 000.00)"
            }
            ResultCode::PaymentPartAboveMaximum => {
                "one Payment amount is above the configured maximum per account (default 50 000.00)"
            }
            ResultCode::CashAboveLimit => {
                "CashAmount is above the configured cash limit (default 5 000.00)"
            }
            ResultCode::ActionDatePastCutOff => {
                "ActionDate is today but today's same-day cut-off (default 15:00) has passed"
            }
            ResultCode::ClientDateOfBirthInvalid => {
                "the client's stored date of birth is not valid (future or over 130 years ago)"
            }
            ResultCode::ClientIdMismatch => {
                "the client's date of birth or gender disagrees with its SA ID number"
            }
            ResultCode::PinMailerNotAllowed => {
                "a PinMailerNumber was given for an EMV card (EMV cards have none)"
            }
            ResultCode::CardWalletTypeMismatch => {
                "the card's technology (EMV or magstripe) differs from the wallet's earlier card; a new wallet is needed"
            }
            ResultCode::CardReplaced => "the card was replaced by a later card on the wallet",
            ResultCode::PaymentReferenceConflict => {
                "the PaymentReference exists in the branch with other content"
            }
            ResultCode::CellphoneInUse => {
                "another client in the branch has the client's cellphone number"
            }
            ResultCode::CardAssignedElsewhere => "the card is assigned to another wallet",
            ResultCode::CardPinMailerConflict => {
                "the card is assigned to this wallet with another PinMailerNumber"
            }
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
