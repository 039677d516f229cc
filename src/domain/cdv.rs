//! BankservAfrica EFT check-digit verification (CDV) of South African bank
//! account numbers.
//!
//! CDV says only that an account number *could* exist at a bank; it does not
//! say that it does (use account verification for that). `AddClientAccount`
//! registers an account only when its branch is known and its number passes
//! this check.
//!
//! # Data
//!
//! Banks, their branch-code ranges and the CDV parameter rows live in the
//! plain-text file `data/cdv-parameters.txt` (its header documents the
//! format and names the source of every row). The file is compiled in
//! ([`CdvTable::bundled`]) and can also be read at run time
//! ([`CdvTable::load`]) so an operator can correct it without a rebuild.
//! BankservAfrica's parameter manual is confidential; the shipped rows come
//! from public implementations and the project's domain notes, and banks
//! whose weighting no source gives are shipped with no CDV (row weighting
//! `none`), never with a guessed weighting.
//!
//! # Algorithm
//!
//! From the BankservAfrica EFT CDV parameter manual as summarised in
//! `shared/spec/domain-notes.md` §6.1:
//!
//! 1. The branch code must be six digits and fall in a bank's range.
//! 2. The account number must be 1–11 digits.
//! 3. The parameter rows for the branch and account type are found; none
//!    means the bank does not take that account type there. Where several
//!    rows match, the number passes if any row accepts it.
//! 4. The row's account indicator: 0 needs no number and does no CDV; 1
//!    allows an all-zero number and otherwise does CDV; 2–4 do CDV and refuse
//!    an all-zero number.
//! 5. The number is right-justified and zero-filled to 11 digits; each digit
//!    is multiplied by the row's weight for its position (letters A=10 …
//!    Z=35); the row's fudge factor is added; the sum is divided by the
//!    modulus (10 or 11) and the remainder must be 0 unless the row's
//!    exception routine says otherwise.
//!
//! # Exception routines
//!
//! Implemented (letters as in the BankservAfrica manual where known):
//!
//! * `b` — Mercantile: remainder 1 is also accepted when the last digit is 0
//!   or 1 (ShaunKiesewetter CDV.vb `ExceptionCode_B`; Atlas `AccountCDV.cs`).
//! * `f` — ABSA: if the row's weighting fails, a cascade of alternatives,
//!   each on the zero-filled 11 digits:
//!   an 11-digit number starting `53` passes without CDV; then
//!   `17329874321` mod 10; `14327654321` mod 11; `54327654321` mod 11 (also
//!   remainder 1 when the last digit is 0 or 1); `14329874321` mod 10;
//!   `11327654321` mod 11; and, for numbers of fewer than 10 significant
//!   digits, `11327654321` mod 11 after adding 6 (mod 10) to the last digit.
//!   The sources disagree in detail: CDV.vb accepts the `53` rule for
//!   savings only (Atlas, Stark and the JS implementation for any type — the
//!   majority is followed); CDV.vb also accepts remainder 1 (last digit 0/1)
//!   in the last two short-number steps and a final `14329874321` step,
//!   which no other source has and which is not implemented; the VB
//!   `Bank_Account_Validation` module applies the "+6" step to every length.
//! * `k` — Grindrod (per the domain notes' summary of the manual): a
//!   non-zero remainder is accepted when the last two digits of the number
//!   are equal. The manual's own wording was not available; a stricter
//!   reading (recompute with 10 in place of the repeated last digit, as
//!   CDV.vb's `ExceptionCode_G` does for bonds) is possible. No shipped row
//!   uses `k` yet because Grindrod's weighting is not sourced.
//! * `m` — Standard Bank: numbers of at most 9 significant digits use the
//!   row's weighting; 11-digit numbers starting with 1 use `DC987654321`
//!   (13, 12, 9, 8, …, 1) mod 11; other lengths fail (Atlas and Stark
//!   `AccountCDV`/`CheckDigitVerification`, consistent with the JS lengths
//!   9 and 11). CDV.vb applies the new weighting only at branch 051001 and
//!   CDV.vb and the JS implementation also try the old weighting on 11-digit
//!   numbers; the stricter majority is followed, at every Standard Bank
//!   branch.
//! * `p` — Nedbank savings: if the row's weighting fails, `14329874321`
//!   mod 10 (JS implementation only).
//!
//! FNB's second weighting for current accounts (`DA987654321` mod 11) is a
//! second parameter row, not an exception routine.
//!
//! Not implemented: `t` (new Nedbank savings accounts are credit-only) and
//! `v` (certain 11-digit African Bank savings accounts reject debits) are
//! named in the domain notes without the rule that identifies the accounts;
//! they concern debit eligibility rather than the check digit, and the code
//! accepts such numbers when the check digit is right. The 13-digit bond
//! routines of the old manual (`g`, `i`) belong to banks not shipped here, so
//! numbers longer than 11 digits are always a format error. Letters other
//! than `b f k m p` are refused when the data file is read.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::domain::result::{Refusal, ResultCode};

/// The parameter file compiled into the binary (`data/cdv-parameters.txt`).
pub const BUNDLED_PARAMETERS: &str = include_str!("../../data/cdv-parameters.txt");

/// Length to which account numbers are right-justified and zero-filled.
const CDV_DIGITS: usize = 11;

/// EFT account type, with the BankservAfrica code and the contract spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AccountType {
    /// Current (cheque) account, EFT code 1.
    Current,
    /// Savings account, EFT code 2.
    Savings,
    /// Transmission account, EFT code 3.
    Transmission,
    /// Bond account, EFT code 4.
    Bond,
    /// Subscription share account, EFT code 6.
    SubscriptionShare,
}

impl AccountType {
    /// Every account type, in code order.
    pub const ALL: [AccountType; 5] = [
        AccountType::Current,
        AccountType::Savings,
        AccountType::Transmission,
        AccountType::Bond,
        AccountType::SubscriptionShare,
    ];

    /// The BankservAfrica EFT account type code (1, 2, 3, 4 or 6).
    pub fn code(self) -> u8 {
        match self {
            AccountType::Current => 1,
            AccountType::Savings => 2,
            AccountType::Transmission => 3,
            AccountType::Bond => 4,
            AccountType::SubscriptionShare => 6,
        }
    }

    /// The account type for an EFT code, if it is one of 1, 2, 3, 4, 6.
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.code() == code)
    }

    /// The contract spelling: `CURRENT`, `SAVINGS`, `TRANSMISSION`, `BOND`,
    /// `SUBSCRIPTION_SHARE`.
    pub fn as_str(self) -> &'static str {
        match self {
            AccountType::Current => "CURRENT",
            AccountType::Savings => "SAVINGS",
            AccountType::Transmission => "TRANSMISSION",
            AccountType::Bond => "BOND",
            AccountType::SubscriptionShare => "SUBSCRIPTION_SHARE",
        }
    }

    /// Parses the contract spelling (exact, upper case).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

impl fmt::Display for AccountType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How many days a week a bank processes DebiCheck collections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProcessingWeek {
    /// Processes six days a week.
    SixDay,
    /// Processes every day.
    SevenDay,
    /// Not known (not published); callers apply their default.
    Unknown,
}

/// An inclusive range of six-digit branch codes, held as numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BranchRange {
    /// First branch code in the range.
    pub from: u32,
    /// Last branch code in the range (inclusive).
    pub to: u32,
}

impl BranchRange {
    /// Whether `code` lies in the range.
    pub fn contains(&self, code: u32) -> bool {
        self.from <= code && code <= self.to
    }

    fn overlaps(&self, other: &BranchRange) -> bool {
        self.from <= other.to && other.from <= self.to
    }

    fn within(&self, other: &BranchRange) -> bool {
        other.from <= self.from && self.to <= other.to
    }
}

impl fmt::Display for BranchRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:06}-{:06}", self.from, self.to)
    }
}

/// A bank as declared in the parameter file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bank {
    /// Short identifier, e.g. `absa`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// The bank's universal (central) branch code, six digits.
    pub universal_branch_code: String,
    /// Whether the bank accepts Social Grant EFT debits.
    pub social_grant_eft: bool,
    /// DebiCheck processing week, if known.
    pub processing_week: ProcessingWeek,
    /// The bank's branch-code ranges.
    pub branch_ranges: Vec<BranchRange>,
    /// The account-number lengths (digits as written, leading zeros included) the bank
    /// issues, ascending; empty when no source gives them (then 1-11 digits). See
    /// [`Bank::issues_length`].
    pub account_lengths: Vec<u8>,
}

impl Bank {
    /// Whether the branch code (as a number) belongs to this bank.
    pub fn has_branch(&self, code: u32) -> bool {
        self.branch_ranges.iter().any(|r| r.contains(code))
    }

    /// Whether a number of `given` digits (as written) with `significant` digits after
    /// its leading zeros has a length the bank issues. Accepted: a listed length as
    /// written, or the number zero-filled to 11 digits (BankservAfrica's own format)
    /// when its significant digits fit the longest listed length. Either way at most
    /// one leading zero may belong to the number itself (Standard Bank's
    /// `012345679`), so the significant digits must be at least the shortest listed
    /// length less one: `00000000050` is as short at FNB as `50`. A bank with no
    /// listed lengths takes any 1-11 digits.
    pub fn issues_length(&self, given: usize, significant: usize) -> bool {
        let (Some(&min), Some(&max)) = (self.account_lengths.first(), self.account_lengths.last())
        else {
            return true;
        };
        let (min, max) = (usize::from(min), usize::from(max));
        let as_written = self
            .account_lengths
            .iter()
            .any(|&n| usize::from(n) == given);
        let zero_filled = given == CDV_DIGITS && significant <= max;
        significant + 1 >= min && (as_written || zero_filled)
    }

    /// The lengths as words for a message: "10", "9 or 11", "8, 9, 10 or 11".
    pub fn account_lengths_text(&self) -> String {
        let words: Vec<String> = self.account_lengths.iter().map(u8::to_string).collect();
        match words.split_last() {
            None => "1 to 11".to_string(),
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        }
    }
}

/// An exception routine named by a parameter row (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExceptionCode {
    /// `b`: remainder 1 also accepted when the last digit is 0 or 1.
    B,
    /// `f`: ABSA cascade of alternative weightings.
    F,
    /// `k`: remainder accepted when the last two digits are equal.
    K,
    /// `m`: Standard Bank 9-digit / new 11-digit rule.
    M,
    /// `p`: savings alternative `14329874321` mod 10.
    P,
}

impl ExceptionCode {
    /// The letter used in the parameter file.
    pub fn letter(self) -> char {
        match self {
            ExceptionCode::B => 'b',
            ExceptionCode::F => 'f',
            ExceptionCode::K => 'k',
            ExceptionCode::M => 'm',
            ExceptionCode::P => 'p',
        }
    }

    /// The routine for a letter, if it is implemented.
    pub fn from_letter(letter: &str) -> Option<Self> {
        match letter {
            "b" => Some(ExceptionCode::B),
            "f" => Some(ExceptionCode::F),
            "k" => Some(ExceptionCode::K),
            "m" => Some(ExceptionCode::M),
            "p" => Some(ExceptionCode::P),
            _ => None,
        }
    }
}

/// What a parameter row checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    /// No CDV: the parameters are not known (weighting `none` in the file).
    NotPerformed,
    /// Weighted modulus check.
    Weighted {
        /// Weight per digit of the zero-filled 11-digit number, left to right.
        weights: [u8; CDV_DIGITS],
        /// Added to the weighted sum.
        fudge: u8,
        /// 10 or 11.
        modulus: u8,
        /// Exception routine, if any.
        exception: Option<ExceptionCode>,
    },
}

/// One CDV parameter row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CdvRule {
    /// Branch codes the row applies to.
    pub branches: BranchRange,
    /// Account types the row applies to.
    pub account_types: Vec<AccountType>,
    /// The check to perform.
    pub check: Check,
    /// Account indicator 0–4 (see the module docs).
    pub account_indicator: u8,
    /// Line of the parameter file the row came from.
    pub line: usize,
    bank: usize,
}

/// A successful validation: the bank and the row that accepted the number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CdvPass<'a> {
    /// The bank the branch belongs to.
    pub bank: &'a Bank,
    /// The parameter row that accepted the number.
    pub rule: &'a CdvRule,
    /// False when no check digit was verified: the row has no CDV
    /// parameters, or its account indicator waives the check.
    pub check_digit_verified: bool,
}

/// Why an account was refused. Each variant maps to its own result code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CdvError {
    /// The branch code is not exactly six ASCII digits.
    #[error("branch code {branch_code:?} is not six digits")]
    BranchCodeFormat {
        /// The branch code as given.
        branch_code: String,
    },
    /// No bank is known for the branch code.
    #[error("no bank is known for branch code {branch_code}")]
    BranchUnknown {
        /// The branch code as given.
        branch_code: String,
    },
    /// The account number is empty, has non-digits, is too long, or is all
    /// zeros where that is not allowed. The number itself is not repeated.
    #[error("account number {reason}")]
    AccountNumberFormat {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The number's length is not one the bank issues (its `lengths` line).
    #[error("account number has {digits} digits; {bank} account numbers have {lengths} digits")]
    AccountNumberLength {
        /// Bank name.
        bank: String,
        /// Digits given.
        digits: usize,
        /// The lengths the bank issues, as words.
        lengths: String,
    },
    /// The bank has no CDV row for this account type at this branch.
    #[error("{bank} does not accept {account_type} accounts at branch {branch_code}")]
    AccountTypeNotAccepted {
        /// Bank name.
        bank: String,
        /// The account type asked for.
        account_type: AccountType,
        /// The branch code as given.
        branch_code: String,
    },
    /// The number fails the bank's check-digit verification.
    #[error("account number fails the {bank} check-digit verification")]
    CheckDigitFailed {
        /// Bank name.
        bank: String,
    },
}

impl From<CdvError> for Refusal {
    /// The Result code and message for each CDV failure, naming the field at fault.
    fn from(error: CdvError) -> Refusal {
        let message = error.to_string();
        match error {
            CdvError::BranchCodeFormat { .. } => {
                Refusal::field(ResultCode::BankBranchCodeFormat, "BankBranchCode", message)
            }
            CdvError::BranchUnknown { .. } => {
                Refusal::field(ResultCode::BankBranchUnknown, "BankBranchCode", message)
            }
            CdvError::AccountNumberFormat { .. } => {
                Refusal::field(ResultCode::AccountNumberFormat, "AccountNumber", message)
            }
            CdvError::AccountNumberLength { .. } => {
                Refusal::field(ResultCode::AccountNumberLength, "AccountNumber", message)
            }
            CdvError::AccountTypeNotAccepted { .. } => {
                Refusal::field(ResultCode::AccountTypeNotAccepted, "AccountType", message)
            }
            CdvError::CheckDigitFailed { .. } => Refusal::field(
                ResultCode::AccountCheckDigitFailed,
                "AccountNumber",
                message,
            ),
        }
    }
}

/// The parameter file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum CdvDataError {
    /// A line is malformed or inconsistent with the rest of the file.
    #[error("CDV parameters line {line}: {message}")]
    Line {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The file could not be read.
    #[error("cannot read CDV parameters {path}: {source}")]
    Io {
        /// The path given.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

impl CdvDataError {
    /// The line at fault, for a [`CdvDataError::Line`].
    pub fn line(&self) -> Option<usize> {
        match self {
            CdvDataError::Line { line, .. } => Some(*line),
            CdvDataError::Io { .. } => None,
        }
    }
}

/// Banks, branch ranges and CDV parameter rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CdvTable {
    banks: Vec<Bank>,
    rules: Vec<CdvRule>,
}

impl CdvTable {
    /// The table compiled from `data/cdv-parameters.txt`, parsed once.
    ///
    /// # Panics
    /// If the bundled file does not parse; a unit test guards against that.
    pub fn bundled() -> &'static CdvTable {
        static TABLE: OnceLock<CdvTable> = OnceLock::new();
        TABLE.get_or_init(|| {
            CdvTable::parse(BUNDLED_PARAMETERS)
                .unwrap_or_else(|e| panic!("bundled data/cdv-parameters.txt: {e}"))
        })
    }

    /// Reads and parses a parameter file.
    pub fn load(path: impl AsRef<Path>) -> Result<CdvTable, CdvDataError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| CdvDataError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        CdvTable::parse(&text)
    }

    /// Parses the text of a parameter file (format in its header).
    pub fn parse(text: &str) -> Result<CdvTable, CdvDataError> {
        Parser::default().run(text)
    }

    /// All banks, in file order.
    pub fn banks(&self) -> &[Bank] {
        &self.banks
    }

    /// All parameter rows, in file order.
    pub fn rules(&self) -> &[CdvRule] {
        &self.rules
    }

    /// The bank with this identifier.
    pub fn bank(&self, id: &str) -> Option<&Bank> {
        self.banks.iter().find(|b| b.id == id)
    }

    /// The bank a six-digit branch code belongs to; `None` for an unknown or
    /// malformed code.
    pub fn bank_for_branch(&self, branch_code: &str) -> Option<&Bank> {
        let code = parse_branch(branch_code)?;
        self.banks.iter().find(|b| b.has_branch(code))
    }

    /// The bank owning a parameter row.
    pub fn bank_of(&self, rule: &CdvRule) -> &Bank {
        &self.banks[rule.bank]
    }

    /// Verifies an account number for a branch and account type.
    ///
    /// Checks, in order: branch format, bank for the branch, account-number
    /// format, the bank's account-number lengths, a parameter row for the account
    /// type, then the check digit.
    pub fn validate(
        &self,
        branch_code: &str,
        account_number: &str,
        account_type: AccountType,
    ) -> Result<CdvPass<'_>, CdvError> {
        let branch = parse_branch(branch_code).ok_or_else(|| CdvError::BranchCodeFormat {
            branch_code: branch_code.to_string(),
        })?;
        let bank_index = self
            .banks
            .iter()
            .position(|b| b.has_branch(branch))
            .ok_or_else(|| CdvError::BranchUnknown {
                branch_code: branch_code.to_string(),
            })?;
        let bank = &self.banks[bank_index];
        let number = AccountNumber::parse(account_number)?;
        if !number.is_zero() && !bank.issues_length(account_number.len(), number.significant) {
            return Err(CdvError::AccountNumberLength {
                bank: bank.name.clone(),
                digits: account_number.len(),
                lengths: bank.account_lengths_text(),
            });
        }

        let mut rules = self
            .rules
            .iter()
            .filter(|r| r.branches.contains(branch) && r.account_types.contains(&account_type))
            .peekable();
        if rules.peek().is_none() {
            return Err(CdvError::AccountTypeNotAccepted {
                bank: bank.name.clone(),
                account_type,
                branch_code: branch_code.to_string(),
            });
        }

        let mut zero_refused = false;
        for rule in rules {
            let pass = |verified| CdvPass {
                bank,
                rule,
                check_digit_verified: verified,
            };
            if rule.account_indicator == 0 {
                return Ok(pass(false));
            }
            if number.is_zero() {
                if rule.account_indicator == 1 {
                    return Ok(pass(false));
                }
                zero_refused = true;
                continue;
            }
            match &rule.check {
                Check::NotPerformed => return Ok(pass(false)),
                Check::Weighted {
                    weights,
                    fudge,
                    modulus,
                    exception,
                } => {
                    if number.passes(weights, *fudge, *modulus, *exception) {
                        return Ok(pass(true));
                    }
                }
            }
        }
        if zero_refused {
            return Err(CdvError::AccountNumberFormat {
                reason: "is all zeros",
            });
        }
        Err(CdvError::CheckDigitFailed {
            bank: bank.name.clone(),
        })
    }
}

/// Parses a six-digit branch code.
fn parse_branch(code: &str) -> Option<u32> {
    if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
        code.parse().ok()
    } else {
        None
    }
}

/// Decodes an 11-character weighting (0-9, A=10 … Z=35) at compile time.
const fn weights(s: &str) -> [u8; CDV_DIGITS] {
    let bytes = s.as_bytes();
    assert!(bytes.len() == CDV_DIGITS);
    let mut out = [0u8; CDV_DIGITS];
    let mut i = 0;
    while i < CDV_DIGITS {
        out[i] = match bytes[i] {
            b'0'..=b'9' => bytes[i] - b'0',
            b'A'..=b'Z' => bytes[i] - b'A' + 10,
            _ => panic!("bad weighting character"),
        };
        i += 1;
    }
    out
}

const W_ABSA_1: [u8; CDV_DIGITS] = weights("17329874321");
const W_ABSA_2: [u8; CDV_DIGITS] = weights("14327654321");
const W_ABSA_3: [u8; CDV_DIGITS] = weights("54327654321");
const W_ABSA_4: [u8; CDV_DIGITS] = weights("14329874321");
const W_ABSA_5: [u8; CDV_DIGITS] = weights("11327654321");
const W_STANDARD_NEW: [u8; CDV_DIGITS] = weights("DC987654321");
const W_SAVINGS_ALT: [u8; CDV_DIGITS] = weights("14329874321");

/// A syntactically valid account number, zero-filled to 11 digits.
struct AccountNumber {
    digits: [u8; CDV_DIGITS],
    /// Digits after leading zeros.
    significant: usize,
    value: u64,
}

impl AccountNumber {
    fn parse(s: &str) -> Result<AccountNumber, CdvError> {
        if s.is_empty() {
            return Err(CdvError::AccountNumberFormat { reason: "is empty" });
        }
        if !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CdvError::AccountNumberFormat {
                reason: "contains characters other than the digits 0-9",
            });
        }
        if s.len() > CDV_DIGITS {
            return Err(CdvError::AccountNumberFormat {
                reason: "is longer than 11 digits",
            });
        }
        let mut digits = [0u8; CDV_DIGITS];
        let offset = CDV_DIGITS - s.len();
        for (i, b) in s.bytes().enumerate() {
            digits[offset + i] = b - b'0';
        }
        let value = digits.iter().fold(0u64, |acc, &d| acc * 10 + u64::from(d));
        let significant = s.trim_start_matches('0').len();
        Ok(AccountNumber {
            digits,
            significant,
            value,
        })
    }

    fn is_zero(&self) -> bool {
        self.value == 0
    }

    fn last(&self) -> u8 {
        self.digits[CDV_DIGITS - 1]
    }

    fn remainder(&self, weights: &[u8; CDV_DIGITS], fudge: u8, modulus: u8) -> u32 {
        remainder(&self.digits, weights, fudge, modulus)
    }

    fn passes(
        &self,
        weights: &[u8; CDV_DIGITS],
        fudge: u8,
        modulus: u8,
        exception: Option<ExceptionCode>,
    ) -> bool {
        let r = self.remainder(weights, fudge, modulus);
        match exception {
            None => r == 0,
            Some(ExceptionCode::B) => r == 0 || (r == 1 && self.last() <= 1),
            Some(ExceptionCode::F) => r == 0 || self.absa_alternatives(),
            Some(ExceptionCode::K) => r == 0 || self.digits[9] == self.digits[10],
            Some(ExceptionCode::M) => {
                if self.significant <= 9 {
                    r == 0
                } else if self.significant == 11 && self.digits[0] == 1 {
                    self.remainder(&W_STANDARD_NEW, 0, 11) == 0
                } else {
                    false
                }
            }
            Some(ExceptionCode::P) => r == 0 || self.remainder(&W_SAVINGS_ALT, 0, 10) == 0,
        }
    }

    /// ABSA exception `f` (see the module docs for sources and differences).
    fn absa_alternatives(&self) -> bool {
        if self.significant == 11 && self.digits[0] == 5 && self.digits[1] == 3 {
            return true;
        }
        if self.remainder(&W_ABSA_1, 0, 10) == 0 || self.remainder(&W_ABSA_2, 0, 11) == 0 {
            return true;
        }
        let r = self.remainder(&W_ABSA_3, 0, 11);
        if r == 0 || (r == 1 && self.last() <= 1) {
            return true;
        }
        if self.remainder(&W_ABSA_4, 0, 10) == 0 || self.remainder(&W_ABSA_5, 0, 11) == 0 {
            return true;
        }
        if self.significant < 10 {
            let mut shifted = self.digits;
            shifted[CDV_DIGITS - 1] = (shifted[CDV_DIGITS - 1] + 6) % 10;
            return remainder(&shifted, &W_ABSA_5, 0, 11) == 0;
        }
        false
    }
}

fn remainder(digits: &[u8; CDV_DIGITS], weights: &[u8; CDV_DIGITS], fudge: u8, modulus: u8) -> u32 {
    let sum: u32 = digits
        .iter()
        .zip(weights)
        .map(|(&d, &w)| u32::from(d) * u32::from(w))
        .sum();
    (sum + u32::from(fudge)) % u32::from(modulus)
}

/// Line-by-line reader of the parameter file.
#[derive(Default)]
struct Parser {
    banks: Vec<Bank>,
    /// Line of each bank's declaration, parallel to `banks`.
    bank_lines: Vec<usize>,
    /// Every branch range with its bank index and line.
    ranges: Vec<(BranchRange, usize, usize)>,
    rules: Vec<CdvRule>,
}

fn err(line: usize, message: impl Into<String>) -> CdvDataError {
    CdvDataError::Line {
        line,
        message: message.into(),
    }
}

impl Parser {
    fn run(mut self, text: &str) -> Result<CdvTable, CdvDataError> {
        for (index, raw) in text.lines().enumerate() {
            let line = index + 1;
            let content = raw.split('#').next().unwrap_or("").trim();
            if content.is_empty() {
                continue;
            }
            let fields: Vec<&str> = content.split('|').map(str::trim).collect();
            match fields[0] {
                "bank" => self.bank(line, &fields)?,
                "branches" => self.branches(line, &fields)?,
                "cdv" => self.cdv(line, &fields)?,
                "lengths" => self.lengths(line, &fields)?,
                other => {
                    return Err(err(
                        line,
                        format!(
                            "unknown record kind {other:?} (expected bank, branches, lengths or cdv)"
                        ),
                    ));
                }
            }
        }
        self.finish()
    }

    fn bank(&mut self, line: usize, f: &[&str]) -> Result<(), CdvDataError> {
        expect_fields(
            line,
            f,
            6,
            "bank | ID | NAME | UNIVERSAL | SOCIAL_GRANT_EFT | PROCESSING_WEEK",
        )?;
        let id = f[1];
        if id.is_empty()
            || !id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(err(line, format!("bank id {id:?} must be a-z, 0-9 or '_'")));
        }
        if self.banks.iter().any(|b| b.id == id) {
            return Err(err(line, format!("bank {id:?} is declared twice")));
        }
        if f[2].is_empty() {
            return Err(err(line, "bank name is empty"));
        }
        let universal = f[3];
        if parse_branch(universal).is_none() {
            return Err(err(
                line,
                format!("universal branch code {universal:?} is not six digits"),
            ));
        }
        let social_grant_eft = match f[4] {
            "yes" => true,
            "no" => false,
            other => {
                return Err(err(
                    line,
                    format!("social grant EFT {other:?} must be yes or no"),
                ));
            }
        };
        let processing_week = match f[5] {
            "6" => ProcessingWeek::SixDay,
            "7" => ProcessingWeek::SevenDay,
            "unknown" => ProcessingWeek::Unknown,
            other => {
                return Err(err(
                    line,
                    format!("processing week {other:?} must be 6, 7 or unknown"),
                ));
            }
        };
        self.banks.push(Bank {
            id: id.to_string(),
            name: f[2].to_string(),
            universal_branch_code: universal.to_string(),
            social_grant_eft,
            processing_week,
            branch_ranges: Vec::new(),
            account_lengths: Vec::new(),
        });
        self.bank_lines.push(line);
        Ok(())
    }

    fn lengths(&mut self, line: usize, f: &[&str]) -> Result<(), CdvDataError> {
        expect_fields(line, f, 3, "lengths | ID | LENGTHS")?;
        let bank = self
            .banks
            .iter()
            .position(|b| b.id == f[1])
            .ok_or_else(|| err(line, format!("bank {:?} is not declared above", f[1])))?;
        if !self.banks[bank].account_lengths.is_empty() {
            return Err(err(
                line,
                format!("bank {:?} has a second lengths line", f[1]),
            ));
        }
        let mut lengths = Vec::new();
        for part in f[2].split(',').map(str::trim) {
            let n: u8 = part
                .parse()
                .ok()
                .filter(|n| (1..=CDV_DIGITS as u8).contains(n))
                .ok_or_else(|| err(line, format!("length {part:?} must be 1 to 11")))?;
            if lengths.contains(&n) {
                return Err(err(line, format!("length {n} is listed twice")));
            }
            lengths.push(n);
        }
        lengths.sort_unstable();
        self.banks[bank].account_lengths = lengths;
        Ok(())
    }

    fn branches(&mut self, line: usize, f: &[&str]) -> Result<(), CdvDataError> {
        expect_fields(line, f, 4, "branches | ID | FROM | TO")?;
        let bank = self
            .banks
            .iter()
            .position(|b| b.id == f[1])
            .ok_or_else(|| err(line, format!("bank {:?} is not declared above", f[1])))?;
        let range = parse_range(line, f[2], f[3])?;
        if let Some((other, other_bank, other_line)) =
            self.ranges.iter().find(|(r, _, _)| r.overlaps(&range))
        {
            return Err(err(
                line,
                format!(
                    "range {range} overlaps {other} of bank {:?} (line {other_line})",
                    self.banks[*other_bank].id
                ),
            ));
        }
        self.banks[bank].branch_ranges.push(range);
        self.ranges.push((range, bank, line));
        Ok(())
    }

    fn cdv(&mut self, line: usize, f: &[&str]) -> Result<(), CdvDataError> {
        expect_fields(
            line,
            f,
            9,
            "cdv | FROM | TO | TYPES | WEIGHTING | FUDGE | MODULUS | EXCEPTION | INDICATOR",
        )?;
        let branches = parse_range(line, f[1], f[2])?;
        let bank = self
            .ranges
            .iter()
            .find(|(r, _, _)| branches.within(r))
            .map(|(_, bank, _)| *bank)
            .ok_or_else(|| {
                err(
                    line,
                    format!(
                        "range {branches} does not lie within one declared bank's branch range"
                    ),
                )
            })?;
        let mut account_types = Vec::new();
        for code in f[3].split(',').map(str::trim) {
            let t = code
                .parse::<u8>()
                .ok()
                .and_then(AccountType::from_code)
                .ok_or_else(|| {
                    err(
                        line,
                        format!("account type {code:?} must be one of 1, 2, 3, 4, 6"),
                    )
                })?;
            if account_types.contains(&t) {
                return Err(err(line, format!("account type {code} is listed twice")));
            }
            account_types.push(t);
        }
        let check = if f[4] == "none" {
            if f[5..8] != ["-", "-", "-"] {
                return Err(err(
                    line,
                    "weighting 'none' needs '-' for fudge, modulus and exception",
                ));
            }
            Check::NotPerformed
        } else {
            Check::Weighted {
                weights: parse_weighting(line, f[4])?,
                fudge: f[5]
                    .parse::<u8>()
                    .ok()
                    .filter(|v| *v <= 99)
                    .ok_or_else(|| err(line, format!("fudge factor {:?} must be 0-99", f[5])))?,
                modulus: match f[6] {
                    "10" => 10,
                    "11" => 11,
                    other => {
                        return Err(err(line, format!("modulus {other:?} must be 10 or 11")));
                    }
                },
                exception: match f[7] {
                    "-" => None,
                    letter => Some(ExceptionCode::from_letter(letter).ok_or_else(|| {
                        err(
                            line,
                            format!(
                                "exception code {letter:?} is not implemented (known: b, f, k, m, p, or -)"
                            ),
                        )
                    })?),
                },
            }
        };
        let account_indicator = f[8]
            .parse::<u8>()
            .ok()
            .filter(|v| *v <= 4)
            .ok_or_else(|| err(line, format!("account indicator {:?} must be 0-4", f[8])))?;
        self.rules.push(CdvRule {
            branches,
            account_types,
            check,
            account_indicator,
            line,
            bank,
        });
        Ok(())
    }

    fn finish(self) -> Result<CdvTable, CdvDataError> {
        for (bank, &line) in self.banks.iter().zip(&self.bank_lines) {
            if bank.branch_ranges.is_empty() {
                return Err(err(
                    line,
                    format!("bank {:?} has no branches line", bank.id),
                ));
            }
            let universal = parse_branch(&bank.universal_branch_code).unwrap_or(u32::MAX);
            if !bank.has_branch(universal) {
                return Err(err(
                    line,
                    format!(
                        "universal branch code {} is not in bank {:?}'s branch ranges",
                        bank.universal_branch_code, bank.id
                    ),
                ));
            }
        }
        Ok(CdvTable {
            banks: self.banks,
            rules: self.rules,
        })
    }
}

fn expect_fields(line: usize, f: &[&str], n: usize, shape: &str) -> Result<(), CdvDataError> {
    if f.len() == n {
        Ok(())
    } else {
        Err(err(
            line,
            format!(
                "expected {n} '|'-separated fields ({shape}), found {}",
                f.len()
            ),
        ))
    }
}

fn parse_range(line: usize, from: &str, to: &str) -> Result<BranchRange, CdvDataError> {
    let parse = |s: &str| {
        parse_branch(s).ok_or_else(|| err(line, format!("branch code {s:?} is not six digits")))
    };
    let range = BranchRange {
        from: parse(from)?,
        to: parse(to)?,
    };
    if range.from > range.to {
        return Err(err(line, format!("range {from}-{to} runs backwards")));
    }
    Ok(range)
}

fn parse_weighting(line: usize, s: &str) -> Result<[u8; CDV_DIGITS], CdvDataError> {
    let bytes = s.as_bytes();
    if bytes.len() != CDV_DIGITS
        || !bytes
            .iter()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
    {
        return Err(err(
            line,
            format!("weighting {s:?} must be 11 characters 0-9 or A-Z (or 'none')"),
        ));
    }
    Ok(weights(s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use AccountType::*;

    fn table() -> &'static CdvTable {
        CdvTable::bundled()
    }

    /// Asserts the number passes with a verified check digit at `bank_id`.
    #[track_caller]
    fn valid(branch: &str, number: &str, t: AccountType, bank_id: &str) {
        match table().validate(branch, number, t) {
            Ok(pass) => {
                assert_eq!(pass.bank.id, bank_id, "{branch} {number} {t}");
                assert!(
                    pass.check_digit_verified,
                    "{branch} {number} {t} not verified"
                );
            }
            Err(e) => panic!("{branch} {number} {t}: expected valid, got {e}"),
        }
    }

    #[track_caller]
    fn check_fails(branch: &str, number: &str, t: AccountType) {
        let e = table().validate(branch, number, t).unwrap_err();
        assert!(
            matches!(e, CdvError::CheckDigitFailed { .. }),
            "{branch} {number} {t}: expected CheckDigitFailed, got {e:?}"
        );
    }

    #[track_caller]
    fn type_refused(branch: &str, number: &str, t: AccountType) {
        let e = table().validate(branch, number, t).unwrap_err();
        assert!(
            matches!(e, CdvError::AccountTypeNotAccepted { account_type, .. } if account_type == t),
            "{branch} {number} {t}: expected AccountTypeNotAccepted, got {e:?}"
        );
    }

    #[track_caller]
    fn line_error(text: &str, line: usize, needle: &str) {
        let e = CdvTable::parse(text).unwrap_err();
        assert_eq!(e.line(), Some(line), "{e}");
        assert!(e.to_string().contains(needle), "{e} lacks {needle:?}");
        assert!(e.to_string().contains(&format!("line {line}")), "{e}");
    }

    // Test vectors below were generated from the documented algorithm (an
    // independent Python script applying each row's weighting, fudge and
    // modulus); no real published account numbers were found in the sources.

    #[test]
    fn bundled_file_parses_and_loads_from_disk_identically() {
        let parsed = CdvTable::parse(BUNDLED_PARAMETERS).unwrap();
        assert_eq!(&parsed, table());
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/cdv-parameters.txt");
        assert_eq!(&CdvTable::load(&path).unwrap(), table());
    }

    #[test]
    fn load_reports_missing_file() {
        let e = CdvTable::load("/nonexistent/cdv-parameters.txt").unwrap_err();
        assert!(matches!(e, CdvDataError::Io { .. }));
        assert_eq!(e.line(), None);
    }

    #[test]
    fn bundled_banks_and_universal_codes() {
        let expected = [
            ("absa", "632005"),
            ("capitec", "470010"),
            ("fnb", "250655"),
            ("nedbank", "198765"),
            ("standard", "051001"),
            ("african", "430000"),
            ("tyme", "678910"),
            ("discovery", "679000"),
            ("investec", "580105"),
            ("bidvest", "462005"),
            ("access", "410105"),
            ("grindrod", "584000"),
            ("bankzero", "888000"),
            ("mercantile", "450105"),
            ("sasfin", "683000"),
            ("postbank", "460005"),
            // NOTES 6.3 and TZ-ZAR (data file): the codes the issue named first.
            ("albaraka", "800000"),
            ("olympus", "585001"),
            ("hsbc", "587000"),
            ("finbond", "589000"),
            ("ubank", "431010"),
            ("citibank", "350005"),
            ("icici", "362000"),
            ("jpmorgan", "432000"),
            ("hbz", "570100"),
            ("ccb", "586666"),
            ("bankofchina", "686000"),
            ("bnp", "688000"),
            ("habib", "700066"),
            ("stanchart", "730020"),
            ("sbi", "801000"),
        ];
        assert_eq!(table().banks().len(), expected.len());
        for (id, universal) in expected {
            let bank = table().bank(id).unwrap_or_else(|| panic!("bank {id}"));
            assert_eq!(bank.universal_branch_code, universal);
            assert_eq!(table().bank_for_branch(universal).unwrap().id, id);
            assert_eq!(bank.processing_week, ProcessingWeek::Unknown, "{id}");
            assert!(
                table().rules().iter().any(|r| table().bank_of(r).id == id),
                "{id} has no cdv row"
            );
        }
        let sg: Vec<&str> = table()
            .banks()
            .iter()
            .filter(|b| b.social_grant_eft)
            .map(|b| b.id.as_str())
            .collect();
        assert_eq!(sg, ["access", "grindrod"]);
    }

    #[test]
    fn bank_for_branch_ranges_and_bad_input() {
        assert_eq!(table().bank_for_branch("004305").unwrap().id, "standard");
        assert_eq!(table().bank_for_branch("632005").unwrap().id, "absa");
        assert_eq!(table().bank_for_branch("420001").unwrap().id, "absa");
        assert_eq!(table().bank_for_branch("410000").unwrap().id, "access");
        assert!(table().bank_for_branch("999999").is_none());
        assert!(table().bank_for_branch("51001").is_none());
        assert!(table().bank_for_branch("05100a").is_none());
    }

    #[test]
    fn account_type_codes_and_spellings() {
        let expected = [
            (Current, 1, "CURRENT"),
            (Savings, 2, "SAVINGS"),
            (Transmission, 3, "TRANSMISSION"),
            (Bond, 4, "BOND"),
            (SubscriptionShare, 6, "SUBSCRIPTION_SHARE"),
        ];
        for (t, code, s) in expected {
            assert_eq!(t.code(), code);
            assert_eq!(t.as_str(), s);
            assert_eq!(t.to_string(), s);
            assert_eq!(AccountType::parse(s), Some(t));
            assert_eq!(AccountType::from_code(code), Some(t));
        }
        assert_eq!(AccountType::parse("current"), None);
        assert_eq!(AccountType::parse("CHEQUE"), None);
        assert_eq!(AccountType::from_code(5), None);
    }

    #[test]
    fn letter_weights_decode() {
        assert_eq!(
            weights("TYMEDIGITAL"),
            [29, 34, 22, 14, 13, 18, 16, 18, 29, 10, 21]
        );
        assert_eq!(
            weights("000NJHD7531"),
            [0, 0, 0, 23, 19, 17, 13, 7, 5, 3, 1]
        );
        let tyme = table().bank("tyme").unwrap();
        let rule = table()
            .rules()
            .iter()
            .find(|r| table().bank_of(r) == tyme)
            .unwrap();
        assert!(matches!(
            rule.check,
            Check::Weighted { weights: w, modulus: 11, .. } if w == weights("TYMEDIGITAL")
        ));
    }

    #[test]
    fn absa() {
        valid("632005", "4050123451", Current, "absa"); // 14327654321 mod 11
        valid("632005", "4050123456", Savings, "absa"); // 17329874321 mod 10
        valid("632005", "4050123458", Current, "absa"); // 14329874321 mod 10
        valid("632005", "4050123452", Transmission, "absa"); // 11327654321 mod 11
        valid("632005", "4050123460", Bond, "absa"); // 54327654321 mod 11
        valid("632005", "12345601", Savings, "absa"); // short: last digit + 6
        valid("632005", "53000000001", Savings, "absa"); // 11 digits starting 53
        valid("420001", "4050123451", SubscriptionShare, "absa");
        check_fails("632005", "4050123450", Current);
        check_fails("632005", "4050123453", Savings);
        check_fails("632005", "4050123459", Current);
    }

    #[test]
    fn capitec() {
        valid("470010", "1376543212", Savings, "capitec");
        valid("470010", "1376543212", Current, "capitec");
        check_fails("470010", "1376543213", Savings);
    }

    #[test]
    fn fnb() {
        valid("250655", "62109876542", Current, "fnb");
        valid("250655", "62109876542", Savings, "fnb");
        // Passes only the second FNB row (DA987654321 mod 11), current only.
        valid("250655", "62109876548", Current, "fnb");
        check_fails("250655", "62109876548", Savings);
        check_fails("250655", "62109876540", Current);
        type_refused("250655", "62109876542", Bond);
        type_refused("250655", "62109876542", Transmission);
    }

    #[test]
    fn nedbank() {
        valid("198765", "1012345688", Current, "nedbank"); // fudge 9
        valid("198765", "2012345670", Savings, "nedbank"); // fudge 18
        valid("198765", "2012345602", Savings, "nedbank"); // exception p
        check_fails("198765", "1012345689", Current);
        check_fails("198765", "2012345671", Savings);
        // A current-account number does not pass as savings (fudge differs).
        check_fails("198765", "1012345688", Savings);
        type_refused("198765", "1012345688", Transmission);
    }

    #[test]
    fn standard_bank() {
        valid("051001", "012345679", Current, "standard"); // 9 digits
        valid("004305", "012345679", Savings, "standard");
        valid("004305", "00012345679", Savings, "standard"); // zero-filled to 11
        valid("051001", "10123456787", Current, "standard"); // new 11-digit, exception m
        valid("004305", "10123456787", Transmission, "standard");
        check_fails("051001", "012345678", Current);
        check_fails("051001", "10123456788", Current);
        // 10 digits: passes 11987654321 but Standard Bank issues 9 or 11 digits (the
        // lengths line, like exception m, refuses it).
        length_refused("051001", "1012345678", Current);
        // 11 digits not starting with 1.
        check_fails("051001", "20123456787", Current);
        type_refused("051001", "012345679", Bond);
    }

    #[test]
    fn african_bank() {
        valid("430000", "20123456782", Savings, "african");
        check_fails("430000", "20123456783", Savings);
    }

    #[test]
    fn tymebank() {
        valid("678910", "51123456788", Savings, "tyme");
        check_fails("678910", "51123456780", Savings);
    }

    #[test]
    fn discovery() {
        valid("679000", "1234567891", Current, "discovery");
        check_fails("679000", "1234567892", Current);
    }

    #[test]
    fn investec() {
        valid("580105", "10001234562", Current, "investec");
        valid("580105", "10001234562", Bond, "investec");
        check_fails("580105", "10001234563", Current);
    }

    #[test]
    fn bidvest() {
        valid("462005", "1234560000", Current, "bidvest");
        // The last three digits carry weight 0 (see the data file's doubt).
        valid("462005", "1234560999", Current, "bidvest");
        check_fails("462005", "1234561000", Current);
    }

    #[test]
    fn access_bank() {
        valid("410105", "1234567898", Savings, "access");
        check_fails("410105", "1234567899", Savings);
        type_refused("410105", "1234567898", Bond);
    }

    #[test]
    fn mercantile() {
        valid("450105", "1051234565", Current, "mercantile");
        valid("450105", "1051234531", Savings, "mercantile"); // exception b
        check_fails("450105", "1051234566", Current); // remainder 1, last digit 6
        // Branch 450236: savings only, no CDV.
        let pass = table().validate("450236", "1051234566", Savings).unwrap();
        assert!(!pass.check_digit_verified);
        type_refused("450236", "1051234565", Current);
        valid("450237", "1051234565", Current, "mercantile");
    }

    #[test]
    fn postbank() {
        valid("460005", "10123456782", Savings, "postbank");
        check_fails("460005", "10123456783", Savings);
        type_refused("460005", "10123456782", Current);
    }

    #[test]
    fn banks_without_sourced_parameters_skip_the_check() {
        for (branch, id) in [
            ("584000", "grindrod"),
            ("888000", "bankzero"),
            ("683000", "sasfin"),
        ] {
            for number in ["1234567890", "1234567891", "5"] {
                let pass = table().validate(branch, number, Current).unwrap();
                assert_eq!(pass.bank.id, id);
                assert!(!pass.check_digit_verified, "{id} {number}");
                assert!(matches!(pass.rule.check, Check::NotPerformed));
            }
            type_refused(branch, "1234567890", Bond);
            let e = table().validate(branch, "12a", Current).unwrap_err();
            assert!(matches!(e, CdvError::AccountNumberFormat { .. }), "{e:?}");
            let e = table().validate(branch, "00000", Current).unwrap_err();
            assert!(matches!(e, CdvError::AccountNumberFormat { .. }), "{e:?}");
        }
    }

    #[test]
    fn unknown_branch_and_failed_check_are_different_errors() {
        let unknown = table()
            .validate("999999", "1376543212", Savings)
            .unwrap_err();
        assert_eq!(
            unknown,
            CdvError::BranchUnknown {
                branch_code: "999999".into()
            }
        );
        let failed = table()
            .validate("470010", "1376543213", Savings)
            .unwrap_err();
        assert_eq!(
            failed,
            CdvError::CheckDigitFailed {
                bank: "Capitec Bank".into()
            }
        );
        assert_ne!(unknown, failed);
        // A gap between banks' ranges is unknown, too.
        assert!(matches!(
            table().validate("700000", "1", Current),
            Err(CdvError::BranchUnknown { .. })
        ));
    }

    #[test]
    fn branch_code_format_errors() {
        for bad in ["", "51001", "0510011", "05100a", " 51001", "０51001"] {
            assert_eq!(
                table().validate(bad, "1376543212", Savings).unwrap_err(),
                CdvError::BranchCodeFormat {
                    branch_code: bad.into()
                },
                "{bad:?}"
            );
        }
    }

    fn length_refused(branch: &str, number: &str, t: AccountType) {
        match table().validate(branch, number, t) {
            Err(CdvError::AccountNumberLength { digits, .. }) => {
                assert_eq!(digits, number.len(), "{branch} {number}")
            }
            other => panic!("{branch} {number} {t}: expected a length refusal, got {other:?}"),
        }
    }

    /// Lengths from JS-LEN (data file): each bank's short and long numbers are refused
    /// with their own error, before the check digit (which the issue's two-digit
    /// examples pass).
    #[test]
    fn account_number_lengths_per_bank() {
        // The issue's examples: two-digit numbers that pass CDV.
        for (branch, number) in [
            ("250655", "50"),
            ("470010", "19"),
            ("051001", "10"),
            ("632005", "11"),
            ("198765", "19"),
        ] {
            length_refused(branch, number, Current);
        }
        // (branch, shortest valid, one digit short, one digit long)
        for (branch, ok, short, long) in [
            ("632005", "12345601", "1234560", "123456012345"),
            ("470010", "1376543212", "137654321", "13765432120"),
            ("250655", "62109876542", "6210987654", "621098765420"),
            ("198765", "1012345688", "101234568", "101234568800"),
            ("051001", "012345679", "01234567", "0123456790"),
            ("580105", "10001234562", "1000123456", "100012345620"),
            ("450105", "1051234565", "105123456", "10512345650"),
        ] {
            let pass = table().validate(branch, ok, Current).unwrap_or_else(|e| {
                panic!("{branch} {ok}: {e}");
            });
            assert!(!pass.bank.account_lengths.is_empty());
            length_refused(branch, short, Current);
            if long.len() <= 11 {
                length_refused(branch, long, Current);
            } else {
                assert!(matches!(
                    table().validate(branch, long, Current),
                    Err(CdvError::AccountNumberFormat { .. })
                ));
            }
        }
        // Standard Bank's 10 digits sit between its 9 and 11.
        length_refused("051001", "1012345678", Current);
        // Zero-filled to 11 digits is BankservAfrica's format; too few significant
        // digits is still short.
        valid("470010", "01376543212", Savings, "capitec");
        length_refused("250655", "00000000050", Current);
        length_refused("470010", "11376543212", Savings);
        // All zeros is left to the account indicator.
        assert!(matches!(
            table().validate("470010", "0000000000", Savings),
            Err(CdvError::AccountNumberFormat { .. })
        ));
        // The message names the bank and its lengths, never the number.
        let e = table().validate("051001", "10", Current).unwrap_err();
        assert_eq!(
            e.to_string(),
            "account number has 2 digits; Standard Bank of South Africa account numbers have 9 or 11 digits"
        );
        let absa = table().bank("absa").unwrap();
        assert_eq!(absa.account_lengths_text(), "8, 9, 10 or 11");
        // Banks without a sourced length take 1-11 digits.
        assert!(table().bank("grindrod").unwrap().account_lengths.is_empty());
        assert!(table().validate("584000", "5", Current).is_ok());
    }

    #[test]
    fn lengths_lines_are_checked() {
        let head = "bank | x | X | 100000 | no | unknown\nbranches | x | 100000 | 100999\n";
        line_error(&format!("{head}lengths | y | 10\n"), 3, "not declared");
        line_error(&format!("{head}lengths | x | 0\n"), 3, "1 to 11");
        line_error(&format!("{head}lengths | x | 12\n"), 3, "1 to 11");
        line_error(&format!("{head}lengths | x | 9,9\n"), 3, "twice");
        line_error(
            &format!("{head}lengths | x | 9\nlengths | x | 10\n"),
            4,
            "second",
        );
        line_error(&format!("{head}lengths | x\n"), 3, "expected 3");
        let t = CdvTable::parse(&format!("{head}lengths | x | 11, 9\n")).unwrap();
        assert_eq!(t.bank("x").unwrap().account_lengths, [9, 11]);
    }

    #[test]
    fn account_number_format_errors() {
        let cases = [
            ("", "is empty"),
            ("137 654 3212", "contains characters"),
            ("137-654-3212", "contains characters"),
            ("+1376543212", "contains characters"),
            ("123456789012", "longer than 11 digits"),
            ("1234567890123", "longer than 11 digits"),
            ("0000000000", "all zeros"),
            ("0", "all zeros"),
        ];
        for (number, reason) in cases {
            let e = table().validate("470010", number, Savings).unwrap_err();
            match &e {
                CdvError::AccountNumberFormat { reason: r } => {
                    assert!(r.contains(reason), "{number:?}: {r}")
                }
                other => panic!("{number:?}: expected AccountNumberFormat, got {other:?}"),
            }
            if !number.is_empty() {
                assert!(!e.to_string().contains(number), "{e}");
            }
        }
        // 11 digits with leading zeros is fine.
        valid("470010", "01376543212", Savings, "capitec");
    }

    #[test]
    fn branch_is_checked_before_account_number() {
        assert!(matches!(
            table().validate("999999", "", Savings),
            Err(CdvError::BranchUnknown { .. })
        ));
        assert!(matches!(
            table().validate("12345", "x", Savings),
            Err(CdvError::BranchCodeFormat { .. })
        ));
    }

    #[test]
    fn account_type_not_accepted_names_bank_and_type() {
        let e = table().validate("460005", "10123456782", Bond).unwrap_err();
        assert_eq!(
            e,
            CdvError::AccountTypeNotAccepted {
                bank: "SA Postbank".into(),
                account_type: Bond,
                branch_code: "460005".into(),
            }
        );
        assert_eq!(
            e.to_string(),
            "SA Postbank does not accept BOND accounts at branch 460005"
        );
    }

    const MINI: &str = "\
bank | x | Example Bank | 900000 | no | 7
branches | x | 900000 | 900999
cdv | 900000 | 900099 | 1 | 11987654321 | 0 | 11 | k | 4
cdv | 900100 | 900199 | 1 | 11987654321 | 0 | 11 | - | 0
cdv | 900200 | 900299 | 1 | 11987654321 | 0 | 11 | - | 1
cdv | 900300 | 900999 | 1 | 11987654321 | 0 | 11 | - | 2
";

    #[test]
    fn exception_k_accepts_repeated_last_digit() {
        let t = CdvTable::parse(MINI).unwrap();
        assert_eq!(
            t.bank("x").unwrap().processing_week,
            ProcessingWeek::SevenDay
        );
        // 123456700 fails the weighting but ends in "00".
        assert!(
            t.validate("900000", "123456700", Current)
                .unwrap()
                .check_digit_verified
        );
        // 123456701 fails the weighting and its last two digits differ.
        assert!(matches!(
            t.validate("900000", "123456701", Current),
            Err(CdvError::CheckDigitFailed { .. })
        ));
        // Without k the repeated digits do not help.
        assert!(matches!(
            t.validate("900300", "123456700", Current),
            Err(CdvError::CheckDigitFailed { .. })
        ));
    }

    #[test]
    fn account_indicator_semantics() {
        let t = CdvTable::parse(MINI).unwrap();
        // 0: no CDV, zeros allowed.
        for n in ["123456701", "0", "000"] {
            let pass = t.validate("900100", n, Current).unwrap();
            assert!(!pass.check_digit_verified);
        }
        // 1: zeros allowed, otherwise CDV.
        assert!(
            !t.validate("900200", "0000", Current)
                .unwrap()
                .check_digit_verified
        );
        assert!(matches!(
            t.validate("900200", "123456701", Current),
            Err(CdvError::CheckDigitFailed { .. })
        ));
        // 2: zeros refused.
        assert!(matches!(
            t.validate("900300", "0000", Current),
            Err(CdvError::AccountNumberFormat { .. })
        ));
        // 11987654321 on 012345679 passes with CDV.
        assert!(
            t.validate("900300", "012345679", Current)
                .unwrap()
                .check_digit_verified
        );
    }

    #[test]
    fn parser_reports_line_numbers() {
        let bank = "bank | x | Example | 900000 | no | unknown\nbranches | x | 900000 | 900999\n";
        line_error("\n# c\nfoo | 1\n", 3, "unknown record kind");
        line_error(
            &format!("{bank}cdv | 900000 | 900999 | 1 | 1198765432 | 0 | 11 | - | 4\n"),
            3,
            "weighting",
        );
        line_error(
            &format!("{bank}cdv | 900000 | 900999 | 1 | 11987654321 | 0 | 11 | t | 4\n"),
            3,
            "exception code \"t\"",
        );
        line_error(
            &format!("{bank}cdv | 900000 | 900999 | 1 | 11987654321 | 0 | 12 | - | 4\n"),
            3,
            "modulus",
        );
        line_error(
            &format!("{bank}cdv | 900000 | 900999 | 1 | 11987654321 | 100 | 11 | - | 4\n"),
            3,
            "fudge",
        );
        line_error(
            &format!("{bank}cdv | 900000 | 900999 | 5 | 11987654321 | 0 | 11 | - | 4\n"),
            3,
            "account type \"5\"",
        );
        line_error(
            &format!("{bank}cdv | 900000 | 900999 | 1,1 | 11987654321 | 0 | 11 | - | 4\n"),
            3,
            "twice",
        );
        line_error(
            &format!("{bank}cdv | 900000 | 900999 | 1 | 11987654321 | 0 | 11 | - | 5\n"),
            3,
            "indicator",
        );
        line_error(
            &format!("{bank}cdv | 900000 | 900999 | 1 | none | 0 | - | - | 4\n"),
            3,
            "'none'",
        );
        line_error(
            &format!("{bank}cdv | 900000 | 901000 | 1 | 11987654321 | 0 | 11 | - | 4\n"),
            3,
            "does not lie within",
        );
        line_error(
            &format!("{bank}cdv | 900000 | 900999 | 1 | 11987654321 | 0 | 11 | -\n"),
            3,
            "expected 9",
        );
        line_error(
            &format!("{bank}cdv | 900999 | 900000 | 1 | 11987654321 | 0 | 11 | - | 4\n"),
            3,
            "backwards",
        );
        line_error(
            &format!("{bank}\nbranches | y | 900000 | 900001\n"),
            4,
            "not declared",
        );
        line_error(
            &format!("{bank}bank | x | Again | 900000 | no | unknown\n"),
            3,
            "twice",
        );
        line_error(
            &format!(
                "{bank}bank | y | Other | 900500 | no | unknown\nbranches | y | 900500 | 901500\n"
            ),
            4,
            "overlaps",
        );
        line_error(
            "bank | x | Example | 90000 | no | unknown\n",
            1,
            "universal",
        );
        line_error(
            "bank | x | Example | 900000 | maybe | unknown\n",
            1,
            "yes or no",
        );
        line_error(
            "bank | x | Example | 900000 | no | 5\n",
            1,
            "processing week",
        );
        line_error("bank | X | Example | 900000 | no | 5\n", 1, "bank id");
        // Whole-file checks name the bank's line.
        line_error(
            "# header\nbank | x | Example | 900000 | no | unknown\n",
            2,
            "no branches",
        );
        line_error(
            "bank | x | Example | 800000 | no | unknown\nbranches | x | 900000 | 900999\n",
            1,
            "universal branch code 800000",
        );
    }

    #[test]
    fn comments_and_spacing_are_tolerated() {
        let t = CdvTable::parse(
            "  bank|x|Example Bank|900000|yes|6   # trailing comment\n\
             branches | x | 900000 | 900999\n\
             \t\n\
             cdv | 900000 | 900999 | 2 , 1 | 11987654321 | 00 | 11 | - | 4\n",
        )
        .unwrap();
        let bank = t.bank("x").unwrap();
        assert!(bank.social_grant_eft);
        assert_eq!(bank.processing_week, ProcessingWeek::SixDay);
        assert_eq!(t.rules()[0].account_types, [Savings, Current]);
        assert_eq!(t.rules()[0].line, 4);
    }
}
