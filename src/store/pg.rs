//! The PostgreSQL backend of the SQL facade: one `postgres::Client` per store connection
//! (the writer's, each reader's, `admin`'s), its statement cache keyed by the facade's SQL
//! text, the one-time rewrite of `?N` placeholders to `$N`, the mapping of the facade's
//! five value kinds to PostgreSQL's types, and the migrations (`schema/postgres/`,
//! recorded in `schema_version`, applied under an advisory lock so nodes starting
//! together migrate once).
//!
//! The sync `postgres` crate fits the store's thread model: the writer and each reader
//! own one connection on their own thread and block on it, exactly as they do on SQLite.

use std::cell::RefCell;
use std::collections::HashMap;
use std::error::Error as StdError;

use postgres::types::private::BytesMut;
use postgres::types::{IsNull, Type};

use crate::store::sql::{Error, Result, Value};

/// PostgreSQL migrations, in the order of (and with the same meaning as) the SQLite ones.
pub const MIGRATIONS: &[&str] = &[
    include_str!("schema/postgres/0001_core.sql"),
    include_str!("schema/postgres/0002_replies.sql"),
    include_str!("schema/postgres/0003_promissory.sql"),
    include_str!("schema/postgres/0004_payouts.sql"),
    include_str!("schema/postgres/0005_lender.sql"),
    include_str!("schema/postgres/0006_holidays.sql"),
    include_str!("schema/postgres/0007_collections.sql"),
];

/// Whether `--db` names a PostgreSQL database rather than a SQLite file.
pub fn is_url(location: &str) -> bool {
    location.starts_with("postgres://") || location.starts_with("postgresql://")
}

/// One PostgreSQL connection with its statement cache.
pub struct PgConn {
    client: RefCell<postgres::Client>,
    statements: RefCell<HashMap<String, postgres::Statement>>,
}

impl PgConn {
    /// Connects (no TLS: the database is reached over a private network or a socket).
    ///
    /// # Errors
    ///
    /// The connection fails.
    pub fn connect(url: &str) -> Result<PgConn> {
        let client = postgres::Client::connect(url, postgres::NoTls)?;
        Ok(PgConn {
            client: RefCell::new(client),
            statements: RefCell::new(HashMap::new()),
        })
    }

    /// A prepared statement for the facade's SQL text; cached ones are prepared once per
    /// connection.
    pub fn statement(&self, sql: &str, cache: bool) -> Result<postgres::Statement> {
        if let Some(s) = self.statements.borrow().get(sql) {
            return Ok(s.clone());
        }
        let statement = self
            .client
            .borrow_mut()
            .prepare(&dollar_placeholders(sql))?;
        if cache {
            self.statements
                .borrow_mut()
                .insert(sql.to_owned(), statement.clone());
        }
        Ok(statement)
    }

    /// Runs a prepared statement; returns the rows it changed.
    pub fn execute(
        &self,
        statement: &postgres::Statement,
        params: &[PgValue<'_>],
    ) -> Result<usize> {
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = params
            .iter()
            .map(|p| p as &(dyn postgres::types::ToSql + Sync))
            .collect();
        let n = self.client.borrow_mut().execute(statement, &refs)?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    /// Runs a prepared query; every row.
    pub fn query(
        &self,
        statement: &postgres::Statement,
        params: &[PgValue<'_>],
    ) -> Result<Vec<postgres::Row>> {
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = params
            .iter()
            .map(|p| p as &(dyn postgres::types::ToSql + Sync))
            .collect();
        Ok(self.client.borrow_mut().query(statement, &refs)?)
    }

    /// Runs a script of statements without parameters.
    pub fn batch(&self, sql: &str) -> Result<()> {
        Ok(self.client.borrow_mut().batch_execute(sql)?)
    }

    /// The value the session's last identity insert drew.
    pub fn last_insert_id(&self) -> Result<i64> {
        let statement = self.statement("SELECT lastval()", true)?;
        let rows = self.query(&statement, &[])?;
        rows.first()
            .map(|r| r.get::<_, i64>(0))
            .ok_or(Error::NoRows)
    }
}

/// `?N` placeholders (the facade's dialect) as PostgreSQL's `$N`, outside quoted text.
pub fn dollar_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quoted = false;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' {
            quoted = !quoted;
        }
        if c == '?' && !quoted && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}

/// A facade value bound to a PostgreSQL parameter of whatever type the server inferred.
#[derive(Debug)]
pub struct PgValue<'a>(pub Value<'a>);

type BoxError = Box<dyn StdError + Sync + Send>;

impl postgres::types::ToSql for PgValue<'_> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> std::result::Result<IsNull, BoxError> {
        match self.0 {
            Value::Null => Ok(IsNull::Yes),
            Value::Integer(n) => match *ty {
                Type::INT8 => n.to_sql(ty, out),
                Type::INT4 => i32::try_from(n)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(n)?.to_sql(ty, out),
                Type::BOOL => (n != 0).to_sql(ty, out),
                Type::FLOAT8 => (n as f64).to_sql(ty, out),
                Type::FLOAT4 => (n as f32).to_sql(ty, out),
                _ => n.to_string().as_str().to_sql(ty, out),
            },
            Value::Real(x) => match *ty {
                Type::FLOAT4 => (x as f32).to_sql(ty, out),
                Type::FLOAT8 => x.to_sql(ty, out),
                _ => x.to_string().as_str().to_sql(ty, out),
            },
            Value::Text(t) => t.to_sql(ty, out),
            Value::Blob(b) => b.to_sql(ty, out),
        }
    }

    fn accepts(ty: &Type) -> bool {
        matches!(
            *ty,
            Type::INT2
                | Type::INT4
                | Type::INT8
                | Type::BOOL
                | Type::FLOAT4
                | Type::FLOAT8
                | Type::TEXT
                | Type::VARCHAR
                | Type::BPCHAR
                | Type::NAME
                | Type::UNKNOWN
                | Type::BYTEA
        )
    }

    postgres::types::to_sql_checked!();
}

/// Column `index` of a PostgreSQL row as a facade value.
pub fn value(row: &postgres::Row, index: usize) -> Result<Value<'_>> {
    let Some(column) = row.columns().get(index) else {
        return Err(Error::conversion(index, "a column", "none"));
    };
    let ty = column.type_().clone();
    Ok(match ty {
        Type::INT8 => row
            .try_get::<_, Option<i64>>(index)?
            .map_or(Value::Null, Value::Integer),
        Type::INT4 => row
            .try_get::<_, Option<i32>>(index)?
            .map_or(Value::Null, |n| Value::Integer(i64::from(n))),
        Type::INT2 => row
            .try_get::<_, Option<i16>>(index)?
            .map_or(Value::Null, |n| Value::Integer(i64::from(n))),
        Type::BOOL => row
            .try_get::<_, Option<bool>>(index)?
            .map_or(Value::Null, |b| Value::Integer(i64::from(b))),
        Type::FLOAT8 => row
            .try_get::<_, Option<f64>>(index)?
            .map_or(Value::Null, Value::Real),
        Type::FLOAT4 => row
            .try_get::<_, Option<f32>>(index)?
            .map_or(Value::Null, |x| Value::Real(f64::from(x))),
        Type::BYTEA => row
            .try_get::<_, Option<&[u8]>>(index)?
            .map_or(Value::Null, Value::Blob),
        _ => row
            .try_get::<_, Option<&str>>(index)?
            .map_or(Value::Null, Value::Text),
    })
}

/// Applies the PostgreSQL migrations the database has not seen, each in its own
/// transaction, under an advisory lock (nodes starting together migrate once).
///
/// # Errors
///
/// The database; `Err(found)` inside when the database is newer than this binary.
pub fn migrate(conn: &PgConn) -> Result<std::result::Result<(), i64>> {
    conn.batch(
        "CREATE TABLE IF NOT EXISTS schema_version (id BIGINT PRIMARY KEY CHECK (id = 1), version BIGINT NOT NULL);
         INSERT INTO schema_version (id, version) VALUES (1, 0) ON CONFLICT DO NOTHING",
    )?;
    loop {
        conn.batch("BEGIN; SELECT pg_advisory_xact_lock(7412001)")?;
        let statement = conn.statement("SELECT version FROM schema_version WHERE id = 1", false)?;
        let version: i64 = conn
            .query(&statement, &[])?
            .first()
            .map(|r| r.get(0))
            .unwrap_or(0);
        if version > MIGRATIONS.len() as i64 {
            conn.batch("ROLLBACK")?;
            return Ok(Err(version));
        }
        let Some(sql) = MIGRATIONS.get(version as usize) else {
            conn.batch("COMMIT")?;
            return Ok(Ok(()));
        };
        if let Err(e) = conn
            .batch(sql)
            .and_then(|()| {
                conn.batch(&format!(
                    "UPDATE schema_version SET version = {} WHERE id = 1",
                    version + 1
                ))
            })
            .and_then(|()| conn.batch("COMMIT"))
        {
            let _ = conn.batch("ROLLBACK");
            return Err(e);
        }
    }
}

/// After a script inserted rows with explicit ids (fixture seeds), moves every identity
/// past the largest id in its table, as SQLite's rowid allocation would.
pub fn resync_identities(conn: &PgConn) -> Result<()> {
    let statement = conn.statement(
        "SELECT table_name::text, column_name::text FROM information_schema.columns
         WHERE table_schema = current_schema() AND is_identity = 'YES' ORDER BY table_name",
        false,
    )?;
    let columns: Vec<(String, String)> = conn
        .query(&statement, &[])?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    for (table, column) in columns {
        conn.batch(&format!(
            "SELECT setval(pg_get_serial_sequence('\"{table}\"', '{column}'),
                           coalesce((SELECT max(\"{column}\") FROM \"{table}\"), 0) + 1, false)"
        ))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_dollars_outside_quotes() {
        assert_eq!(
            dollar_placeholders("SELECT a FROM t WHERE b = ?1 AND c = '?2' AND d = ?12"),
            "SELECT a FROM t WHERE b = $1 AND c = '?2' AND d = $12"
        );
        assert!(is_url("postgres://u@h/db"));
        assert!(is_url("postgresql:///db?host=/tmp"));
        assert!(!is_url("/var/lib/allps/allps.db"));
    }
}
