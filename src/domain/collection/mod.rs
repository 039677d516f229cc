//! The collection engine's rules, as data and pure functions (no SQL, no XML, no
//! clock): the debtor banks and the stream timetable ([`banks`], from
//! `data/debtor-banks.txt`), the ACB unpaid reason codes ([`reasons`], from
//! `data/unpaid-reasons.txt`), when each step of an instalment happens ([`timing`]:
//! cut-off, window, tracking days on the debtor bank's processing days, response,
//! settlement) and what each step does to it ([`state`]: the instalment state machine
//! as events, disputability, note totals).
//!
//! Streams: NAEDO, EFT, SOCIAL_GRANT_EFT and DEBICHECK share every rule here; they
//! differ only in data (window, settlement days, response delays, tracking limits in
//! `PromissoryConfig`) and in disputability.

pub mod banks;
pub mod plan;
pub mod reasons;
pub mod state;
pub mod timing;

pub use banks::{BankProfile, DebtorBanks, DebtorBanksError, TrackingKind};
pub use plan::{Due, Plan, Step, Terms};
pub use reasons::{INSUFFICIENT_FUNDS, ReasonKind, ReasonsError, UnpaidReason, UnpaidReasons};
pub use state::{Answer, Event, NoteTotals, TransitionError, apply, disputable, note_totals};

use std::path::Path;

use crate::domain::cdv::CdvTable;

/// The engine's two data tables, as the operator configured them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectionTables {
    /// Stream windows, settlement, debtor-bank profiles.
    pub banks: DebtorBanks,
    /// ACB unpaid and dispute reason codes.
    pub reasons: UnpaidReasons,
}

impl Default for CollectionTables {
    fn default() -> Self {
        CollectionTables {
            banks: DebtorBanks::bundled().clone(),
            reasons: UnpaidReasons::bundled().clone(),
        }
    }
}

impl CollectionTables {
    /// The bundled tables, or the files given, checked against the CDV banks.
    ///
    /// # Errors
    /// A sentence naming the file and what is wrong with it.
    pub fn load(
        banks_file: Option<&Path>,
        reasons_file: Option<&Path>,
        cdv: &CdvTable,
    ) -> Result<CollectionTables, String> {
        let banks = match banks_file {
            Some(path) => DebtorBanks::load(path).map_err(|e| e.to_string())?,
            None => DebtorBanks::bundled().clone(),
        };
        banks.check_against(cdv)?;
        let reasons = match reasons_file {
            Some(path) => UnpaidReasons::load(path).map_err(|e| e.to_string())?,
            None => UnpaidReasons::bundled().clone(),
        };
        Ok(CollectionTables { banks, reasons })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_load_from_files_and_are_checked_against_the_cdv_banks() {
        let dir = std::env::temp_dir().join(format!("allps-collection-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let banks = dir.join("banks.txt");
        let reasons = dir.join("reasons.txt");
        std::fs::write(
            &banks,
            banks::BUNDLED_DEBTOR_BANKS.replace(
                "bank | capitec    | - | - |",
                "bank | capitec    | 7 | limited |",
            ),
        )
        .unwrap();
        std::fs::write(&reasons, "02 | unpaid | NOT PROVIDED FOR\n").unwrap();
        let cdv = CdvTable::bundled();
        let t = CollectionTables::load(Some(&banks), Some(&reasons), cdv).unwrap();
        assert_eq!(t.banks.profile("capitec").tracking, TrackingKind::Limited);
        assert_eq!(t.reasons.all().count(), 1);
        assert_eq!(
            CollectionTables::load(None, None, cdv).unwrap(),
            CollectionTables::default()
        );
        std::fs::write(
            &banks,
            format!(
                "{}bank | nosuch | - | - | - | - | - | -\n",
                banks::BUNDLED_DEBTOR_BANKS
            ),
        )
        .unwrap();
        assert!(
            CollectionTables::load(Some(&banks), None, cdv)
                .unwrap_err()
                .contains("nosuch")
        );
        let missing = dir.join("missing.txt");
        assert!(
            CollectionTables::load(None, Some(&missing), cdv)
                .unwrap_err()
                .contains("missing.txt")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
