//! The SQLite store: opening and migrating the database, and [`Db`], the one handle the
//! server uses. Writes go to a single writer thread that commits the requests waiting
//! together in one IMMEDIATE transaction (group commit), each in its own SAVEPOINT, and
//! answers nobody before that commit is durable. Reads run on a small pool of read-only
//! connections on blocking threads (WAL lets them run beside the writer).
//!
//! Nothing outside this module opens a `rusqlite::Connection` for the server.

pub mod admin;
pub mod clients;
pub mod payouts;
pub mod promissory;
pub mod replies;

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use tokio::sync::{Semaphore, oneshot};

/// Schema migrations, applied in order; `PRAGMA user_version` records how many ran.
/// Append only: a released migration never changes.
pub const MIGRATIONS: &[&str] = &[
    include_str!("schema/0001_core.sql"),
    include_str!("schema/0002_replies.sql"),
    include_str!("schema/0003_promissory.sql"),
    include_str!("schema/0004_payouts.sql"),
];

/// Store failures. None of this text ever reaches the wire.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// SQLite failed.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
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
}

/// Tuning for [`Db::open`].
#[derive(Debug, Clone)]
pub struct DbOptions {
    /// Read-only connections in the pool.
    pub readers: usize,
    /// Most write requests committed together.
    pub max_batch: usize,
    /// How long a connection waits for a lock held by another process (e.g. `admin`).
    pub busy_timeout: Duration,
}

impl Default for DbOptions {
    fn default() -> Self {
        DbOptions {
            readers: 4,
            max_batch: 256,
            busy_timeout: Duration::from_secs(5),
        }
    }
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
}

/// Opens (creating if needed) a database file with the server's pragmas, and migrates it.
///
/// # Errors
///
/// SQLite errors, or [`DbError::TooNew`].
pub fn open_connection(path: &Path, busy_timeout: Duration) -> Result<Connection, DbError> {
    let mut conn = Connection::open(path)?;
    configure(&conn, busy_timeout, true)?;
    migrate(&mut conn)?;
    Ok(conn)
}

fn configure(conn: &Connection, busy_timeout: Duration, file: bool) -> Result<(), DbError> {
    conn.busy_timeout(busy_timeout)?;
    conn.pragma_update(None, "foreign_keys", true)?;
    if file {
        let mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(DbError::Sqlite(rusqlite::Error::InvalidParameterName(
                format!("journal_mode is {mode}, not WAL"),
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
pub fn migrate(conn: &mut Connection) -> Result<(), DbError> {
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

/// Runs `f` inside a SAVEPOINT: released when it returns `Ok`, rolled back when it
/// returns `Err` (so a refused request leaves nothing behind).
///
/// # Errors
///
/// The outer `Err` is SQLite failing to manage the savepoint itself.
pub fn savepoint<T, E>(
    conn: &Connection,
    f: impl FnOnce(&Connection) -> Result<T, E>,
) -> Result<Result<T, E>, rusqlite::Error> {
    conn.execute_batch("SAVEPOINT op")?;
    let result = f(conn);
    match &result {
        Ok(_) => conn.execute_batch("RELEASE op")?,
        Err(_) => conn.execute_batch("ROLLBACK TO op; RELEASE op")?,
    }
    Ok(result)
}

trait Job: Send {
    fn run(self: Box<Self>, conn: &Connection) -> Box<dyn Done>;
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
    F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: Send + 'static,
{
    fn run(self: Box<Self>, conn: &Connection) -> Box<dyn Done> {
        let WriteJob { f, reply } = *self;
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| savepoint(conn, f)));
        let result = match outcome {
            Ok(Ok(inner)) => Ok(inner),
            Ok(Err(e)) => {
                // The savepoint machinery itself failed; make sure nothing of it survives.
                let _ = conn.execute_batch("ROLLBACK TO op; RELEASE op");
                Err(DbError::Sqlite(e))
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

enum Readers {
    /// Read-only connections to a database file.
    Pool {
        conns: Mutex<Vec<Connection>>,
        permits: Semaphore,
    },
    /// An in-memory database has one connection: reads go through the writer.
    ViaWriter,
}

struct Inner {
    writer: Mutex<Option<mpsc::Sender<Box<dyn Job>>>>,
    writer_thread: Mutex<Option<JoinHandle<()>>>,
    readers: Readers,
    stats: Arc<DbStats>,
    path: Option<PathBuf>,
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
        let writer = open_connection(path, options.busy_timeout)?;
        let mut conns = Vec::with_capacity(options.readers);
        for _ in 0..options.readers.max(1) {
            let conn = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            configure(&conn, options.busy_timeout, false)?;
            conns.push(conn);
        }
        let readers = Readers::Pool {
            permits: Semaphore::new(conns.len()),
            conns: Mutex::new(conns),
        };
        Ok(Db::start(
            writer,
            readers,
            options.max_batch,
            Some(path.to_owned()),
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
        Ok(Db::start(conn, Readers::ViaWriter, 256, None))
    }

    fn start(conn: Connection, readers: Readers, max_batch: usize, path: Option<PathBuf>) -> Db {
        let (tx, rx) = mpsc::channel::<Box<dyn Job>>();
        let stats = Arc::new(DbStats::default());
        let thread_stats = stats.clone();
        let handle = std::thread::Builder::new()
            .name("allps-writer".into())
            .spawn(move || writer_loop(conn, rx, max_batch.max(1), &thread_stats))
            .expect("spawning the writer thread");
        Db {
            inner: Arc::new(Inner {
                writer: Mutex::new(Some(tx)),
                writer_thread: Mutex::new(Some(handle)),
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
        F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: Send + 'static,
    {
        let (reply, rx) = oneshot::channel();
        self.submit(Box::new(WriteJob { f, reply }));
        rx.await.unwrap_or(Err(DbError::Closed))
    }

    /// [`Db::write`] for callers outside the async runtime (admin, `process`).
    ///
    /// # Errors
    ///
    /// As [`Db::write`].
    pub fn write_blocking<T, E, F>(&self, f: F) -> Result<Result<T, E>, DbError>
    where
        F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: Send + 'static,
    {
        let (reply, rx) = oneshot::channel();
        self.submit(Box::new(WriteJob { f, reply }));
        rx.blocking_recv().unwrap_or(Err(DbError::Closed))
    }

    /// Runs `f` in one read transaction on a read-only connection, off the async threads.
    ///
    /// # Errors
    ///
    /// The store failing.
    pub async fn read<T, F>(&self, f: F) -> Result<T, DbError>
    where
        F: FnOnce(&Connection) -> T + Send + 'static,
        T: Send + 'static,
    {
        self.inner.stats.reads.fetch_add(1, Ordering::Relaxed);
        match &self.inner.readers {
            Readers::ViaWriter => self
                .write(move |conn| Ok::<T, std::convert::Infallible>(f(conn)))
                .await
                .map(|r| match r {
                    Ok(v) => v,
                    Err(never) => match never {},
                }),
            Readers::Pool { permits, .. } => {
                let _permit = permits.acquire().await.map_err(|_| DbError::Closed)?;
                let inner = self.inner.clone();
                let joined = tokio::task::spawn_blocking(move || {
                    let Readers::Pool { conns, .. } = &inner.readers else {
                        unreachable!("checked above")
                    };
                    let conn = conns
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .pop()
                        .expect("a permit guarantees a connection");
                    let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
                        conn.execute_batch("BEGIN")?;
                        let value = f(&conn);
                        conn.execute_batch("COMMIT")?;
                        Ok::<T, rusqlite::Error>(value)
                    }));
                    if !conn.is_autocommit() {
                        let _ = conn.execute_batch("ROLLBACK");
                    }
                    conns.lock().unwrap_or_else(|e| e.into_inner()).push(conn);
                    match result {
                        Ok(Ok(v)) => Ok(v),
                        Ok(Err(e)) => Err(DbError::Sqlite(e)),
                        Err(panic) => Err(DbError::Panicked(panic_text(&panic))),
                    }
                })
                .await;
                joined.unwrap_or_else(|e| Err(DbError::Panicked(e.to_string())))
            }
        }
    }

    /// Stops the writer after the requests already queued, checkpoints the WAL, and
    /// closes every connection. Later calls get [`DbError::Closed`].
    pub fn close(&self) {
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
        if let Readers::Pool { conns, permits } = &self.inner.readers {
            permits.close();
            conns.lock().unwrap_or_else(|e| e.into_inner()).clear();
        }
    }
}

fn writer_loop(
    conn: Connection,
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
        if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
            let text = e.to_string();
            for job in batch.drain(..) {
                job.abort(DbError::CommitFailed(text.clone()));
            }
            continue;
        }
        let done: Vec<Box<dyn Done>> = batch.drain(..).map(|job| job.run(&conn)).collect();
        let committed = conn.execute_batch("COMMIT").map_err(|e| {
            let _ = conn.execute_batch("ROLLBACK");
            e.to_string()
        });
        if committed.is_ok() {
            stats.commits.fetch_add(1, Ordering::Relaxed);
            stats.writes.fetch_add(done.len() as u64, Ordering::Relaxed);
        }
        for d in done {
            d.finish(committed.clone());
        }
    }
    // Every sender is gone: fold the WAL back into the main file before closing.
    let _ = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)");
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
            c.execute_batch("CREATE TABLE t (v INTEGER UNIQUE)")
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
                    c.execute("INSERT INTO t (v) VALUES (?1)", [i])
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
            .read(|c| c.query_row("SELECT count(*) FROM t WHERE v % 2 = 0", [], |r| r.get(0)))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(count, 100);
        let odd: i64 = db
            .read(|c| c.query_row("SELECT count(*) FROM t WHERE v % 2 = 1", [], |r| r.get(0)))
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

    #[tokio::test]
    async fn a_panicking_handler_rolls_back_and_the_writer_survives() {
        let db = Db::open_in_memory().unwrap();
        db.write(|c| c.execute_batch("CREATE TABLE t (v INTEGER)"))
            .await
            .unwrap()
            .unwrap();
        let r = db
            .write(|c| -> Result<(), rusqlite::Error> {
                c.execute("INSERT INTO t VALUES (1)", [])?;
                panic!("boom")
            })
            .await;
        assert!(matches!(r, Err(DbError::Panicked(ref m)) if m == "boom"));
        let n: i64 = db
            .read(|c| {
                c.query_row("SELECT count(*) FROM t", [], |r| r.get(0))
                    .unwrap()
            })
            .await
            .unwrap();
        assert_eq!(n, 0);
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
