//! The ACB / BankservAfrica unpaid and dispute reason codes ([`UnpaidReasons`]),
//! read from `data/unpaid-reasons.txt` (bundled; replaceable with
//! `--unpaid-reasons-file`). Every collection outcome other than COLLECTED carries
//! one of these codes and its description; only [`INSUFFICIENT_FUNDS`] starts credit
//! tracking.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The bundled reason table.
pub const BUNDLED_UNPAID_REASONS: &str = include_str!("../../../data/unpaid-reasons.txt");

/// `02 NOT PROVIDED FOR`: insufficient funds, the one code credit tracking re-presents.
pub const INSUFFICIENT_FUNDS: &str = "02";

/// Where a code comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReasonKind {
    /// Returned unpaid by the debtor bank.
    Unpaid,
    /// The payer disputed a collected debit: the funds are reversed.
    Dispute,
    /// Withdrawn by the user (the lender's side).
    Recall,
}

impl ReasonKind {
    fn parse(text: &str) -> Option<ReasonKind> {
        match text {
            "unpaid" => Some(ReasonKind::Unpaid),
            "dispute" => Some(ReasonKind::Dispute),
            "recall" => Some(ReasonKind::Recall),
            _ => None,
        }
    }
}

/// One reason code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnpaidReason {
    /// Two digits, e.g. `02`.
    pub code: String,
    /// Unpaid, dispute or recall.
    pub kind: ReasonKind,
    /// Upper-case description as reported, e.g. `NOT PROVIDED FOR`.
    pub description: String,
}

/// The reason file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ReasonsError {
    /// A line is malformed or repeats a code.
    #[error("unpaid reasons line {line}: {message}")]
    Line {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A code the engine relies on is missing.
    #[error("unpaid reasons: code {0} is required")]
    Missing(&'static str),
    /// The file could not be read.
    #[error("cannot read unpaid reasons {path}: {source}")]
    Io {
        /// The path given.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// The reason codes by code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnpaidReasons {
    by_code: BTreeMap<String, UnpaidReason>,
}

impl UnpaidReasons {
    /// The table compiled from `data/unpaid-reasons.txt`, parsed once.
    ///
    /// # Panics
    /// If the bundled file does not parse; a unit test guards against that.
    pub fn bundled() -> &'static UnpaidReasons {
        static TABLE: OnceLock<UnpaidReasons> = OnceLock::new();
        TABLE.get_or_init(|| {
            UnpaidReasons::parse(BUNDLED_UNPAID_REASONS)
                .unwrap_or_else(|e| panic!("bundled data/unpaid-reasons.txt: {e}"))
        })
    }

    /// Reads and parses a reason file.
    ///
    /// # Errors
    /// The file cannot be read or does not parse.
    pub fn load(path: impl AsRef<Path>) -> Result<UnpaidReasons, ReasonsError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ReasonsError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        UnpaidReasons::parse(&text)
    }

    /// Parses the text of a reason file (format in its header).
    ///
    /// # Errors
    /// A malformed line, a repeated code, or no code 02.
    pub fn parse(text: &str) -> Result<UnpaidReasons, ReasonsError> {
        let mut by_code = BTreeMap::new();
        for (index, raw) in text.lines().enumerate() {
            let line = index + 1;
            let content = raw.split('#').next().unwrap_or("").trim();
            if content.is_empty() {
                continue;
            }
            let err = |message: String| ReasonsError::Line { line, message };
            let f: Vec<&str> = content.split('|').map(str::trim).collect();
            if f.len() != 3 {
                return Err(err(format!(
                    "expected `CODE | KIND | DESCRIPTION`, found {} fields",
                    f.len()
                )));
            }
            let code = f[0];
            if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err(format!("code {code:?} is not two digits")));
            }
            let kind = ReasonKind::parse(f[1])
                .ok_or_else(|| err(format!("kind {:?} is not unpaid, dispute or recall", f[1])))?;
            if f[2].is_empty() {
                return Err(err(format!("code {code} has no description")));
            }
            let reason = UnpaidReason {
                code: code.to_string(),
                kind,
                description: f[2].to_string(),
            };
            if by_code.insert(code.to_string(), reason).is_some() {
                return Err(err(format!("code {code} appears twice")));
            }
        }
        match by_code.get(INSUFFICIENT_FUNDS) {
            Some(r) if r.kind == ReasonKind::Unpaid => {}
            _ => return Err(ReasonsError::Missing(INSUFFICIENT_FUNDS)),
        }
        Ok(UnpaidReasons { by_code })
    }

    /// The reason with this code.
    pub fn get(&self, code: &str) -> Option<&UnpaidReason> {
        self.by_code.get(code)
    }

    /// Every reason, by code.
    pub fn all(&self) -> impl Iterator<Item = &UnpaidReason> {
        self.by_code.values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_table_has_every_code_the_issue_names() {
        let t = UnpaidReasons::bundled();
        for (code, text) in [
            ("02", "NOT PROVIDED FOR"),
            ("03", "DEBITS NOT ALLOWED TO THIS ACCOUNT"),
            ("04", "PAYMENT STOPPED BY ACCOUNT HOLDER"),
            ("06", "ACCOUNT FROZEN"),
            ("08", "ACCOUNT IN SEQUESTRATION"),
            ("10", "ACCOUNT IN LIQUIDATION"),
            ("12", "ACCOUNT CLOSED"),
            ("18", "ACCOUNT HOLDER DECEASED"),
            ("22", "ACCOUNT EFFECTS NOT CLEARED"),
            ("26", "NO SUCH ACCOUNT"),
            ("30", "NO AUTHORITY TO DEBIT"),
            ("32", "DEBIT IN CONTRAVENTION OF PAYER'S AUTHORITY"),
            ("34", "AUTHORISATION CANCELLED"),
            ("56", "NOT FICA COMPLIANT"),
        ] {
            assert_eq!(
                t.get(code).map(|r| r.description.as_str()),
                Some(text),
                "{code}"
            );
        }
        assert_eq!(t.get("32").unwrap().kind, ReasonKind::Dispute);
        assert_eq!(t.get("12").unwrap().kind, ReasonKind::Unpaid);
        assert_eq!(t.get("28").unwrap().kind, ReasonKind::Recall);
        assert!(t.get("99").is_none());
        // Codes are listed in order and the map iterates in code order.
        let codes: Vec<&str> = t.all().map(|r| r.code.as_str()).collect();
        let mut sorted = codes.clone();
        sorted.sort_unstable();
        assert_eq!(codes, sorted);
    }

    #[test]
    fn malformed_files_name_their_line() {
        let bad = |text: &str| UnpaidReasons::parse(text).unwrap_err().to_string();
        assert!(bad("02 | unpaid | X\n2 | unpaid | Y").contains("line 2"));
        assert!(bad("02 | unpaid | X\n03 | other | Y").contains("kind"));
        assert!(bad("02 | unpaid | X\n02 | unpaid | Y").contains("twice"));
        assert!(bad("02 | unpaid |").contains("no description"));
        assert!(bad("02 | unpaid").contains("fields"));
        assert!(bad("03 | unpaid | X").contains("code 02 is required"));
        assert!(bad("02 | dispute | X").contains("code 02 is required"));
        let ok = UnpaidReasons::parse("# c\n\n02 | unpaid | NOT PROVIDED FOR # x\n").unwrap();
        assert_eq!(ok.all().count(), 1);
    }

    #[test]
    fn load_reports_the_path() {
        let e = UnpaidReasons::load("/nonexistent/reasons.txt").unwrap_err();
        assert!(e.to_string().contains("/nonexistent/reasons.txt"));
    }
}
