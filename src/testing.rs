//! Test support shared by the integration tests, benches, fuzz targets and examples: the
//! in-process service and fixture principals of [`crate::cli::fixtures`] under their test
//! names, and [`describe_store_change`]. Not used by the server itself.

use std::collections::BTreeMap;

pub use crate::cli::fixtures::{
    FIXED_NOW, InProcess as TestService, PASSWORD, Response as TestResponse, seed_principals,
};

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
