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
    let read =
        |path: &Path| std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()));
    let mut sql = Vec::new();
    let list = case.join("seeds.txt");
    if list.exists() {
        for name in read(&list)?.lines().map(str::trim) {
            if name.is_empty() || name.starts_with('#') {
                continue;
            }
            if !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            {
                return Err(format!("{}: {name:?} is not a seed name", list.display()));
            }
            sql.push(read(&fixtures.join("seeds").join(format!("{name}.sql")))?);
        }
    }
    let own = case.join("seed.sql");
    if own.exists() {
        sql.push(read(&own)?);
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
