//! Whole-store operations for set-up and inspection, not for requests: running a SQL
//! script (fixture seeds), counting organisations (is the store empty?), a digest of
//! every table (what a request changed) and reading one row as text (test assertions).

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use crate::store::sql::{OwnedValue, params};
use crate::store::{DbError, Tx, counters};

/// Runs a SQL script (e.g. `fixtures/base.sql`), then [`counters::sync`]: rows the
/// script inserted without an organisation and number get them (their row id), and the
/// organisations' counters continue after them.
///
/// # Errors
///
/// SQLite, naming the failing statement.
pub fn run_script(tx: &Tx<'_>, sql: &str) -> Result<(), DbError> {
    tx.conn.run_script(sql)?;
    counters::sync(tx)
}

/// How many organisations exist (none: an empty store).
///
/// # Errors
///
/// SQLite.
pub fn organisations(tx: &Tx<'_>) -> Result<i64, DbError> {
    Ok(tx
        .conn
        .query_row("SELECT count(*) FROM organisations", params![], |r| {
            r.get(0)
        })?)
}

/// The first row of a query, each column as text (`NULL` as `None`; numbers in SQLite's
/// spelling); `None` when there is no row. For test assertions.
///
/// # Errors
///
/// SQLite.
pub fn row_text(tx: &Tx<'_>, sql: &str) -> Result<Option<Vec<Option<String>>>, DbError> {
    use crate::store::sql::OptionalExtension;
    use crate::store::sql::Value;
    let mut statement = tx.conn.prepare(sql)?;
    let columns = statement.column_count();
    Ok(statement
        .query_row(params![], |r| {
            (0..columns)
                .map(|i| {
                    Ok(match r.value(i)? {
                        Value::Null => None,
                        Value::Integer(n) => Some(n.to_string()),
                        Value::Real(x) => Some(x.to_string()),
                        Value::Text(t) => Some(t.to_string()),
                        Value::Blob(b) => Some(String::from_utf8_lossy(b).into_owned()),
                    })
                })
                .collect()
        })
        .optional()?)
}

/// Row count and content hash of every table but `sessions` (Login's only effect, and
/// random) and `counters` (numbering bookkeeping, like SQLite's own `sqlite_sequence`:
/// every number handed out shows as the row that carries it; `tests/tenants.rs` checks
/// that a refusal gives its numbers back).
///
/// # Errors
///
/// SQLite.
pub fn digest(tx: &Tx<'_>) -> Result<BTreeMap<String, (i64, String)>, DbError> {
    let conn = tx.conn;
    let tables: Vec<String> = conn
        .table_names()?
        .into_iter()
        .filter(|t| t != "sessions" && t != "counters")
        .collect();
    let mut out = BTreeMap::new();
    for table in tables {
        let mut stmt = conn.prepare(&format!("SELECT * FROM \"{table}\""))?;
        let columns = stmt.column_count();
        let mut rows: Vec<String> = stmt
            .query_map(params![], |r| {
                let mut line = String::new();
                for i in 0..columns {
                    let v: OwnedValue = r.get(i)?;
                    line.push_str(&format!("{v:?}|"));
                }
                Ok(line)
            })?
            .collect::<Result<_, _>>()?;
        rows.sort();
        let mut h = Sha256::new();
        for row in &rows {
            h.update(row.as_bytes());
            h.update(b"\n");
        }
        let digest: String = h.finalize()[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        out.insert(table, (rows.len() as i64, digest));
    }
    Ok(out)
}
