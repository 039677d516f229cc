//! Test support shared by the integration tests, benches, fuzz targets and examples: the
//! in-process service and fixture principals of [`crate::cli::fixtures`] under their test
//! names, [`case_seeds`] (the shared and own seeds of a fixture case) and
//! [`describe_store_change`]. Not used by the server itself.

use std::collections::BTreeMap;
use std::path::Path;

pub use crate::cli::fixtures::{
    FIXED_NOW, InProcess as TestService, PASSWORD, Response as TestResponse, seed_principals,
};

/// The SQL a fixture case seeds its store with (after `fixtures/base.sql`), in the order
/// it runs: `<fixtures>/seeds/<name>.sql` for each name the case's `seeds.txt` lists (one
/// a line; blank lines and `#` comments are ignored), then the case's own `seed.sql`.
/// Empty when the case has neither.
///
/// # Errors
///
/// An unreadable file or a name with no shared seed: a broken fixture.
pub fn case_seeds(fixtures: &Path, case: &Path) -> Result<Vec<String>, String> {
    let mut sql = Vec::new();
    for name in crate::cli::fixtures::seed_names(case)? {
        let path = fixtures.join("seeds").join(format!("{name}.sql"));
        sql.push(std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?);
    }
    let own = case.join("seed.sql");
    if own.exists() {
        sql.push(std::fs::read_to_string(&own).map_err(|e| format!("{}: {e}", own.display()))?);
    }
    Ok(sql)
}

/// Describes how `after` differs from `before`: `unchanged`, or one line per table.
pub fn describe_store_change(
    before: &BTreeMap<String, (i64, String)>,
    after: &BTreeMap<String, (i64, String)>,
) -> String {
    let mut lines = Vec::new();
    for (table, (count, digest)) in after {
        match before.get(table) {
            Some((old_count, old_digest)) if old_digest == digest && old_count == count => {}
            Some((old_count, _)) => {
                let delta = count - old_count;
                if delta == 0 {
                    lines.push(format!("{table}: rows changed"));
                } else {
                    lines.push(format!("{table}: {delta:+} rows"));
                }
            }
            None => lines.push(format!("{table}: new table")),
        }
    }
    if lines.is_empty() {
        "unchanged".into()
    } else {
        lines.join("\n")
    }
}
