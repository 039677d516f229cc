//! The store's SQL facade: the one place that talks to a database client crate. Every
//! query function in `store/` runs its SQL through [`Conn`] (`execute`, `query_row`,
//! `prepare_cached` then `execute`/`query_row`/`query_map`), binds values with
//! [`params!`] and reads columns with [`Row::get`], so a query is written once, in a
//! dialect both backends understand, whatever database is behind the connection.
//!
//! The surface mirrors rusqlite's on purpose: store code converts by changing its
//! imports (`use crate::store::sql::{OptionalExtension, Row, params}`), not its queries.
//! Values cross the boundary as [`Value`] (null, integer, real, text, blob: SQLite's
//! storage classes, which the schema keeps to on every backend: money is canonical text,
//! dates and times are text, flags are integers), so a backend needs only to map those
//! five to its own types. Two backends: SQLite (rusqlite, bound with its raw binding
//! calls: no allocation per parameter, the same work rusqlite's `params!` does) and
//! PostgreSQL (`store/pg.rs`: `?N` rewritten once per cached statement to `$N`).

use std::fmt;

/// A value bound to a statement or read from a row, borrowed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    /// SQL NULL.
    Null,
    /// A 64-bit integer (row ids, counts, amounts in cents, flags).
    Integer(i64),
    /// A double.
    Real(f64),
    /// UTF-8 text.
    Text(&'a str),
    /// Bytes.
    Blob(&'a [u8]),
}

/// A value read from a row, owned (dynamic reads: the store digest, test dumps). Its
/// `Debug` spelling is the digest's row format and must not change.
#[derive(Debug, Clone, PartialEq)]
pub enum OwnedValue {
    /// SQL NULL.
    Null,
    /// A 64-bit integer.
    Integer(i64),
    /// A double.
    Real(f64),
    /// UTF-8 text.
    Text(String),
    /// Bytes.
    Blob(Vec<u8>),
}

/// A Rust value that can be bound to a statement parameter.
pub trait ToSql {
    /// The value to bind.
    fn to_sql(&self) -> Value<'_>;
}

macro_rules! integer_to_sql {
    ($($t:ty),*) => {$(
        impl ToSql for $t {
            #[inline]
            fn to_sql(&self) -> Value<'_> {
                Value::Integer(i64::from(*self))
            }
        }
    )*};
}
integer_to_sql!(i64, i32, i16, i8, u32, u16, u8, bool);

impl ToSql for usize {
    #[inline]
    fn to_sql(&self) -> Value<'_> {
        // Counts and limits: far below i64::MAX on any machine this runs on.
        Value::Integer(i64::try_from(*self).unwrap_or(i64::MAX))
    }
}

impl ToSql for u64 {
    #[inline]
    fn to_sql(&self) -> Value<'_> {
        Value::Integer(i64::try_from(*self).unwrap_or(i64::MAX))
    }
}

impl ToSql for f64 {
    #[inline]
    fn to_sql(&self) -> Value<'_> {
        Value::Real(*self)
    }
}

impl ToSql for str {
    #[inline]
    fn to_sql(&self) -> Value<'_> {
        Value::Text(self)
    }
}

impl ToSql for String {
    #[inline]
    fn to_sql(&self) -> Value<'_> {
        Value::Text(self)
    }
}

impl ToSql for [u8] {
    #[inline]
    fn to_sql(&self) -> Value<'_> {
        Value::Blob(self)
    }
}

impl ToSql for Vec<u8> {
    #[inline]
    fn to_sql(&self) -> Value<'_> {
        Value::Blob(self)
    }
}

impl<const N: usize> ToSql for [u8; N] {
    #[inline]
    fn to_sql(&self) -> Value<'_> {
        Value::Blob(self)
    }
}

impl ToSql for Value<'_> {
    #[inline]
    fn to_sql(&self) -> Value<'_> {
        *self
    }
}

impl ToSql for OwnedValue {
    fn to_sql(&self) -> Value<'_> {
        match self {
            OwnedValue::Null => Value::Null,
            OwnedValue::Integer(n) => Value::Integer(*n),
            OwnedValue::Real(x) => Value::Real(*x),
            OwnedValue::Text(t) => Value::Text(t),
            OwnedValue::Blob(b) => Value::Blob(b),
        }
    }
}

impl<T: ToSql + ?Sized> ToSql for &T {
    #[inline]
    fn to_sql(&self) -> Value<'_> {
        (**self).to_sql()
    }
}

impl<T: ToSql> ToSql for Option<T> {
    #[inline]
    fn to_sql(&self) -> Value<'_> {
        match self {
            Some(v) => v.to_sql(),
            None => Value::Null,
        }
    }
}

/// Statement parameters, in order (`?1`, `?2`, ...): what [`params!`] builds
/// (`&[&dyn ToSql]`), an array of one type (`[client_id]`), or `[]` for none, as rusqlite
/// takes them.
pub trait Params {
    /// How many.
    fn count(&self) -> usize;
    /// Parameter `index` (from 0).
    fn value(&self, index: usize) -> Value<'_>;
}

impl Params for &[&dyn ToSql] {
    #[inline]
    fn count(&self) -> usize {
        self.len()
    }
    #[inline]
    fn value(&self, index: usize) -> Value<'_> {
        self[index].to_sql()
    }
}

impl Params for [&dyn ToSql; 0] {
    #[inline]
    fn count(&self) -> usize {
        0
    }
    fn value(&self, index: usize) -> Value<'_> {
        self[index].to_sql()
    }
}

macro_rules! array_params {
    ($($n:literal),*) => {$(
        impl<T: ToSql> Params for [T; $n] {
            #[inline]
            fn count(&self) -> usize {
                $n
            }
            #[inline]
            fn value(&self, index: usize) -> Value<'_> {
                self[index].to_sql()
            }
        }
    )*};
}
array_params!(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);

/// Binds statement parameters in order: `params![client_id, number]`, or `params![]`
/// for none. The facade's `rusqlite::params!`.
macro_rules! params {
    () => {
        &[] as &[&dyn $crate::store::sql::ToSql]
    };
    ($($param:expr),+ $(,)?) => {
        &[$(&$param as &dyn $crate::store::sql::ToSql),+] as &[&dyn $crate::store::sql::ToSql]
    };
}
pub(crate) use params;

/// A Rust value that can be read from a column.
pub trait FromSql: Sized {
    /// Converts a column value; `Err` names what was expected.
    ///
    /// # Errors
    ///
    /// The value has another type.
    fn from_sql(value: Value<'_>) -> Result<Self, &'static str>;
}

impl FromSql for i64 {
    #[inline]
    fn from_sql(value: Value<'_>) -> Result<Self, &'static str> {
        match value {
            Value::Integer(n) => Ok(n),
            _ => Err("an integer"),
        }
    }
}

macro_rules! narrow_from_sql {
    ($($t:ty),*) => {$(
        impl FromSql for $t {
            #[inline]
            fn from_sql(value: Value<'_>) -> Result<Self, &'static str> {
                match value {
                    Value::Integer(n) => <$t>::try_from(n).map_err(|_| "an integer in range"),
                    _ => Err("an integer"),
                }
            }
        }
    )*};
}
narrow_from_sql!(i32, i16, u32, u16, u8, u64, usize);

impl FromSql for bool {
    #[inline]
    fn from_sql(value: Value<'_>) -> Result<Self, &'static str> {
        match value {
            Value::Integer(n) => Ok(n != 0),
            _ => Err("an integer flag"),
        }
    }
}

impl FromSql for f64 {
    #[inline]
    fn from_sql(value: Value<'_>) -> Result<Self, &'static str> {
        match value {
            Value::Real(x) => Ok(x),
            // SQLite stores a whole REAL as an integer when the column allows it.
            Value::Integer(n) => Ok(n as f64),
            _ => Err("a real"),
        }
    }
}

impl FromSql for String {
    #[inline]
    fn from_sql(value: Value<'_>) -> Result<Self, &'static str> {
        match value {
            Value::Text(t) => Ok(t.to_owned()),
            _ => Err("text"),
        }
    }
}

impl FromSql for Vec<u8> {
    #[inline]
    fn from_sql(value: Value<'_>) -> Result<Self, &'static str> {
        match value {
            Value::Blob(b) => Ok(b.to_vec()),
            _ => Err("a blob"),
        }
    }
}

impl FromSql for OwnedValue {
    fn from_sql(value: Value<'_>) -> Result<Self, &'static str> {
        Ok(match value {
            Value::Null => OwnedValue::Null,
            Value::Integer(n) => OwnedValue::Integer(n),
            Value::Real(x) => OwnedValue::Real(x),
            Value::Text(t) => OwnedValue::Text(t.to_owned()),
            Value::Blob(b) => OwnedValue::Blob(b.to_vec()),
        })
    }
}

impl<T: FromSql> FromSql for Option<T> {
    #[inline]
    fn from_sql(value: Value<'_>) -> Result<Self, &'static str> {
        match value {
            Value::Null => Ok(None),
            v => T::from_sql(v).map(Some),
        }
    }
}

/// A failure of the database or of reading what it holds. None of this text ever
/// reaches the wire.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// SQLite failed.
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL failed.
    #[error(transparent)]
    Postgres(#[from] postgres::Error),
    /// `query_row` found no row (see [`OptionalExtension::optional`]).
    #[error("the query returned no rows")]
    NoRows,
    /// A column held a value the reader cannot take.
    #[error("column {column}: expected {expected}, found {found}")]
    Conversion {
        /// The column index.
        column: usize,
        /// What the reader wanted.
        expected: &'static str,
        /// What the column held (a type, or the offending text).
        found: String,
    },
    /// A guarded UPDATE changed another number of rows than the one expected (the row
    /// was not in the state the caller required).
    #[error("the statement changed {0} rows")]
    ChangedRows(usize),
    /// The query expected parameters it was not given (a programming error).
    #[error("the statement takes {expected} parameters, {given} given")]
    ParameterCount {
        /// Parameters in the SQL text.
        expected: usize,
        /// Parameters bound.
        given: usize,
    },
}

impl Error {
    /// A stored value the domain cannot read (an unknown enumeration spelling, a
    /// malformed date).
    pub fn conversion(column: usize, expected: &'static str, found: impl fmt::Display) -> Error {
        Error::Conversion {
            column,
            expected,
            found: found.to_string(),
        }
    }

    /// Whether a statement broke a UNIQUE or primary key constraint.
    pub fn is_unique_violation(&self) -> bool {
        match self {
            Error::Sqlite(e) => matches!(
                e,
                rusqlite::Error::SqliteFailure(f, _)
                    if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                        || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
            ),
            Error::Postgres(e) => e.code() == Some(&postgres::error::SqlState::UNIQUE_VIOLATION),
            _ => false,
        }
    }

    /// Whether PostgreSQL refused a statement because of a concurrent transaction (a
    /// serialization failure, or this one chosen as a deadlock's victim).
    pub fn is_serialization_failure(&self) -> bool {
        match self {
            Error::Postgres(e) => e.code().is_some_and(|c| {
                *c == postgres::error::SqlState::T_R_SERIALIZATION_FAILURE
                    || *c == postgres::error::SqlState::T_R_DEADLOCK_DETECTED
            }),
            _ => false,
        }
    }

    /// Whether the database was only busy (locked by another connection past the busy
    /// timeout): worth retrying, not a failure of the server.
    pub fn is_busy(&self) -> bool {
        match self {
            Error::Sqlite(e) => matches!(
                e.sqlite_error_code(),
                Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
            ),
            // A serialization failure, a deadlock victim, a lock timeout, a lost or
            // refused connection: another try (on this node or another) can succeed.
            Error::Postgres(e) => {
                e.is_closed()
                    || e.code().is_some_and(|c| {
                        [
                            postgres::error::SqlState::T_R_SERIALIZATION_FAILURE,
                            postgres::error::SqlState::T_R_DEADLOCK_DETECTED,
                            postgres::error::SqlState::LOCK_NOT_AVAILABLE,
                            postgres::error::SqlState::ADMIN_SHUTDOWN,
                            postgres::error::SqlState::CANNOT_CONNECT_NOW,
                        ]
                        .contains(c)
                    })
            }
            _ => false,
        }
    }
}

/// Results of the facade.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// `query_row(..).optional()`: no row is `None`, as rusqlite's extension of that name.
pub trait OptionalExtension<T> {
    /// `Ok(None)` for [`Error::NoRows`].
    ///
    /// # Errors
    ///
    /// Every other error.
    fn optional(self) -> Result<Option<T>>;
}

impl<T> OptionalExtension<T> for Result<T> {
    #[inline]
    fn optional(self) -> Result<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(Error::NoRows) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// One database connection of the store.
pub struct Conn {
    inner: ConnInner,
}

enum ConnInner {
    Sqlite(rusqlite::Connection),
    Postgres(Box<pg::PgConn>),
}

/// Which database a connection talks to, for the few texts that differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

impl fmt::Debug for Conn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.inner {
            ConnInner::Sqlite(_) => f.write_str("Conn(sqlite)"),
            ConnInner::Postgres(_) => f.write_str("Conn(postgres)"),
        }
    }
}

impl Conn {
    /// A SQLite connection, already configured.
    pub(crate) fn sqlite(conn: rusqlite::Connection) -> Conn {
        Conn {
            inner: ConnInner::Sqlite(conn),
        }
    }

    /// A PostgreSQL connection.
    pub(crate) fn postgres(conn: pg::PgConn) -> Conn {
        Conn {
            inner: ConnInner::Postgres(Box::new(conn)),
        }
    }

    /// The SQLite connection, for the backend's own plumbing (pragmas, hooks,
    /// transactions of the writer thread); `None` on PostgreSQL.
    pub(crate) fn as_sqlite(&self) -> Option<&rusqlite::Connection> {
        match &self.inner {
            ConnInner::Sqlite(c) => Some(c),
            ConnInner::Postgres(_) => None,
        }
    }

    /// The database behind the connection.
    pub fn dialect(&self) -> Dialect {
        match self.inner {
            ConnInner::Sqlite(_) => Dialect::Sqlite,
            ConnInner::Postgres(_) => Dialect::Postgres,
        }
    }

    /// A statement from the connection's cache (prepared once, then reused): for every
    /// query a request runs.
    ///
    /// # Errors
    ///
    /// The SQL does not prepare.
    #[inline]
    pub fn prepare_cached(&self, sql: &str) -> Result<Statement<'_>> {
        match &self.inner {
            ConnInner::Sqlite(c) => Ok(Statement {
                inner: StatementInner::SqliteCached(c.prepare_cached(sql)?),
            }),
            ConnInner::Postgres(c) => Ok(Statement {
                inner: StatementInner::Postgres(c, c.statement(sql, true)?),
            }),
        }
    }

    /// A statement prepared for this use only: for SQL built at run time or run once.
    ///
    /// # Errors
    ///
    /// The SQL does not prepare.
    pub fn prepare(&self, sql: &str) -> Result<Statement<'_>> {
        match &self.inner {
            ConnInner::Sqlite(c) => Ok(Statement {
                inner: StatementInner::Sqlite(c.prepare(sql)?),
            }),
            ConnInner::Postgres(c) => Ok(Statement {
                inner: StatementInner::Postgres(c, c.statement(sql, false)?),
            }),
        }
    }

    /// Prepares (uncached) and runs one statement; returns the rows it changed.
    ///
    /// # Errors
    ///
    /// The database.
    pub fn execute<P: Params>(&self, sql: &str, params: P) -> Result<usize> {
        self.prepare(sql)?.execute(params)
    }

    /// Prepares (uncached) and runs one query; `f` reads its first row.
    ///
    /// # Errors
    ///
    /// The database, [`Error::NoRows`], or what `f` returns.
    pub fn query_row<T, P: Params, F>(&self, sql: &str, params: P, f: F) -> Result<T>
    where
        F: FnOnce(&Row<'_>) -> Result<T>,
    {
        self.prepare(sql)?.query_row(params, f)
    }

    /// Runs a script of statements without parameters (fixture seeds, tests).
    ///
    /// # Errors
    ///
    /// The database.
    pub fn execute_batch(&self, sql: &str) -> Result<()> {
        match &self.inner {
            ConnInner::Sqlite(c) => Ok(c.execute_batch(sql)?),
            ConnInner::Postgres(c) => c.batch(sql),
        }
    }

    /// Before a transaction: reconnects a PostgreSQL connection that was lost (nothing
    /// to do on SQLite).
    ///
    /// # Errors
    ///
    /// The server is still unreachable.
    pub fn ensure_open(&self) -> Result<()> {
        match &self.inner {
            ConnInner::Sqlite(_) => Ok(()),
            ConnInner::Postgres(c) => c.ensure_open(),
        }
    }

    /// Runs a script that may insert rows with explicit ids (fixture seeds): on
    /// PostgreSQL every identity then moves past the largest id, as SQLite's rowids do.
    ///
    /// # Errors
    ///
    /// The database.
    pub fn run_script(&self, sql: &str) -> Result<()> {
        self.execute_batch(sql)?;
        match &self.inner {
            ConnInner::Sqlite(_) => Ok(()),
            ConnInner::Postgres(c) => pg::resync_identities(c),
        }
    }

    /// The row id the connection's last INSERT gave its new row.
    ///
    /// # Errors
    ///
    /// The database.
    #[inline]
    pub fn last_insert_rowid(&self) -> Result<i64> {
        match &self.inner {
            ConnInner::Sqlite(c) => Ok(c.last_insert_rowid()),
            ConnInner::Postgres(c) => c.last_insert_id(),
        }
    }

    /// The names of the store's tables (sorted), for whole-store inspection.
    ///
    /// # Errors
    ///
    /// The database.
    pub fn table_names(&self) -> Result<Vec<String>> {
        let sql = match &self.inner {
            ConnInner::Sqlite(_) => {
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
            }
            ConnInner::Postgres(_) => {
                "SELECT table_name::text FROM information_schema.tables
                 WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'
                   AND table_name <> 'schema_version' ORDER BY table_name"
            }
        };
        self.prepare(sql)?
            .query_map(params![], |r| r.get(0))?
            .collect()
    }
}

/// A prepared statement: run it with [`Statement::execute`], [`Statement::query_row`]
/// or [`Statement::query_map`].
pub struct Statement<'c> {
    inner: StatementInner<'c>,
}

enum StatementInner<'c> {
    SqliteCached(rusqlite::CachedStatement<'c>),
    Sqlite(rusqlite::Statement<'c>),
    Postgres(&'c pg::PgConn, postgres::Statement),
}

/// A parameter value as rusqlite binds it, without copying.
struct SqliteValue<'a>(Value<'a>);

impl rusqlite::ToSql for SqliteValue<'_> {
    #[inline]
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self.0 {
            Value::Null => ValueRef::Null,
            Value::Integer(n) => ValueRef::Integer(n),
            Value::Real(x) => ValueRef::Real(x),
            Value::Text(t) => ValueRef::Text(t.as_bytes()),
            Value::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

impl<'c> Statement<'c> {
    /// The PostgreSQL connection and statement with the values to bind, checked.
    fn bind_postgres<'p, P: Params>(
        conn: &'c pg::PgConn,
        statement: &postgres::Statement,
        params: &'p P,
    ) -> Result<(&'c pg::PgConn, Vec<pg::PgValue<'p>>)> {
        let expected = statement.params().len();
        let given = params.count();
        if given != expected {
            return Err(Error::ParameterCount { expected, given });
        }
        Ok((
            conn,
            (0..given).map(|i| pg::PgValue(params.value(i))).collect(),
        ))
    }

    #[inline]
    fn bind_sqlite<P: Params>(&mut self, params: P) -> Result<&mut rusqlite::Statement<'c>> {
        let s = match &mut self.inner {
            StatementInner::SqliteCached(s) => s,
            StatementInner::Sqlite(s) => s,
            StatementInner::Postgres(..) => unreachable!("bind_sqlite on a PostgreSQL statement"),
        };
        let expected = s.parameter_count();
        let given = params.count();
        if given != expected {
            return Err(Error::ParameterCount { expected, given });
        }
        for i in 0..given {
            s.raw_bind_parameter(i + 1, SqliteValue(params.value(i)))?;
        }
        Ok(s)
    }

    /// How many columns a row of this statement has.
    pub fn column_count(&mut self) -> usize {
        match &self.inner {
            StatementInner::SqliteCached(s) => s.column_count(),
            StatementInner::Sqlite(s) => s.column_count(),
            StatementInner::Postgres(_, s) => s.columns().len(),
        }
    }

    /// Runs the statement; returns the rows it changed.
    ///
    /// # Errors
    ///
    /// The database (a statement that returns rows is an error: use `query_row`).
    #[inline]
    pub fn execute<P: Params>(&mut self, params: P) -> Result<usize> {
        if let StatementInner::Postgres(conn, statement) = &self.inner {
            let (conn, values) = Self::bind_postgres(conn, statement, &params)?;
            return conn.execute(statement, &values);
        }
        Ok(self.bind_sqlite(params)?.raw_execute()?)
    }

    /// Runs the query; `f` reads its first row.
    ///
    /// # Errors
    ///
    /// The database, [`Error::NoRows`], or what `f` returns.
    #[inline]
    pub fn query_row<T, P: Params, F>(&mut self, params: P, f: F) -> Result<T>
    where
        F: FnOnce(&Row<'_>) -> Result<T>,
    {
        if let StatementInner::Postgres(conn, statement) = &self.inner {
            let (conn, values) = Self::bind_postgres(conn, statement, &params)?;
            let rows = conn.query(statement, &values)?;
            return match rows.first() {
                Some(row) => f(&Row {
                    inner: RowInner::Postgres(row),
                }),
                None => Err(Error::NoRows),
            };
        }
        let s = self.bind_sqlite(params)?;
        let mut rows = s.raw_query();
        match rows.next()? {
            Some(row) => f(&Row {
                inner: RowInner::Sqlite(row),
            }),
            None => Err(Error::NoRows),
        }
    }

    /// Runs the query; every row, read by `f`, in order.
    ///
    /// # Errors
    ///
    /// The database failing to start the query (each row may fail on its own).
    #[inline]
    pub fn query_map<T, P: Params, F>(&mut self, params: P, f: F) -> Result<MappedRows<'_, F>>
    where
        F: FnMut(&Row<'_>) -> Result<T>,
    {
        if let StatementInner::Postgres(conn, statement) = &self.inner {
            let (conn, values) = Self::bind_postgres(conn, statement, &params)?;
            let rows = conn.query(statement, &values)?;
            return Ok(MappedRows {
                rows: RowsInner::Postgres(rows.into_iter()),
                map: f,
            });
        }
        let s = self.bind_sqlite(params)?;
        Ok(MappedRows {
            rows: RowsInner::Sqlite(s.raw_query()),
            map: f,
        })
    }
}

/// The rows of [`Statement::query_map`], each read by its function.
pub struct MappedRows<'s, F> {
    rows: RowsInner<'s>,
    map: F,
}

enum RowsInner<'s> {
    Sqlite(rusqlite::Rows<'s>),
    Postgres(std::vec::IntoIter<postgres::Row>),
}

impl<T, F> Iterator for MappedRows<'_, F>
where
    F: FnMut(&Row<'_>) -> Result<T>,
{
    type Item = Result<T>;

    #[inline]
    fn next(&mut self) -> Option<Result<T>> {
        match &mut self.rows {
            RowsInner::Sqlite(rows) => match rows.next() {
                Ok(Some(row)) => Some((self.map)(&Row {
                    inner: RowInner::Sqlite(row),
                })),
                Ok(None) => None,
                Err(e) => Some(Err(e.into())),
            },
            RowsInner::Postgres(rows) => {
                let row = rows.next()?;
                Some((self.map)(&Row {
                    inner: RowInner::Postgres(&row),
                }))
            }
        }
    }
}

/// One row of a query's answer.
pub struct Row<'r> {
    inner: RowInner<'r>,
}

enum RowInner<'r> {
    Sqlite(&'r rusqlite::Row<'r>),
    Postgres(&'r postgres::Row),
}

impl Row<'_> {
    /// The value of column `index` (from 0), borrowed.
    ///
    /// # Errors
    ///
    /// No such column.
    #[inline]
    pub fn value(&self, index: usize) -> Result<Value<'_>> {
        use rusqlite::types::ValueRef;
        match &self.inner {
            RowInner::Sqlite(r) => Ok(match r.get_ref(index)? {
                ValueRef::Null => Value::Null,
                ValueRef::Integer(n) => Value::Integer(n),
                ValueRef::Real(x) => Value::Real(x),
                ValueRef::Text(t) => Value::Text(
                    std::str::from_utf8(t)
                        .map_err(|_| Error::conversion(index, "UTF-8 text", "invalid UTF-8"))?,
                ),
                ValueRef::Blob(b) => Value::Blob(b),
            }),
            RowInner::Postgres(r) => pg::value(r, index),
        }
    }

    /// Column `index` (from 0), converted.
    ///
    /// # Errors
    ///
    /// No such column, or a value of another type.
    #[inline]
    pub fn get<T: FromSql>(&self, index: usize) -> Result<T> {
        let value = self.value(index)?;
        T::from_sql(value).map_err(|expected| Error::conversion(index, expected, kind(value)))
    }

    /// A text column without copying it.
    ///
    /// # Errors
    ///
    /// No such column, or not text.
    #[inline]
    pub fn get_str(&self, index: usize) -> Result<&str> {
        match self.value(index)? {
            Value::Text(t) => Ok(t),
            other => Err(Error::conversion(index, "text", kind(other))),
        }
    }

    /// How many columns the row has.
    pub fn column_count(&self) -> usize {
        match &self.inner {
            RowInner::Sqlite(r) => r.as_ref().column_count(),
            RowInner::Postgres(r) => r.len(),
        }
    }
}

/// The type of a value, for error text (never its content: it may be personal data).
fn kind(value: Value<'_>) -> &'static str {
    match value {
        Value::Null => "NULL",
        Value::Integer(_) => "an integer",
        Value::Real(_) => "a real",
        Value::Text(_) => "text",
        Value::Blob(_) => "a blob",
    }
}

pub mod pg {
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

    use super::{Error, Result, Value};

    /// PostgreSQL migrations, in the order of (and with the same meaning as) the SQLite ones.
    pub const MIGRATIONS: &[&str] = &[
        include_str!("schema/postgres/0001_core.sql"),
        include_str!("schema/postgres/0002_replies.sql"),
        include_str!("schema/postgres/0003_promissory.sql"),
        include_str!("schema/postgres/0004_payouts.sql"),
        include_str!("schema/postgres/0005_lender.sql"),
        include_str!("schema/postgres/0006_holidays.sql"),
        include_str!("schema/postgres/0007_collections.sql"),
        concat!(
            include_str!("schema/postgres/0008_tenants.sql"),
            include_str!("schema/counters_sync.sql")
        ),
        include_str!("schema/postgres/0009_debicheck.sql"),
        include_str!("schema/postgres/0011_console.sql"),
        include_str!("schema/postgres/0012_collection_batches.sql"),
        include_str!("schema/postgres/0013_due_index.sql"),
    ];

    /// Whether `--db` names a PostgreSQL database rather than a SQLite file.
    pub fn is_url(location: &str) -> bool {
        location.starts_with("postgres://") || location.starts_with("postgresql://")
    }

    /// One PostgreSQL connection with its statement cache.
    pub struct PgConn {
        client: RefCell<postgres::Client>,
        statements: RefCell<HashMap<String, postgres::Statement>>,
        url: String,
        setup: String,
    }

    impl PgConn {
        /// Connects (no TLS: the database is reached over a private network or a socket)
        /// and runs `setup` (session settings), again after every reconnection.
        ///
        /// # Errors
        ///
        /// The connection fails.
        pub fn connect(url: &str, setup: &str) -> Result<PgConn> {
            let mut client = postgres::Client::connect(url, postgres::NoTls)?;
            if !setup.is_empty() {
                client.batch_execute(setup)?;
            }
            Ok(PgConn {
                client: RefCell::new(client),
                statements: RefCell::new(HashMap::new()),
                url: url.to_owned(),
                setup: setup.to_owned(),
            })
        }

        /// Connects again when the connection was lost (the server restarted, a failover):
        /// called before each transaction, so a node outlives its database's restarts.
        ///
        /// # Errors
        ///
        /// The server is still unreachable (retryable: `is_busy`).
        pub fn ensure_open(&self) -> Result<()> {
            if !self.client.borrow().is_closed() {
                return Ok(());
            }
            let fresh = PgConn::connect(&self.url, &self.setup)?;
            *self.client.borrow_mut() = fresh.client.into_inner();
            self.statements.borrow_mut().clear();
            Ok(())
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
            let statement =
                conn.statement("SELECT version FROM schema_version WHERE id = 1", false)?;
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn() -> Conn {
        let c = Conn::sqlite(rusqlite::Connection::open_in_memory().unwrap());
        c.execute_batch(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER, s TEXT, b BLOB, x REAL)",
        )
        .unwrap();
        c
    }

    #[test]
    fn values_round_trip_through_every_kind() {
        let c = conn();
        let text = String::from("héllo");
        let none: Option<i64> = None;
        c.prepare_cached("INSERT INTO t (n, s, b, x) VALUES (?1, ?2, ?3, ?4)")
            .unwrap()
            .execute(params![7i64, text, vec![1u8, 2], 1.5f64])
            .unwrap();
        c.prepare_cached("INSERT INTO t (n, s, b, x) VALUES (?1, ?2, ?3, ?4)")
            .unwrap()
            .execute(params![none, Some("x"), none, none])
            .unwrap();
        assert_eq!(c.last_insert_rowid().unwrap(), 2);
        let (n, s, b, x): (i64, String, Vec<u8>, f64) = c
            .query_row("SELECT n, s, b, x FROM t WHERE id = ?1", params![1], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .unwrap();
        assert_eq!((n, s.as_str(), b, x), (7, "héllo", vec![1, 2], 1.5));
        let (n, s): (Option<i64>, Option<String>) = c
            .query_row("SELECT n, s FROM t WHERE id = 2", params![], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!((n, s.as_deref()), (None, Some("x")));
        let all: Vec<OwnedValue> = c
            .prepare("SELECT s FROM t ORDER BY id")
            .unwrap()
            .query_map(params![], |r| r.get(0))
            .unwrap()
            .collect::<Result<_>>()
            .unwrap();
        assert_eq!(
            format!("{all:?}"),
            r#"[Text("héllo"), Text("x")]"#,
            "the digest's row spelling"
        );
    }

    #[test]
    fn no_row_is_optional_and_mismatches_are_errors() {
        let c = conn();
        let missing = c
            .query_row("SELECT n FROM t WHERE id = ?1", params![9], |r| {
                r.get::<i64>(0)
            })
            .optional()
            .unwrap();
        assert_eq!(missing, None);
        c.execute("INSERT INTO t (n, s) VALUES (1, 'a')", params![])
            .unwrap();
        let wrong = c.query_row("SELECT s FROM t", params![], |r| r.get::<i64>(0));
        assert!(matches!(
            wrong,
            Err(Error::Conversion {
                column: 0,
                expected: "an integer",
                ..
            })
        ));
        let count = c.execute("UPDATE t SET n = ?1", params![1, 2]);
        assert!(matches!(
            count,
            Err(Error::ParameterCount {
                expected: 1,
                given: 2
            })
        ));
        assert_eq!(c.table_names().unwrap(), vec!["t".to_string()]);
        c.execute("INSERT INTO t (id) VALUES (9)", params![])
            .unwrap();
        let twice = c
            .execute("INSERT INTO t (id) VALUES (9)", params![])
            .unwrap_err();
        assert!(twice.is_unique_violation());
        assert!(!twice.is_busy());
    }
}
