//! The SQLite store: opening and migrating the database, and [`Db`], the one handle the
//! server uses. Writes go to a single writer thread that commits the requests waiting
//! together in one IMMEDIATE transaction (group commit), each in its own SAVEPOINT, and
//! answers nobody before that commit is durable. Reads run on a few dedicated reader
//! threads, each owning one read-only connection and taking jobs from a shared queue
//! (WAL lets them run beside the writer).
//!
//! Every SQL statement of the crate lives under `store/`, one file per table or concept,
//! as typed functions over typed rows that take a [`Tx`]; its connection is private to
//! `store/`, so no other module can reach SQLite (`tests/tidy.rs` checks the sources).

pub mod accounts;
pub mod admin;
pub mod cards;
pub mod clients;
pub mod collections;
pub mod console;
pub mod counters;
pub mod employers;
pub mod holidays;
pub mod inspect;
pub mod jobs;
pub mod lender;
pub mod mandates;
pub mod operators;
pub mod payments;
pub mod promissory;
pub mod replies;
pub mod sessions;
pub mod sql;
pub mod users;
pub mod wallets;

use std::collections::VecDeque;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags};
use tokio::sync::oneshot;

/// Schema migrations, applied in order; `PRAGMA user_version` records how many ran.
/// Append only: a released migration never changes.
pub const MIGRATIONS: &[&str] = &[
    include_str!("schema/0001_core.sql"),
    include_str!("schema/0002_replies.sql"),
    include_str!("schema/0003_promissory.sql"),
    include_str!("schema/0004_payouts.sql"),
    include_str!("schema/0005_lender.sql"),
    include_str!("schema/0006_holidays.sql"),
    include_str!("schema/0007_collections.sql"),
    concat!(
        include_str!("schema/0008_tenants.sql"),
        include_str!("schema/counters_sync.sql")
    ),
    include_str!("schema/0009_debicheck.sql"),
    include_str!("schema/0011_console.sql"),
    include_str!("schema/0012_collection_batches.sql"),
    include_str!("schema/0013_due_index.sql"),
];

/// Store failures. None of this text ever reaches the wire.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The database failed.
    #[error("database: {0}")]
    Sql(#[from] sql::Error),
    /// The database was written by a newer allps-ws.
    #[error("database schema version {found} is newer than this binary's {known}")]
    TooNew {
        /// The version in the file.
        found: i64,
        /// The newest version this binary knows.
        known: usize,
    },
    /// The store is closed (the server is shutting down).
    #[error("the store is closed")]
    Closed,
    /// A handler panicked; its work was rolled back.
    #[error("a handler panicked: {0}")]
    Panicked(String),
    /// The batch's COMMIT failed; nothing in it was stored.
    #[error("commit failed: {0}")]
    CommitFailed(String),
    /// The database file cannot be written (read-only file, directory or mount).
    #[error("the database {0} is read-only; allps-ws needs to write it")]
    ReadOnly(PathBuf),
}

impl DbError {
    /// Whether another transaction committed, after this one took its snapshot, what
    /// this one then collided with: the same unique key (a UNIQUE or primary key
    /// violation) or a row this one read and then changed (a serialization failure).
    /// On PostgreSQL the sign of a concurrent node; run again, the work sees it.
    pub fn is_conflict(&self) -> bool {
        match self {
            DbError::Sql(e) => e.is_unique_violation() || e.is_serialization_failure(),
            _ => false,
        }
    }

    /// Whether the store was only busy (locked by another process or connection past the
    /// busy timeout): worth retrying, not a failure of the server.
    pub fn is_busy(&self) -> bool {
        match self {
            DbError::Sql(e) => e.is_busy(),
            DbError::CommitFailed(text) => {
                text.contains("database is locked") || text.contains("database is busy")
            }
            _ => false,
        }
    }
}

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> Self {
        DbError::Sql(sql::Error::Sqlite(e))
    }
}

/// A write that changes nothing yet goes to disk: rewrites `user_version` with its own
/// value (page 1, through the WAL, committed with the batch); on PostgreSQL, takes a
/// transaction id. The readiness probe behind `/health`: it fails when the file is
/// read-only, locked, full or unwritable, or the PostgreSQL server unreachable or a
/// read-only standby.
///
/// # Errors
///
/// SQLite.
pub fn probe_write(tx: &Tx<'_>) -> Result<(), DbError> {
    let Some(conn) = tx.conn.as_sqlite() else {
        // PostgreSQL: a transaction id is assigned only where writes are accepted (not
        // on a read-only standby), and no row is touched, so the probes of several
        // nodes never conflict with each other.
        tx.conn
            .query_row("SELECT txid_current()", sql::params![], |r| r.get::<i64>(0))?;
        return Ok(());
    };
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    conn.pragma_update(None, "user_version", version)?;
    Ok(())
}

/// Tuning for [`Db::open`].
#[derive(Debug, Clone)]
pub struct DbOptions {
    /// Reader threads, each with its own read-only connection.
    pub readers: usize,
    /// Most write requests committed together.
    pub max_batch: usize,
    /// How long a connection waits for a lock held by another process (e.g. `admin`).
    pub busy_timeout: Duration,
}

impl Default for DbOptions {
    fn default() -> Self {
        DbOptions {
            readers: default_readers(),
            max_batch: 256,
            busy_timeout: Duration::from_secs(5),
        }
    }
}

/// Half the cores (at least one): a read is about a third of a request's CPU, the rest
/// runs on the tokio workers (one per core), and extra reader threads mostly add
/// wake-ups and context switches. Measured on 2 cores, GetClient at ~40k req/s: one
/// reader ~32 server CPU-us/req, two readers ~37 (waking on every submit: ~40). The
/// cost of one reader: a long read (a document render) holds up the reads queued behind
/// it; raise `--readers` if printing is heavy.
pub fn default_readers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1))
}

/// Counters for the benchmark and the shutdown log line.
#[derive(Debug, Default)]
pub struct DbStats {
    /// Transactions committed by the writer.
    pub commits: AtomicU64,
    /// Write requests carried by those commits.
    pub writes: AtomicU64,
    /// Read requests served.
    pub reads: AtomicU64,
    /// WAL checkpoints run: by the checkpointer thread, or by the writer itself once
    /// the WAL reached [`WAL_LIMIT_PAGES`].
    pub checkpoints: AtomicU64,
    /// Pages in the WAL after the writer's last commit (SQLite's WAL hook).
    pub wal_pages: std::sync::atomic::AtomicI64,
    /// WAL pages copied back by the checkpointer thread's last pass.
    pub checkpointed_pages: std::sync::atomic::AtomicI64,
    /// Commits by batch size: bucket `i` counts batches of at most
    /// [`BATCH_BUCKETS`]`[i]` writes (the last, anything larger), for `/metrics`.
    pub batch_sizes: [AtomicU64; BATCH_BUCKETS.len() + 1],
}

/// Upper bounds of the batch-size buckets of [`DbStats::batch_sizes`].
pub const BATCH_BUCKETS: [u64; 8] = [1, 2, 4, 8, 16, 32, 64, 128];

impl DbStats {
    /// Counts one committed batch of `size` writes.
    pub fn committed(&self, size: usize) {
        self.commits.fetch_add(1, Ordering::Relaxed);
        self.writes.fetch_add(size as u64, Ordering::Relaxed);
        let bucket = BATCH_BUCKETS
            .iter()
            .position(|&max| size as u64 <= max)
            .unwrap_or(BATCH_BUCKETS.len());
        self.batch_sizes[bucket].fetch_add(1, Ordering::Relaxed);
    }
}

/// WAL frames (pages) after which the writer asks the checkpointer thread to copy the
/// log back into the database file: SQLite's own auto-checkpoint threshold.
pub const CHECKPOINT_PAGES: i32 = 1000;

/// WAL pages (32 MiB at 4 KiB pages) past which the writer checkpoints itself, between
/// two transactions. Under a steady stream of writes (a collection morning) the
/// checkpointer thread never finds the log without new frames behind it, so SQLite
/// could never start the log over: the WAL reached 654 MB for 200,000 instalments,
/// every commit extended the file, and every page lookup searched a longer WAL index.
/// Between two of the writer's own transactions nothing is appended, so the checkpoint
/// can reach the end of the log and the next transaction starts it over.
pub const WAL_LIMIT_PAGES: i64 = 8 * CHECKPOINT_PAGES as i64;

/// The most WAL pages the writer copies back itself (16 MiB, some tens of milliseconds):
/// it checkpoints only when the checkpointer thread's last pass left at most this many
/// behind. A larger backlog (another process's big transaction, a bulk load) stays the
/// checkpointer thread's work, so the writer never stalls the requests behind it for
/// seconds.
pub const WRITER_CATCH_UP_PAGES: i64 = 4 * CHECKPOINT_PAGES as i64;

/// The writer connection's page cache, KiB (readers keep SQLite's 2 MiB default).
pub const WRITER_CACHE_KIB: i64 = 32 * 1024;

/// The most write requests one PostgreSQL transaction carries. Each request runs in two
/// nested savepoints, and a writing savepoint is a subtransaction with its own id;
/// past 64 of them in one transaction PostgreSQL's snapshots overflow their subtransaction
/// cache and every snapshot taken meanwhile looks rows up in `pg_subtrans` (measured:
/// AddClient on one node fell from ~3,700 to ~540 req/s with batches of 64).
pub const POSTGRES_MAX_BATCH: usize = 24;

/// Whether `--db` names a PostgreSQL database (`postgres://` or `postgresql://` URL)
/// rather than a SQLite file.
pub fn is_postgres(location: &Path) -> bool {
    location.to_str().is_some_and(sql::pg::is_url)
}

/// A fresh, empty schema in the PostgreSQL database at `url`, for one test's store:
/// returns the URL whose connections use it (`search_path`). Test stores share one
/// throwaway cluster without seeing each other's rows.
///
/// # Errors
///
/// The database.
pub fn fresh_postgres_schema(url: &str) -> Result<PathBuf, DbError> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let schema = format!(
        "t{}_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_micros()),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let conn = sql::pg::PgConn::connect(url, "")?;
    conn.batch(&format!("CREATE SCHEMA {schema}"))?;
    let separator = if url.contains('?') { '&' } else { '?' };
    Ok(PathBuf::from(format!(
        "{url}{separator}options=-c%20search_path%3D{schema}"
    )))
}

/// The database location for logs and messages: a PostgreSQL URL without its password.
pub fn redacted(location: &Path) -> String {
    let text = location.display().to_string();
    if !is_postgres(location) {
        return text;
    }
    let Some(scheme_end) = text.find("://") else {
        return text;
    };
    let rest = &text[scheme_end + 3..];
    match (rest.find('@'), rest.find(':')) {
        (Some(at), Some(colon)) if colon < at => {
            format!(
                "{}{}:***{}",
                &text[..scheme_end + 3],
                &rest[..colon],
                &rest[at..]
            )
        }
        _ => text,
    }
}

/// Opens a PostgreSQL connection for the store (`lock_timeout` as the busy timeout);
/// `migrate` applies the PostgreSQL migrations first.
///
/// # Errors
///
/// The database, or [`DbError::TooNew`].
fn open_postgres(url: &Path, busy_timeout: Duration, migrate: bool) -> Result<sql::Conn, DbError> {
    let url = url.to_str().unwrap_or_default();
    let conn = sql::pg::PgConn::connect(
        url,
        &format!(
            "SET lock_timeout = {}; SET TIME ZONE 'UTC'",
            busy_timeout.as_millis()
        ),
    )?;
    if migrate && let Err(found) = sql::pg::migrate(&conn)? {
        return Err(DbError::TooNew {
            found,
            known: sql::pg::MIGRATIONS.len(),
        });
    }
    Ok(sql::Conn::postgres(conn))
}

/// Opens (creating if needed) a database file with the server's pragmas, and migrates it.
///
/// # Errors
///
/// SQLite errors, or [`DbError::TooNew`].
fn open_connection(path: &Path, busy_timeout: Duration) -> Result<Connection, DbError> {
    let mut conn = Connection::open(path)?;
    // SQLite quietly opens a write-protected file read-only; every write would then fail.
    if conn.is_readonly(rusqlite::MAIN_DB)? {
        return Err(DbError::ReadOnly(path.to_owned()));
    }
    configure(&conn, busy_timeout, true)?;
    migrate(&mut conn)?;
    Ok(conn)
}

fn configure(conn: &Connection, busy_timeout: Duration, file: bool) -> Result<(), DbError> {
    conn.busy_timeout(busy_timeout)?;
    // The query planner stability guarantee. Without it, the bundled SQLite (built with
    // STAT4) marks some bound parameters as "re-plan when rebound", and rusqlite clears
    // the bindings of every cached statement when it goes back to the cache, so such a
    // statement was parsed and planned again on every execution: prepare_cached bought
    // nothing, and re-preparing was ~30% of the server's CPU under GetClient load. Our
    // queries are equality lookups on unique keys, whose plans never depend on values.
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    conn.pragma_update(None, "foreign_keys", true)?;
    if file {
        let mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(DbError::Sql(sql::Error::conversion(
                0,
                "journal_mode WAL",
                mode,
            )));
        }
        conn.pragma_update(None, "synchronous", "FULL")?;
    }
    conn.set_prepared_statement_cache_capacity(64);
    Ok(())
}

/// Applies the migrations the database has not seen yet, each in its own transaction.
///
/// # Errors
///
/// SQLite errors, or [`DbError::TooNew`].
fn migrate(conn: &mut Connection) -> Result<(), DbError> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version > MIGRATIONS.len() as i64 {
        return Err(DbError::TooNew {
            found: version,
            known: MIGRATIONS.len(),
        });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (index + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}

/// A stored value the domain cannot read.
fn bad(column: usize, what: &str) -> sql::Error {
    sql::Error::conversion(column, "a known value", what)
}

/// A stored enumeration, parsed.
fn parsed<T>(row: &sql::Row<'_>, i: usize, parse: fn(&str) -> Option<T>) -> sql::Result<T> {
    let text = row.get_str(i)?;
    parse(text).ok_or_else(|| sql::Error::conversion(i, "a known value", text))
}

/// A stored optional enumeration, parsed.
fn opt_parsed<T>(
    row: &sql::Row<'_>,
    i: usize,
    parse: fn(&str) -> Option<T>,
) -> sql::Result<Option<T>> {
    let text: Option<String> = row.get(i)?;
    text.map(|t| parse(&t).ok_or_else(|| sql::Error::conversion(i, "a known value", &t)))
        .transpose()
}

/// Stored money.
fn money(row: &sql::Row<'_>, i: usize) -> sql::Result<rust_decimal::Decimal> {
    let text = row.get_str(i)?;
    <rust_decimal::Decimal as std::str::FromStr>::from_str(text)
        .map_err(|_| sql::Error::conversion(i, "money", text))
}

/// Stored optional money.
fn opt_money(row: &sql::Row<'_>, i: usize) -> sql::Result<Option<rust_decimal::Decimal>> {
    let text: Option<String> = row.get(i)?;
    text.map(|t| {
        <rust_decimal::Decimal as std::str::FromStr>::from_str(&t)
            .map_err(|_| sql::Error::conversion(i, "money", &t))
    })
    .transpose()
}

/// Money as stored: canonical text with two decimals.
pub fn money_text(amount: rust_decimal::Decimal) -> String {
    let mut a = amount;
    a.rescale(2);
    a.to_string()
}

/// A stored text the domain cannot read (an unknown enumeration value, a malformed
/// date).
fn conversion(index: usize, what: &str, text: &str) -> sql::Error {
    sql::Error::conversion(index, "a known value", format_args!("{what} {text:?}"))
}

/// Reads a text column without copying it.
fn text_ref<'r>(r: &'r sql::Row<'_>, index: usize) -> sql::Result<&'r str> {
    r.get_str(index)
}

/// One transaction on the store: what [`Db::write`], [`Db::read`] and [`Direct`] hand
/// their closures, and what every query function in `store/` takes. The connection is
/// private to `store/`, so no other module can reach SQLite.
#[derive(Clone, Copy)]
pub struct Tx<'a> {
    conn: &'a sql::Conn,
}

impl std::fmt::Debug for Tx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tx")
    }
}

impl<'a> Tx<'a> {
    fn new(conn: &'a sql::Conn) -> Self {
        Tx { conn }
    }

    /// Runs `f` inside a SAVEPOINT: released when it returns `Ok`, rolled back when it
    /// returns `Err` (so a refused request leaves nothing behind).
    ///
    /// # Errors
    ///
    /// The outer `Err` is SQLite failing to manage the savepoint itself.
    pub fn savepoint<T, E>(
        &self,
        f: impl FnOnce(&Tx<'a>) -> Result<T, E>,
    ) -> Result<Result<T, E>, DbError> {
        // Cached statements: `execute_batch` would parse these again on every request, and
        // on the writer thread every microsecond is taken from the whole batch.
        exec_cached(self.conn, "SAVEPOINT op")?;
        let result = f(self);
        if result.is_err() {
            exec_cached(self.conn, "ROLLBACK TO op")?;
        }
        exec_cached(self.conn, "RELEASE op")?;
        Ok(result)
    }
}

/// A connection of its own, outside the server's writer and readers: for `allps-ws
/// admin`, which must work beside a running server, each command in one IMMEDIATE
/// transaction.
pub struct Direct {
    conn: sql::Conn,
}

impl std::fmt::Debug for Direct {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Direct")
    }
}

impl Direct {
    /// Opens (creating if needed) and migrates a database file with the server's
    /// pragmas ([`open_connection`]).
    ///
    /// # Errors
    ///
    /// As [`open_connection`].
    pub fn open(path: &Path, busy_timeout: Duration) -> Result<Direct, DbError> {
        if is_postgres(path) {
            return Ok(Direct {
                conn: open_postgres(path, busy_timeout, true)?,
            });
        }
        Ok(Direct {
            conn: sql::Conn::sqlite(open_connection(path, busy_timeout)?),
        })
    }

    /// Runs `f` in one IMMEDIATE transaction, committed only when it returns `Ok`.
    ///
    /// # Errors
    ///
    /// The outer `Err` is the store failing to begin or commit.
    pub fn immediate<T, E>(
        &mut self,
        f: impl FnOnce(&Tx<'_>) -> Result<T, E>,
    ) -> Result<Result<T, E>, DbError> {
        exec_cached(&self.conn, begin_write(&self.conn))?;
        // Rolls back unless committed, also when `f` panics.
        struct Open<'c>(&'c sql::Conn, bool);
        impl Drop for Open<'_> {
            fn drop(&mut self) {
                if self.1 {
                    let _ = self.0.execute_batch("ROLLBACK");
                }
            }
        }
        let mut open = Open(&self.conn, true);
        let result = f(&Tx::new(&self.conn));
        if result.is_ok() {
            open.1 = false;
            exec_cached(&self.conn, "COMMIT")?;
        }
        drop(open);
        Ok(result)
    }
}

/// Runs one parameterless statement through the connection's statement cache.
fn exec_cached(conn: &sql::Conn, text: &str) -> sql::Result<()> {
    match conn.dialect() {
        sql::Dialect::Sqlite => conn
            .prepare_cached(text)?
            .execute(sql::params![])
            .map(|_| ()),
        // Transaction control goes over the simple protocol: one round trip, no
        // statement to prepare.
        sql::Dialect::Postgres => conn.execute_batch(text),
    }
}

/// How a write transaction begins. SQLite: IMMEDIATE, taking the write lock at once
/// (one writer: every statement sees everything committed before it). PostgreSQL:
/// READ COMMITTED; a writing request first takes its organisation's lock
/// ([`lock_organisation`]), after which its statements see everything committed by the
/// organisation's writers on other nodes, and the counters' row locks order numbers and
/// reply sequences by commit (ARCHITECTURE.md, "More than one node").
fn begin_write(conn: &sql::Conn) -> &'static str {
    match conn.dialect() {
        sql::Dialect::Sqlite => "BEGIN IMMEDIATE",
        sql::Dialect::Postgres => "BEGIN",
    }
}

/// Serialises a writing request with every other writing request of the organisation,
/// on every node, until its transaction ends: on PostgreSQL a transaction-scoped
/// advisory lock keyed by the organisation, so the request's lookups (is this
/// ClientNumber, ContractReference, PaymentReference taken?) see what a concurrent twin
/// on another node committed, as SQLite's one writer guarantees on one node. Nothing
/// on SQLite.
///
/// # Errors
///
/// The database (a lock timeout is `is_busy`).
pub fn lock_organisation(tx: &Tx<'_>, org_id: i64) -> Result<(), DbError> {
    if tx.conn.dialect() == sql::Dialect::Postgres {
        tx.conn
            .prepare_cached("SELECT pg_advisory_xact_lock(7412003, ?1::integer)")?
            .execute(sql::params![org_id])?;
    }
    Ok(())
}

/// How a read transaction begins: one consistent snapshot for the whole read.
fn begin_read(conn: &sql::Conn) -> &'static str {
    match conn.dialect() {
        sql::Dialect::Sqlite => "BEGIN",
        sql::Dialect::Postgres => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
    }
}

trait Job: Send {
    fn run(self: Box<Self>, tx: &Tx<'_>) -> Box<dyn Done>;
    fn abort(self: Box<Self>, error: DbError);
}

trait Done: Send {
    fn finish(self: Box<Self>, committed: Result<(), String>);
}

type Reply<T, E> = oneshot::Sender<Result<Result<T, E>, DbError>>;

struct WriteJob<F, T, E> {
    f: F,
    reply: Reply<T, E>,
}

struct WriteDone<T, E> {
    result: Result<Result<T, E>, DbError>,
    reply: Reply<T, E>,
}

impl<F, T, E> Job for WriteJob<F, T, E>
where
    F: for<'t> FnOnce(&Tx<'t>) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: Send + 'static,
{
    fn run(self: Box<Self>, tx: &Tx<'_>) -> Box<dyn Done> {
        let WriteJob { f, reply } = *self;
        let conn = tx.conn;
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| tx.savepoint(f)));
        let result = match outcome {
            Ok(Ok(inner)) => Ok(inner),
            Ok(Err(e)) => {
                // The savepoint machinery itself failed; make sure nothing of it survives.
                let _ = conn.execute_batch("ROLLBACK TO op; RELEASE op");
                Err(e)
            }
            Err(panic) => {
                let _ = conn.execute_batch("ROLLBACK TO op; RELEASE op");
                Err(DbError::Panicked(panic_text(&panic)))
            }
        };
        Box::new(WriteDone { result, reply })
    }

    fn abort(self: Box<Self>, error: DbError) {
        let _ = self.reply.send(Err(error));
    }
}

impl<T: Send + 'static, E: Send + 'static> Done for WriteDone<T, E> {
    fn finish(self: Box<Self>, committed: Result<(), String>) {
        let result = match committed {
            Ok(()) => self.result,
            Err(e) => Err(DbError::CommitFailed(e)),
        };
        let _ = self.reply.send(result);
    }
}

fn panic_text(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// A read handed to a reader thread.
trait ReadJob: Send {
    fn run(self: Box<Self>, conn: &sql::Conn);
    fn abort(self: Box<Self>, error: DbError);
}

struct ReadTask<F, T> {
    f: F,
    reply: oneshot::Sender<Result<T, DbError>>,
}

impl<F, T> ReadJob for ReadTask<F, T>
where
    F: for<'t> FnOnce(&Tx<'t>) -> T + Send + 'static,
    T: Send + 'static,
{
    fn run(self: Box<Self>, conn: &sql::Conn) {
        let ReadTask { f, reply } = *self;
        let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
            conn.ensure_open()?;
            exec_cached(conn, begin_read(conn))?;
            let value = f(&Tx::new(conn));
            exec_cached(conn, "COMMIT")?;
            Ok::<T, sql::Error>(value)
        }));
        let open = match conn.as_sqlite() {
            Some(c) => !c.is_autocommit(),
            None => !matches!(result, Ok(Ok(_))),
        };
        if open {
            let _ = conn.execute_batch("ROLLBACK");
        }
        let _ = reply.send(match result {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(DbError::Sql(e)),
            Err(panic) => Err(DbError::Panicked(panic_text(&panic))),
        });
    }

    fn abort(self: Box<Self>, error: DbError) {
        let _ = self.reply.send(Err(error));
    }
}

/// The queue the reader threads share.
///
/// Why not `spawn_blocking` and a connection pool: under load every read then paid a
/// futex wake of a blocking-pool thread, a semaphore, a pool mutex and a thread switch
/// (perf: ~15-20% of the server's CPU on GetClient). Here a reader thread that finds
/// work keeps going without sleeping, and a submit wakes a sleeping thread (a syscall
/// and a context switch) only when no reader is awake or more than [`WAKE_BACKLOG`]
/// jobs wait per awake reader: one busy reader absorbs a steady stream on its own, and
/// helpers join when work piles up (e.g. behind a slow document render).
/// Jobs waiting per awake reader before a sleeping reader is woken to help.
const WAKE_BACKLOG: usize = 4;

struct ReadQueue {
    state: Mutex<ReadState>,
    ready: Condvar,
}

struct ReadState {
    jobs: VecDeque<Box<dyn ReadJob>>,
    /// Reader threads in all.
    threads: usize,
    /// Reader threads waiting on `ready`.
    idle: usize,
    /// Set by [`Db::close`]: no new jobs; threads exit once the queue is empty.
    closed: bool,
}

impl ReadQueue {
    fn lock(&self) -> std::sync::MutexGuard<'_, ReadState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn submit(&self, job: Box<dyn ReadJob>) {
        let mut state = self.lock();
        if state.closed {
            drop(state);
            job.abort(DbError::Closed);
            return;
        }
        state.jobs.push_back(job);
        let awake = state.threads - state.idle;
        let wake = state.idle > 0 && state.jobs.len() > WAKE_BACKLOG * awake;
        drop(state);
        if wake {
            self.ready.notify_one();
        }
    }

    /// The next job, blocking while there is none; `None` once closed and drained.
    fn next(&self) -> Option<Box<dyn ReadJob>> {
        let mut state = self.lock();
        loop {
            if let Some(job) = state.jobs.pop_front() {
                return Some(job);
            }
            if state.closed {
                return None;
            }
            state.idle += 1;
            state = self.ready.wait(state).unwrap_or_else(|e| e.into_inner());
            state.idle -= 1;
        }
    }

    fn close(&self) {
        self.lock().closed = true;
        self.ready.notify_all();
    }
}

/// Reader threads, one per connection, sharing one queue.
fn spawn_readers(conns: Vec<sql::Conn>) -> Readers {
    let queue = Arc::new(ReadQueue {
        state: Mutex::new(ReadState {
            jobs: VecDeque::new(),
            threads: conns.len(),
            idle: 0,
            closed: false,
        }),
        ready: Condvar::new(),
    });
    let threads = conns
        .into_iter()
        .enumerate()
        .map(|(i, conn)| {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("allps-reader-{i}"))
                .spawn(move || reader_loop(conn, &queue))
                .expect("spawning a reader thread")
        })
        .collect();
    Readers::Threads {
        queue,
        threads: Mutex::new(threads),
    }
}

fn reader_loop(conn: sql::Conn, queue: &ReadQueue) {
    while let Some(job) = queue.next() {
        job.run(&conn);
    }
}

enum Readers {
    /// Reader threads, each with its own read-only connection to the database file.
    Threads {
        queue: Arc<ReadQueue>,
        threads: Mutex<Vec<JoinHandle<()>>>,
    },
    /// An in-memory database has one connection: reads go through the writer.
    ViaWriter,
}

struct Inner {
    writer: Mutex<Option<mpsc::Sender<Box<dyn Job>>>>,
    writer_thread: Mutex<Option<JoinHandle<()>>>,
    checkpointer: Mutex<Option<JoinHandle<()>>>,
    readers: Readers,
    stats: Arc<DbStats>,
    path: Option<PathBuf>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // A Db dropped without `close`: let the reader threads finish and exit (the
        // writer exits by itself when its channel's last sender goes).
        if let Readers::Threads { queue, .. } = &self.readers {
            queue.close();
        }
    }
}

/// The server's handle on the store. Cheap to clone.
#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("path", &self.inner.path)
            .finish()
    }
}

impl Db {
    /// Opens a database file: WAL, `synchronous=FULL`, foreign keys, busy timeout,
    /// migrations, the writer thread and the reader pool.
    ///
    /// # Errors
    ///
    /// Anything [`open_connection`] reports.
    pub fn open(path: &Path, options: &DbOptions) -> Result<Db, DbError> {
        if is_postgres(path) {
            return Db::open_postgres(path, options);
        }
        let mut writer = open_connection(path, options.busy_timeout)?;
        // The writer's page cache (SQLite's default is 2 MiB): a collection batch
        // touches the same index pages again and again (store/collections.rs).
        writer.pragma_update(None, "cache_size", -WRITER_CACHE_KIB)?;
        // Every write job runs in a savepoint (group commit), so SQLite keeps a
        // sub-journal of each page the job first touches. Past 64 KiB that sub-journal
        // spilled to a temporary file: a collection batch wrote megabytes to it, a
        // third of the engine's system time. In memory it is bounded by one job's
        // pages (a batch of `--collection-batch` instalments). Only the writer: a
        // reader's large sort keeps spilling to disk.
        writer.pragma_update(None, "temp_store", "MEMORY")?;
        let stats = Arc::new(DbStats::default());
        let checkpointer = start_checkpointer(&mut writer, path, options.busy_timeout, &stats)?;
        let mut conns = Vec::with_capacity(options.readers);
        for _ in 0..options.readers.max(1) {
            let conn = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            configure(&conn, options.busy_timeout, false)?;
            conns.push(sql::Conn::sqlite(conn));
        }
        Ok(Db::start(
            sql::Conn::sqlite(writer),
            spawn_readers(conns),
            options.max_batch,
            Some(path.to_owned()),
            stats,
            Some(checkpointer),
        ))
    }

    /// Opens a PostgreSQL database (`postgres://...`): migrates it, then the same writer
    /// thread (group commit) and reader threads as on SQLite, each with its own
    /// connection. Several nodes may open the same database.
    ///
    /// # Errors
    ///
    /// The database, or [`DbError::TooNew`].
    pub fn open_postgres(url: &Path, options: &DbOptions) -> Result<Db, DbError> {
        let writer = open_postgres(url, options.busy_timeout, true)?;
        let conns = (0..options.readers.max(1))
            .map(|_| open_postgres(url, options.busy_timeout, false))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Db::start(
            writer,
            spawn_readers(conns),
            options.max_batch.min(POSTGRES_MAX_BATCH),
            None,
            Arc::new(DbStats::default()),
            None,
        ))
    }

    /// An in-memory database (tests, fixtures): one connection for reads and writes.
    ///
    /// # Errors
    ///
    /// SQLite errors.
    pub fn open_in_memory() -> Result<Db, DbError> {
        let mut conn = Connection::open_in_memory()?;
        configure(&conn, Duration::from_secs(5), false)?;
        migrate(&mut conn)?;
        Ok(Db::start(
            sql::Conn::sqlite(conn),
            Readers::ViaWriter,
            256,
            None,
            Arc::new(DbStats::default()),
            None,
        ))
    }

    fn start(
        conn: sql::Conn,
        readers: Readers,
        max_batch: usize,
        path: Option<PathBuf>,
        stats: Arc<DbStats>,
        checkpointer: Option<JoinHandle<()>>,
    ) -> Db {
        let (tx, rx) = mpsc::channel::<Box<dyn Job>>();
        let thread_stats = stats.clone();
        let handle = std::thread::Builder::new()
            .name("allps-writer".into())
            .spawn(move || writer_loop(conn, rx, max_batch.max(1), &thread_stats))
            .expect("spawning the writer thread");
        Db {
            inner: Arc::new(Inner {
                writer: Mutex::new(Some(tx)),
                writer_thread: Mutex::new(Some(handle)),
                checkpointer: Mutex::new(checkpointer),
                readers,
                stats,
                path,
            }),
        }
    }

    /// Counters since open.
    pub fn stats(&self) -> &DbStats {
        &self.inner.stats
    }

    fn submit(&self, job: Box<dyn Job>) {
        let guard = self.inner.writer.lock().unwrap_or_else(|e| e.into_inner());
        match guard.as_ref() {
            Some(sender) => {
                if let Err(mpsc::SendError(job)) = sender.send(job) {
                    job.abort(DbError::Closed);
                }
            }
            None => job.abort(DbError::Closed),
        }
    }

    /// Runs `f` on the writer inside its own SAVEPOINT of the current batch transaction,
    /// and returns once the batch's COMMIT is durable. `Err` from `f` rolls back only
    /// `f`'s own work.
    ///
    /// # Errors
    ///
    /// The outer error is the store failing (closed, panic, commit failure).
    pub async fn write<T, E, F>(&self, f: F) -> Result<Result<T, E>, DbError>
    where
        F: for<'t> FnOnce(&Tx<'t>) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: Send + 'static,
    {
        let (reply, rx) = oneshot::channel();
        self.submit(Box::new(WriteJob { f, reply }));
        rx.await.unwrap_or(Err(DbError::Closed))
    }

    /// Queues `f` for the writer now, in order with every write submitted after it,
    /// without waiting for its commit: the returned future only reports the outcome.
    /// For bookkeeping whose caller must not wait for the fsync (a failed login's count).
    pub fn write_detached<T, E, F>(
        &self,
        f: F,
    ) -> impl std::future::Future<Output = Result<Result<T, E>, DbError>> + Send + 'static
    where
        F: for<'t> FnOnce(&Tx<'t>) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: Send + 'static,
    {
        let (reply, rx) = oneshot::channel();
        self.submit(Box::new(WriteJob { f, reply }));
        async move { rx.await.unwrap_or(Err(DbError::Closed)) }
    }

    /// [`Db::write`] for callers outside the async runtime (admin, `process`).
    ///
    /// # Errors
    ///
    /// As [`Db::write`].
    pub fn write_blocking<T, E, F>(&self, f: F) -> Result<Result<T, E>, DbError>
    where
        F: for<'t> FnOnce(&Tx<'t>) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: Send + 'static,
    {
        let (reply, rx) = oneshot::channel();
        self.submit(Box::new(WriteJob { f, reply }));
        rx.blocking_recv().unwrap_or(Err(DbError::Closed))
    }

    /// Runs `f` in one read transaction on a reader thread's read-only connection, off
    /// the async threads.
    ///
    /// # Errors
    ///
    /// The store failing.
    pub async fn read<T, F>(&self, f: F) -> Result<T, DbError>
    where
        F: for<'t> FnOnce(&Tx<'t>) -> T + Send + 'static,
        T: Send + 'static,
    {
        self.inner.stats.reads.fetch_add(1, Ordering::Relaxed);
        match &self.inner.readers {
            Readers::ViaWriter => self
                .write(move |tx| Ok::<T, std::convert::Infallible>(f(tx)))
                .await
                .map(|r| match r {
                    Ok(v) => v,
                    Err(never) => match never {},
                }),
            Readers::Threads { queue, .. } => {
                let (reply, rx) = oneshot::channel();
                queue.submit(Box::new(ReadTask { f, reply }));
                rx.await.unwrap_or(Err(DbError::Closed))
            }
        }
    }

    /// Stops the writer after the requests already queued, checkpoints the WAL, and
    /// closes every connection. Later calls get [`DbError::Closed`].
    pub fn close(&self) {
        // Readers first: their connections are read-only, and the WAL is checkpointed
        // and removed by the last connection to close only if that one can write, so the
        // writer and the checkpointer close last.
        if let Readers::Threads { queue, threads } = &self.inner.readers {
            queue.close();
            let handles = std::mem::take(&mut *threads.lock().unwrap_or_else(|e| e.into_inner()));
            for handle in handles {
                let _ = handle.join();
            }
        }
        self.inner
            .writer
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        let handle = self
            .inner
            .writer_thread
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(handle) = handle {
            let _ = handle.join();
        }
        // The writer's connection (and with it the checkpointer's signal) is gone now.
        let checkpointer = self
            .inner
            .checkpointer
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(handle) = checkpointer {
            let _ = handle.join();
        }
    }
}

/// Moves WAL checkpoints off the writer thread.
///
/// SQLite's auto-checkpoint runs inside the COMMIT of whichever connection crosses the
/// threshold: here always the writer, so every ~1000 pages a whole batch of callers
/// waited while ~4 MB were copied into the database file and it was fsynced (tens of
/// ms when the disk is busy: the AddClient p99). Instead, the writer's WAL hook (which
/// replaces the auto-checkpoint hook) only signals a checkpointer thread with its own
/// connection, which runs PASSIVE checkpoints beside the writer; SQLite restarts the log
/// at a later write once it has been copied back. Durability is unchanged: every
/// commit still fsyncs the WAL (`synchronous=FULL`) before anyone is answered.
fn start_checkpointer(
    writer: &mut Connection,
    path: &Path,
    busy_timeout: Duration,
    stats: &Arc<DbStats>,
) -> Result<JoinHandle<()>, DbError> {
    let conn = Connection::open(path)?;
    configure(&conn, busy_timeout, true)?;
    let (signal, wake) = mpsc::sync_channel::<()>(1);
    let hook_stats = stats.clone();
    writer.wal_hook(Some(move |_: &mut rusqlite::hooks::Wal, pages| {
        hook_stats
            .wal_pages
            .store(i64::from(pages), Ordering::Relaxed);
        if pages >= CHECKPOINT_PAGES {
            // A full channel means a checkpoint is already due: nothing to add.
            let _ = signal.try_send(());
        }
        Ok(())
    }))?;
    let stats = stats.clone();
    Ok(std::thread::Builder::new()
        .name("allps-checkpointer".into())
        .spawn(move || {
            // Ends when the writer's connection (holding the sender) is dropped.
            while wake.recv().is_ok() {
                match conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(2)) {
                    Ok(copied) => {
                        stats.checkpoints.fetch_add(1, Ordering::Relaxed);
                        stats.checkpointed_pages.store(copied, Ordering::Relaxed);
                    }
                    Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed"),
                }
            }
        })
        .expect("spawning the checkpointer thread"))
}

fn writer_loop(
    conn: sql::Conn,
    rx: mpsc::Receiver<Box<dyn Job>>,
    max_batch: usize,
    stats: &DbStats,
) {
    let mut batch: Vec<Box<dyn Job>> = Vec::with_capacity(max_batch);
    while let Ok(first) = rx.recv() {
        batch.push(first);
        while batch.len() < max_batch {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        if let Err(e) = conn
            .ensure_open()
            .and_then(|()| exec_cached(&conn, begin_write(&conn)))
        {
            let text = e.to_string();
            for job in batch.drain(..) {
                job.abort(DbError::CommitFailed(text.clone()));
            }
            continue;
        }
        let tx = Tx::new(&conn);
        let done: Vec<Box<dyn Done>> = batch.drain(..).map(|job| job.run(&tx)).collect();
        let committed = exec_cached(&conn, "COMMIT").map_err(|e| {
            let _ = conn.execute_batch("ROLLBACK");
            e.to_string()
        });
        if committed.is_ok() {
            stats.committed(done.len());
        }
        for d in done {
            d.finish(committed.clone());
        }
        // A WAL the checkpointer thread cannot keep up with is folded back here, where
        // nothing is being appended (see WAL_LIMIT_PAGES), once that thread has copied
        // all but WRITER_CATCH_UP_PAGES of it. A checkpoint already under way on the
        // checkpointer's connection makes this one return busy: tried again after the
        // next commit.
        let wal_pages = stats.wal_pages.load(Ordering::Relaxed);
        if wal_pages >= WAL_LIMIT_PAGES
            && wal_pages - stats.checkpointed_pages.load(Ordering::Relaxed) <= WRITER_CATCH_UP_PAGES
            && conn.dialect() == sql::Dialect::Sqlite
            && conn
                .query_row("PRAGMA wal_checkpoint(PASSIVE)", sql::params![], |r| {
                    r.get::<i64>(0)
                })
                .is_ok_and(|busy| busy == 0)
        {
            stats.checkpoints.fetch_add(1, Ordering::Relaxed);
        }
    }
    // Every sender is gone: fold the WAL back into the main file before closing.
    if conn.dialect() == sql::Dialect::Sqlite {
        let _ = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)");
    }
    drop(conn);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_path(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("allps-store-{}-{}", name, std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("test.db")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn refused_writes_leave_nothing_and_neighbours_commit() {
        let path = temp_path("batch");
        let db = Db::open(&path, &DbOptions::default()).unwrap();
        db.write(|c| {
            c.conn
                .execute_batch("CREATE TABLE t (v INTEGER UNIQUE)")
                .map_err(|e| e.to_string())
        })
        .await
        .unwrap()
        .unwrap();
        let mut tasks = Vec::new();
        for i in 0..200i64 {
            let db = db.clone();
            tasks.push(tokio::spawn(async move {
                db.write(move |c| {
                    c.conn
                        .execute("INSERT INTO t (v) VALUES (?1)", sql::params![i])
                        .map_err(|e| e.to_string())?;
                    if i % 2 == 1 {
                        return Err("odd".to_string());
                    }
                    Ok(i)
                })
                .await
                .unwrap()
            }));
        }
        let mut ok = 0;
        for t in tasks {
            if t.await.unwrap().is_ok() {
                ok += 1;
            }
        }
        assert_eq!(ok, 100);
        let count: i64 = db
            .read(|c| {
                c.conn.query_row(
                    "SELECT count(*) FROM t WHERE v % 2 = 0",
                    sql::params![],
                    |r| r.get(0),
                )
            })
            .await
            .unwrap()
            .unwrap();
        assert_eq!(count, 100);
        let odd: i64 = db
            .read(|c| {
                c.conn.query_row(
                    "SELECT count(*) FROM t WHERE v % 2 = 1",
                    sql::params![],
                    |r| r.get(0),
                )
            })
            .await
            .unwrap()
            .unwrap();
        assert_eq!(odd, 0);
        assert!(db.stats().commits.load(Ordering::Relaxed) >= 1);
        db.close();
        assert!(matches!(
            db.write(|_| Ok::<(), ()>(())).await,
            Err(DbError::Closed)
        ));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reader_threads_serve_concurrent_reads_survive_panics_and_close() {
        let path = temp_path("readers");
        let db = Db::open(
            &path,
            &DbOptions {
                readers: 2,
                ..DbOptions::default()
            },
        )
        .unwrap();
        db.write(|c| {
            c.conn
                .execute_batch("CREATE TABLE t (v INTEGER); INSERT INTO t VALUES (7)")
        })
        .await
        .unwrap()
        .unwrap();
        let panicked = db.read(|_| -> i64 { panic!("reader boom") }).await;
        assert!(matches!(panicked, Err(DbError::Panicked(ref m)) if m == "reader boom"));
        let mut tasks = Vec::new();
        for i in 0..200i64 {
            let db = db.clone();
            tasks.push(tokio::spawn(async move {
                db.read(move |c| {
                    // Each read is its own transaction: nothing is left open.
                    assert!(!c.conn.as_sqlite().unwrap().is_autocommit());
                    c.conn
                        .query_row("SELECT v + ?1 FROM t", sql::params![i], |r| r.get::<i64>(0))
                        .unwrap()
                })
                .await
                .unwrap()
            }));
        }
        for (i, t) in tasks.into_iter().enumerate() {
            assert_eq!(t.await.unwrap(), 7 + i as i64);
        }
        assert_eq!(db.stats().reads.load(Ordering::Relaxed), 201);
        db.close();
        assert!(matches!(db.read(|_| ()).await, Err(DbError::Closed)));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn checkpoints_run_off_the_writer_and_lose_nothing() {
        let path = temp_path("checkpoint");
        let db = Db::open(&path, &DbOptions::default()).unwrap();
        db.write(|c| c.conn.execute_batch("CREATE TABLE t (v INTEGER, pad BLOB)"))
            .await
            .unwrap()
            .unwrap();
        // ~2 KB a row: 4,000 rows are ~2,000 WAL pages, twice the checkpoint threshold.
        let mut tasks = Vec::new();
        for i in 0..4000i64 {
            let db = db.clone();
            tasks.push(tokio::spawn(async move {
                db.write(move |c| {
                    c.conn.execute(
                        "INSERT INTO t (v, pad) VALUES (?1, zeroblob(2000))",
                        sql::params![i],
                    )
                })
                .await
                .unwrap()
                .unwrap()
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        // The checkpointer runs on its own thread: give it a moment.
        for _ in 0..100 {
            if db.stats().checkpoints.load(Ordering::Relaxed) > 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(db.stats().checkpoints.load(Ordering::Relaxed) > 0);
        db.close();
        let wal = path.with_extension("db-wal");
        assert!(std::fs::metadata(&wal).map_or(0, |m| m.len()) == 0);
        let conn = open_connection(&path, Duration::from_secs(1)).unwrap();
        let (n, sum): (i64, i64) = conn
            .query_row("SELECT count(*), sum(v) FROM t", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!((n, sum), (4000, 3999 * 4000 / 2));
    }

    #[tokio::test]
    async fn a_panicking_handler_rolls_back_and_the_writer_survives() {
        let db = Db::open_in_memory().unwrap();
        db.write(|c| c.conn.execute_batch("CREATE TABLE t (v INTEGER)"))
            .await
            .unwrap()
            .unwrap();
        let r = db
            .write(|c| -> Result<(), sql::Error> {
                c.conn.execute("INSERT INTO t VALUES (1)", sql::params![])?;
                panic!("boom")
            })
            .await;
        assert!(matches!(r, Err(DbError::Panicked(ref m)) if m == "boom"));
        let n: i64 = db
            .read(|c| {
                c.conn
                    .query_row("SELECT count(*) FROM t", sql::params![], |r| r.get(0))
                    .unwrap()
            })
            .await
            .unwrap();
        assert_eq!(n, 0);
    }

    #[test]
    fn cached_statements_are_not_prepared_again_on_every_use() {
        let path = temp_path("reprepare");
        let conn = open_connection(&path, Duration::from_secs(1)).unwrap();
        conn.execute_batch(
            "INSERT INTO organisations (id, code, name, created_at) VALUES (1, 'O', 'O', 'x');
             INSERT INTO users (id, organisation_id, user_name, password_hash, created_at)
             VALUES (1, 1, 'u', 'h', 'x');",
        )
        .unwrap();
        // The shape of the credential lookup: a join with a bound value filtered after
        // the index, the kind of statement STAT4 marks for re-planning on every rebind.
        let sql = "SELECT u.id FROM users u JOIN organisations o ON o.id = u.organisation_id
                   WHERE o.code = ?1 AND u.user_name = ?2";
        for _ in 0..5 {
            let id: i64 = conn
                .prepare_cached(sql)
                .unwrap()
                .query_row(["O", "u"], |r| r.get(0))
                .unwrap();
            assert_eq!(id, 1);
        }
        let statement = conn.prepare_cached(sql).unwrap();
        assert_eq!(
            statement.get_status(rusqlite::StatementStatus::RePrepare),
            0
        );
        assert_eq!(statement.get_status(rusqlite::StatementStatus::Run), 5);
    }

    #[test]
    fn file_databases_use_wal_full_sync_and_foreign_keys() {
        let path = temp_path("pragmas");
        let conn = open_connection(&path, Duration::from_secs(1)).unwrap();
        let mode: String = conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        let sync: i64 = conn
            .pragma_query_value(None, "synchronous", |r| r.get(0))
            .unwrap();
        let fk: i64 = conn
            .pragma_query_value(None, "foreign_keys", |r| r.get(0))
            .unwrap();
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        assert_eq!(sync, 2);
        assert_eq!(fk, 1);
        assert_eq!(version, MIGRATIONS.len() as i64);
    }
}
