//! The debtor banks and the stream timetable ([`DebtorBanks`]), read from
//! `data/debtor-banks.txt` (bundled; replaceable with `--debtor-banks-file`):
//! each stream's presentment window and settlement delay, the limited-tracking
//! window, and per bank ([`BankProfile`]) its processing week, its kind of credit
//! tracking and its response delay per stream. Banks are named by the identifiers of
//! `data/cdv-parameters.txt`, which maps a debtor's branch code to its bank.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use time::{Duration, Time};

use crate::domain::calendar::ProcessingWeek;
use crate::domain::cdv::CdvTable;
use crate::domain::promissory::NoteStream;

/// The bundled debtor-bank file.
pub const BUNDLED_DEBTOR_BANKS: &str = include_str!("../../../data/debtor-banks.txt");

/// How a debtor bank re-presents a collection that failed for insufficient funds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrackingKind {
    /// Re-attempts through each processing day (modelled as one attempt at the
    /// stream's window).
    Full,
    /// One extra processing window a day, best effort ([`DebtorBanks::tracking_window`]).
    Limited,
}

/// What the engine needs to know about one debtor bank.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BankProfile {
    /// The days the bank processes collections (tracking runs only on these).
    pub week: ProcessingWeek,
    /// Full or limited credit tracking.
    pub tracking: TrackingKind,
    /// Response delay per stream, in [`NoteStream::ALL`] order.
    response_minutes: [u32; 4],
}

impl BankProfile {
    /// From an attempt to the debtor bank's answer, for a stream.
    pub fn response_delay(&self, stream: NoteStream) -> Duration {
        Duration::minutes(i64::from(self.response_minutes[stream_index(stream)]))
    }
}

fn stream_index(stream: NoteStream) -> usize {
    match stream {
        NoteStream::Naedo => 0,
        NoteStream::Eft => 1,
        NoteStream::SocialGrantEft => 2,
        NoteStream::DebiCheck => 3,
    }
}

/// The debtor-bank file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum DebtorBanksError {
    /// A line is malformed or inconsistent.
    #[error("debtor banks line {line}: {message}")]
    Line {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A record the file must have is missing.
    #[error("debtor banks: {0}")]
    Incomplete(String),
    /// The file could not be read.
    #[error("cannot read debtor banks {path}: {source}")]
    Io {
        /// The path given.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// Stream windows, settlement delays and debtor-bank profiles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DebtorBanks {
    windows: [Time; 4],
    settlement_days: [u16; 4],
    tracking_window: Time,
    default: BankProfile,
    banks: BTreeMap<String, BankProfile>,
}

impl DebtorBanks {
    /// The table compiled from `data/debtor-banks.txt`, parsed once.
    ///
    /// # Panics
    /// If the bundled file does not parse; a unit test guards against that.
    pub fn bundled() -> &'static DebtorBanks {
        static TABLE: OnceLock<DebtorBanks> = OnceLock::new();
        TABLE.get_or_init(|| {
            DebtorBanks::parse(BUNDLED_DEBTOR_BANKS)
                .unwrap_or_else(|e| panic!("bundled data/debtor-banks.txt: {e}"))
        })
    }

    /// Reads and parses a debtor-bank file.
    ///
    /// # Errors
    /// The file cannot be read or does not parse.
    pub fn load(path: impl AsRef<Path>) -> Result<DebtorBanks, DebtorBanksError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| DebtorBanksError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        DebtorBanks::parse(&text)
    }

    /// Parses the text of a debtor-bank file (format in its header).
    ///
    /// # Errors
    /// A malformed line, a repeated record, or a missing window, settlement or default.
    pub fn parse(text: &str) -> Result<DebtorBanks, DebtorBanksError> {
        let mut windows: [Option<Time>; 4] = [None; 4];
        let mut settlement: [Option<u16>; 4] = [None; 4];
        let mut tracking_window = None;
        let mut default: Option<BankProfile> = None;
        // Bank lines may come before or after the default: resolve '-' at the end.
        let mut bank_lines: Vec<(usize, String, Vec<String>)> = Vec::new();
        for (index, raw) in text.lines().enumerate() {
            let line = index + 1;
            let content = raw.split('#').next().unwrap_or("").trim();
            if content.is_empty() {
                continue;
            }
            let err = |message: String| DebtorBanksError::Line { line, message };
            let f: Vec<&str> = content.split('|').map(str::trim).collect();
            let arity = |n: usize, shape: &str| {
                if f.len() == n {
                    Ok(())
                } else {
                    Err(err(format!("expected `{shape}`, found {} fields", f.len())))
                }
            };
            match f[0] {
                "window" => {
                    arity(3, "window | STREAM | HH:MM")?;
                    let i = stream_index(parse_stream(f[1]).ok_or_else(|| bad_stream(line, f[1]))?);
                    if windows[i].is_some() {
                        return Err(err(format!("a second window for {}", f[1])));
                    }
                    windows[i] = Some(parse_hhmm(f[2]).ok_or_else(|| bad_time(line, f[2]))?);
                }
                "tracking-window" => {
                    arity(2, "tracking-window | HH:MM")?;
                    if tracking_window.is_some() {
                        return Err(err("a second tracking-window".into()));
                    }
                    tracking_window = Some(parse_hhmm(f[1]).ok_or_else(|| bad_time(line, f[1]))?);
                }
                "settlement" => {
                    arity(3, "settlement | STREAM | DAYS")?;
                    let i = stream_index(parse_stream(f[1]).ok_or_else(|| bad_stream(line, f[1]))?);
                    if settlement[i].is_some() {
                        return Err(err(format!("a second settlement for {}", f[1])));
                    }
                    let days = f[2]
                        .parse::<u16>()
                        .ok()
                        .filter(|d| *d <= 30)
                        .ok_or_else(|| {
                            err(format!("settlement days {:?} must be 0 to 30", f[2]))
                        })?;
                    settlement[i] = Some(days);
                }
                "default" => {
                    arity(
                        7,
                        "default | WEEK | TRACKING | NAEDO | EFT | SOCIAL_GRANT_EFT | DEBICHECK",
                    )?;
                    if default.is_some() {
                        return Err(err("a second default".into()));
                    }
                    default = Some(profile(line, &f[1..], None)?);
                }
                "bank" => {
                    arity(
                        8,
                        "bank | ID | WEEK | TRACKING | NAEDO | EFT | SOCIAL_GRANT_EFT | DEBICHECK",
                    )?;
                    let id = f[1];
                    if id.is_empty()
                        || !id
                            .bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
                    {
                        return Err(err(format!(
                            "bank id {id:?} must be lower-case letters, digits or _"
                        )));
                    }
                    if bank_lines.iter().any(|(_, b, _)| b == id) {
                        return Err(err(format!("bank {id} appears twice")));
                    }
                    bank_lines.push((
                        line,
                        id.to_string(),
                        f[2..].iter().map(|s| s.to_string()).collect(),
                    ));
                }
                other => {
                    return Err(err(format!(
                        "unknown record {other:?} (expected window, tracking-window, settlement, default or bank)"
                    )));
                }
            }
        }
        let missing = |what: String| DebtorBanksError::Incomplete(what);
        let mut w = [Time::MIDNIGHT; 4];
        let mut s = [0u16; 4];
        for stream in NoteStream::ALL {
            let i = stream_index(*stream);
            w[i] = windows[i].ok_or_else(|| missing(format!("no window for {stream}")))?;
            s[i] = settlement[i].ok_or_else(|| missing(format!("no settlement for {stream}")))?;
        }
        let tracking_window =
            tracking_window.ok_or_else(|| missing("no tracking-window".into()))?;
        let default = default.ok_or_else(|| missing("no default".into()))?;
        let mut banks = BTreeMap::new();
        for (line, id, fields) in bank_lines {
            let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
            banks.insert(id, profile(line, &fields, Some(&default))?);
        }
        Ok(DebtorBanks {
            windows: w,
            settlement_days: s,
            tracking_window,
            default,
            banks,
        })
    }

    /// Checks that every bank named here exists in the CDV table.
    ///
    /// # Errors
    /// A sentence naming the unknown bank.
    pub fn check_against(&self, cdv: &CdvTable) -> Result<(), String> {
        match self.banks.keys().find(|id| cdv.bank(id).is_none()) {
            Some(id) => Err(format!(
                "debtor banks: bank {id} is not in the CDV parameters (its branch codes are unknown)"
            )),
            None => Ok(()),
        }
    }

    /// A stream's presentment window on the action date (SAST).
    pub fn window(&self, stream: NoteStream) -> Time {
        self.windows[stream_index(stream)]
    }

    /// The limited-tracking banks' extra window (SAST).
    pub fn tracking_window(&self) -> Time {
        self.tracking_window
    }

    /// Business days from the collection day to settlement, per stream.
    pub fn settlement_days(&self, stream: NoteStream) -> u16 {
        self.settlement_days[stream_index(stream)]
    }

    /// The profile of a bank by CDV identifier; the default for a bank without a line.
    pub fn profile(&self, bank_id: &str) -> BankProfile {
        self.banks.get(bank_id).copied().unwrap_or(self.default)
    }

    /// The profile of the bank a debtor branch code belongs to (the default for an
    /// unknown branch).
    pub fn profile_for_branch(&self, cdv: &CdvTable, branch_code: &str) -> BankProfile {
        cdv.bank_for_branch(branch_code)
            .map_or(self.default, |bank| self.profile(&bank.id))
    }

    /// The profile applied to banks without a line.
    pub fn default_profile(&self) -> BankProfile {
        self.default
    }
}

fn parse_stream(text: &str) -> Option<NoteStream> {
    NoteStream::parse(text)
}

fn bad_stream(line: usize, text: &str) -> DebtorBanksError {
    DebtorBanksError::Line {
        line,
        message: format!("stream {text:?} is not NAEDO, EFT, SOCIAL_GRANT_EFT or DEBICHECK"),
    }
}

fn bad_time(line: usize, text: &str) -> DebtorBanksError {
    DebtorBanksError::Line {
        line,
        message: format!("time {text:?} is not HH:MM"),
    }
}

/// `HH:MM`, 00:00 to 23:59.
pub fn parse_hhmm(text: &str) -> Option<Time> {
    let (h, m) = text.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    Time::from_hms(h.parse().ok()?, m.parse().ok()?, 0).ok()
}

/// WEEK | TRACKING | four delays; '-' takes `base`'s value (only when there is one).
fn profile(
    line: usize,
    f: &[&str],
    base: Option<&BankProfile>,
) -> Result<BankProfile, DebtorBanksError> {
    let err = |message: String| DebtorBanksError::Line { line, message };
    let inherit = |field: &str| field == "-" && base.is_some();
    let week = if inherit(f[0]) {
        base.map_or(ProcessingWeek::FiveDay, |b| b.week)
    } else {
        match f[0] {
            "5" => ProcessingWeek::FiveDay,
            "6" => ProcessingWeek::SixDay,
            "7" => ProcessingWeek::SevenDay,
            other => return Err(err(format!("processing week {other:?} must be 5, 6 or 7"))),
        }
    };
    let tracking = if inherit(f[1]) {
        base.map_or(TrackingKind::Full, |b| b.tracking)
    } else {
        match f[1] {
            "full" => TrackingKind::Full,
            "limited" => TrackingKind::Limited,
            other => return Err(err(format!("tracking {other:?} must be full or limited"))),
        }
    };
    let mut response_minutes = [0u32; 4];
    for (i, field) in f[2..6].iter().enumerate() {
        response_minutes[i] = if inherit(field) {
            base.map_or(0, |b| b.response_minutes[i])
        } else {
            field
                .parse::<u32>()
                .ok()
                .filter(|m| *m <= 10 * 24 * 60)
                .ok_or_else(|| {
                    err(format!(
                        "response delay {field:?} must be 0 to 14400 minutes"
                    ))
                })?
        };
    }
    Ok(BankProfile {
        week,
        tracking,
        response_minutes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = "window | NAEDO | 02:00\nwindow | EFT | 20:00\nwindow | SOCIAL_GRANT_EFT | 20:00\nwindow | DEBICHECK | 02:00\ntracking-window | 14:00\nsettlement | NAEDO | 0\nsettlement | EFT | 5\nsettlement | SOCIAL_GRANT_EFT | 5\nsettlement | DEBICHECK | 0\ndefault | 5 | full | 240 | 600 | 600 | 5\n";

    #[test]
    fn bundled_defaults() {
        let t = DebtorBanks::bundled();
        let hm = |h, m| Time::from_hms(h, m, 0).unwrap();
        assert_eq!(t.window(NoteStream::Naedo), hm(2, 0));
        assert_eq!(t.window(NoteStream::Eft), hm(20, 0));
        assert_eq!(t.window(NoteStream::SocialGrantEft), hm(20, 0));
        assert_eq!(t.window(NoteStream::DebiCheck), hm(2, 0));
        assert_eq!(t.tracking_window(), hm(14, 0));
        assert_eq!(t.settlement_days(NoteStream::DebiCheck), 0);
        assert_eq!(t.settlement_days(NoteStream::Eft), 5);
        let p = t.profile("capitec");
        assert_eq!(p, t.default_profile());
        assert_eq!(p.week, ProcessingWeek::FiveDay);
        assert_eq!(p.tracking, TrackingKind::Full);
        assert_eq!(p.response_delay(NoteStream::Naedo), Duration::hours(4));
        assert_eq!(p.response_delay(NoteStream::Eft), Duration::hours(10));
        assert_eq!(
            p.response_delay(NoteStream::DebiCheck),
            Duration::minutes(5)
        );
        // Every bank named is a CDV bank, and every CDV bank has a line.
        let cdv = CdvTable::bundled();
        t.check_against(cdv).unwrap();
        for bank in cdv.banks() {
            assert!(t.banks.contains_key(&bank.id), "{}", bank.id);
        }
        assert_eq!(t.profile_for_branch(cdv, "470010"), p);
        assert_eq!(t.profile_for_branch(cdv, "999999"), t.default_profile());
    }

    #[test]
    fn bank_lines_override_and_inherit() {
        let text = format!(
            "{MINIMAL}bank | capitec | 7 | limited | - | 30 | - | -\nbank | fnb | 6 | - | - | - | - | 1\n"
        );
        let t = DebtorBanks::parse(&text).unwrap();
        let c = t.profile("capitec");
        assert_eq!(c.week, ProcessingWeek::SevenDay);
        assert_eq!(c.tracking, TrackingKind::Limited);
        assert_eq!(c.response_delay(NoteStream::Naedo), Duration::minutes(240));
        assert_eq!(c.response_delay(NoteStream::Eft), Duration::minutes(30));
        let f = t.profile("fnb");
        assert_eq!(f.week, ProcessingWeek::SixDay);
        assert_eq!(f.tracking, TrackingKind::Full);
        assert_eq!(
            f.response_delay(NoteStream::DebiCheck),
            Duration::minutes(1)
        );
        let cdv = CdvTable::bundled();
        assert_eq!(t.profile_for_branch(cdv, "470010"), c);
        assert_eq!(t.profile_for_branch(cdv, "250655"), f);
        assert_eq!(t.profile("absa"), t.default_profile());
        // A bank line may come before the default.
        let reordered = format!("bank | absa | 6 | - | - | - | - | -\n{MINIMAL}");
        assert_eq!(
            DebtorBanks::parse(&reordered).unwrap().profile("absa").week,
            ProcessingWeek::SixDay
        );
    }

    #[test]
    fn bad_files_are_refused_with_their_line() {
        let bad = |extra: &str| {
            DebtorBanks::parse(&format!("{MINIMAL}{extra}"))
                .unwrap_err()
                .to_string()
        };
        assert!(bad("window | NAEDO | 03:00\n").contains("line 11"));
        assert!(bad("window | AEDO | 03:00\n").contains("stream"));
        assert!(bad("tracking-window | 25:00\n").contains("line 11"));
        assert!(bad("bank | x | 4 | full | 1 | 1 | 1 | 1\n").contains("processing week"));
        assert!(bad("bank | x | 5 | some | 1 | 1 | 1 | 1\n").contains("tracking"));
        assert!(bad("bank | x | 5 | full | 1 | 1 | 1\n").contains("fields"));
        assert!(bad("bank | X | 5 | full | 1 | 1 | 1 | 1\n").contains("bank id"));
        assert!(
            bad("bank | x | - | - | - | - | - | -\nbank | x | - | - | - | - | - | -\n")
                .contains("twice")
        );
        assert!(bad("bank | x | 5 | full | 99999 | 1 | 1 | 1\n").contains("response delay"));
        assert!(bad("settlement | EFT | 2\n").contains("second settlement"));
        assert!(bad("default | 5 | full | 1 | 1 | 1 | 1\n").contains("second default"));
        assert!(bad("weekend | 1\n").contains("unknown record"));
        // '-' is only meaningful on a bank line.
        let no_default = MINIMAL.replace("default | 5 | full | 240", "default | - | full | 240");
        assert!(DebtorBanks::parse(&no_default).is_err());
        let incomplete = MINIMAL.replace("window | EFT | 20:00\n", "");
        assert!(
            DebtorBanks::parse(&incomplete)
                .unwrap_err()
                .to_string()
                .contains("no window for EFT")
        );
        let t = DebtorBanks::parse(&format!("{MINIMAL}bank | nosuch | - | - | - | - | - | -\n"))
            .unwrap();
        assert!(
            t.check_against(CdvTable::bundled())
                .unwrap_err()
                .contains("nosuch")
        );
        assert_eq!(parse_hhmm("2:00"), None);
        assert_eq!(parse_hhmm("24:00"), None);
        assert_eq!(parse_hhmm("23:59"), Time::from_hms(23, 59, 0).ok());
    }
}
